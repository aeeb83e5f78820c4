"""What every page shares: the site's state, the `page` wrapper (session, sign-in, role,
CSRF, body size), rendering, and the refusals in Chinese."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, Signer
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.services import lookup_limits
from bot.settings import Settings
from bot.web.auth import COOKIE, Accounts, SessionCodec, SignInLimits, WebSession, same_token
from bot.web.config import WebSettings
from bot.web.imports import ImportJobs
from bot.web.library import KnowledgeHolder
from storage.certificates import RateLimits
from storage.db import Database
from storage.users import Account

log = logging.getLogger(__name__)

STAFF = "staff"
ADMIN = "admin"
ROLE_NAMES = {STAFF: "热线工作人员", ADMIN: "管理员"}
TEMPLATES = Path(__file__).parent / "templates"
FORM_FIELDS_LIMIT = 64 * 1024  # an ordinary form field; a previewed notice's text has its own limit
FORM_LIMIT = 1_000_000  # an ordinary form's whole body (a revocation may list thousands of numbers)

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Site:
    settings: Settings
    web: WebSettings
    db: Database
    knowledge: KnowledgeHolder
    codec: SessionCodec
    forms: Signer  # signs what a page hands to the next step (a previewed notice)
    accounts: Accounts
    jobs: ImportJobs
    templates: Jinja2Templates

    @property
    def lookup_limits(self) -> RateLimits:
        """The chat's limits: a console account is one more requester."""
        return lookup_limits(self.settings)

    @property
    def sign_in_limits(self) -> SignInLimits:
        w = self.web
        return SignInLimits(w.sign_in_failures_per_user, w.sign_in_failures_per_ip, w.sign_in_window)

    def sign(self, value: str) -> str:
        return self.forms.get_signature(value).decode()

    def signed(self, value: str, signature: str) -> bool:
        try:
            return self.forms.verify_signature(value.encode(), signature.encode())
        except BadSignature:
            return False


def site_of(request: Request) -> Site:
    return request.app.state.site


def account_of(request: Request) -> Account:
    """The signed-in account (pages wrapped with a role always have one)."""
    return request.state.account


def session_of(request: Request) -> WebSession:
    return request.state.session


def actor(request: Request) -> str:
    """How the audit logs name the signed-in account."""
    return f"web:{account_of(request).username}"


def wants_fragment(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def page(role: str | None = STAFF, upload: str = "") -> Callable[[Handler], Handler]:
    """Wraps a route: loads the session and account, then refuses what is not allowed — a
    signed-out visitor (sent to sign in), a body over the limit (an ordinary form's, or
    that of the `upload` kind: "notice" or "roster"), a POST without this session's CSRF
    token, an account without the role — before the handler runs."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            site = site_of(request)
            session = site.codec.load(request.cookies.get(COOKIE))
            request.state.session = session
            request.state.account = await _signed_in(site, session)
            site.knowledge.poke()
            response = await _refusal(request, role, upload) or await handler(request)
            _keep(site, request, session, response)
            return response

        return endpoint

    return decorate


async def _refusal(request: Request, role: str | None, upload: str) -> Response | None:
    site, account = site_of(request), request.state.account
    if role is not None and account is None:
        return _to_sign_in(request)  # nothing of the request is read, let alone done
    if request.method == "POST":
        allowed = {"notice": site.web.max_notice_mb, "roster": site.web.max_roster_mb}.get(upload)
        limit = allowed * 1e6 + FORM_FIELDS_LIMIT if allowed else FORM_LIMIT
        size = request.headers.get("content-length")
        if size is None or not size.isdigit():
            return refuse(request, 411, "请求缺少长度信息，无法处理。请用浏览器提交表单。")
        if int(size) > limit:
            shown = allowed or limit / 1e6
            return refuse(
                request, 413, f"上传的内容太大（{int(size) / 1e6:.1f} MB），上限为 {shown:g} MB。没有做任何改动。"
            )
        if not await _csrf_ok(request, site):
            return refuse(request, 403, "表单已失效或来源不明（安全校验未通过），没有执行任何操作。请刷新页面后重试。")
    if role == ADMIN and account.role != ADMIN:
        return refuse(request, 403, "您的账号没有管理员权限，不能使用此功能。如需使用，请联系管理员。")
    return None


async def _signed_in(site: Site, session: WebSession) -> Account | None:
    if session.uid is None:
        return None
    account = await site.accounts.get(session.uid)
    if account is None or not account.active or account.session_epoch != session.epoch:
        # Disabled, removed, or the password changed since: this session is over.
        session.restart()
        session.say("info", "您的账号状态或密码已变更，请重新登录。")
        return None
    return account


async def _csrf_ok(request: Request, site: Site) -> bool:
    """The token comes in a header (script requests, uploads) or a form field."""
    expected = session_of(request).csrf
    token = request.headers.get("x-csrf-token")
    if token is None:
        limit = int(site.web.max_notice_mb * 1e6) + FORM_FIELDS_LIMIT
        form = await request.form(max_part_size=limit)
        token = str(form.get("csrf") or "")
    return same_token(token, expected)


def _to_sign_in(request: Request) -> Response:
    session = session_of(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target} if request.method == "GET" and target != "/" else {}
    if session.expired:
        query["expired"] = "1"
    url = "/login" + (f"?{urlencode(query)}" if query else "")
    if wants_fragment(request):
        # A script's request cannot follow a redirect to a page; it is told where to go.
        message = "登录已过期，请重新登录。" if session.expired else "请先登录。"
        return HTMLResponse(f'<p class="alert error">{message}</p>', 401, headers={"X-Sign-In": url})
    return RedirectResponse(url, 303)


def _keep(site: Site, request: Request, session: WebSession, response: Response) -> None:
    response.headers.setdefault("Cache-Control", "no-store")
    if not site.codec.needs_refresh(session):
        return
    secure = site.web.cookie_secure if site.web.cookie_secure is not None else request.url.scheme == "https"
    response.set_cookie(COOKIE, site.codec.dump(session), httponly=True, samesite="lax", secure=secure, path="/")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    site = site_of(request)
    session: WebSession | None = getattr(request.state, "session", None)
    account: Account | None = getattr(request.state, "account", None)
    base = {
        "account": account,
        "role_names": ROLE_NAMES,
        "csrf": session.csrf if session else "",
        # A fragment (a template named _…) leaves messages for the next whole page.
        "flash": session.take_flash() if session and not template.startswith("_") else [],
        "path": request.url.path,
    }
    return site.templates.TemplateResponse(request, template, base | context, status_code=status)


def refuse(request: Request, status: int, message: str) -> Response:
    """A refusal in Chinese: a fragment for a script's request, else a page."""
    if wants_fragment(request):
        return HTMLResponse(f'<p class="alert error">{escape(message)}</p>', status)
    return render(request, "error.html", status, message=message, code=status)


def back(url: str, session: WebSession, kind: str = "", message: str = "") -> RedirectResponse:
    """Post/redirect/get, with a message for the page it lands on."""
    if message:
        session.say(kind or "ok", message)
    return RedirectResponse(url, 303)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (//evil.example, https://…)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def link_to(path: str, **query: str) -> str:
    shown = {k: v for k, v in query.items() if v}
    return quote(path) + (f"?{urlencode(shown)}" if shown else "")
