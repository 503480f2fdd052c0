"""`cmsfeed build` and `cmsfeed serve`: the feeds as static files, or over HTTP."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cmsfeed.cli.app import Context, cli, pass_context, reports_errors
from cmsfeed.feeds.document import standard_selections
from cmsfeed.log import configure_logging
from cmsfeed.publish import refresh_feeds, write_site


@cli.command()
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@pass_context
@reports_errors
def build(context: Context, outdir: Path) -> None:
    """Write every feed, the index pages and the OPML files into OUTDIR.

    Only files whose content changed are rewritten; feeds of topics removed from the
    configuration are deleted. Serve OUTDIR with nginx or a CDN (see docs/feeds.md).
    """
    site = context.config.site_info()
    store = context.store
    feeds = len(standard_selections(site))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=context.err, transient=True) as progress:
        rendering = progress.add_task("rendering feeds", total=feeds)
        result = refresh_feeds(
            site, store, context.clock(), progress=lambda n: progress.advance(rendering, n)
        )
        writing = progress.add_task("writing files", total=len(result.files))
        report = write_site(outdir, result.files, lambda n: progress.advance(writing, n))
    context.out.print(
        f"{outdir}: {len(report.written)} written, {len(report.unchanged)} "
        f"unchanged, {len(report.removed)} removed ({feeds} feeds)"
    )
    if result.pings.sent or result.pings.failed:
        context.out.print(
            f"WebSub: {len(result.pings.sent)} pinged, "
            f"{len(result.pings.failed)} failed (retried next time)"
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (costs throughput; a proxy in front usually logs).",
)
@pass_context
@reports_errors
def serve(context: Context, host: str, port: int, access_log: bool) -> None:
    """Serve the feeds and pages over HTTP (Ctrl-C stops)."""
    import uvicorn

    from cmsfeed.web import create_app
    from cmsfeed.web.address import listening_base, mismatch_warning

    served = listening_base(host, port)
    app = create_app(context.config, context.store, context.clock, served_base=served)
    warning = mismatch_warning(context.config.site.base_url, served)
    if warning:
        context.err.print(warning, markup=False)
    context.out.print(f"serving {served} (feeds at /feeds/..., health at /healthz)", markup=False)
    configure_logging(context.config.log.format, context.config.log.level)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=context.config.log.level,
        access_log=access_log,
        log_config=None,
        proxy_headers=False,  # X-Forwarded-* are read by the app, from web.trusted_proxies only
        server_header=False,
    )
