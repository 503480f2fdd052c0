"""Subscriptions: the reader's double opt-in workflow (`service`) and what a reader may choose
(`choices`), used by the web pages and the CLI alike. Nothing is imported here, so that each
module loads only what it needs."""
