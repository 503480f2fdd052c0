"""The web server: feeds and pages over HTTP (Starlette on uvicorn). Does I/O.

`create_app(config, store, clock, extra_routes=...)` builds the application; `cmsfeed serve`
runs it. See docs/feeds.md for the URLs it answers.
"""

from cmsfeed.web.app import create_app

__all__ = ["create_app"]
