"""The pages of sign-up, confirmation, preferences and unsubscribe: templates in the page's
language, the form with its choices, the "this link does not work" answer, and the signed
double-submit token against cross-site request forgery. Does no I/O beyond rendering.

Cross-site request forgery: the forms that act without a signed link (sign-up) or change
what a link allows (preferences) carry a signed double-submit token, HMAC(secret, cookie
nonce), checked against an HttpOnly SameSite=Strict cookie; a POST whose Origin is another
site is refused. Confirm and unsubscribe act only on the signed token in their link (and the
RFC 8058 one-click POST comes without cookies).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zoneinfo
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cmsfeed.config import Config
from cmsfeed.digest.compose import DigestComposer
from cmsfeed.digest.links import unsubscribe_link
from cmsfeed.digest.render import PACKAGE
from cmsfeed.i18n import babel_locale, gettext_environment
from cmsfeed.model import Clock
from cmsfeed.subscribers import WEEKDAYS, Subscriber

TEMPLATES = PACKAGE / "templates" / "web"
CSRF_COOKIE = "cmsfeed_csrf"


class SubscriptionViews:
    """Renders the subscription pages with the composer's site, renderer and secret."""

    def __init__(self, config: Config, composer: DigestComposer, clock: Clock) -> None:
        self.config = config
        self.composer = composer
        self.clock = clock
        self._environments: dict[str, Environment] = {}

    def _env(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = gettext_environment(
                TEMPLATES, self.composer.renderer.translations(language)
            )
        return self._environments[language]

    def translate(self, language: str, message: str) -> str:
        return self.composer.renderer.translate(language, message)

    def page(self, language: str, template: str, status: int = 200, **context: Any) -> Response:
        site = self.composer.renderer.site  # its base_url is the address served, if not configured
        # Relative, as the forms' actions are: these pages sit at the top of the site, so the
        # link works at whatever address the reader came by (a proxy's, or the listening one).
        home = "./" if language == site.default_language else f"./{language}/"
        context.setdefault("switcher", [])
        body = (
            self._env(language)
            .get_template(template)
            .render(
                language=language,
                site_title=site.title_in(language),
                home_url=home,
                **context,
            )
        )
        return HTMLResponse(
            body,
            status_code=status,
            headers={"cache-control": "no-store", "x-robots-tag": "noindex"},
        )

    def message(
        self, language: str, title: str, message: str, status: int = 200, **context: Any
    ) -> Response:
        return self.page(
            language, "subscribe_message.html", status, title=title, message=message, **context
        )

    def form(
        self,
        language: str,
        values: dict[str, Any],
        *,
        request: Request,
        action: str,
        title: str,
        button: str,
        token: str | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
        subscriber: Subscriber | None = None,
        notice: str | None = None,
    ) -> Response:
        locale = babel_locale(language)
        languages = [(code, _language_name(code, locale)) for code in self.config.site.languages]
        days = get_day_names("wide", locale=locale)
        topics = [{"id": t.id, "name": t.display_name(language)} for t in self.config.topics]
        nonce = _csrf_nonce(request) or secrets.token_urlsafe(32)
        switcher = (
            []
            if token
            else [
                {
                    "lang": code,
                    "label": _language_name(code, babel_locale(code)).capitalize(),
                    "current": code == language,
                    "href": "subscribe?"
                    + urlencode(
                        [("lang", code), *(("topic", topic) for topic in values.get("topics", []))]
                    ),
                }
                for code in self.config.site.languages
            ]
        )
        response = self.page(
            language,
            "subscribe_form.html",
            status,
            title=title,
            action=action,
            button=button,
            token=token,
            errors=errors or {},
            notice=notice,
            values=values,
            zones=time_zones(),
            # The browser's own zone is offered (by script) only on a form not yet filled in.
            guess_zone=subscriber is None and not errors,
            subscriber=subscriber,
            unsubscribe_url=(
                unsubscribe_link("", self.composer.secret, subscriber.id) if subscriber else None
            ),
            topics=topics,
            languages=languages,
            switcher=switcher,
            csrf=_csrf_value(self.composer.secret, nonce),
            weekdays=[(code, days[i]) for i, code in enumerate(WEEKDAYS)],
        )
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            path="/",
            secure=self.composer.renderer.site.base_url.startswith("https:"),
        )
        return response

    def forged(self, request: Request, given: str) -> bool:
        """Whether a form POST lacks its double-submit token or comes from another site."""
        origin = request.headers.get("origin")
        if (
            origin is not None
            and origin != "null"
            and urlsplit(origin).netloc
            not in (request.url.netloc, urlsplit(self.composer.renderer.site.base_url).netloc)
        ):
            return True
        nonce = _csrf_nonce(request)
        return nonce is None or not hmac.compare_digest(
            given, _csrf_value(self.composer.secret, nonce)
        )

    def forged_answer(self, language: str) -> Response:
        return self.message(
            language,
            self.translate(language, "This form has expired"),
            self.translate(language, "Please open the form again and send it from there."),
            status=403,
            error=True,
        )

    def language_of(self, request: Request, fallback: str | None = None) -> str:
        asked = request.query_params.get("lang") or fallback
        languages = self.config.site.languages
        return asked if asked in languages else self.config.site.default_language

    def defaults(self, language: str) -> dict[str, Any]:
        return {
            "email": "",
            "topics": [],
            "language": language,
            "frequency": "daily",
            "weekday": "mon",
            "time": "08:00",
            "timezone": "UTC",
        }

    def bad_link(self, language: str, status: int = 400) -> Response:
        return self.message(
            language,
            self.translate(language, "This link does not work"),
            self.translate(
                language,
                "The link is incomplete, altered or expired. "
                "Please use the latest email, or sign up again.",
            ),
            status=status,
            error=True,
        )


def _csrf_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    return nonce if 20 <= len(nonce) <= 100 and nonce.isascii() else None


def _csrf_value(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def _language_name(code: str, locale: Locale) -> str:
    try:
        return locale.languages.get(code) or code
    except (UnknownLocaleError, ValueError):
        return code


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zones a reader chooses from (the system's, else the tzdata package's)."""
    return tuple(sorted(zoneinfo.available_timezones()))


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(time_zones())
