"""Which language a text is in and which topics it is about. Pure: no I/O."""

from cmsfeed.classify.language import LanguageIdentifier
from cmsfeed.classify.topics import TopicMatcher

__all__ = ["LanguageIdentifier", "TopicMatcher"]
