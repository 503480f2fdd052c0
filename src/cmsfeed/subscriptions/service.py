"""The reader's double opt-in workflow: sign up, confirm, change preferences, unsubscribe.
Does I/O only through what it is given (the store, a sender of the confirmation and welcome
messages); `now` is a parameter of every step, so the web pages and the CLI share it.

Nothing is stored before an address is confirmed: the confirmation link carries the choices
and the version the address was at (0 when unknown). Confirming applies them only while the
address is still at that version (store/subscriber_changes.py), so a link pressed twice, or
replayed after an unsubscribe, a preferences change or an operator's change, shows the
current state, changes nothing and sends no second welcome. The preferences form is bound the
same way to the version it was opened at; the preferences link in an email is not (it opens
the form afresh), nor is the unsubscribe link, which must let one out from any email ever sent.

Each step returns a `Result`: an `Outcome`, the subscriber it concerns (the current state for
a stale link), the language to answer in and, for a refused form, the problem. A signed link
whose data is missing or malformed is `BAD_LINK` like a forged one, never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from cmsfeed.digest.links import Purpose, make_token, read_token
from cmsfeed.errors import DeliveryError, SubscriberError, TokenError
from cmsfeed.subscribers import Subscriber
from cmsfeed.subscriptions.choices import (
    LinkDataError,
    SiteChoices,
    confirm_data,
    preferences_data,
    read_confirm_data,
    read_preferences_data,
    read_subscriber_id,
    subscriber_from_values,
)

log = logging.getLogger(__name__)


class SubscriberStore(Protocol):
    """The store's side of the workflow (`Store` has these; each change is one
    compare-and-set on the subscriber's version: store/subscriber_changes.py)."""

    def get_subscriber(self, email_or_id: str) -> Subscriber | None: ...

    def confirm_subscriber(
        self, wanted: Subscriber, version: int, now: datetime
    ) -> Subscriber | None: ...

    def save_preferences(self, wanted: Subscriber, version: int) -> Subscriber | None: ...

    def unsubscribe_subscriber(self, subscriber_id: str) -> Subscriber | None: ...

    def resubscribe_subscriber(self, subscriber_id: str, version: int) -> Subscriber | None: ...


class SubscriptionMail(Protocol):
    """Sends the two messages of the workflow; raises DeliveryError when one is not sent."""

    async def send_confirmation(self, wanted: Subscriber, token: str, now: datetime) -> None:
        """Ask `wanted.email` to confirm; `token` goes into the link of the message."""

    async def send_welcome(self, subscriber: Subscriber, now: datetime) -> None:
        """Welcome a subscriber who has just confirmed."""


class Outcome(Enum):
    CHECK_INBOX = "check_inbox"  # a sign-up: a confirmation is on its way (said to anyone)
    INVALID = "invalid"  # a form's values are refused: `problem` says which and why
    READY = "ready"  # a link is good: its page may offer its button (or form)
    CONFIRMED = "confirmed"
    SAVED = "saved"
    UNSUBSCRIBED = "unsubscribed"
    RESUBSCRIBED = "resubscribed"  # an unsubscribe undone
    STALE = "stale"  # made before the subscriber's last change: nothing done
    BAD_LINK = "bad_link"  # forged, altered, expired, misused, malformed or of nobody


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    subscriber: Subscriber | None = None  # acted on, asked for, or (STALE) as it is now
    language: str | None = None  # the language to answer in; None: the page's own
    problem: str | None = None  # INVALID: for the form; BAD_LINK: for the log
    token: str | None = None  # for the form the page offers: preferences, or undo (UNSUBSCRIBED)


class SubscriptionService:
    def __init__(
        self,
        store: SubscriberStore,
        mail: SubscriptionMail,
        secret: bytes,
        choices: SiteChoices,
        *,
        confirm_days: int,
    ) -> None:
        self.store = store
        self.mail = mail
        self.secret = secret
        self.choices = choices
        self.confirm_days = confirm_days

    # -- sign-up and confirmation -------------------------------------------------------------

    async def sign_up(self, values: Mapping[str, Any], now: datetime) -> Result:
        """Check the choices and send a confirmation link; the same answer whether or not the
        address is known, or the message could be sent."""
        try:
            wanted = subscriber_from_values(values, self.choices, "web")
        except SubscriberError as err:
            return Result(Outcome.INVALID, problem=err.problem)
        known = self.store.get_subscriber(wanted.id)
        expires = now + timedelta(days=self.confirm_days)
        data = confirm_data(wanted, known.version if known else 0)
        token = make_token(self.secret, "confirm", data, expires)
        try:
            await self.mail.send_confirmation(wanted, token, now)
        except DeliveryError as err:
            log.warning("confirmation to %s not sent: %s", wanted.email, err)
        return Result(Outcome.CHECK_INBOX, language=wanted.language)

    def read_confirmation(self, token: str, now: datetime) -> Result:
        """What a confirmation link's page shows: READY (a button), STALE or BAD_LINK."""
        read = self._confirmation(token, now)
        if isinstance(read, Result):
            return read
        wanted, version = read
        current = self.store.get_subscriber(wanted.id)
        if (current.version if current else 0) != version:
            return self._stale(current, wanted.language)
        return Result(Outcome.READY, wanted, wanted.language)

    async def confirm(self, token: str, now: datetime) -> Result:
        """Subscribe (once: a replay finds the version moved on) and send the welcome."""
        read = self._confirmation(token, now)
        if isinstance(read, Result):
            return read
        wanted, version = read
        confirmed = self.store.confirm_subscriber(wanted, version, now)
        if confirmed is None:
            return self._stale(self.store.get_subscriber(wanted.id), wanted.language)
        try:
            await self.mail.send_welcome(confirmed, now)
        except DeliveryError as err:
            log.warning("welcome to %s not sent: %s", confirmed.email, err)
        return Result(Outcome.CONFIRMED, confirmed, confirmed.language)

    def _confirmation(self, token: str, now: datetime) -> tuple[Subscriber, int] | Result:
        data = self._read(token, "confirm", now)
        if isinstance(data, Result):
            return data
        try:
            return read_confirm_data(data, self.choices)
        except LinkDataError as err:
            return self._malformed("confirm", err, data)

    # -- preferences --------------------------------------------------------------------------

    def open_preferences(self, token: str, now: datetime) -> Result:
        """READY with the subscriber as stored and a form token bound to their version."""
        read = self._preferences(token, now)
        if isinstance(read, Result):
            return read
        subscriber, _version = read
        return self._form(Outcome.READY, subscriber)

    def save_preferences(self, token: str, values: Mapping[str, Any], now: datetime) -> Result:
        """SAVED; INVALID (the form again, with the problem); STALE when the subscriber changed
        since the form was opened (the form again, as they are now); or BAD_LINK."""
        read = self._preferences(token, now)
        if isinstance(read, Result):
            return read
        subscriber, version = read
        if version is None:  # a link from an email, posted without its form
            return self._form(Outcome.STALE, subscriber)
        try:
            wanted = subscriber_from_values(
                {**values, "email": subscriber.email}, self.choices, subscriber.origin
            )
        except SubscriberError as err:
            return Result(
                Outcome.INVALID, subscriber, subscriber.language, err.problem, token=token
            )
        saved = self.store.save_preferences(wanted, version)
        if saved is None:
            current = self.store.get_subscriber(subscriber.id)
            if current is None:
                return Result(Outcome.BAD_LINK, problem="preferences: subscriber gone")
            return self._form(Outcome.STALE, current)
        return Result(Outcome.SAVED, saved, saved.language)

    def _preferences(self, token: str, now: datetime) -> tuple[Subscriber, int | None] | Result:
        read = self._id_and_version(token, "preferences", now)
        if isinstance(read, Result):
            return read
        subscriber_id, version = read
        subscriber = self.store.get_subscriber(subscriber_id)
        if subscriber is None:
            return Result(Outcome.BAD_LINK, problem="preferences: no such subscriber")
        return subscriber, version

    def _form(self, outcome: Outcome, subscriber: Subscriber) -> Result:
        token = make_token(self.secret, "preferences", preferences_data(subscriber))
        return Result(outcome, subscriber, subscriber.language, token=token)

    # -- unsubscribe --------------------------------------------------------------------------

    def read_unsubscribe(self, token: str, now: datetime) -> Result:
        """READY (with the subscriber, or None when no longer stored) or BAD_LINK."""
        subscriber_id = self._unsubscribe_id(token, now)
        if isinstance(subscriber_id, Result):
            return subscriber_id
        found = self.store.get_subscriber(subscriber_id)
        return Result(Outcome.READY, found, found.language if found else None)

    def unsubscribe(self, token: str, now: datetime) -> Result:
        """Unsubscribe; pressing again, or for an address no longer stored, changes nothing.
        Ending an active subscription, the result carries a token that undoes it while nothing
        else changes (`resubscribe`)."""
        subscriber_id = self._unsubscribe_id(token, now)
        if isinstance(subscriber_id, Result):
            return subscriber_id
        before = self.store.get_subscriber(subscriber_id)
        gone = self.store.unsubscribe_subscriber(subscriber_id)
        if gone is None:
            return Result(Outcome.UNSUBSCRIBED)
        if before is None or before.status != "active":
            # Only whoever ended an active subscription gets the undo: pressing an old
            # unsubscribe link again must give nobody a way to sign the reader back up.
            return Result(Outcome.UNSUBSCRIBED, gone, gone.language)
        expires = now + timedelta(days=self.confirm_days)
        undo = make_token(self.secret, "resubscribe", preferences_data(gone), expires)
        return Result(Outcome.UNSUBSCRIBED, gone, gone.language, token=undo)

    def resubscribe(self, token: str, now: datetime) -> Result:
        """Undo an unsubscribe: active again, as before. STALE (nothing done) when the
        subscriber changed since, e.g. signed up again or undid it already."""
        read = self._id_and_version(token, "resubscribe", now, version_required=True)
        if isinstance(read, Result):
            return read
        subscriber_id, version = read
        assert version is not None  # required above
        back = self.store.resubscribe_subscriber(subscriber_id, version)
        if back is None:
            current = self.store.get_subscriber(subscriber_id)
            return self._stale(current, current.language if current else None)
        return Result(Outcome.RESUBSCRIBED, back, back.language)

    def weekly_instead(self, token: str, now: datetime) -> Result:
        """The unsubscribe page's milder choice: one digest a week, on the unsubscribe link.
        Only an active subscriber can take it (STALE otherwise, nothing done), and only at
        the version read, like every change the reader makes."""
        subscriber_id = self._unsubscribe_id(token, now)
        if isinstance(subscriber_id, Result):
            return subscriber_id
        found = self.store.get_subscriber(subscriber_id)
        if found is None or found.status != "active":
            return self._stale(found, found.language if found else None)
        saved = self.store.save_preferences(replace(found, frequency="weekly"), found.version)
        if saved is None:
            current = self.store.get_subscriber(subscriber_id)
            return self._stale(current, found.language)
        return Result(Outcome.SAVED, saved, saved.language)

    def _id_and_version(
        self, token: str, purpose: Purpose, now: datetime, *, version_required: bool = False
    ) -> tuple[str, int | None] | Result:
        """The subscriber id and version a preferences or undo link carries, or BAD_LINK."""
        data = self._read(token, purpose, now)
        if isinstance(data, Result):
            return data
        try:
            subscriber_id, version = read_preferences_data(data)
            if version is None and version_required:
                raise LinkDataError("version: missing")
        except LinkDataError as err:
            return self._malformed(purpose, err, data)
        return subscriber_id, version

    def _unsubscribe_id(self, token: str, now: datetime) -> str | Result:
        data = self._read(token, "unsubscribe", now)
        if isinstance(data, Result):
            return data
        try:
            return read_subscriber_id(data)
        except LinkDataError as err:
            return self._malformed("unsubscribe", err, data)

    # -- shared -------------------------------------------------------------------------------

    def _read(self, token: str, purpose: Purpose, now: datetime) -> Any:
        try:
            return read_token(self.secret, token, purpose, now)
        except TokenError as err:
            return Result(Outcome.BAD_LINK, problem=str(err))

    def _malformed(self, purpose: Purpose, err: LinkDataError, data: Any) -> Result:
        # Signed by this site, so made by a version of it that wrote other fields (or a bug):
        # worth a line in the log, and a plain 400 page for the reader.
        log.warning("a signed %s link with unusable data: %s", purpose, err)
        language = data.get("language") if isinstance(data, dict) else None
        return Result(
            Outcome.BAD_LINK,
            language=language if language in self.choices.languages else None,
            problem=f"{purpose}: {err}",
        )

    def _stale(self, current: Subscriber | None, asked_in: str | None) -> Result:
        return Result(Outcome.STALE, current, current.language if current else asked_in)
