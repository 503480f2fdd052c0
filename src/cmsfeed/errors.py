"""The one exception tree of cmsfeed. Pure: no I/O.

    CmsfeedError                 every error cmsfeed raises on purpose
    ├── ConfigError              config.toml or a CMSFEED_* variable is wrong (CLI exit 2)
    ├── StoreError               the database could not be opened, migrated or written
    │   └── ItemNotFoundError    no item has the id asked for
    ├── SourceError              a source could not be fetched or parsed as a whole
    └── DateError                a date string matches no known form (raised by `dates`)

Each error renders as "subject: problem" so that the CLI can print it as one line.
Third-party errors are wrapped with `raise ... from err`.
"""

from __future__ import annotations


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
        first, *rest = problems
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


class DateError(CmsfeedError):
    """A date string could not be read; the subject is the string itself."""
