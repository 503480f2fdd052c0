"""The tests' one wait: poll a condition until it holds or a deadline passes.

What a test waits for is an event in another thread or process (a server started, a message
arrived, a lease renewed), never time itself: tests that need time to pass move a FixedClock.
The deadline only bounds how long a broken test hangs; a passing test waits as long as the
event takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str | Callable[[], str],
    *,
    timeout: float = 60.0,
    interval: float = 0.02,
) -> T:
    """Call `condition` until it returns something truthy, and return that.

    After `timeout` seconds, fail with an AssertionError naming `what` (a callable is called
    then, so the message can show the state the test found). `condition` may itself assert,
    e.g. that the process it waits on is still alive, to fail at once instead of at the deadline.
    """
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:g} s waiting for {described}")
        time.sleep(interval)  # between polls of the condition, not to let time pass
    return result
