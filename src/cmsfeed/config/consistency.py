"""Checks across keys of config.toml that no single field can make (a topic's languages
against site.languages, ids used twice, a subscriber's topics that do not exist). Reads only
whether site.locale_dir is a folder.
"""

from __future__ import annotations

from pathlib import Path

from cmsfeed.config.settings import Config
from cmsfeed.model import LATIN


def consistency_problems(config: Config, label: str) -> list[str]:
    """One line per problem, each naming `label` (the file) and the key."""
    problems: list[str] = []
    languages = set(config.site.languages)
    for key in ("title", "description"):
        text = getattr(config.site, key)
        if isinstance(text, str):
            continue
        for language in config.site.languages:
            if not text.get(language, "").strip():
                problems.append(
                    f"{label}: site.{key}.{language}: expected the {key} in every language of "
                    f"site.languages {config.site.languages}, {language!r} is missing"
                )
        for language in text:
            if language not in languages:
                problems.append(
                    f"{label}: site.{key}.{language}: not one of site.languages {sorted(languages)}"
                )
    if config.site.locale_dir is not None and not Path(config.site.locale_dir).is_dir():
        problems.append(
            f"{label}: site.locale_dir: expected a folder of gettext catalogs, "
            f"{config.site.locale_dir!r} is not a folder"
        )
    for kind, ids in (
        ("sources", [s.id for s in config.sources]),
        ("topics", [t.id for t in config.topics]),
    ):
        seen: set[str] = set()
        for index, entry_id in enumerate(ids):
            if entry_id in seen:
                problems.append(f"{label}: {kind}[{index}].id: {entry_id!r} is used twice")
            seen.add(entry_id)
    for index, topic in enumerate(config.topics):
        for key, phrases in (("terms", topic.terms), ("exclude", topic.exclude)):
            for language, terms in phrases.items():
                where = f"{label}: topics[{index}].{key}.{language}"
                if language not in languages and language != LATIN:
                    problems.append(
                        f"{where}: not one of site.languages {sorted(languages)} "
                        f"or '{LATIN}' for Latin names"
                    )
                if (not terms and key == "terms") or any(not term.strip() for term in terms):
                    problems.append(f"{where}: expected non-empty {key}")
    for index, source in enumerate(config.sources):
        if source.language is not None and source.language not in languages:
            problems.append(
                f"{label}: sources[{index}].language: {source.language!r} is not one of "
                f"site.languages {sorted(languages)}"
            )
    if config.feeds.hub_url and config.site.base_url is None:
        problems.append(
            f"{label}: feeds.hub_url: a WebSub hub fetches the feeds at their public address; "
            "set site.base_url too"
        )
    topic_ids = set(config.topic_ids())
    for index, subscriber in enumerate(config.subscribers):
        if subscriber.language not in languages:
            problems.append(
                f"{label}: subscribers[{index}].language: {subscriber.language!r} is "
                f"not one of site.languages {sorted(languages)}"
            )
        for topic_id in subscriber.topics:
            if topic_id not in topic_ids:
                problems.append(f"{label}: subscribers[{index}].topics: no topic {topic_id!r}")
    return problems
