"""Signing in and out. Failures are counted per user name and per address in the store, so
the limit holds across console instances; a refused attempt is not counted again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web.auth import check_password, hash_password, needs_rehash, sign_in_wait
from bot.web.site import page, render, safe_next, session_of, site_of
from storage.users import account_by_name, record_sign_in, rehash_password

MAX_FIELD = 200


@page(role=None)
async def sign_in_form(request: Request) -> Response:
    if request.state.account is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    expired = request.query_params.get("expired") == "1" or session_of(request).expired
    return render(request, "login.html", expired=expired, next=safe_next(request.query_params.get("next")))


@page(role=None)
async def sign_in(request: Request) -> Response:
    site, form = site_of(request), await request.form()
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:MAX_FIELD]
    target = safe_next(str(form.get("next") or ""))
    ip = request.client.host if request.client else "unknown"
    now = datetime.now(UTC)
    wait = await sign_in_wait(site.db, username, ip, now, site.sign_in_limits)
    if wait:
        minutes = max(wait // 60, 1)
        message = f"登录失败次数过多，请约 {minutes} 分钟后再试。"
        return render(request, "login.html", 429, error=message, username=username, next=target)
    async with site.db.transaction() as session:
        account = await account_by_name(session, username)
    # Verified off the event loop (argon2 is deliberately slow), unknown names included.
    ok = await asyncio.to_thread(check_password, account.password_hash if account else None, password)
    ok = ok and account is not None and account.active
    async with site.db.transaction() as session:
        await record_sign_in(session, username, ip, ok, now)
        if ok and account is not None and needs_rehash(account.password_hash):
            await rehash_password(session, account.id, hash_password(password))
    if not ok or account is None:
        message = "用户名或密码不正确，或账号已停用。"
        return render(request, "login.html", 401, error=message, username=username, next=target)
    # A new session (new CSRF token) at sign-in: a token seen before cannot ride along.
    session_of(request).restart(uid=account.id, epoch=account.session_epoch, signed_in_at=now.timestamp())
    site.accounts.forget(account.id)
    return RedirectResponse(target, 303)


@page(role=None)
async def sign_out(request: Request) -> Response:
    session = session_of(request)
    session.restart()
    session.say("info", "您已退出登录。")
    return RedirectResponse("/login", 303)
