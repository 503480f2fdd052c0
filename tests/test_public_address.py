"""Links follow the address actually served (issue 13, part 2).

With `site.base_url` unset (the shipped default), `run` and `serve` build links on the address
they listen on, or on what a proxy in `web.trusted_proxies` names; from anyone else Host and
X-Forwarded-* are ignored. A configured base_url wins, with one warning at start-up when it is
not what is served. `build` and the digest commands, which serve nothing, refuse without it.
Pages only carry "Email digest" buttons that lead to a sign-up form that exists.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st

import cmsfeed
from cmsfeed.config import Config, load_config
from cmsfeed.errors import ConfigError
from cmsfeed.feeds.pages import render_feed_page, render_index
from cmsfeed.web import create_app
from cmsfeed.web.address import (
    forwarded_base,
    listening_base,
    mismatch_warning,
    proxied_emails_warning,
)
from support.cli import CMSFEED
from support.feeds import make_site, sample_items
from support.ports import free_port
from support.waiting import wait_until

BUNDLED = Path(cmsfeed.__file__).parent / "data" / "config.toml"


def unset(config: Config, **web: Any) -> Config:
    """`config` as shipped: no base_url; `web` keys set."""
    site = config.site.model_copy(update={"base_url": None})
    return config.model_copy(update={"site": site, "web": config.web.model_copy(update=web)})


@contextlib.contextmanager
def serving(app_for: Any) -> Iterator[str]:
    """uvicorn on a port known before the app is made (the app's links name it)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    server = uvicorn.Server(
        uvicorn.Config(app_for(base), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def started() -> bool:
        assert thread.is_alive(), "uvicorn stopped before it started"
        return bool(server.started)

    wait_until(started, "uvicorn to start", timeout=10)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def self_link(body: bytes) -> str:
    feed = feedparser.parse(body).feed
    return next(link.href for link in feed.links if link.rel == "self")


# -- the pure rules ---------------------------------------------------------------------------


def test_the_listening_address_is_the_base() -> None:
    assert listening_base("127.0.0.1", 8093) == "http://127.0.0.1:8093/"
    assert listening_base("::1", 8093) == "http://[::1]:8093/"
    assert "0.0.0.0" not in listening_base("0.0.0.0", 8093)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"host": "news.example.org"}, "http://news.example.org/"),
        ({"host": "a", "x-forwarded-proto": "https", "x-forwarded-host": "News.Example.org"},
         "https://news.example.org/"),
        ({"host": "a", "x-forwarded-proto": "https", "x-forwarded-host": "n.org",
          "x-forwarded-port": "443"}, "https://n.org/"),
        ({"host": "n.org:8080", "x-forwarded-port": "8443"}, "http://n.org:8443/"),
        ({"host": "n.org", "x-forwarded-host": "first.org, second.org"}, "http://first.org/"),
        ({"host": "evil.org/path"}, None),
        ({"host": "n.org", "x-forwarded-proto": "javascript"}, None),
        ({"host": "n.org", "x-forwarded-port": "99999"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_what_a_proxy_names(headers: dict[str, str], expected: str | None) -> None:
    assert forwarded_base(headers) == expected


@given(st.text(max_size=40), st.text(max_size=10), st.text(max_size=8))
def test_a_forwarded_base_is_always_a_plain_http_origin(host: str, proto: str, port: str) -> None:
    found = forwarded_base({"host": host, "x-forwarded-proto": proto, "x-forwarded-port": port})
    if found is not None:
        assert re.match(r"^https?://[a-z0-9.\-\[\]:]+/$", found), found


def test_one_warning_names_both_addresses() -> None:
    warning = mismatch_warning("http://127.0.0.1:8080/", "http://127.0.0.1:8093/")
    assert warning is not None and "\n" not in warning
    assert "http://127.0.0.1:8080/" in warning and "http://127.0.0.1:8093/" in warning
    assert mismatch_warning(None, "http://127.0.0.1:8093/") is None
    assert mismatch_warning("http://127.0.0.1:8093/", "http://127.0.0.1:8093/") is None


def test_run_behind_a_proxy_without_base_url_says_where_emails_lead() -> None:
    served = "http://127.0.0.1:8080/"
    warning = proxied_emails_warning(None, ["127.0.0.1"], served)
    assert warning is not None and served in warning and "site.base_url" in warning
    assert proxied_emails_warning("https://n.org/", ["127.0.0.1"], served) is None
    assert proxied_emails_warning(None, [], served) is None


# -- configuration ----------------------------------------------------------------------------


def test_the_shipped_config_leaves_base_url_unset_and_trusts_no_proxy() -> None:
    config = load_config(BUNDLED, {})
    assert config.site.base_url is None and config.web.trusted_proxies == []
    with pytest.raises(ConfigError, match=r"^site\.base_url: not set; "):
        config.site_info()
    site = config.site_info("http://127.0.0.1:8093/")
    assert site.base_url == "http://127.0.0.1:8093/" and site.signup_url is None
    assert config.site_info("http://h:1/", signup_here=True).signup_url == "http://h:1/subscribe"


def test_sign_up_buttons_lead_to_a_form_that_exists_or_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[site]\nbase_url = "https://news.example.org/"\n', encoding="utf-8")
    configured = load_config(path, {})
    assert configured.site_info("http://127.0.0.1:1/").base_url == "https://news.example.org/"
    assert configured.site_info().signup_url == "https://news.example.org/subscribe"
    elsewhere = load_config(path, {"CMSFEED_WEB__SIGNUP_URL": "https://run.example.org/join"})
    assert elsewhere.site_info().signup_url == "https://run.example.org/join"
    for site in (make_site(signup_url=None), make_site(signup_url="https://s.org/subscribe")):
        page = render_index(site, "ru").decode()
        hrefs = re.findall(r'href="([^"]*subscribe[^"]*)"', page)
        if site.signup_url is None:
            assert hrefs == [] and "Email digest" not in page
        else:
            assert hrefs and all(h.startswith("https://s.org/subscribe?lang=ru") for h in hrefs)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[web]\ntrusted_proxies = ["10.0.0.0/8", "nginx"]',
         "config.toml: web.trusted_proxies: expected IP addresses or networks such as "
         "'127.0.0.1' or '10.0.0.0/8', got 'nginx'"),
        ('[feeds]\nhub_url = "https://hub.example.org/"',
         "config.toml: feeds.hub_url: a WebSub hub fetches the feeds at their public address; "
         "set site.base_url too"),
    ],
)  # fmt: skip
def test_proxy_and_hub_mistakes_are_named(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, {})
    assert raised.value.problems == [expected]


# -- a real server ----------------------------------------------------------------------------


def test_links_follow_the_listening_address(make_config, store, clock) -> None:
    config = unset(make_config())
    store.upsert_items(sample_items(), clock())
    app_for = lambda base: create_app(config, store, clock, served_base=base)  # noqa: E731
    with serving(app_for) as base, httpx.Client() as client:
        feed = client.get(f"{base}feeds/argali/ru.atom")
        assert self_link(feed.content) == f"{base}feeds/argali/ru.atom"
        # not from a trusted proxy: the Host header changes nothing
        spoofed = client.get(f"{base}feeds/argali/ru.atom", headers={"host": "evil.example"})
        assert spoofed.content == feed.content
        index = client.get(base).text
        assert "evil.example" not in index and "/subscribe" not in index  # serve: no form
        redirect = client.get(f"{base}feeds/custom.atom?topics=argali", follow_redirects=False)
        assert redirect.headers["location"] == f"{base}feeds/argali/all.atom"


def test_links_follow_a_trusted_proxy_and_ignore_others(make_config, store, clock) -> None:
    config = unset(make_config(), trusted_proxies=["127.0.0.0/8"])
    store.upsert_items(sample_items(), clock())
    proxy = {"x-forwarded-proto": "https", "x-forwarded-host": "news.example.org"}

    def app_for(base: str) -> Any:
        return create_app(config, store, clock, served_base=base, signup_here=True)

    with serving(app_for) as base, httpx.Client() as client:
        feed = client.get(f"{base}feeds/saiga/en.rss", headers=proxy)
        assert self_link(feed.content) == "https://news.example.org/feeds/saiga/en.rss"
        page = client.get(f"{base}ru/", headers=proxy).text
        assert 'href="https://news.example.org/subscribe?lang=ru' in page
        direct = client.get(f"{base}feeds/saiga/en.rss")
        assert self_link(direct.content) == f"{base}feeds/saiga/en.rss"
        entry_ids = {e.id for e in feedparser.parse(feed.content).entries}
        assert entry_ids == {e.id for e in feedparser.parse(direct.content).entries}  # stable

    configured = make_config()  # base_url set: what a proxy says does not move it
    configured = configured.model_copy(
        update={"web": configured.web.model_copy(update={"trusted_proxies": ["127.0.0.1"]})}
    )
    with serving(lambda b: create_app(configured, store, clock, served_base=b)) as base:
        feed = httpx.get(f"{base}feeds/saiga/en.rss", headers=proxy)
        assert self_link(feed.content) == "http://127.0.0.1:8080/feeds/saiga/en.rss"


def test_feed_pages_without_a_sign_up_form_have_no_email_button() -> None:
    from cmsfeed.feeds.document import make_document
    from cmsfeed.feeds.urls import Selection

    document = make_document(make_site(signup_url=None), Selection(("argali",), "en"), [], {})
    assert b"subscribe" not in render_feed_page(document)


# -- the commands -----------------------------------------------------------------------------


def cli(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "CMSFEED_SECRET": "s", **env}
    environ.pop("CMSFEED_SITE__BASE_URL", None)
    return subprocess.run(
        [*CMSFEED, *args], cwd=folder, env=environ, capture_output=True, text=True, timeout=120
    )


def test_commands_that_serve_nothing_refuse_without_base_url(tmp_path: Path) -> None:
    assert cli(tmp_path, "init", ".").returncode == 0
    for args in (("build", "out"), ("digest", "send")):
        done = cli(tmp_path, *args)
        assert done.returncode == 2, done
        assert done.stderr.strip().splitlines() == [
            "error: site.base_url: not set; links in files and emails made outside `cmsfeed "
            "run` or `serve` need the public address (set it in config.toml or "
            "CMSFEED_SITE__BASE_URL)"
        ]


def test_serve_warns_once_when_base_url_is_not_what_it_serves(tmp_path: Path) -> None:
    assert cli(tmp_path, "init", ".").returncode == 0
    port = free_port()
    environ = {**os.environ, "CMSFEED_SITE__BASE_URL": "http://127.0.0.1:8080/"}
    process = subprocess.Popen(
        [*CMSFEED, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        served = f"http://127.0.0.1:{port}/"

        def answers() -> bool:
            assert process.poll() is None, "cmsfeed serve exited"
            try:
                httpx.get(f"{served}healthz")
            except httpx.TransportError:
                return False
            return True

        wait_until(answers, f"cmsfeed serve to answer at {served}", interval=0.1)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: site.base_url is http://127.0.0.1:8080/ but this serves {served}; links in "
        "pages, feeds and emails follow site.base_url"
    ]
    assert f"serving {served}" in out


def test_entry_ids_never_follow_the_address_served(make_config) -> None:
    # A feed reader keys stories on entry ids: moving `run` to another host or port, or
    # reaching it through another name, must not make every story new again.
    config = unset(make_config())
    authorities = {
        config.site_info(base).authority
        for base in ("http://127.0.0.1:8080/", "http://0.0.0.0:9000/", "https://news.example.org/")
    }
    assert authorities == {"localhost"}
    fixed = config.model_copy(
        update={"feeds": config.feeds.model_copy(update={"tag_authority": "cms.example.org"})}
    )
    assert fixed.site_info("http://127.0.0.1:8080/").authority == "cms.example.org"
