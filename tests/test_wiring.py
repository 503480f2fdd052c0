"""The composition root: what config.toml turns into (transport, secret, composer, delivery)."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from cmsfeed.bounces.verp import outbox_id_of
from cmsfeed.config import BouncesConfig, Config
from cmsfeed.errors import ConfigError
from cmsfeed.mail import MaildirTransport, SmtpTransport
from cmsfeed.wiring import (
    build_composer,
    build_delivery,
    build_transport,
    delivery_settings,
    site_secret,
)
from support.clock import FixedClock
from support.config import digest_config
from support.digest import open_stores


def with_bounces(config: Config, **bounces: object) -> Config:
    return config.model_copy(update={"bounces": BouncesConfig.model_validate(bounces)})


def test_without_an_smtp_host_digests_go_to_the_configured_maildir(tmp_path: Path) -> None:
    transport = build_transport(digest_config(tmp_path), {})
    assert isinstance(transport, MaildirTransport)
    assert transport.server == f"maildir {tmp_path / 'maildir'}"


def test_with_an_smtp_host_digests_go_to_that_server(tmp_path: Path) -> None:
    transport = build_transport(digest_config(tmp_path, 2525), {})
    assert isinstance(transport, SmtpTransport)
    assert transport.server == "127.0.0.1:2525"


def test_a_username_without_its_password_variable_is_one_line_naming_the_variable(
    tmp_path: Path,
) -> None:
    config = digest_config(tmp_path, 2525)
    config = config.model_copy(
        update={
            "smtp": config.smtp.model_copy(
                update={"username": "relay", "password_env": "RELAY_PASSWORD"}
            )
        }
    )
    with pytest.raises(ConfigError) as raised:
        build_transport(config, {})
    assert raised.value.problems == [
        "environment RELAY_PASSWORD: not set, but smtp.username is; put the SMTP password in it"
    ]
    assert isinstance(build_transport(config, {"RELAY_PASSWORD": "p"}), SmtpTransport)


def test_every_delivery_setting_is_the_digests_value_of_the_same_name(tmp_path: Path) -> None:
    config = digest_config(
        tmp_path,
        send_when_empty=True,
        concurrency=3,
        lease_seconds=45,
        retry_seconds=7.5,
        max_attempts=2,
        max_hard_failures=5,
    )
    settings = delivery_settings(config)
    names = [field.name for field in dataclasses.fields(settings)]
    assert names  # a setting added later is checked here too, by name
    for name in names:
        assert getattr(settings, name) == getattr(config.digests, name), name


def test_the_composer_signs_with_the_site_secret_and_names_the_list(tmp_path: Path) -> None:
    config = digest_config(tmp_path)
    composer = build_composer(config, b"s3cret")
    assert composer.secret == b"s3cret"
    assert composer.sender.address == "news@cmsfeed.example"
    assert composer.list_id == "CAMI news <digests.127.0.0.1>"  # the default language's title
    assert composer.bounce_address is None and composer.dkim_key is None
    named = build_composer(digest_config(tmp_path, list_id="cami.example"), b"s3cret")
    assert named.list_id == "CAMI news <digests.cami.example>"


def test_with_verp_the_envelope_sender_names_the_row_at_the_bounce_mailbox(
    tmp_path: Path,
) -> None:
    config = with_bounces(digest_config(tmp_path), verp=True)
    composer = build_composer(config, b"s3cret")
    assert composer.bounce_address == "bounces@cmsfeed.example"
    assert outbox_id_of(b"s3cret", composer.envelope_sender(17), "bounces@cmsfeed.example") == 17
    chosen = with_bounces(digest_config(tmp_path), verp=True, verp_address="ret@mx.example")
    assert build_composer(chosen, b"s3cret").bounce_address == "ret@mx.example"


def test_the_secret_from_the_environment_wins_and_no_file_is_made(tmp_path: Path) -> None:
    config = digest_config(tmp_path)
    assert site_secret(config, {"CMSFEED_SECRET": "from-env"}) == b"from-env"
    assert not (tmp_path / "secret.key").exists()


def test_without_the_variable_one_secret_file_is_made_0600_and_kept(tmp_path: Path) -> None:
    config = digest_config(tmp_path)
    first = site_secret(config, {})
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert site_secret(config, {}) == first  # the same key the next time: links stay valid


def test_a_delivery_is_built_from_the_parts_above(tmp_path: Path, store_url: str) -> None:
    config = digest_config(tmp_path, store_url=store_url)
    _store, digests = open_stores(config)  # closed by the conftest fixture
    clock = FixedClock()
    delivery = build_delivery(config, digests, clock, {"CMSFEED_SECRET": "k"})
    assert delivery.digests is digests
    assert isinstance(delivery.transport, MaildirTransport)
    assert delivery.clock is clock
    assert delivery.composer.secret == b"k"
    assert delivery.settings == delivery_settings(config)
    given = MaildirTransport(tmp_path / "elsewhere")
    assert build_delivery(config, digests, clock, {}, given).transport is given
