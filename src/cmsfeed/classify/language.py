"""Language identification with Lingua, restricted to the site's languages. Pure.

Lingua is used instead of a script test ("contains Cyrillic") because Kazakh, Kyrgyz and
Russian share a script, and because its confidence lets short or mixed texts say "unsure".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# Below this many letters a paragraph says too little to be told apart from its neighbours.
MIN_LETTERS = 12
_ENOUGH_LETTERS = re.compile(rf"(?:[^\W\d_][\W\d_]*){{{MIN_LETTERS}}}")


class LanguageIdentifier:
    def __init__(self, languages: Sequence[str], *, min_confidence: float = 0.5) -> None:
        self.languages = tuple(languages)
        known = [lang for lang in (self._lingua(code) for code in languages) if lang is not None]
        self._min_confidence = min_confidence
        self._detector: LanguageDetector | None = None
        if len(known) >= 2:
            self._detector = (
                LanguageDetectorBuilder.from_languages(*known)
                .with_preloaded_language_models()
                .build()
            )
        self._only = self.languages[0] if len(self.languages) == 1 else None

    def identify(self, text: str) -> str | None:
        """The ISO 639-1 code of `text`'s language, or None when the text is too short or mixed."""
        if _ENOUGH_LETTERS.search(text) is None:
            return None
        if self._only is not None or self._detector is None:
            return self._only
        best = self._detector.compute_language_confidence_values(text)[0]
        if best.value < self._min_confidence:
            return None
        return best.language.iso_code_639_1.name.lower()

    @staticmethod
    def _lingua(code: str) -> Language | None:
        try:
            return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
        except (AttributeError, ValueError):
            return None
