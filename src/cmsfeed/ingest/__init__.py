"""Reading stories from sources.

Parsers (`listing`, `html_page`, `feed`, `json_items`) are pure: bytes in, a `ParseResult`
out. `prepare` turns stories into tagged items, also pure. `fetch` is the network edge and
`run` wires fetching, parsing, preparing and storing together.
"""
