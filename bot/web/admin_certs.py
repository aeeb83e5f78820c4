"""Administration of the certificate registry: 名册 imports (all rows or none, with
progress and the per-row report), revocation by number or batch, and the audit logs."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web.imports import MAX_REPORTED, ImportJob, UploadError, check_upload, save_upload
from bot.web.site import (
    ADMIN,
    Site,
    actor,
    back,
    link_to,
    page,
    refuse,
    render,
    session_of,
    site_of,
    wants_fragment,
)
from knowledge.certno import mask_id, normalise
from storage import admin_audit
from storage.admin_audit import AuditFilter
from storage.certificates import number_hash, revoke
from storage.web_reports import REVOKED, batch, batches, statuses

MAX_BATCH = 100
MAX_REASON = 500
MAX_NUMBERS = 10_000
HEAD = 64 * 1024
_SEPARATORS = re.compile(r"[\s,，、;；]+")
LOOKUP_RESULTS = {
    "found": "查到",
    "not_found": "未查到",
    "rate_limited_user": "超出个人限额",
    "rate_limited_overall": "超出总限额",
}
ACTIONS = {
    "question.attach": "问法归入条款",
    "question.out_of_scope": "问法归入范围外主题",
    "question.attach_reverted": "问法归入后撤回（会答成别的条款）",
    "notice.add": "添加政策文件",
    "notice.reindex": "重建条款索引",
    "roster.import": "导入名册",
    "cert.revoke": "注销证书",
    "user.add": "添加账号",
    "user.password": "重设密码",
    "user.disable": "停用账号",
    "user.enable": "启用账号",
}
DETAIL_LABELS = {
    "file": "文件",
    "rows": "行数",
    "imported": "导入",
    "errors": "错误",
    "replace": "允许替换",
    "count": "数量",
    "reason": "原因",
    "clauses": "条款数",
    "role": "角色",
}


@page(ADMIN)
async def certs_page(request: Request) -> Response:
    return await _certs(request)


async def _certs(request: Request, status: int = 200, **context: object) -> Response:
    site = site_of(request)
    async with site.db.transaction() as session:
        rows = await batches(session)
    return render(request, "certs.html", status, batches=rows, **context)


# -- imports ----------------------------------------------------------------------------


@page(ADMIN, upload="roster")
async def import_start(request: Request) -> Response:
    site, form = site_of(request), await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise UploadError("请选择要上传的名册文件")
        suffix = check_upload(upload.filename, await upload.read(HEAD))
        await upload.seek(0)
        name = " ".join(str(form.get("batch") or "").split()) or Path(upload.filename).stem
        if len(name) > MAX_BATCH:
            raise UploadError(f"批次名不能超过{MAX_BATCH}个字符")
        path = await asyncio.to_thread(save_upload, upload.file, suffix)
    except UploadError as exc:
        return refuse(request, 400, f"{exc}。登记库未作任何改动。")
    who = actor(request)

    async def finished(job: ImportJob) -> None:
        await _audit_import(site, who, job)

    job = site.jobs.start(who, path, upload.filename, name, form.get("replace") == "1", finished)
    url = f"/admin/certs/import/{job.id}"
    if wants_fragment(request):
        return render(request, "_import_job.html", 202, job=job, url=url, max_reported=MAX_REPORTED)
    return RedirectResponse(url, 303)


async def _audit_import(site: Site, who: str, job: ImportJob) -> None:
    report = job.report
    detail = {
        "file": job.filename,
        "rows": report.rows if report else 0,
        "imported": report.inserted_or_updated if report and job.state == "done" else 0,
        "errors": len(report.errors) if report else 0,
        "replace": job.replace,
    }
    outcome = {"done": "ok"}.get(job.state, job.state)
    async with site.db.transaction() as session:
        await admin_audit.record(session, who, "roster.import", f"batch:{job.batch}", outcome, detail)


@page(ADMIN)
async def import_status(request: Request) -> Response:
    job = site_of(request).jobs.get(request.path_params["job"])
    if job is None:
        return refuse(request, 404, "找不到这次导入（可能已过期，或服务已重启）。请到批次列表查看登记库的现状。")
    url = f"/admin/certs/import/{job.id}"
    template = "_import_job.html" if wants_fragment(request) else "import_job.html"
    return render(request, template, job=job, url=url, max_reported=MAX_REPORTED)


# -- revoking ---------------------------------------------------------------------------


@page(ADMIN)
async def revoke_submit(request: Request) -> Response:
    form = await request.form()
    reason = " ".join(str(form.get("reason") or "").split())
    name = str(form.get("batch") or "").strip()
    numbers = [n for n in _SEPARATORS.split(str(form.get("numbers") or "")) if n]
    problem = None
    if not reason or len(reason) > MAX_REASON:
        problem = f"请写明注销原因（不超过{MAX_REASON}个字）"
    elif bool(name) == bool(numbers):
        problem = "请填写要注销的证书编号，或选择一个批次（二者选一）"
    elif len(numbers) > MAX_NUMBERS:
        problem = f"一次最多注销{MAX_NUMBERS}个编号"
    if problem:
        return await _certs(request, 400, error=f"{problem}。没有注销任何证书。")
    if name:
        return await _revoke_batch(request, name, reason)
    return await _revoke_numbers(request, list(dict.fromkeys(normalise(n) for n in numbers)), reason)


async def _revoke_batch(request: Request, name: str, reason: str) -> Response:
    site, who, now = site_of(request), actor(request), datetime.now(UTC)
    target = f"batch:{name}"
    earlier = None
    async with site.db.transaction() as session:
        found = await batch(session, name)
        # Only certificates still valid change: a second admin revoking the same batch,
        # even at the same moment, finds nothing left to do (the rows are locked in turn).
        count = await revoke(session, reason, now, batch=name) if found else 0
        if count:
            await admin_audit.record(session, who, "cert.revoke", target, detail={"count": count, "reason": reason})
        elif found:
            earlier = await admin_audit.last_action(session, "cert.revoke", target)
            await admin_audit.record(session, who, "cert.revoke", target, "noop", {"count": 0, "reason": reason})
    if found is None:
        return await _certs(request, 404, error=f"没有名为“{name}”的导入批次。没有注销任何证书。")
    if count:
        return back("/admin/certs", session_of(request), "ok", f"已注销批次“{name}”中的 {count} 张证书。")
    by = f"（{earlier.actor} 已于 {_local(site, earlier.at)} 注销）" if earlier else ""
    message = f"批次“{name}”的证书此前已全部注销{by}，本次没有改动。"
    return back("/admin/certs", session_of(request), "info", message)


async def _revoke_numbers(request: Request, numbers: list[str], reason: str) -> Response:
    site, who, now = site_of(request), actor(request), datetime.now(UTC)
    async with site.db.transaction() as session:
        known = await statuses(session, numbers)
        valid = [n for n in numbers if known.get(n) not in (None, REVOKED)]
        count = await revoke(session, reason, now, numbers=valid) if valid else 0
        detail = {"count": count, "reason": reason, "numbers": [number_hash(n) for n in valid]}
        outcome = "ok" if count else "noop"
        await admin_audit.record(session, who, "cert.revoke", f"numbers:{len(numbers)}", outcome, detail)
    parts = [f"已注销 {count} 张证书。"]
    already = [n for n in numbers if known.get(n) == REVOKED]
    unknown = [n for n in numbers if n not in known]
    if already:
        parts.append(f"{len(already)} 张此前已注销：{_masked(already)}。")
    if unknown:
        parts.append(f"{len(unknown)} 个编号不在登记库中：{_masked(unknown)}。")
    kind = "ok" if count else "info"
    return back("/admin/certs", session_of(request), kind, "".join(parts))


def _masked(numbers: list[str], shown: int = 20) -> str:
    more = "……" if len(numbers) > shown else ""
    return "、".join(mask_id(n) for n in numbers[:shown]) + more


# -- audit logs -------------------------------------------------------------------------


def _filter(request: Request, site: Site) -> AuditFilter:
    q = request.query_params
    before = q.get("before", "")
    return AuditFilter(
        actor=q.get("actor", "").strip(),
        action=q.get("action", "").strip(),
        since=_day(q.get("since", ""), site),
        until=_day(q.get("until", ""), site, next_day=True),
        before_id=int(before) if before.isdigit() else None,
    )


def _day(value: str, site: Site, next_day: bool = False) -> datetime | None:
    """A date typed in a filter, as the start of that day (or of the next) in the hotline's zone."""
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    start = datetime.combine(day, time(), site.web.zone)
    return (start + timedelta(days=1) if next_day else start).astimezone(UTC)


def _local(site: Site, at: datetime) -> str:
    return at.astimezone(site.web.zone).strftime("%Y-%m-%d %H:%M")


def _more(request: Request, rows: list) -> str:
    """The link to the next page of older rows, "" when this page was the last."""
    if len(rows) < admin_audit.PAGE:
        return ""
    return link_to(request.url.path, **{**request.query_params, "before": str(rows[-1].id)})


@page(ADMIN)
async def lookup_audit(request: Request) -> Response:
    site, query = site_of(request), dict(request.query_params)
    f = _filter(request, site)
    result = query.get("result", "")
    async with site.db.transaction() as session:
        rows = await admin_audit.lookups(session, f, result if result in LOOKUP_RESULTS else "")
    context: dict[str, Any] = {"f": f, "result": result, "results": LOOKUP_RESULTS, "query": query}
    context["more"] = _more(request, rows)
    return render(request, "lookup_audit.html", rows=rows, **context)


@page(ADMIN)
async def actions_audit(request: Request) -> Response:
    site, query = site_of(request), dict(request.query_params)
    f = _filter(request, site)
    async with site.db.transaction() as session:
        rows = await admin_audit.actions(session, f)
        people = await admin_audit.actors(session)
    context: dict[str, Any] = {"f": f, "actors": people, "actions": ACTIONS, "labels": DETAIL_LABELS, "query": query}
    return render(request, "audit.html", rows=rows, more=_more(request, rows), **context)
