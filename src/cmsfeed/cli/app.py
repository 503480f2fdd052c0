"""The root command group, shared options and error handling."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from cmsfeed import __version__
from cmsfeed.config import Config, load_config
from cmsfeed.errors import CmsfeedError, ConfigError
from cmsfeed.model import Clock
from cmsfeed.store import Store
from cmsfeed.wiring import open_store

DEFAULT_CONFIG = "config.toml"
EXIT_FAILURE = 1
EXIT_BAD_CONFIG = 2

F = TypeVar("F", bound=Callable[..., Any])


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """What every command needs, built lazily so that `--help` never reads the config."""

    config_path: Path
    debug: bool
    clock: Clock = utc_now
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(
        default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True)
    )

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path, self.environ)

    @cached_property
    def store(self) -> Store:
        return open_store(self.config)


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CMSFEED_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The configuration file (or set CMSFEED_CONFIG).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="cmsfeed")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, debug: bool) -> None:
    """Turn conservation news into feeds and email digests."""
    ctx.obj = Context(config_path=config_path, debug=debug)
    ctx.call_on_close(lambda: _close_store(ctx.obj))


def _close_store(context: Context) -> None:
    if "store" in context.__dict__:
        context.store.close()


def reports_errors(command: F) -> F:
    """Turn cmsfeed errors into one line on stderr and the documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = click.get_current_context().find_object(Context)
        try:
            return command(*args, **kwargs)
        except CmsfeedError as err:
            if context is not None and context.debug:
                # The traceback, then the same line and exit code: scripts see no difference.
                traceback.print_exc()
            fail(err)

    return wrapper  # type: ignore[return-value]


def fail(err: CmsfeedError) -> NoReturn:
    lines = err.problems if isinstance(err, ConfigError) else [str(err)]
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(EXIT_BAD_CONFIG if isinstance(err, ConfigError) else EXIT_FAILURE)


def main() -> None:
    cli(prog_name="cmsfeed")
