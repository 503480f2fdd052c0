"""`cmsfeed build OUTDIR`: every file written once, rewritten only when its content changed."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from cmsfeed.cli import main as _main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.feeds.document import standard_selections
from cmsfeed.publish import render_site, write_site
from cmsfeed.publish.static import MANIFEST
from support.feeds import CHECKS, sample_items
from support.items import make_item

OLD = 1_000_000_000  # an mtime in 2001: a file rewritten by a build gets a newer one


def build(config_path: Path, outdir: Path) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config_path), "build", str(outdir)])
    assert result.exit_code == 0, result.output
    return result.output


def files_in(outdir: Path) -> dict[str, int]:
    return {
        str(path.relative_to(outdir)): path.stat().st_mtime_ns
        for path in outdir.rglob("*")
        if path.is_file()
    }


def age(outdir: Path) -> None:
    for path in outdir.rglob("*"):
        if path.is_file():
            os.utime(path, (OLD, OLD))


def test_build_writes_every_feed_page_and_opml(make_config, store, clock, tmp_path):
    config = make_config()
    store.upsert_items(sample_items(), clock())
    outdir = tmp_path / "site"
    output = build(tmp_path / "config.toml", outdir)
    site = config.site_info()
    expected = {
        f"feeds/{s.topic_segment}/{s.language_segment}.{fmt}"
        for s in standard_selections(site)
        for fmt in ("atom", "rss", "json", "html")
    }
    expected |= {"index.html", "feeds.opml", MANIFEST}
    expected |= {f"{language}/index.html" for language in site.languages}  # /en/ too
    expected |= {f"feeds.{language}.opml" for language in site.languages}
    assert set(files_in(outdir)) == expected
    assert f"{len(expected) - 1} written, 0 unchanged" in output
    for path in expected:
        fmt = path.rsplit(".", 1)[-1]
        if fmt in CHECKS:
            language = path.rsplit("/", 1)[1].split(".")[0]
            problems = CHECKS[fmt](
                (outdir / path).read_bytes(),
                site.url(path),
                None if language == "all" else language,
            )
            assert problems == [], path


def test_a_rebuild_rewrites_only_changed_files(make_config, store, clock, tmp_path):
    config = make_config()
    store.upsert_items(sample_items(), clock())
    outdir = tmp_path / "site"
    build(tmp_path / "config.toml", outdir)
    age(outdir)
    assert "0 written" in build(tmp_path / "config.toml", outdir)
    assert set(files_in(outdir).values()) == {OLD * 10**9}
    store.upsert_items(
        [
            make_item(
                "Куланы вернулись",
                key="kulan-ru",
                language="ru",
                topics=("kulan",),
                url="https://www.cms.int/ru/kulan",
                published_at=clock.now - timedelta(days=1),
                summary="<p>Text.</p>",
            )
        ],
        clock(),
    )
    build(tmp_path / "config.toml", outdir)
    rewritten = {path for path, mtime in files_in(outdir).items() if mtime != OLD * 10**9}
    touched = {
        f"feeds/{topic}/{language}.{fmt}"
        for topic in ("kulan", "all")
        for language in ("ru", "all")
        for fmt in ("atom", "rss", "json", "html")
    }
    # Every index page counts the stories on its cards (Russian and all languages among them).
    touched |= {"index.html"} | {f"{lang}/index.html" for lang in config.site.languages}
    assert rewritten == touched
    assert not [p for p in files_in(outdir) if Path(p).name.startswith(".") and p != MANIFEST]


def test_feeds_of_removed_topics_are_deleted_and_other_files_kept(
    make_config, store, clock, tmp_path
):
    config = make_config()
    store.upsert_items(sample_items(), clock())
    outdir = tmp_path / "site"
    (outdir / "feeds").mkdir(parents=True)
    (outdir / "robots.txt").write_text("User-agent: *\n")
    (outdir / "feeds" / "README").write_text("mine\n")
    site = config.site_info()
    write_site(outdir, render_site(site, store))
    assert (outdir / "feeds" / "saiga" / "ru.atom").exists()
    fewer = config.model_copy(
        update={"topics": [topic for topic in config.topics if topic.id != "saiga"]}
    ).site_info()
    report = write_site(outdir, render_site(fewer, store))
    assert sorted(report.removed) == sorted(
        f"feeds/saiga/{language}.{fmt}"
        for language in ("all", *site.languages)
        for fmt in ("atom", "rss", "json", "html")
    )
    assert not (outdir / "feeds" / "saiga").exists()
    assert (outdir / "robots.txt").exists() and (outdir / "feeds" / "README").exists()
    assert b"saiga" not in (outdir / "feeds.opml").read_bytes()


def test_no_page_has_a_url_attribute_with_white_space(make_config, store, clock, tmp_path):
    # The Nu HTML checker's rule (it flagged the favicon's data: URI): a URL in href or src
    # may not contain raw white space; it must be percent-encoded.
    from selectolax.lexbor import LexborHTMLParser

    make_config()
    store.upsert_items(sample_items(), clock())
    outdir = tmp_path / "site"
    build(tmp_path / "config.toml", outdir)
    pages = sorted(outdir.rglob("*.html"))
    assert pages
    offenders = []
    for page in pages:
        tree = LexborHTMLParser(page.read_text(encoding="utf-8"))
        for node in tree.css("[href], [src]"):
            for name in ("href", "src"):
                value = node.attributes.get(name)
                if value is not None and any(c.isspace() for c in value):
                    offenders.append(f"{page.relative_to(outdir)}: {name}={value[:60]!r}")
    assert offenders == []


def test_each_index_names_every_language_version_itself_included_and_an_x_default(
    make_config, store, clock, tmp_path
):
    # Search engines read an hreflang set only when every version lists all of them, its own
    # included, and x-default names the page for readers of no listed language.
    from selectolax.lexbor import LexborHTMLParser

    config = make_config()
    store.upsert_items(sample_items(), clock())
    outdir = tmp_path / "site"
    build(tmp_path / "config.toml", outdir)
    languages = config.site.languages
    sets = {}
    for language in languages:
        tree = LexborHTMLParser((outdir / language / "index.html").read_text(encoding="utf-8"))
        links = tree.css('head link[rel="alternate"][hreflang]')
        sets[language] = {link.attributes["hreflang"]: link.attributes["href"] for link in links}
        assert len(links) == len(sets[language]), f"{language}: an hreflang given twice"
    first = sets[languages[0]]
    assert set(first) == {*languages, "x-default"}
    assert first["x-default"] == first[config.site.default_language]
    assert all(found == first for found in sets.values())  # one set, the same on every page


def test_the_sample_builds_feeds_the_w3c_validator_finds_nothing_in(
    make_config, store, clock, tmp_path
):
    # The W3C feed validator's rules it flagged on this build: DuplicateUpdated (the two
    # language versions of the sample's bilingual story shared their `updated` in the feeds
    # of all languages) and a channel language on feeds that mix languages.
    from lxml import etree

    from cmsfeed.ingest.run import Ingester

    config = make_config()
    assert Ingester(config, store, clock).ingest().ok
    outdir = tmp_path / "site"
    build(tmp_path / "config.toml", outdir)
    atom = "{http://www.w3.org/2005/Atom}"
    feeds = sorted(outdir.rglob("*.atom"))
    # (all topics + each topic) × (all languages + each language)
    assert len(feeds) == (1 + len(config.topics)) * (1 + len(config.site.languages))
    for path in feeds:
        root = etree.parse(path).getroot()
        updated = [e.findtext(f"{atom}updated") for e in root.iter(f"{atom}entry")]
        assert len(updated) == len(set(updated)), path
        mixed = path.stem == "all"
        assert (root.get("{http://www.w3.org/XML/1998/namespace}lang") is None) == mixed, path
    for path in outdir.rglob("all.rss"):
        channel = etree.parse(path).getroot().find("channel")
        assert channel.find("language") is None
        for item in channel.iter("item"):
            language = item.findtext("{http://purl.org/dc/elements/1.1/}language")
            assert language in config.site.languages
