"""Kyrgyz, which Lingua has no model of, told from its Cyrillic neighbours. Pure: no I/O but
loading py3langid's bundled model once.

Lingua calls a Kyrgyz story Kazakh, Mongolian or Russian, unless the text writes ң (see
`language._judge`); and a Kyrgyz or Mongolian sentence without the letters Russian lacks looks
Russian by its letters alone. py3langid (the langid.py model, 97 languages, shipped inside the
package) knows all four: its verdict among them is asked where those confusions can happen,
and a doubtful one changes nothing.
"""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

NEIGHBOURS = ("ru", "ky", "kk", "mn")
# py3langid's normalised probability among the four that its verdict needs to count.
MIN_PROBABILITY = 0.9


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(NEIGHBOURS))
    return identifier


def cyrillic_neighbour(text: str) -> str | None:
    """ "ru", "ky", "kk" or "mn" when py3langid is sure which `text` is in; else None."""
    language, probability = _identifier().classify(text)
    return str(language) if float(probability) >= MIN_PROBABILITY else None
