"""Feeds: Atom, RSS and JSON Feed per topic and language, and pages for people. Pure: no I/O.

Items and site metadata (`cmsfeed.model.SiteInfo`) in, bytes out. `urls` is the one
definition of every public URL; `document` decides what a feed says; `syndication`,
`jsonfeed` and `pages` write it; `site` renders every file. Reading the store and writing
files is done by `cmsfeed.publish`.

Nothing is imported here, so that `cmsfeed.feeds.urls` (which digests use for their links)
loads without the feed writers and their libraries: import from the module that defines a name.
"""
