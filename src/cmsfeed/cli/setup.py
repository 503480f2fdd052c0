"""`cmsfeed init` and `cmsfeed check`: getting a configuration right."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import click

from cmsfeed.cli.app import EXIT_FAILURE, Context, cli, pass_context, reports_errors
from cmsfeed.cli.tables import COUNT, KEY, SHORT, print_rows
from cmsfeed.store import Store, hide_password, migrate

STARTER_FILES = {
    "config.toml": "config.toml",
    "sample/cms-cami-news.txt": "sample/cms-cami-news.txt",
    "sample/cms-cami-news-fr-es.txt": "sample/cms-cami-news-fr-es.txt",
}


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(directory: Path, force: bool) -> None:
    """Write a starter config.toml (and the sample news it reads) into DIRECTORY."""
    data = files("cmsfeed") / "data"
    existing = [name for name in STARTER_FILES if (directory / name).exists()]
    if existing and not force:
        click.echo(
            f"error: {directory / existing[0]}: exists; use --force to overwrite it", err=True
        )
        raise SystemExit(EXIT_FAILURE)
    for target, source in STARTER_FILES.items():
        path = directory / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((data / source).read_bytes())
        click.echo(f"wrote {path}")
    click.echo("next: edit config.toml, then run `cmsfeed check` and `cmsfeed run`")


@cli.command()
@pass_context
@reports_errors
def check(context: Context) -> None:
    """Validate the configuration and show what it sets up."""
    config = context.config
    out = context.out
    out.print(f"[bold]{context.config_path}[/bold] is valid.")
    titles = " / ".join(dict.fromkeys(config.site.titles().values()))
    where = config.site.base_url or "the address served (site.base_url is not set)"
    out.print(
        f"site: {titles} at {where} (languages: {', '.join(config.site.languages)}; "
        f"stories in others: {config.ingest.other_languages})"
    )
    out.print(f"store: {_store_state(config.store.url)}")
    print_rows(
        out,
        [("source", KEY), ("kind", SHORT), ("location", KEY), ("enabled", SHORT)],
        [
            (source.id, source.kind, source.location, "yes" if source.enabled else "no")
            for source in config.sources
        ],
        "table",
        title="Sources",
    )
    names = [(f"name ({lang})", SHORT) for lang in config.site.languages]
    print_rows(
        out,
        [("topic", KEY), *names, ("terms", COUNT), ("exclude", COUNT)],
        [
            (
                topic.id,
                *[topic.name.get(lang, "—") for lang in config.site.languages],
                str(sum(len(terms) for terms in topic.terms.values())),
                str(sum(len(names) for names in topic.exclude.values())),
            )
            for topic in config.topics
        ],
        "table",
        title="Topics",
    )
    smtp = config.smtp
    out.print(
        "smtp: "
        + (
            f"{smtp.host}:{smtp.port} ({smtp.security})"
            if smtp.host
            else "none configured: digests go to the local Maildir"
        )
    )


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL; None for other databases and in-memory SQLite."""
    scheme, _, rest = url.partition(":///")
    if not scheme.lower().startswith("sqlite") or rest in ("", ":memory:"):
        return None
    return Path(rest.split("?", 1)[0])


def _store_state(url: str) -> str:
    """Connect to the store and say which schema it has; a failure is a StoreError (one line)."""
    sqlite_path = sqlite_file(url)
    if sqlite_path is not None and not sqlite_path.exists():
        # Checking writes nothing: connecting would create the file (and its folders).
        return f"{hide_password(url)}, no database file yet (the first start creates it)"
    store = Store.open(url, upgrade=False)
    try:
        current = store.schema_revision()
    finally:
        store.close()
    head = migrate.head_revision()
    if current == head:
        state = "current"
    elif current is None:
        state = "empty; `cmsfeed db upgrade` or the first start creates it"
    else:
        state = f"needs `cmsfeed db upgrade` to {head}"
    return f"{store.label}, schema {current or 'none'} ({state})"
