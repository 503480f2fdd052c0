"""The `cmsfeed` console script, run for real in a subprocess against a config in tmp_path."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from cmsfeed.store import migrate
from support.cli import CMSFEED

SOURCES = Path(__file__).resolve().parent / "data" / "sources"


def cmsfeed(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    options = ["--config", str(config)] if config is not None else []
    return subprocess.run(
        [*CMSFEED, *options, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "160"},
    )


@pytest.fixture
def config_path(tmp_path: Path, make_config) -> Path:
    make_config()
    return tmp_path / "config.toml"


def test_init_writes_a_config_that_check_accepts(tmp_path: Path):
    folder = tmp_path / "site"
    result = cmsfeed("init", str(folder))
    assert result.returncode == 0, result.stderr
    assert (folder / "config.toml").is_file()
    assert (folder / "sample" / "cms-cami-news.txt").is_file()
    checked = cmsfeed("check", config=folder / "config.toml")
    assert checked.returncode == 0, checked.stderr
    assert "is valid" in checked.stdout and "bukhara-deer" in checked.stdout
    again = cmsfeed("init", str(folder))
    assert again.returncode == 1
    assert again.stderr == f"error: {folder / 'config.toml'}: exists; use --force to overwrite it\n"
    assert cmsfeed("init", "--force", str(folder)).returncode == 0


def test_ingest_exits_0_when_everything_went_in(config_path: Path):
    result = cmsfeed("ingest", config=config_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [row] = [line for line in result.stdout.splitlines() if "seed" in line]
    assert row.split() == [
        "seed",
        "8",
        "9",
        "0",
        "0",
        "0",
        "0",
        "0",
    ]


def test_ingest_exits_1_when_a_source_fails_and_stores_the_rest(tmp_path: Path, make_config):
    make_config(
        sources='[[sources]]\nid = "seed"\nkind = "listing"\npath = "seed.txt"\n'
        '[[sources]]\nid = "gone"\nkind = "feed"\npath = "gone.xml"\n'
    )
    result = cmsfeed("ingest", config=tmp_path / "config.toml")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"gone: source failed: cannot read {tmp_path / 'gone.xml'}: No such file or directory",
        "0 stories rejected, 1 source(s) failed",
    ]
    listed = json.loads(
        cmsfeed("items", "list", "--format", "json", config=tmp_path / "config.toml").stdout
    )
    assert len(listed) == 9


def test_ingest_exits_2_on_bad_configuration(tmp_path: Path):
    (tmp_path / "config.toml").write_text('[ingest]\ntimeout_seconds = "soon"\n')
    result = cmsfeed("ingest", config=tmp_path / "config.toml")
    assert result.returncode == 2
    assert (
        result.stderr
        == "error: config.toml: ingest.timeout_seconds: expected a number, got 'soon'\n"
    )
    unknown = cmsfeed("ingest", "--source", "nope", config=tmp_path / "missing.toml")
    assert unknown.returncode == 2 and "cannot read the configuration" in unknown.stderr


def test_ingest_of_an_unknown_source_exits_2(config_path: Path):
    result = cmsfeed("ingest", "--source", "nope", config=config_path)
    assert result.returncode == 2
    assert result.stderr == "error: sources: no source with id 'nope' (configured: seed)\n"


def test_items_list_by_topic_and_language_as_json(config_path: Path):
    assert cmsfeed("ingest", config=config_path).returncode == 0
    result = cmsfeed(
        "items",
        "list",
        "--topic",
        "bukhara-deer",
        "--lang",
        "ru",
        "--format",
        "json",
        config=config_path,
    )
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert [item["title"][:20] for item in items] == [
        "траны-подписанты Мем",
        "Крупнейшая популяция",
    ]
    bilingual, russian = items
    assert {
        "id",
        "title",
        "summary",
        "language",
        "published",
        "updated",
        "topics",
        "url",
        "translations",
    } <= set(russian)
    assert russian["language"] == "ru" and russian["topics"] == ["bukhara-deer"]
    assert russian["published"] == "2023-01-24T00:00:00+00:00"
    assert datetime.fromisoformat(russian["updated"]).utcoffset() is not None
    assert russian["url"] is None and russian["translations"] == []
    assert russian["summary"].startswith("<p>Бухарский олень")
    [english_id] = bilingual["translations"]
    shown = json.loads(
        cmsfeed("items", "show", english_id, "--format", "json", config=config_path).stdout
    )
    assert shown["language"] == "en" and shown["translations"] == [bilingual["id"]]


def test_items_list_refuses_an_unknown_topic_with_exit_2(config_path: Path):
    result = cmsfeed("items", "list", "--topic", "unicorn", config=config_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --topic: unknown topic 'unicorn'; configured: ")


def test_items_show_of_an_unknown_id_exits_1(config_path: Path):
    result = cmsfeed("items", "show", "0000000000000000", config=config_path)
    assert result.returncode == 1
    assert (
        result.stderr == "error: 0000000000000000: no item with this id (see `cmsfeed items "
        "list`)\n"
    )


def test_items_add_prints_the_id_and_detects_the_language(config_path: Path):
    result = cmsfeed(
        "items",
        "add",
        "--title",
        "Учёт сайгаков в Бетпак-Дале",
        "--published",
        "3 мая 2024",
        "--summary",
        "<p>Авиаучёт показал рост численности сайги в Казахстане.</p>",
        "--url",
        "https://example.org/saiga-count",
        config=config_path,
    )
    assert result.returncode == 0, result.stderr
    [item_id] = result.stdout.split()
    shown = json.loads(
        cmsfeed("items", "show", item_id, "--format", "json", config=config_path).stdout
    )
    assert shown["language"] == "ru" and shown["topics"] == ["saiga"]
    assert shown["published"] == "2024-05-03T00:00:00+00:00" and shown["source"] == "manual"
    table = cmsfeed("items", "show", item_id, config=config_path)
    assert "Авиаучёт показал рост" in table.stdout and "<p>" not in table.stdout
    # The same story again is the same item.
    again = cmsfeed(
        "items",
        "add",
        "--title",
        "Учёт сайгаков в Бетпак-Дале",
        "--published",
        "2024-05-03",
        "--url",
        "https://example.org/saiga-count",
        config=config_path,
    )
    assert again.stdout.split() == [item_id]


def test_items_add_with_a_bad_date_exits_1(config_path: Path):
    result = cmsfeed(
        "items", "add", "--title", "Saiga", "--published", "31 February 2024", config=config_path
    )
    assert result.returncode == 1
    assert (
        result.stderr == "error: manual: bad date '31 February 2024': no such day (day is out "
        "of range for month)\n"
    )


@pytest.mark.parametrize(
    "kind, path, inserted",
    [
        ("feed", SOURCES / "feed.atom", 1),
        ("feed", SOURCES / "feed.rss", 2),
        (
            "listing",
            Path(__file__).resolve().parent.parent
            / "src"
            / "cmsfeed"
            / "data"
            / "sample"
            / "cms-cami-news.txt",
            9,
        ),
    ],
)
def test_items_import_of_a_good_file_exits_0(
    config_path: Path, kind: str, path: Path, inserted: int
):
    result = cmsfeed("items", "import", str(path), "--kind", kind, config=config_path)
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if path.stem in line]
    assert row.split()[2] == str(inserted)
    listed = json.loads(cmsfeed("items", "list", "--format", "json", config=config_path).stdout)
    assert len(listed) == inserted and {item["source"] for item in listed} == {path.stem}


def test_items_import_of_json_lines_exits_0(tmp_path: Path, config_path: Path):
    lines = tmp_path / "cami.jsonl"
    lines.write_text(
        json.dumps(
            {
                "id": "1",
                "title": "Snow leopard census",
                "published": "2024-03-01",
                "topics": ["snow-leopard"],
                "language": "en",
            }
        )
        + "\n"
        + json.dumps({"id": "2", "title": "Сайгаки", "published": "02.03.2024"})
        + "\n",
        encoding="utf-8",
    )
    result = cmsfeed(
        "items", "import", str(lines), "--kind", "json", "--source", "cami", config=config_path
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(
        "cami: line 2: rejected: bad date '02.03.2024': expected a date such as"
    )
    [item] = json.loads(cmsfeed("items", "list", "--format", "json", config=config_path).stdout)
    assert item["topics"] == ["snow-leopard"] and item["source"] == "cami"


def test_items_import_of_a_malformed_feed_is_a_failed_source(config_path: Path):
    result = cmsfeed(
        "items", "import", str(SOURCES / "malformed.xml"), "--kind", "feed", config=config_path
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("malformed: source failed: malformed feed: ")


def test_db_status_and_upgrade(config_path: Path):
    head = migrate.head_revision()
    before = cmsfeed("db", "status", config=config_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout.endswith(
        f"schema empty, this cmsfeed wants {head} (needs `cmsfeed db upgrade`)\n"
    )
    upgraded = cmsfeed("db", "upgrade", config=config_path)
    assert upgraded.stdout.endswith(f": upgraded schema empty → {head}\n")
    after = cmsfeed("db", "status", config=config_path)
    assert after.stdout.endswith(f"schema {head}, this cmsfeed wants {head} (current)\n")
    again = cmsfeed("db", "upgrade", config=config_path)
    assert again.stdout.endswith(f": schema is current ({head})\n")


def run_with_store_url(config_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMSFEED, "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "160", "CMSFEED_STORE__URL": url},
    )


@pytest.mark.parametrize("command", [("db", "status"), ("db", "upgrade"), ("check",), ("ingest",)])
@pytest.mark.parametrize(
    ("url", "found"),
    [("not a url", "got no URL"), ("mysql://root:s3cret@db/cms", "got a 'mysql' URL")],
)
def test_an_unsupported_store_url_is_refused_at_config_load_naming_the_key(
    config_path: Path, command: tuple[str, ...], url: str, found: str
):
    result = run_with_store_url(config_path, url, *command)
    assert result.returncode == 2
    assert result.stderr == (
        "error: environment CMSFEED_STORE__URL: expected sqlite:///PATH or "
        f"postgresql://USER@HOST/DBNAME, {found}\n"
    )
    assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [("db", "status"), ("db", "upgrade"), ("check",)])
def test_an_unreachable_store_is_one_line_without_its_password(
    config_path: Path, command: tuple[str, ...]
):
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    url = "postgresql://cmsfeed:s3cret@127.0.0.1:1/cmsfeed"
    result = run_with_store_url(config_path, url, *command)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: postgresql://cmsfeed:***@127.0.0.1:1/cmsfeed: cannot ")
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stdout + result.stderr


def test_check_reports_the_schema_of_the_store_it_connects_to(config_path: Path):
    head = migrate.head_revision()
    checked = cmsfeed("check", config=config_path)
    assert checked.returncode == 0, checked.stderr
    store_line = next(line for line in checked.stdout.splitlines() if line.startswith("store:"))
    if "sqlite" in store_line:
        assert store_line.endswith("no database file yet (the first start creates it)")
    else:  # the PostgreSQL test database exists but may hold another test's schema
        assert "schema" in store_line
    assert cmsfeed("db", "upgrade", config=config_path).returncode == 0
    checked = cmsfeed("check", config=config_path)
    assert f"schema {head} (current)" in checked.stdout


def test_check_writes_nothing_for_a_sqlite_store_that_does_not_exist_yet(config_path: Path):
    missing = config_path.parent / "not-yet" / "cmsfeed.db"
    result = run_with_store_url(config_path, f"sqlite:///{missing}", "check")
    assert result.returncode == 0, result.stderr
    assert "no database file yet" in result.stdout
    assert not missing.parent.exists()


def test_items_added_by_hand_on_one_day_are_never_taken_for_edits_of_each_other(
    config_path: Path,
):
    # Stories without id or URL: a source's next fetch may re-identify an edited title, but
    # each `items add` is a fetch of its own, so that would overwrite the one added before.
    titles = [
        "Saiga calves counted in Kalmykia reserve",
        "Saiga calves counted in Ustyurt reserve",
        "Saiga calves counted in Betpak-Dala reserve",
    ]
    ids = []
    for title in titles:
        added = cmsfeed(
            *("items", "add", "--title", title, "--published", "2025-03-06", "--lang", "en"),
            config=config_path,
        )
        assert added.returncode == 0, added.stderr
        ids.append(added.stdout.strip())
    listed = cmsfeed("items", "list", "--format", "json", config=config_path)
    stored = {item["id"]: item["title"] for item in json.loads(listed.stdout)}
    assert len(set(ids)) == 3
    assert {i: stored.get(i) for i in ids} == dict(zip(ids, titles, strict=True))
