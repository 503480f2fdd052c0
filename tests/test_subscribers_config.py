"""Subscribers declared in config.toml: the file sets preferences, never overrides a "no"."""

from __future__ import annotations

from cmsfeed.delivery import import_configured

SUBSCRIBER = """
[[subscribers]]
email = "anna@example.org"
language = "ru"
topics = ["argali"]
frequency = "daily"
time = "08:00"
timezone = "Asia/Almaty"
"""


def test_an_unsubscribed_config_subscriber_stays_unsubscribed(make_config, store, clock):
    config = make_config(extra=SUBSCRIBER)
    digests = store
    import_configured(config, digests, clock())
    anna = digests.get_subscriber("anna@example.org")
    assert anna is not None and anna.status == "active"

    assert digests.set_subscriber_status(anna.id, "unsubscribed")  # the one-click unsubscribe
    import_configured(config, digests, clock())  # the next `cmsfeed run`
    again = digests.get_subscriber("anna@example.org")
    assert again is not None and again.status == "unsubscribed"

    changed = make_config(extra=SUBSCRIBER.replace('"argali"', '"saiga"'))
    import_configured(changed, digests, clock())
    updated = digests.get_subscriber("anna@example.org")
    assert updated is not None
    assert updated.topics == ("saiga",) and updated.status == "unsubscribed"
