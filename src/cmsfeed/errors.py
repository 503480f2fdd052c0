"""The one exception tree of cmsfeed. Pure: no I/O.

    CmsfeedError                 every error cmsfeed raises on purpose
    ├── ConfigError              config.toml or a CMSFEED_* variable is wrong (CLI exit 2)
    ├── StoreError               the database could not be opened, migrated or written
    │   └── ItemNotFoundError    no item has the id asked for
    ├── SourceError              a source could not be fetched or parsed as a whole
    ├── PublishError             feeds could not be written out or announced to a WebSub hub
    ├── DateError                a date string matches no known form (raised by `dates`)
    ├── SubscriberError          an address, a preference or a subscriber is not acceptable
    ├── TokenError               a signed link is forged, altered or expired
    └── DeliveryError            the mail server refused a message or could not be reached

Each error renders as "subject: problem" so that the CLI can print it as one line.
Third-party errors are wrapped with `raise ... from err`.
"""

from __future__ import annotations

from cmsfeed.smtp_outcome import Outcome, Verdict


class CmsfeedError(Exception):
    """Base class: `str(err)` is "subject: problem"."""

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(f"{subject}: {problem}")
        self.subject = subject
        self.problem = problem


class ConfigError(CmsfeedError):
    """One or more problems in the configuration; `problems` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        first = problems[0]
        subject, _, problem = first.partition(": ")
        super().__init__(subject, problem)
        self.args = ("\n".join(problems),)

    def __str__(self) -> str:
        return "\n".join(self.problems)


class StoreError(CmsfeedError):
    """The store failed; the subject is the database URL with any password hidden."""


class ItemNotFoundError(StoreError):
    """No item with that id."""


class SourceError(CmsfeedError):
    """A whole source failed (HTTP error, timeout, malformed document); the subject is its id."""


class PublishError(CmsfeedError):
    """A site could not be written (subject: the path) or a hub refused a ping (the hub URL)."""


class DateError(CmsfeedError):
    """A date string could not be read; the subject is the string itself."""


class SubscriberError(CmsfeedError):
    """A subscriber cannot be added or changed; the subject is the address (or the key)."""


class TokenError(CmsfeedError):
    """A signed link is not valid; the subject is the link's purpose."""


class DeliveryError(CmsfeedError):
    """A message was not delivered; the subject is the recipient (or the server).

    `outcome` says whose fault it was (`cmsfeed.smtp_outcome`): the server's or the session's
    (pause every send, charge nobody), the recipient's for good (a bounce), the recipient's for
    now (retry), or a refusal that is nobody's to charge. `code` is the SMTP reply code when
    the server gave one.
    """

    def __init__(self, subject: str, problem: str, *, outcome: Outcome) -> None:
        super().__init__(subject, problem)
        self.outcome = outcome

    @property
    def permanent(self) -> bool:
        return self.outcome.verdict in (Verdict.BOUNCE, Verdict.REFUSE)

    @property
    def code(self) -> int | None:
        return self.outcome.code
