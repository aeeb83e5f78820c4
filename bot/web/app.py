"""The web console as an ASGI application (Starlette): routes, start-up on the bot's
database and knowledge, security headers, and error pages in Chinese."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itsdangerous import Signer
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.services import Services
from bot.settings import Settings
from bot.web import admin_certs, admin_knowledge, desk, signin
from bot.web.auth import Accounts, SessionCodec
from bot.web.config import WebSettings
from bot.web.imports import ImportJobs
from bot.web.library import KnowledgeHolder
from bot.web.site import TEMPLATES, Site, render
from knowledge.hits import citation
from storage.db import Database
from storage.users import prune_sign_ins, shared_secret

STATIC = Path(__file__).parent / "static"
SIGN_IN_RETENTION = timedelta(days=30)
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

ROUTES = [
    Route("/", desk.desk),
    Route("/search", desk.search),
    Route("/notices", desk.notices),
    Route("/notices/{slug:path}", desk.notice),
    Route("/certs/lookup", desk.lookup_form),
    Route("/certs/lookup", desk.lookup_submit, methods=["POST"]),
    Route("/login", signin.sign_in_form),
    Route("/login", signin.sign_in, methods=["POST"]),
    Route("/logout", signin.sign_out, methods=["POST"]),
    Route("/admin", admin_knowledge.overview_page),
    Route("/admin/overview", admin_knowledge.overview_page),
    Route("/admin/gaps", admin_knowledge.gaps_page),
    Route("/admin/gaps/attach", admin_knowledge.attach, methods=["POST"]),
    Route("/admin/notices", admin_knowledge.notices_admin),
    Route("/admin/notices/preview", admin_knowledge.notice_preview, methods=["POST"]),
    Route("/admin/notices/add", admin_knowledge.notice_add, methods=["POST"]),
    Route("/admin/notices/reindex", admin_knowledge.notices_reindex, methods=["POST"]),
    Route("/admin/rules", admin_knowledge.rules_page),
    Route("/admin/certs", admin_certs.certs_page),
    Route("/admin/certs/import", admin_certs.import_start, methods=["POST"]),
    Route("/admin/certs/import/{job}", admin_certs.import_status),
    Route("/admin/certs/revoke", admin_certs.revoke_submit, methods=["POST"]),
    Route("/admin/certs/audit", admin_certs.lookup_audit),
    Route("/admin/audit", admin_certs.actions_audit),
    Route("/healthz", lambda request: PlainTextResponse("ok")),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]


class Headers:
    """Security headers on every response, and how long the application took to start
    answering (Server-Timing: what the benchmark reads as server-side time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
                message["headers"].append((b"server-timing", f"app;dur={took:.2f}".encode()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


MESSAGES = {
    404: "页面不存在。请检查地址，或从上方菜单进入。",
    405: "不支持这种请求方式。",
    500: "服务器内部错误，已记录。请稍后再试；如果一再出现，请联系技术人员。",
}


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = MESSAGES.get(status, "请求无法处理。")
    return render(request, "error.html", status, message=message, code=status)


def create_app(settings: Settings, web: WebSettings | None = None, services: Services | None = None) -> Starlette:
    """The console on the bot's database. `services` (tests) skips loading the knowledge."""
    web = web or WebSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        await db.migrate()
        async with db.transaction() as session:
            await prune_sign_ins(session, datetime.now(UTC) - SIGN_IN_RETENTION)
            secret = web.secret_key or await shared_secret(session, "web")
        loaded = services or await Services.load(db, settings)
        knowledge = KnowledgeHolder(db, loaded, web.knowledge_check_s)
        jobs = ImportJobs(settings.database_url)
        app.state.site = Site(
            settings=settings,
            web=web,
            db=db,
            knowledge=knowledge,
            codec=SessionCodec(secret, web.idle, web.max_age),
            forms=Signer(secret, salt="skillbot-web-form"),
            accounts=Accounts(db),
            jobs=jobs,
            templates=templates(web),
        )
        try:
            yield
        finally:
            await jobs.close()
            await knowledge.close()
            await db.dispose()

    app = Starlette(routes=ROUTES, lifespan=lifespan, exception_handlers={HTTPException: _error, Exception: _error})
    app.add_middleware(Headers)
    return app


def templates(web: WebSettings) -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES))
    zone = web.zone

    def local(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return at.astimezone(zone).strftime(fmt) if at else ""

    t.env.filters["local"] = local
    t.env.filters["bold"] = bold
    t.env.globals["static"] = _static_url
    t.env.globals["citation"] = citation
    return t


def bold(text: str) -> Markup:
    """The chat's one piece of markup, **bold**, on escaped text."""
    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", str(escape(text))))


_STAMP: dict[str, str] = {}


def _static_url(name: str) -> str:
    """/static/<name>?v=<mtime>: browsers may cache assets, and see a new one at once."""
    if name not in _STAMP:
        _STAMP[name] = str(int((STATIC / name).stat().st_mtime))
    return f"/static/{name}?v={_STAMP[name]}"
