"""cmsfeed: conservation news turned into per-species, per-language feeds and email digests."""

__version__ = "0.1.0"
