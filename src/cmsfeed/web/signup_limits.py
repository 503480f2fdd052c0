"""How many sign-ups a client, and how many confirmation mails an address, may have. Does I/O
(the store, through `SignupCounts`).

Two limits, both counted in the store so that every worker shares them and a restart keeps
them: sign-ups per client address per hour (`digests.signups_per_hour`, every POST of the
form counts, valid or not) and confirmation mails per target address per day
(`digests.confirmations_per_day`). The rules are the `limits` library's fixed windows; its
storage is ours (`StoreStorage`), a table in the store, on SQLite and PostgreSQL alike, and
it reads the injected clock, never `time.time()`.

The client address is the one `ProxyHeadersMiddleware` left in the request scope: the
peer's, or the one `X-Forwarded-For` names when the peer is in `web.trusted_proxies`. An
IPv6 client counts by its /64 network, which one household or server usually holds whole.
Keys are HMACs of the addresses under the site's secret, so the table holds no address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from limits import RateLimitItemPerDay, RateLimitItemPerHour
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from cmsfeed.errors import StoreError
from cmsfeed.model import Clock
from cmsfeed.store.signup_counts import SignupCounts


class StoreStorage(Storage):
    """A `limits` storage over `SignupCounts`, on the injected clock."""

    STORAGE_SCHEME = None  # made by hand, never from a storage URI

    def __init__(self, counts: SignupCounts, clock: Clock) -> None:
        super().__init__()
        self.counts = counts
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return StoreError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.counts.count_signup(key, timedelta(seconds=expiry), self.clock(), amount)

    def get(self, key: str) -> int:
        found = self.counts.signup_window(key, self.clock())
        return found[0] if found else 0

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        found = self.counts.signup_window(key, now)
        return (found[1] if found else now).timestamp()

    def check(self) -> bool:
        return self.counts.signup_counts_reachable()

    def reset(self) -> int | None:
        return self.counts.clear_signup_counts()

    def clear(self, key: str) -> None:
        self.counts.clear_signup_count(key)


class SignupLimits:
    """The two sign-up limits, shared through the store."""

    def __init__(
        self,
        counts: SignupCounts,
        clock: Clock,
        secret: bytes,
        *,
        per_client_hour: int,
        per_address_day: int,
    ) -> None:
        self._limiter = FixedWindowRateLimiter(StoreStorage(counts, clock))
        self._secret = secret
        self._per_client = RateLimitItemPerHour(per_client_hour, namespace="signup-client")
        self._per_address = RateLimitItemPerDay(per_address_day, namespace="confirm-address")

    def allow_signup(self, client: str) -> bool:
        """Count one sign-up from `client`; False once its hour's allowance is spent."""
        return self._limiter.hit(self._per_client, self._key("client", client_network(client)))

    def allow_confirmation(self, email: str) -> bool:
        """Count one confirmation mail to `email`; False once its day's allowance is spent."""
        return self._limiter.hit(self._per_address, self._key("address", email.lower()))

    def next_signup_at(self, client: str) -> datetime:
        """When `client` may sign up again (its window's end)."""
        key = self._key("client", client_network(client))
        reset = self._limiter.get_window_stats(self._per_client, key).reset_time
        return datetime.fromtimestamp(reset, UTC)

    def _key(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


def client_address(scope: Mapping[str, Any]) -> str:
    """The client of a request: its peer, or the reader a trusted proxy named (see above)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_network(address: str) -> str:
    """What one client is counted as: an IPv4 address, an IPv6 /64, or the text as given."""
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(found.ipv4_mapped)
        return str(ipaddress.IPv6Network((found, 64), strict=False))
    return str(found)
