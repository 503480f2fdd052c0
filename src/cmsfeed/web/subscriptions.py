"""Sign-up, confirmation, preferences and unsubscribe pages. Does I/O (store, transport).

Double opt-in: the sign-up form sends a confirmation email whose signed, expiring link carries
the requested preferences, so nothing is stored before the address is confirmed. Following the
link shows a page with a button; only the POST confirms (as only a POST unsubscribes), because
link scanners follow every link in an email. `POST /unsubscribe?token=...` is also the RFC 8058
one-click target of the List-Unsubscribe header. Every answer to a sign-up is the same whether
or not the address is known, and sign-ups are rate limited per client address.

Cross-site request forgery: the forms that act without a signed link (sign-up) or change
what a link allows (preferences) carry a signed double-submit token, HMAC(secret, cookie
nonce), checked against an HttpOnly SameSite=Strict cookie; a POST whose Origin is another
site is refused. Confirm and unsubscribe act only on the signed token in their link (and the
RFC 8058 one-click POST comes without cookies).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from cmsfeed.delivery import Mailer
from cmsfeed.digest.links import link, make_token, read_token
from cmsfeed.digest.render import PACKAGE
from cmsfeed.errors import CmsfeedError, DeliveryError, SubscriberError, TokenError
from cmsfeed.i18n import babel_locale, gettext_environment
from cmsfeed.subscribers import WEEKDAYS, Subscriber
from cmsfeed.subscriptions.starting_list import subscriber_from_settings

log = logging.getLogger(__name__)
TEMPLATES = PACKAGE / "templates" / "web"
_FORM_LIMIT = 16 * 1024
CSRF_COOKIE = "cmsfeed_csrf"


class SignupLimiter:
    """At most `limit` sign-ups per client address per hour; the clock is injected."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, deque[datetime]] = defaultdict(deque)

    def allow(self, client: str, now: datetime) -> bool:
        times = self._seen[client]
        while times and times[0] <= now - timedelta(hours=1):
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


class SubscriptionPages:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.config = mailer.config
        self.limiter = SignupLimiter(self.config.digests.signups_per_hour)
        self._environments: dict[str, Environment] = {}

    # -- rendering --------------------------------------------------------------------------

    def _env(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = gettext_environment(
                TEMPLATES, self.mailer.renderer.translations(language)
            )
        return self._environments[language]

    def translate(self, language: str, message: str) -> str:
        return self.mailer.renderer.translate(language, message)

    def page(self, language: str, template: str, status: int = 200, **context: Any) -> Response:
        site = self.mailer.renderer.site  # its base_url is the address served, if not configured
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
        error: str | None = None,
        status: int = 200,
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
            error=error,
            values=values,
            topics=topics,
            languages=languages,
            switcher=switcher,
            csrf=_csrf_value(self.mailer.secret, nonce),
            weekdays=[(code, days[i]) for i, code in enumerate(WEEKDAYS)],
        )
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            path="/",
            secure=self.mailer.renderer.site.base_url.startswith("https:"),
        )
        return response

    def forged(self, request: Request, fields: dict[str, list[str]]) -> bool:
        """Whether a form POST lacks its double-submit token or comes from another site."""
        origin = request.headers.get("origin")
        if (
            origin is not None
            and origin != "null"
            and urlsplit(origin).netloc
            not in (request.url.netloc, urlsplit(self.mailer.renderer.site.base_url).netloc)
        ):
            return True
        nonce = _csrf_nonce(request)
        given = _first(fields, "csrf") or ""
        return nonce is None or not hmac.compare_digest(
            given, _csrf_value(self.mailer.secret, nonce)
        )

    def _forged_answer(self, language: str) -> Response:
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

    # -- sign-up ----------------------------------------------------------------------------

    async def subscribe_form(self, request: Request) -> Response:
        language = self.language_of(request)
        values = self.defaults(language)
        known = set(self.config.topic_ids())
        values["topics"] = [t for t in request.query_params.getlist("topic") if t in known]
        return self.form(
            language,
            values,
            request=request,
            action="subscribe",
            title=self.translate(language, "Subscribe to the news digest"),
            button=self.translate(language, "Subscribe"),
        )

    async def subscribe(self, request: Request) -> Response:
        fields = await _form(request)
        language = self.language_of(request, _first(fields, "language"))
        values = _values(fields, self.defaults(language))
        if self.forged(request, fields):
            return self._forged_answer(language)
        now = self.mailer.clock()
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(client, now):
            return self.message(
                language,
                self.translate(language, "Too many sign-ups"),
                self.translate(
                    language, "Too many sign-ups from your address. Please try again later."
                ),
                status=429,
                error=True,
            )
        try:
            subscriber = self._subscriber(values)
        except SubscriberError as err:
            return self.form(
                language,
                values,
                request=request,
                action="subscribe",
                title=self.translate(language, "Subscribe to the news digest"),
                button=self.translate(language, "Subscribe"),
                error=err.problem,
                status=400,
            )
        expires = now + timedelta(days=self.config.digests.confirm_days)
        token = make_token(
            self.mailer.secret, "confirm", {**values, "email": subscriber.email}, expires
        )
        await self._send_confirmation(subscriber, token, now)
        return self.message(
            subscriber.language,
            self.translate(subscriber.language, "Check your inbox"),
            self.translate(
                subscriber.language,
                "If the address can receive email, a "
                "message with a confirmation link is on its way. The "
                "subscription starts when you confirm it.",
            ),
        )

    def _subscriber(self, values: dict[str, Any]) -> Subscriber:
        known = set(self.config.topic_ids())
        values["topics"] = [t for t in values["topics"] if t in known]
        if values["language"] not in self.config.site.languages:
            values["language"] = self.config.site.default_language
        try:
            return subscriber_from_settings(values, "web")
        except CmsfeedError as err:
            raise SubscriberError(values.get("email") or "(empty)", err.problem) from err

    async def _send_confirmation(self, subscriber: Subscriber, token: str, now: datetime) -> None:
        url = link(self.mailer.renderer.site.base_url, "confirm", token)
        rendered = self.mailer.renderer.confirmation(subscriber.language, url)
        raw = self.mailer.compose(
            rendered, subscriber.email, f"<confirm.{token[-24:]}@{self.mailer.domain}>", now
        )
        try:
            await self.mailer.transport.send(self.mailer.sender.address, subscriber.email, raw)
        except DeliveryError as err:  # the same page either way: nothing is revealed
            log.warning("confirmation to %s not sent: %s", subscriber.email, err)

    async def confirm_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        data = self._read(token, "confirm", dict)
        language = self.language_of(request, data.get("language") if data else None)
        if data is None:
            return self.bad_link(language)
        return self.message(
            language,
            self.translate(language, "Confirm your subscription"),
            self.translate(
                language, "One more step: press the button to start receiving the digest."
            ),
            action="confirm",
            token=token,
            button=self.translate(language, "Confirm my subscription"),
        )

    async def confirm(self, request: Request) -> Response:
        fields = await _form(request)
        data = self._read(_token(request, fields), "confirm", dict)
        if data is None:
            return self.bad_link(self.language_of(request))
        now = self.mailer.clock()
        subscriber = self.mailer.digests.save_subscriber(self._subscriber(data), now)
        personal = self.mailer.personal(subscriber)
        rendered = self.mailer.renderer.welcome(subscriber, personal)
        raw = self.mailer.compose(
            rendered,
            subscriber.email,
            f"<welcome.{subscriber.id}.{int(now.timestamp())}@{self.mailer.domain}>",
            now,
            personal.unsubscribe_url,
        )
        try:
            await self.mailer.transport.send(self.mailer.sender.address, subscriber.email, raw)
        except DeliveryError as err:
            log.warning("welcome to %s not sent: %s", subscriber.email, err)
        language = subscriber.language
        return self.message(
            language,
            self.translate(language, "Subscription confirmed"),
            self.mailer.renderer.why(subscriber),
        )

    # -- preferences and unsubscribe --------------------------------------------------------

    def _known(self, token: str, purpose: str) -> Subscriber | None:
        subscriber_id = self._read(token, purpose, str)
        if subscriber_id is None:
            return None
        return self.mailer.digests.get_subscriber(subscriber_id)

    async def preferences_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        subscriber = self._known(token, "preferences")
        if subscriber is None:
            return self.bad_link(self.language_of(request))
        language = subscriber.language
        return self.form(
            language,
            _as_values(subscriber),
            request=request,
            action="preferences",
            token=token,
            title=self.translate(language, "Your digest"),
            button=self.translate(language, "Save"),
        )

    async def preferences(self, request: Request) -> Response:
        fields = await _form(request)
        token = _token(request, fields)
        subscriber = self._known(token, "preferences")
        if subscriber is None:
            return self.bad_link(self.language_of(request))
        if self.forged(request, fields):
            return self._forged_answer(subscriber.language)
        values = _values(fields, _as_values(subscriber))
        values["email"] = subscriber.email
        try:
            wanted = self._subscriber(values)
        except SubscriberError as err:
            return self.form(
                subscriber.language,
                values,
                request=request,
                action="preferences",
                token=token,
                title=self.translate(subscriber.language, "Your digest"),
                button=self.translate(subscriber.language, "Save"),
                error=err.problem,
                status=400,
            )
        # Saving keeps the status: an unsubscribed reader re-subscribes by signing up.
        saved = self.mailer.digests.save_subscriber(
            Subscriber(**{**_fields(wanted), "status": subscriber.status}), self.mailer.clock()
        )
        return self.message(
            saved.language, self.translate(saved.language, "Saved"), self.mailer.renderer.why(saved)
        )

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        subscriber = self._known(token, "unsubscribe")
        language = subscriber.language if subscriber else self.language_of(request)
        if self._read(token, "unsubscribe", str) is None:
            return self.bad_link(language)
        return self.message(
            language,
            self.translate(language, "Unsubscribe"),
            self.translate(language, "Press the button to stop receiving the digest."),
            action="unsubscribe",
            token=token,
            button=self.translate(language, "Unsubscribe"),
        )

    async def unsubscribe(self, request: Request) -> Response:
        """The one-click target: no login, no confirmation, idempotent."""
        fields = await _form(request)
        token = _token(request, fields)
        subscriber_id = self._read(token, "unsubscribe", str)
        if subscriber_id is None:
            return self.bad_link(self.language_of(request))
        found = self.mailer.digests.get_subscriber(subscriber_id)
        if found is not None:
            self.mailer.digests.set_status(found.id, "unsubscribed")
        language = found.language if found else self.language_of(request)
        return self.message(
            language,
            self.translate(language, "Unsubscribed"),
            self.translate(
                language, "You will receive no more digests. You can sign up again at any time."
            ),
        )

    def _read(self, token: str, purpose: Any, kind: type) -> Any:
        try:
            data = read_token(self.mailer.secret, token, purpose, self.mailer.clock())
        except TokenError:
            return None
        return data if isinstance(data, kind) else None

    def bad_link(self, language: str) -> Response:
        return self.message(
            language,
            self.translate(language, "This link does not work"),
            self.translate(
                language,
                "The link is incomplete, altered or expired. "
                "Please use the latest email, or sign up again.",
            ),
            status=400,
            error=True,
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/subscribe", self.subscribe_form, methods=["GET", "HEAD"]),
            Route("/subscribe", self.subscribe, methods=["POST"]),
            Route("/confirm", self.confirm_page, methods=["GET", "HEAD"]),
            Route("/confirm", self.confirm, methods=["POST"]),
            Route("/preferences", self.preferences_page, methods=["GET", "HEAD"]),
            Route("/preferences", self.preferences, methods=["POST"]),
            Route("/unsubscribe", self.unsubscribe_page, methods=["GET", "HEAD"]),
            Route("/unsubscribe", self.unsubscribe, methods=["POST"]),
        ]


def subscription_routes(mailer: Mailer) -> list[BaseRoute]:
    """The routes to pass to `create_app(..., extra_routes=...)`, with the digests' web copies."""
    from cmsfeed.web.archive import archive_routes

    pages = SubscriptionPages(mailer)
    return [*pages.routes(), *archive_routes(mailer, pages)]


async def _form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    if len(body) > _FORM_LIMIT:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0].strip() if values else None


def _token(request: Request, fields: dict[str, list[str]]) -> str:
    return _first(fields, "token") or request.query_params.get("token", "")


def _values(fields: dict[str, list[str]], defaults: dict[str, Any]) -> dict[str, Any]:
    values = dict(defaults)
    for name in ("email", "language", "frequency", "weekday", "time", "timezone"):
        given = _first(fields, name)
        if given:
            values[name] = given[:200]
    if "topic" in fields or "email" not in fields:
        values["topics"] = [t for t in fields.get("topic", []) if t][:50]
    return values


def _as_values(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "email": subscriber.email,
        "topics": list(subscriber.topics),
        "language": subscriber.language,
        "frequency": subscriber.frequency,
        "weekday": WEEKDAYS[subscriber.weekday],
        "time": f"{subscriber.send_time:%H:%M}",
        "timezone": subscriber.timezone,
    }


def _csrf_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    return nonce if 20 <= len(nonce) <= 100 and nonce.isascii() else None


def _csrf_value(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def _fields(subscriber: Subscriber) -> dict[str, Any]:
    return {name: getattr(subscriber, name) for name in Subscriber.__dataclass_fields__}


def _language_name(code: str, locale: Locale) -> str:
    try:
        return locale.languages.get(code) or code
    except (UnknownLocaleError, ValueError):
        return code
