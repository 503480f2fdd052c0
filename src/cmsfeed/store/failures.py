"""Every database failure of the store as one `StoreError` that names the operation.

`guard_public_methods` wraps each public method of the `Store` facade once, when the class
is built, so no part repeats try/except and none can forget it: a failure of the database
or its driver, whichever method met it, becomes "LABEL: list_items failed: REASON" (the
label is the URL with its password hidden, and a password the driver quotes is masked too).
Errors the store raises on purpose (a `StoreError`, an unknown item) pass through unchanged;
a public method another one calls leaves the naming to its caller.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.errors import StoreError
from cmsfeed.store.rows import first_line

# The drivers' own errors can escape SQLAlchemy (e.g. raised while a cursor is iterated).
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)

T = TypeVar("T", bound=type)
# True while a guarded method runs, so that one it calls leaves the naming to it.
_running: ContextVar[bool] = ContextVar("store_operation_running", default=False)


class Labelled(Protocol):
    engine: Engine
    label: str


def public_methods(cls: type) -> list[str]:
    """The names of `cls`'s public instance methods, its parts' included, sorted."""
    return sorted(
        name
        for name in dir(cls)
        if not name.startswith("_") and inspect.isfunction(inspect.getattr_static(cls, name))
    )


def guard_public_methods(cls: T) -> T:
    """Class decorator: each public method turns a database failure into `StoreError`."""
    for name in public_methods(cls):
        setattr(cls, name, _guarded(name, inspect.getattr_static(cls, name)))
    return cls


def database_failure(store: Labelled, operation: str, err: BaseException) -> StoreError:
    reason = hide_secret(first_line(err), store.engine)
    return StoreError(store.label, f"{operation} failed: {reason}")


def hide_secret(message: str, engine: Engine) -> str:
    """`message` with the database password masked, should the driver have quoted it."""
    password = engine.url.password
    return message.replace(str(password), "***") if password else message


def _guarded(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: Labelled, *args: Any, **kwargs: Any) -> Iterator[Any]:
            # Not marked as running: a generator's frame outlives its caller's turn.
            try:
                yield from method(self, *args, **kwargs)
            except DATABASE_ERRORS as err:
                if _running.get():
                    raise
                raise database_failure(self, name, err) from err

        return generator

    @functools.wraps(method)
    def wrapper(self: Labelled, *args: Any, **kwargs: Any) -> Any:
        outer = _running.get()
        token = _running.set(True)
        try:
            return method(self, *args, **kwargs)
        except DATABASE_ERRORS as err:
            if outer:  # a method called by another: the caller's name is the operation
                raise
            raise database_failure(self, name, err) from err
        finally:
            _running.reset(token)

    return wrapper
