"""config.toml: every mistake at once, one line each; the environment wins and is named."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cmsfeed.config import load_config
from cmsfeed.errors import ConfigError
from support.cli import CMSFEED

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "src" / "cmsfeed" / "data" / "config.toml"

MINIMAL = """
[site]
languages = ["en", "ru"]

[[topics]]
id = "saiga"
name = { en = "Saiga antelope" }
terms.en = ["saiga"]
terms.la = ["Saiga tatarica"]
"""

MISTAKES = """
[site]
languages = ["en", "ru"]
colour = "green"

[ingest]
timeout_seconds = "fast"

[[sources]]
id = "news"
kind = "rss"
path = "news.txt"

[[topics]]
id = "saiga"
name = { en = "Saiga antelope" }
terms.en = ["saiga"]

[[topics]]
id = "kulan"
name = { en = "Kulan" }
terms.ru = 5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ or {})
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


def test_the_bundled_config_is_valid(tmp_path: Path):
    config = load_config(BUNDLED, {})
    assert config.site.languages == ["en", "fr", "es", "ru"]
    assert "bukhara-deer" in config.topic_ids()
    assert config.sources[0].path == str(BUNDLED.parent / "sample" / "cms-cami-news.txt")


def test_every_mistake_is_reported_at_once_one_line_each(tmp_path: Path):
    assert problems_of(write(tmp_path, MISTAKES)) == [
        "config.toml: site.colour: unknown key (check its spelling against the README)",
        "config.toml: ingest.timeout_seconds: expected a number, got 'fast'",
        "config.toml: sources[0].kind: expected 'listing', 'html', 'feed' or 'json', got 'rss'",
        "config.toml: topics[1].terms.ru: expected a list of strings, got 5",
    ]


@pytest.mark.parametrize(
    "section, line, problem",
    [
        (
            "[feeds]\nentrys = 5",
            "feeds.entrys",
            "unknown key (check its spelling against the README)",
        ),
        ("[stroe]\nurl = 'x'", "stroe", "unknown key (check its spelling against the README)"),
        (
            "[[sources]]\nid = 'a'\nkind = 'feed'\nurl = 'https://x.org/'\nselector = 'div'",
            "sources[0].selector",
            "unknown key (check its spelling against the README)",
        ),
        (
            "[[sources]]\nid = 'a'\nkind = 'html'\nurl = 'https://x.org/'\n"
            "[sources.selectors]\nitem = 'div'\ntitle = 'h2'\ndate = 'time'\nsumary = 'p'",
            "sources[0].selectors.sumary",
            "unknown key (check its spelling against the README)",
        ),
        (
            "[ingest]\ntimeout_seconds = 0",
            "ingest.timeout_seconds",
            "input should be greater than 0, got 0",
        ),
        (
            "[[sources]]\nid = 'a'\nkind = 'feed'",
            "sources[0]",
            'expected exactly one of \'path\' or \'url\', got {"id": "a", "kind": "feed"}',
        ),
        (
            "[[sources]]\nid = 'a'\nkind = 'feed'\nurl = 'https://x.org/'\n"
            "timezone = 'Mars/Olympus'",
            "sources[0].timezone",
            "expected an IANA time zone name such as 'Asia/Almaty', got 'Mars/Olympus'",
        ),
        (
            "[[sources]]\nid = 'a'\nkind = 'feed'\nurl = 'https://x.org/'\nlanguage = 'kk'",
            "sources[0].language",
            "'kk' is not one of site.languages ['en', 'ru']",
        ),
    ],
)
def test_a_mistake_names_its_key_path(tmp_path: Path, section: str, line: str, problem: str):
    found = problems_of(
        write(tmp_path, MINIMAL.replace("[[topics]]", f"{section}\n\n[[topics]]", 1))
    )
    assert found == [f"config.toml: {line}: {problem}"]


def test_a_file_that_is_not_toml_names_the_line(tmp_path: Path):
    [problem] = problems_of(write(tmp_path, "[site]\ntitle = \n"))
    assert problem.startswith("config.toml: not valid TOML: ") and "line 2" in problem


def test_terms_in_a_language_the_site_does_not_have_are_refused(tmp_path: Path):
    text = MINIMAL + 'terms.kk = ["сайгак"]\n'
    assert problems_of(write(tmp_path, text)) == [
        "config.toml: topics[0].terms.kk: not one of site.languages ['en', 'ru'] or 'la' for "
        "Latin names"
    ]


def test_environment_overrides_win_over_the_file(tmp_path: Path):
    path = write(tmp_path, MINIMAL + '\n[store]\nurl = "sqlite:///file.db"\n[smtp]\nport = 25\n')
    config = load_config(
        path,
        {
            "CMSFEED_STORE__URL": "postgresql://cmsfeed@db/cmsfeed",
            "CMSFEED_SMTP__PORT": "2525",
            "CMSFEED_SITE__LANGUAGES": '["ru", "en"]',
        },
    )
    assert config.store.url == "postgresql://cmsfeed@db/cmsfeed"
    assert config.smtp.port == 2525
    assert config.site.languages == ["ru", "en"]
    assert load_config(path, {}).smtp.port == 25


def test_an_error_in_an_environment_value_names_the_variable(tmp_path: Path):
    path = write(tmp_path, MINIMAL + "\n[smtp]\nport = 25\n")
    assert problems_of(
        path, {"CMSFEED_SMTP__PORT": "twenty-five", "CMSFEED_INGEST__TIMEOUT": "5"}
    ) == [
        "environment CMSFEED_INGEST__TIMEOUT: unknown key (check its spelling against the README)",
        "environment CMSFEED_SMTP__PORT: expected an integer, got 'twenty-five'",
    ]


def test_variables_that_are_not_overrides_are_left_alone(tmp_path: Path):
    config = load_config(
        write(tmp_path, MINIMAL),
        {"CMSFEED_CONFIG": "elsewhere.toml", "CMSFEED_SECRET": "x", "HOME": "/root"},
    )
    assert config.store.url.endswith("/cmsfeed.db")


def test_an_smtp_password_in_the_file_is_refused(tmp_path: Path):
    path = write(tmp_path, MINIMAL + '\n[smtp]\nhost = "mail.example.org"\npassword = "hunter2"\n')
    [problem] = problems_of(path)
    assert problem.startswith("config.toml: smtp.password: secrets do not belong in the file")
    assert "hunter2" not in problem and "smtp.password_env" in problem


def test_the_smtp_password_comes_from_the_named_variable(tmp_path: Path):
    path = write(
        tmp_path, MINIMAL + '\n[smtp]\nhost = "mail.example.org"\npassword_env = "MAIL_PASSWORD"\n'
    )
    config = load_config(path, {})
    assert config.smtp.password({"MAIL_PASSWORD": "hunter2"}) == "hunter2"
    assert config.smtp.password({}) is None


def test_relative_paths_are_relative_to_the_file(tmp_path: Path):
    folder = tmp_path / "etc"
    folder.mkdir()
    text = (
        MINIMAL + '\n[store]\nurl = "sqlite:///var/x.db"\n'
        '[[sources]]\nid = "a"\nkind = "listing"\npath = "news.txt"\n'
    )
    config = load_config(write(folder, text), {})
    assert config.store.url == f"sqlite:///{folder / 'var' / 'x.db'}"
    assert config.sources[0].path == str(folder / "news.txt")


def test_a_missing_file_is_one_line(tmp_path: Path):
    [problem] = problems_of(tmp_path / "nowhere.toml")
    assert (
        problem == f"{tmp_path / 'nowhere.toml'}: cannot read the configuration "
        "(No such file or directory)"
    )


def run_check(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMSFEED, *options, "--config", str(path), "check"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_check_exits_2_with_one_line_per_mistake_and_no_traceback(tmp_path: Path):
    result = run_check(write(tmp_path, MISTAKES))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: config.toml: site.colour: unknown key (check its spelling against the README)",
        "error: config.toml: ingest.timeout_seconds: expected a number, got 'fast'",
        "error: config.toml: sources[0].kind: expected 'listing', 'html', 'feed' or 'json', "
        "got 'rss'",
        "error: config.toml: topics[1].terms.ru: expected a list of strings, got 5",
    ]


def test_check_with_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path):
    result = run_check(write(tmp_path, MISTAKES), "--debug")
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr
    assert "topics[1].terms.ru: expected a list of strings, got 5" in result.stderr


def test_check_accepts_a_good_config(tmp_path: Path):
    result = run_check(write(tmp_path, MINIMAL))
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout and "saiga" in result.stdout
