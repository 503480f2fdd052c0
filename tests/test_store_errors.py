"""Store errors are one line and never show a password."""

from __future__ import annotations

import pytest

from cmsfeed.errors import StoreError
from cmsfeed.store import Store


@pytest.mark.parametrize(
    "url",
    [
        "cmsfeed:s3cret@db.internal/cmsfeed",  # the scheme forgotten
        "postgresql://cmsfeed:s3cret@db:54x2/cmsfeed",  # a port that is no number
        "nosuchdb://cmsfeed:s3cret@db/cmsfeed",  # an unknown kind of database
    ],
)
def test_a_bad_database_url_is_reported_without_its_password(url: str) -> None:
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    assert "s3cret" not in str(raised.value)
    assert "cmsfeed:***@" in str(raised.value)
    assert "\n" not in str(raised.value)
