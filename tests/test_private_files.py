"""Files holding personal data are the owner's alone: 0600 files, 0700 folders, any umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsfeed.mail.maildir import MaildirTransport
from cmsfeed.store import Store
from cmsfeed.wiring import site_secret
from support.feeds import sample_items

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\n\r\nbody\r\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def open_umask(request: pytest.FixtureRequest) -> Iterator[None]:
    # The umask is the process's; 000 is the worst an operator's shell or unit can leave.
    previous = os.umask(request.param)
    yield
    os.umask(previous)


def test_sqlite_store_and_its_wal_and_shm_files_are_0600(tmp_path: Path, open_umask, clock):
    database = tmp_path / "var" / "cmsfeed.db"
    store = Store.open(f"sqlite:///{database}")
    store.upsert_items(sample_items(), clock())  # writes, so SQLite makes -wal and -shm
    companions = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
    assert all(path.exists() for path in companions)
    assert [mode(path) for path in [database, *companions]] == [0o600] * 3
    store.close()


def test_a_store_file_an_older_version_left_world_readable_is_narrowed(tmp_path: Path):
    database = tmp_path / "cmsfeed.db"
    database.touch()
    database.chmod(0o644)
    Store.open(f"sqlite:///{database}").close()
    assert mode(database) == 0o600


def test_maildir_folders_are_0700_and_messages_0600(tmp_path: Path, open_umask):
    maildir = tmp_path / "maildir"
    transport = MaildirTransport(maildir)
    for _ in range(3):
        transport.deliver("b@example.org", MESSAGE)
    folders = [maildir, *(maildir / name for name in ("tmp", "new", "cur"))]
    assert [mode(folder) for folder in folders] == [0o700] * 4
    messages = list((maildir / "new").iterdir())
    assert len(messages) == 3
    assert [mode(message) for message in messages] == [0o600] * 3


def test_the_signing_key_file_is_0600(tmp_path: Path, make_config, open_umask):
    config = make_config(extra="")
    secret = site_secret(config, {})
    path = Path(config.digests.secret_path)
    assert path.read_text().strip().encode() == secret
    assert mode(path) == 0o600
