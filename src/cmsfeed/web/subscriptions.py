"""Sign-up, confirmation, preferences and unsubscribe routes: forms and HTTP over the
subscription service (cmsfeed.subscriptions.service), which owns the double opt-in workflow
and its signed links; pages and CSRF are rendered by web/subscription_views.py. Does I/O
(HTTP; the store and transport through the service).

A confirmation link shows a page with a button; only the POST confirms (as only a POST
unsubscribes), because link scanners follow every link in an email. A link older than the
subscriber's last change shows the subscription as it is now, with 409, and changes nothing.
`POST /unsubscribe?token=...` is also the RFC 8058 one-click target of the List-Unsubscribe
header. Every answer to a sign-up is the same whether or not the address is known; sign-ups
are limited per client address and confirmation mails per target address, counted in the
store (web/signup_limits.py). The form's fields are read and checked by web/forms.py, which
reports every problem at once in the page's language.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmsfeed.config import Config
from cmsfeed.digest.compose import DigestComposer
from cmsfeed.mail import Transport
from cmsfeed.model import Clock
from cmsfeed.store import Store
from cmsfeed.subscriptions.choices import SiteChoices, values_of
from cmsfeed.subscriptions.messages import ComposedMail
from cmsfeed.subscriptions.service import Outcome, Result, SubscriptionService
from cmsfeed.web.forms import FormAnswer, read_digest_form
from cmsfeed.web.second_thoughts import undo_offer, weekly_offer
from cmsfeed.web.signup_limits import SignupLimits, client_address
from cmsfeed.web.subscription_views import SubscriptionViews, time_zone_names


class SubscriptionPages(SubscriptionViews):
    """The routes: each reads the request, asks the service, and renders its answer."""

    def __init__(
        self,
        config: Config,
        composer: DigestComposer,
        digests: Store,
        transport: Transport,
        clock: Clock,
    ) -> None:
        super().__init__(config, composer, clock)
        self.limits = SignupLimits(
            digests,
            clock,
            composer.secret,
            per_client_hour=config.digests.signups_per_hour,
            per_address_day=config.digests.confirmations_per_day,
        )
        self.choices = SiteChoices(tuple(config.site.languages), tuple(config.topic_ids()))
        self.service = SubscriptionService(
            digests,
            ComposedMail(composer, transport, self.limits.allow_confirmation),
            composer.secret,
            self.choices,
            confirm_days=config.digests.confirm_days,
        )

    # -- sign-up and confirmation ------------------------------------------------------------

    def _signup_form(self, language: str, values: dict[str, Any], **context: Any) -> Response:
        return self.form(
            language,
            values,
            # The page's language rides along, so that every answer to the form (its errors,
            # "check your inbox", a refusal) is in the language the reader was reading.
            action="subscribe?" + urlencode({"lang": language}),
            title=self.translate(language, "Subscribe to the news digest"),
            button=self.translate(language, "Subscribe"),
            **context,
        )

    async def subscribe_form(self, request: Request) -> Response:
        language = self.language_of(request)
        values = self.defaults(language)
        known = set(self.choices.topics)
        values["topics"] = [t for t in request.query_params.getlist("topic") if t in known]
        return self._signup_form(language, values, request=request)

    async def subscribe(self, request: Request) -> Response:
        fields = await _form(request)
        language = self.language_of(request, _first(fields, "language"))
        if self.forged(request, _first(fields, "csrf") or ""):
            return self.forged_answer(language)
        now = self.clock()
        client = client_address(request.scope)
        if not await run_in_threadpool(self.limits.allow_signup, client):
            refused = self.message(
                language,
                self.translate(language, "Too many sign-ups"),
                self.translate(
                    language, "Too many sign-ups from your address. Please try again later."
                ),
                status=429,
                error=True,
            )
            again = await run_in_threadpool(self.limits.next_signup_at, client)
            refused.headers["retry-after"] = str(max(1, int((again - now).total_seconds())))
            return refused
        answer = self._read_form(fields, self.defaults(language))
        if answer.choice is None:
            return self._signup_form(
                language, answer.values, request=request, errors=answer.errors, status=400
            )
        result = await self.service.sign_up(answer.choice.settings(), now)
        if result.outcome is Outcome.INVALID:  # forms.py let through what the service refuses
            return self._signup_form(
                language, answer.values, request=request, notice=result.problem, status=400
            )
        return self.message(
            language,
            self.translate(language, "Check your inbox"),
            self.translate(
                language,
                "If the address can receive email, a "
                "message with a confirmation link is on its way. The "
                "subscription starts when you confirm it.",
            ),
        )

    async def confirm_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        result = self.service.read_confirmation(token, self.clock())
        language = result.language or self.language_of(request)
        if result.outcome is not Outcome.READY:
            return self.answer(result, language)
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
        result = await self.service.confirm(_token(request, fields), self.clock())
        return self.answer(result, result.language or self.language_of(request))

    # -- preferences and unsubscribe --------------------------------------------------------

    def _preferences_form(self, result: Result, request: Request, **context: Any) -> Response:
        subscriber = result.subscriber
        assert subscriber is not None and result.token is not None
        values = context.pop("values", None) or values_of(subscriber)
        context.setdefault("subscriber", subscriber)
        return self.form(
            subscriber.language,
            values,
            request=request,
            action="preferences",
            token=result.token,
            title=self.translate(subscriber.language, "Your digest"),
            button=self.translate(subscriber.language, "Save"),
            **context,
        )

    async def preferences_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        result = self.service.open_preferences(token, self.clock())
        if result.outcome is not Outcome.READY:
            return self.bad_link(result.language or self.language_of(request))
        return self._preferences_form(result, request)

    async def preferences(self, request: Request) -> Response:
        fields = await _form(request)
        token = _token(request, fields)
        now = self.clock()
        opened = self.service.open_preferences(token, now)
        if opened.subscriber is None:
            return self.bad_link(opened.language or self.language_of(request))
        if self.forged(request, _first(fields, "csrf") or ""):
            return self.forged_answer(opened.subscriber.language)
        answer = self._read_form(
            fields, values_of(opened.subscriber), email=opened.subscriber.email
        )
        if answer.choice is None:
            # Shown again with the token it was sent with, not a fresh one: a form opened
            # before a change elsewhere stays stale however often it is corrected.
            return self._preferences_form(
                replace(opened, token=token),
                request,
                values=answer.values,
                errors=answer.errors,
                status=400,
            )
        result = self.service.save_preferences(token, answer.choice.settings(), now)
        if result.outcome is Outcome.INVALID:
            return self._preferences_form(
                result, request, values=answer.values, notice=result.problem, status=400
            )
        if result.outcome is Outcome.STALE:  # changed since the form was opened: as it is now
            language = opened.subscriber.language
            return self._preferences_form(
                result,
                request,
                notice=self.translate(language, "This form has expired"),
                status=409,
            )
        return self.answer(result, result.language or self.language_of(request))

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        result = self.service.read_unsubscribe(token, self.clock())
        language = result.language or self.language_of(request)
        if result.outcome is not Outcome.READY:
            return self.bad_link(language)
        if result.subscriber is None or result.subscriber.status == "unsubscribed":
            # Already out (or no longer stored): say so, with no button that would do nothing.
            return self.answer(Result(Outcome.UNSUBSCRIBED), language)
        return self.message(
            language,
            self.translate(language, "Unsubscribe"),
            self.translate(language, "Press the button to stop receiving the digest."),
            action="unsubscribe",
            token=token,
            button=self.translate(language, "Unsubscribe"),
            alternatives=weekly_offer(self, result.subscriber, token),
        )

    async def unsubscribe(self, request: Request) -> Response:
        """The one-click target: no login, no confirmation, idempotent."""
        fields = await _form(request)
        result = self.service.unsubscribe(_token(request, fields), self.clock())
        return self.answer(result, result.language or self.language_of(request))

    async def resubscribe(self, request: Request) -> Response:
        """The undo offered after an unsubscribe (bound to the version it made)."""
        fields = await _form(request)
        result = self.service.resubscribe(_token(request, fields), self.clock())
        return self.answer(result, result.language or self.language_of(request))

    def answer(self, result: Result, language: str) -> Response:
        """The page that tells what a link did or, for a link older than the subscriber's last
        change (STALE: nothing was done, 409), what the subscription is now."""
        subscriber, outcome = result.subscriber, result.outcome
        status = 409 if outcome is Outcome.STALE else 200
        if outcome is Outcome.STALE and subscriber is not None:
            outcome = {"active": Outcome.CONFIRMED, "unsubscribed": Outcome.UNSUBSCRIBED}.get(
                subscriber.status, outcome
            )
        undo: list[dict[str, str]] = []
        if outcome is Outcome.RESUBSCRIBED and subscriber is not None:  # the undo
            title = self.translate(language, "You are still subscribed")
            text = self.composer.renderer.why(subscriber)
        elif outcome is Outcome.CONFIRMED and subscriber is not None:
            title = self.translate(language, "Subscription confirmed")
            text = self.composer.renderer.why(subscriber)
        elif outcome is Outcome.SAVED and subscriber is not None:
            title = self.translate(language, "Saved")
            text = self.composer.renderer.why(subscriber)
        elif outcome is Outcome.UNSUBSCRIBED:
            title = self.translate(language, "Unsubscribed")
            text = self.translate(
                language, "You will receive no more digests. You can sign up again at any time."
            )
            if result.token and status == 200:  # one button undoes it, as it was
                undo = undo_offer(self, language, result.token)
        else:  # a bad link, or a stale one whose address is gone or suspended
            return self.bad_link(language, status=400 if status == 200 else status)
        return self.message(language, title, text, status=status, alternatives=undo)

    def _read_form(
        self, fields: dict[str, list[str]], defaults: dict[str, Any], email: str | None = None
    ) -> FormAnswer:
        return read_digest_form(
            fields,
            defaults,
            topics=self.config.topic_ids(),
            languages=self.config.site.languages,
            zones=time_zone_names(),
            email=email,
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
            Route("/resubscribe", self.resubscribe, methods=["POST"]),
        ]


def subscription_routes(
    config: Config,
    composer: DigestComposer,
    digests: Store,
    transport: Transport,
    clock: Clock,
) -> list[BaseRoute]:
    """The routes to pass to `create_app(..., extra_routes=...)`, with the digests' web copies."""
    from cmsfeed.web.archive import archive_routes
    from cmsfeed.web.second_thoughts import second_thought_routes

    pages = SubscriptionPages(config, composer, digests, transport, clock)
    return [
        *pages.routes(),
        *archive_routes(composer, digests, clock, pages),
        *second_thought_routes(pages),
    ]


async def _form(request: Request) -> dict[str, list[str]]:
    body = await request.body()  # at most BODY_LIMIT: web/body_limit.py answers 413 past it
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0].strip() if values else None


def _token(request: Request, fields: dict[str, list[str]]) -> str:
    return _first(fields, "token") or request.query_params.get("token", "")
