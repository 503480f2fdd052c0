"""Which language a text is in, as an ISO 639-1 code, with Lingua. Pure: no I/O.

Every language a story may really be in is loaded, not only the site's, so that a French or
Kazakh story is called French or Kazakh and never English or Russian. Lingua is asked only
among the languages of the text's script (a Cyrillic text is not English; a Latin one is
not Russian), which is what makes it affordable, and a text tells its script in one pass:

- A long Cyrillic text with the letters ы or э and none of the letters other Cyrillic
  alphabets add (і ў ә қ ң ө ү ...) is Russian when py3langid agrees, and Lingua is not
  asked.
- A text in unaccented Latin letters with enough words only English writes ("the", "and",
  "with" ...) is English, and Lingua is not asked (`english.is_plain_english`).
- Lingua knows no Kyrgyz, Uzbek or Tajik; their own letters name them (see `_by_letters`),
  so such a story is never called Kazakh, Russian or Turkish. A Kyrgyz text without the
  letters that tell it is settled by py3langid (`kyrgyz`), which also confirms the shortcut
  to Russian above (a Kyrgyz or Mongolian sentence may write ы or э and nothing else).

Texts too short to tell, or where Lingua is unsure, come back `certain=False`; the caller
then uses the language the source declared, or keeps the guess and marks it uncertain.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from lingua import (
    ConfidenceValue,
    IsoCode639_1,
    Language,
    LanguageDetector,
    LanguageDetectorBuilder,
)

from cmsfeed.classify.english import is_plain_english
from cmsfeed.classify.kyrgyz import cyrillic_neighbour

# Below this many letters a text says too little to be told apart from its neighbours.
MIN_LETTERS = 12
# Below this many letters an identification is a guess, however confident Lingua is.
CERTAIN_LETTERS = 40
# Lingua's confidence (0-1, relative to the other candidates) an identification needs.
MIN_CONFIDENCE = 0.5
# How much of a text is read: its opening tells its language as well as the whole does, and
# Lingua's time grows with the length it reads. 200 characters are some 30 words.
SAMPLE_CHARS = 200
# Lingua reads fewer: its time grows with each character, and a sentence or two tells the
# languages it is asked among apart (on the benchmark's English stories, none of 1,500 was
# called anything else from their first 100 characters).
LINGUA_CHARS = 140
# Below this many characters trigrams alone mistake languages (short English for Dutch or
# Romanian, short Russian for Macedonian), so a shorter text is read in high accuracy mode.
SHORT_CHARS = 120
# A paragraph's opening words tell its script.
SCRIPT_CHARS = 80
# How far back a cut text looks for the end of a word: further than any word.
WORD_STEP_BACK = 24

# The languages a story in Latin or Cyrillic letters may be in, beyond the site's own.
# Each costs time on every Latin-script story, so the list holds the languages news about
# these species is written in, and the neighbours Lingua needs to tell them apart.
LATIN_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl", "pl", "ro", "tr", "az")
CYRILLIC_LANGUAGES = ("ru", "uk", "be", "bg", "sr", "mk", "kk", "mn")
# Other scripts: most name their language outright (Greek, Armenian, Georgian, Hebrew).
OTHER_LANGUAGES = ("el", "hy", "ka", "he", "ar", "fa", "ur", "hi", "bn", "th", "zh", "ja", "ko")

_ASCII_LETTER = re.compile(r"[A-Za-z]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u052f]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_OR_CYRILLIC = re.compile(r"([\u0400-\u052f])|[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0400-\u052f]")
# Letters Russian lacks but other Cyrillic alphabets have.
# (Both cases written out: a class without IGNORECASE is searched several times faster.)
_NOT_RUSSIAN_LETTERS = "іїєґўәғқңөұүһђјљњћџѓќѕӣӯҳҷ"
_NOT_RUSSIAN = re.compile(f"[{_NOT_RUSSIAN_LETTERS}{_NOT_RUSSIAN_LETTERS.upper()}]")
_RUSSIAN_ONLY = re.compile("[ыэЫЭ]")
# Letters some alphabets lack: a text that writes one is in none of those languages.
_RULED_OUT = (
    (
        re.compile("[ыэ]", re.IGNORECASE),
        frozenset({Language.UKRAINIAN, Language.BULGARIAN, Language.SERBIAN, Language.MACEDONIAN}),
    ),
    (re.compile("[йщ]", re.IGNORECASE), frozenset({Language.SERBIAN, Language.MACEDONIAN})),
)
_KAZAKH_ONLY = re.compile(r"[әғқұһі]", re.IGNORECASE)
# Russian function words that Kyrgyz and Mongolian, which share its letters, do not have.
_RUSSIAN_WORD = re.compile(r"(?<!\w)(?:и|в|что|для|это|как)(?!\w)", re.IGNORECASE)
_TAJIK_ONLY = re.compile(r"[ӣӯҷ]", re.IGNORECASE)
# Uzbek in Latin letters writes oʻ and gʻ; an apostrophe stands in for the turned comma.
_UZBEK_LATIN = re.compile(r"[OoGg][\u02bb\u2018\u2019'](?!s\b|clock)[a-z]")


@dataclass(frozen=True, slots=True)
class Identification:
    """A text's language (None: too short to guess) and whether it is more than a guess."""

    language: str | None
    certain: bool


UNKNOWN = Identification(None, False)


class LanguageIdentifier:
    def __init__(self, languages: Sequence[str], *, min_confidence: float = MIN_CONFIDENCE) -> None:
        self.languages = tuple(languages)  # the site's, which a story is split into
        self._min_confidence = min_confidence

    @cached_property
    def _latin(self) -> LanguageDetector | None:
        return _detector([*self.languages, *LATIN_LANGUAGES], _LATIN_LETTER)

    @cached_property
    def _cyrillic(self) -> LanguageDetector | None:
        return _detector([*self.languages, *CYRILLIC_LANGUAGES], _CYRILLIC_LETTER)

    @cached_property
    def _other(self) -> LanguageDetector | None:
        return _detector([*self.languages, *OTHER_LANGUAGES], None)

    # Short texts: high accuracy mode reads every n-gram length, which tells a short English
    # sentence from Dutch where trigrams alone cannot. Its models are large (some 200 MiB a
    # script), so they are loaded on the first short text of their script, not before.
    @cached_property
    def _latin_short(self) -> LanguageDetector | None:
        return _detector([*self.languages, *LATIN_LANGUAGES], _LATIN_LETTER, precise=True)

    @cached_property
    def _cyrillic_short(self) -> LanguageDetector | None:
        return _detector([*self.languages, *CYRILLIC_LANGUAGES], _CYRILLIC_LETTER, precise=True)

    def load(self) -> None:
        """Load the Latin and Cyrillic models now rather than on the first story."""
        self._latin, self._cyrillic  # noqa: B018

    def identify(self, text: str) -> Identification:
        """The language of `text`: one of the site's or any other, as an ISO 639-1 code."""
        return self.identify_many([text])[0]

    def identify_many(self, texts: Sequence[str]) -> list[Identification]:
        """`identify` for many texts: Lingua reads those it must in one call per script,
        on its own threads (the GIL released), which costs much less than one call each."""
        found: list[Identification | None] = []
        asked: dict[int, list[tuple[int, str, int]]] = defaultdict(list)  # detector -> texts
        detectors: dict[int, LanguageDetector] = {}
        for index, text in enumerate(texts):
            sample = opening(text, SAMPLE_CHARS)
            latin, cyrillic, letters = _letters(sample)
            if letters < MIN_LETTERS:
                found.append(UNKNOWN)
                continue
            by_letters = _by_letters(sample, latin, cyrillic, letters)
            if by_letters is not None:
                found.append(Identification(by_letters, letters >= CERTAIN_LETTERS))
                continue
            # Fewer letters than that make a guess whatever mode reads them: no need to load
            # the large models for a headline.
            short = len(sample) < SHORT_CHARS and letters >= CERTAIN_LETTERS
            if latin * 2 >= letters:
                detector = self._latin_short if short else self._latin
            elif cyrillic * 2 >= letters:
                detector = self._cyrillic_short if short else self._cyrillic
            else:
                detector = self._other
            if detector is None:
                found.append(UNKNOWN)
                continue
            detectors[id(detector)] = detector
            asked[id(detector)].append((index, opening(sample, LINGUA_CHARS), letters))
            found.append(None)
        for key, wanted in asked.items():
            samples = [sample for _, sample, _ in wanted]
            detector = detectors[key]
            values = (
                detector.compute_language_confidence_values_in_parallel(samples)
                if len(samples) > 1
                else [detector.compute_language_confidence_values(samples[0])]
            )
            for (index, sample, letters), confidences in zip(wanted, values, strict=True):
                found[index] = self._judge(sample, letters, confidences)
        return [identification or UNKNOWN for identification in found]

    def _judge(
        self, sample: str, letters: int, confidences: list[ConfidenceValue]
    ) -> Identification:
        # A language whose alphabet lacks letters the text uses is out, however its trigrams
        # score (a Russian text naming "Ақсу-Жабағлы" is not Serbian); Lingua's confidences
        # are relative, so the rest share what it gave.
        ruled_out = frozenset().union(
            *(languages for letters_, languages in _RULED_OUT if letters_.search(sample))
        )
        possible = [c for c in confidences if c.language not in ruled_out]
        if not possible:
            return Identification(None, False)
        total = sum(c.value for c in possible)
        best = possible[0]
        value = best.value / total if total > 0 else 0.0
        language = _code(best.language)
        if language in ("kk", "mn") and "ң" in sample.lower() and not _KAZAKH_ONLY.search(sample):
            # Kyrgyz, which Lingua lacks: ң (which Mongolian never writes) and none of the
            # letters Kazakh has and Kyrgyz has not.
            language = "ky"
        elif language in ("ru", "kk", "mn") and cyrillic_neighbour(sample) == "ky":
            language = "ky"  # without ң, Kyrgyz looks Kazakh, Mongolian or Russian to Lingua
        certain = value >= self._min_confidence and letters >= CERTAIN_LETTERS
        if not certain:
            # A guess: the site's sources mostly write its languages, so the likeliest of
            # those Lingua finds possible is the better bet (and the item stays in a feed).
            site = [c for c in possible if c.value > 0 and _code(c.language) in self.languages]
            if site:
                language = _code(site[0].language)
        return Identification(language, certain)


def reads_as_russian(text: str) -> bool:
    """Whether a Cyrillic paragraph shows Russian by itself: a letter of ы or э, a little word
    of Russian's (и, в, что ...) that Kyrgyz and Mongolian lack, and none of the letters the
    other Cyrillic alphabets add (і ў ә қ ң ө ү ...). Such paragraphs of one story are one
    language and are identified together (`ingest.prepare`); a Kazakh, Kyrgyz, Ukrainian or
    Bulgarian paragraph beside them is identified on its own."""
    return (
        _RUSSIAN_ONLY.search(text) is not None
        and _RUSSIAN_WORD.search(text) is not None
        and _NOT_RUSSIAN.search(text) is None
    )


def script_of(text: str) -> str:
    """The script of most of `text`'s first letters: "latin", "cyrillic", "other" or "none"."""
    head = text[:SCRIPT_CHARS]
    if head.isascii():  # most English paragraphs: any letter there is Latin
        return "latin" if _ASCII_LETTER.search(head) else "none"
    latin, cyrillic, letters = _letters(head)
    if latin == cyrillic == 0:
        return "other" if letters else "none"
    if latin >= cyrillic:
        return "latin"
    return "cyrillic"


_SCRIPT_OF = {
    **{code: _LATIN_LETTER for code in LATIN_LANGUAGES},
    **{code: _CYRILLIC_LETTER for code in CYRILLIC_LANGUAGES},
}
_SCRIPT_NAME = {
    **{code: "latin" for code in LATIN_LANGUAGES},
    **{code: "cyrillic" for code in CYRILLIC_LANGUAGES},
}


def _letters(text: str) -> tuple[int, int, int]:
    """How many of `text`'s letters are Latin, Cyrillic, and letters at all.

    Counted on the UTF-8 bytes, where C does the work (bytes.translate deletes a set of bytes
    in one pass, some 20 times faster than a regex finding each letter): ASCII letters are
    bytes, and every character whose lead byte is C3-C8 (U+00C0-U+023F) or D0-D3
    (U+0400-U+04FF) lies inside the Latin or the Cyrillic range. A text with any character
    these do not settle (beyond punctuation known to hold no letter) is counted by the
    regexes (`_letters_by_pattern`), so the answer is always theirs.
    """
    data = text.encode()
    ascii_letters = len(data) - len(data.translate(None, _ASCII_LETTER_BYTES))
    if len(data) == len(text):  # ASCII: most English text
        return ascii_letters, 0, ascii_letters
    if (
        data.translate(None, _SETTLED_BYTES)
        or _LETTERLIKE_LATIN1.search(data)
        or _LETTERLIKE_FROM_2040.search(data)
    ):
        return _letters_by_pattern(text)
    latin = ascii_letters + len(data) - len(data.translate(None, _LATIN_LEADS))
    cyrillic = len(data) - len(data.translate(None, _CYRILLIC_LEADS))
    return latin, cyrillic, latin + cyrillic


_ASCII_LETTER_BYTES = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))
_LATIN_LEADS = bytes(range(0xC3, 0xC9))
_CYRILLIC_LEADS = bytes(range(0xD0, 0xD4))
# Bytes whose characters the counts above settle: ASCII, continuation bytes, the leads above,
# and the leads of U+0080-U+00BF (C2) and U+2000-U+2FFF (E2), common punctuation (« » — …).
_SETTLED_BYTES = bytes(range(0xC0)) + _LATIN_LEADS + _CYRILLIC_LEADS + b"\xc2\xe2"
# Of those, the characters that are letters or numbers to `_LETTER` (ª ² ³ µ ¹ º ¼ ½ ¾) and
# everything from U+2040 on (ⁱ ⁿ ...): a text with one is counted by the regexes.
# (Two patterns, each starting with a literal byte, which the regex engine finds fast.)
_LETTERLIKE_LATIN1 = re.compile(rb"\xc2[\xaa\xb2\xb3\xb5\xb9\xba\xbc-\xbe]")
_LETTERLIKE_FROM_2040 = re.compile(rb"\xe2[^\x80]")


def _letters_by_pattern(text: str) -> tuple[int, int, int]:
    """`_letters` by regexes: for any text."""
    found = _LATIN_OR_CYRILLIC.findall(text)  # "" for a Latin letter, the letter if Cyrillic
    latin = found.count("")
    cyrillic = len(found) - latin
    others = len(_LETTER.findall(text)) - len(found) if _OTHER_LETTER.search(text) else 0
    return latin, cyrillic, len(found) + others


def opening(text: str, limit: int) -> str:
    """At most the first `limit` characters of `text`, ending at a word: a word cut in two
    can read as another language's ("Almaty" cut to "Al", Spanish's "al")."""
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit]
    cut = text[:limit]
    # A few steps back to the last space; a script written without spaces (Chinese) after a
    # Latin name has none near, and is cut where it stands rather than back to the name.
    for end in range(limit - 1, max(limit - WORD_STEP_BACK, 0), -1):
        if cut[end].isspace():
            return cut[:end]
    return cut


def _by_letters(sample: str, latin: int, cyrillic: int, letters: int) -> str | None:
    """A language told by letters only it uses, where that is sure (or Lingua cannot tell)."""
    if cyrillic * 20 >= letters * 19:  # at least 95 % Cyrillic
        if _NOT_RUSSIAN.search(sample) is None:
            if not _RUSSIAN_ONLY.search(sample) or letters < CERTAIN_LETTERS:
                return None
            # Kyrgyz and Mongolian write ы and э too, and a sentence of theirs may use none of
            # the letters Russian lacks: Russian's own little words (neither language has
            # them) settle it at once, else py3langid, which knows both, must agree.
            if _RUSSIAN_WORD.search(sample) or cyrillic_neighbour(sample) == "ru":
                return "ru"
            return None
        lowered = sample.lower()
        if _TAJIK_ONLY.search(sample):
            return "tg"
        if "ў" in lowered and re.search("[қғҳ]", lowered):
            return "uz"
        return None
    if latin * 2 >= letters and len(_UZBEK_LATIN.findall(sample)) >= 2:
        return "uz"
    if latin == letters >= CERTAIN_LETTERS and is_plain_english(sample):
        return "en"
    return None


def _detector(
    codes: Sequence[str], script: re.Pattern[str] | None, *, precise: bool = False
) -> LanguageDetector | None:
    """A detector over `codes` (those Lingua knows); `script`, if given, keeps only its own."""
    wanted = [c for c in dict.fromkeys(codes) if script is None or _SCRIPT_OF.get(c) is script]
    known = [language for language in map(_lingua, wanted) if language is not None]
    if len(known) < 2:
        return None
    builder = LanguageDetectorBuilder.from_languages(*known)
    if precise:  # models load as languages come up: short texts may be few
        return builder.build()
    # Low accuracy mode reads trigrams only: as sure for a sentence or more as high accuracy
    # mode, in a fraction of its time and memory.
    return builder.with_low_accuracy_mode().with_preloaded_language_models().build()


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def _lingua(code: str) -> Language | None:
    if code == "la":  # "la" is Latin names, never a story's language
        return None
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None
