"""Sign-up limits that hold: counted in the store (SQLite and PostgreSQL), shared by workers,
kept across restarts, never fooled by a client's own X-Forwarded-For. Real uvicorn servers,
a real SMTP server, the clock injected."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.config import Config, WebConfig
from cmsfeed.store import Store
from cmsfeed.web.signup_limits import SignupLimits, client_network
from support.clock import FixedClock
from support.config import digest_config
from support.signup import serving, signup, signup_app
from support.smtp_server import SmtpServer

HOUR = timedelta(hours=1)


def counts_of(store: Store) -> Store:
    return store


# -- the counters ----------------------------------------------------------------------------


def test_a_window_counts_until_it_ends_then_a_new_one_starts(store: Store) -> None:
    clock = FixedClock()
    counts = counts_of(store)
    assert counts.signup_window("k", clock()) is None
    assert [counts.count_signup("k", HOUR, clock()) for _ in range(3)] == [1, 2, 3]
    assert counts.signup_window("k", clock()) == (3, clock() + HOUR)
    assert counts.count_signup("other", HOUR, clock(), amount=2) == 2  # keys are apart
    clock.advance(minutes=59)
    assert counts.count_signup("k", HOUR, clock()) == 4  # the same window
    clock.advance(minutes=1)
    assert counts.signup_window("k", clock()) is None  # it ended
    assert counts.count_signup("k", HOUR, clock()) == 1
    assert counts.signup_window("k", clock()) == (1, clock() + HOUR)


def test_spent_rows_are_deleted_by_later_counts(store: Store) -> None:
    clock = FixedClock()
    counts = counts_of(store)
    for index in range(20):
        counts.count_signup(f"old-{index}", HOUR, clock())
    clock.advance(hours=2)
    counts.count_signup("new", HOUR, clock())
    assert counts.clear_signup_counts() == 1  # only "new" was left


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hits=st.lists(st.sampled_from([f"client-{n}" for n in range(12)]), max_size=60))
def test_every_hit_is_counted_on_its_own_key(store: Store, hits: list[str]) -> None:
    clock = FixedClock()
    counts = counts_of(store)
    prefix = uuid.uuid4().hex[:8]  # each example on keys of its own
    returned = [counts.count_signup(f"{prefix}:{key}", HOUR, clock()) for key in hits]
    expected = Counter(hits)
    for key, total in expected.items():
        assert counts.signup_window(f"{prefix}:{key}", clock()) == (total, clock() + HOUR)
    # Each hit got the running count of its own key: N hits in, N distinct answers out.
    seen: Counter[str] = Counter()
    for key, answer in zip(hits, returned, strict=True):
        seen[key] += 1
        assert answer == seen[key]


def test_workers_counting_at_once_lose_no_hit(store: Store) -> None:
    clock = FixedClock()
    counts = counts_of(store)
    answers: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            answer = counts.count_signup("shared", HOUR, clock())
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == list(range(1, 201))  # every hit counted once, none twice
    assert counts.signup_window("shared", clock()) == (200, clock() + HOUR)


def test_limits_library_rules_over_the_store(store: Store) -> None:
    clock = FixedClock()
    limits = SignupLimits(counts_of(store), clock, b"secret", per_client_hour=2, per_address_day=1)
    assert limits.allow_signup("192.0.2.1") and limits.allow_signup("192.0.2.1")
    assert not limits.allow_signup("192.0.2.1")
    assert limits.allow_signup("192.0.2.2")  # another client
    assert limits.next_signup_at("192.0.2.1") == clock() + HOUR
    assert limits.allow_confirmation("Anna@Example.org")
    assert not limits.allow_confirmation("anna@example.org")  # one address, any case
    clock.advance(hours=1)
    assert limits.allow_signup("192.0.2.1")
    assert not limits.allow_confirmation("anna@example.org")  # a day, not an hour
    clock.advance(days=1)
    assert limits.allow_confirmation("anna@example.org")
    # The table holds keyed hashes, never an address.
    with store.engine.connect() as connection:
        keys = " ".join(
            row[0] for row in connection.exec_driver_sql("SELECT key FROM signup_counts")
        )
    assert "192.0.2" not in keys and "anna" not in keys.lower()


def test_an_ipv6_client_counts_by_its_network() -> None:
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2:bbbb::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_network("192.0.2.7") == "192.0.2.7"


# -- on real servers -------------------------------------------------------------------------


def mails_to(smtp: SmtpServer, address: str) -> int:
    """Messages to `address` in any case of its letters (one mailbox for the limit)."""
    return sum(address in (r.lower() for r in got.recipients) for got in smtp.handler.received)


def site_config(tmp_path: Path, smtp: SmtpServer, store_url: str, **digests: object) -> Config:
    return digest_config(tmp_path, smtp.port, store_url=store_url, **digests)


def trusting(config: Config, *proxies: str) -> Config:
    return config.model_copy(update={"web": WebConfig(trusted_proxies=list(proxies))})


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_bypass(
    tmp_path: Path, store_url: str
) -> None:
    clock = FixedClock()
    with SmtpServer() as smtp:
        config = site_config(tmp_path, smtp, store_url, signups_per_hour=3)
        store = Store.open(store_url)
        with (
            serving(signup_app(config, store, clock, smtp.port)) as base,
            httpx.Client(base_url=base) as web,
        ):
            replies = [
                signup(
                    web,
                    {"email": f"reader{n}@example.org"},
                    headers={"x-forwarded-for": f"198.51.100.{n}"},
                )
                for n in range(6)
            ]
            clock.advance(minutes=20)
            later = signup(web, {"email": "later@example.org"})
        answers = [reply.status_code for reply in replies]
        assert replies[-1].headers["retry-after"] == "3600"  # the window began with the first
        assert later.status_code == 429 and later.headers["retry-after"] == "2400"
        store.close()
        assert answers == [200, 200, 200, 429, 429, 429]
        assert len(smtp.handler.received) == 3


def test_a_trusted_proxy_names_the_client_that_is_counted(tmp_path: Path, store_url: str) -> None:
    clock = FixedClock()
    with SmtpServer() as smtp:
        config = trusting(site_config(tmp_path, smtp, store_url, signups_per_hour=2), "127.0.0.1")
        store = Store.open(store_url)
        with (
            serving(signup_app(config, store, clock, smtp.port)) as base,
            httpx.Client(base_url=base) as web,
        ):
            distinct = [
                signup(
                    web, {"email": f"r{n}@example.org"}, {"x-forwarded-for": f"203.0.113.{n}"}
                ).status_code
                for n in range(5)
            ]
            # A reader who writes their own header in front: the proxy appends the real one,
            # and the nearest address the proxy did not add is the one counted.
            chained = [
                signup(
                    web,
                    {"email": f"c{n}@example.org"},
                    {"x-forwarded-for": f"10.9.9.{n}, 192.0.2.50"},
                ).status_code
                for n in range(3)
            ]
        store.close()
    assert distinct == [200] * 5
    assert chained == [200, 200, 429]


def test_two_workers_share_one_limit_and_a_restart_keeps_it(tmp_path: Path, store_url: str) -> None:
    clock = FixedClock()
    with SmtpServer() as smtp:
        config = site_config(tmp_path, smtp, store_url, signups_per_hour=3)
        first, second = Store.open(store_url), Store.open(store_url)
        with (
            serving(signup_app(config, first, clock, smtp.port)) as one,
            serving(signup_app(config, second, clock, smtp.port)) as two,
            httpx.Client(base_url=one) as web_one,
            httpx.Client(base_url=two) as web_two,
        ):
            assert signup(web_one, {"email": "a@example.org"}).status_code == 200
            assert signup(web_two, {"email": "b@example.org"}).status_code == 200
            assert signup(web_one, {"email": "c@example.org"}).status_code == 200
            assert signup(web_two, {"email": "d@example.org"}).status_code == 429
            assert signup(web_one, {"email": "d@example.org"}).status_code == 429
        first.close()
        second.close()
        restarted = Store.open(store_url)  # a new process: nothing in memory
        with (
            serving(signup_app(config, restarted, clock, smtp.port)) as base,
            httpx.Client(base_url=base) as web,
        ):
            assert signup(web, {"email": "d@example.org"}).status_code == 429
            clock.advance(hours=1)
            assert signup(web, {"email": "d@example.org"}).status_code == 200
        restarted.close()
        assert sorted(r.recipients[0] for r in smtp.handler.received) == [
            "a@example.org",
            "b@example.org",
            "c@example.org",
            "d@example.org",
        ]


def test_an_address_gets_a_few_confirmations_a_day_and_the_page_tells_nobody(
    tmp_path: Path, store_url: str
) -> None:
    clock = FixedClock()
    victim = "victim@example.org"
    with SmtpServer() as smtp:
        config = trusting(
            site_config(tmp_path, smtp, store_url, signups_per_hour=100, confirmations_per_day=3),
            "127.0.0.1",
        )
        store = Store.open(store_url)
        with (
            serving(signup_app(config, store, clock, smtp.port)) as base,
            httpx.Client(base_url=base) as web,
        ):
            pages = [
                signup(
                    web,
                    {"email": victim.upper() if n % 2 else victim},
                    {"x-forwarded-for": f"198.51.100.{n}"},  # from ten different clients
                )
                for n in range(10)
            ]
            assert signup(web, {"email": "other@example.org"}).status_code == 200
            assert mails_to(smtp, victim) == 3
            clock.advance(days=1)
            assert signup(web, {"email": victim}).status_code == 200
        store.close()
    assert mails_to(smtp, victim) == 4
    assert len(smtp.handler.to("other@example.org")) == 1
    assert {page.status_code for page in pages} == {200}
    assert len({page.text for page in pages}) == 1  # the same answer, sent or not
