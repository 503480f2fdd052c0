"""Which language a text is in and which topics it is about. Pure: no I/O, no configuration."""

from cmsfeed.classify.language import Identification, LanguageIdentifier, script_of
from cmsfeed.classify.topics import TopicMatcher

__all__ = ["Identification", "LanguageIdentifier", "TopicMatcher", "script_of"]
