"""Administration of the knowledge: the usage overview, knowledge-gap triage into the
question bank, notices (add with a preview, reindex), and the filing flows and eligibility
rules as they stand. Each change is audited and swapped into the console's search before
the response."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, time, timedelta

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bot.cli_common import DATE_ARG
from bot.web import charts, gaps
from bot.web.library import Library
from bot.web.site import ADMIN, actor, back, page, refuse, render, session_of, site_of
from knowledge.bank import BankQuestion, OosQuestion
from knowledge.eligibility import EligibilityRules
from knowledge.flows import Flow, FlowBook, Step
from knowledge.notices import NoticeError, NoticeMeta, new_notice_meta, notice_problem, parse_notice
from knowledge.sources import SourceError, SourceRef, resolve
from storage import admin_audit
from storage.notices import add_notice, list_notices, reindex
from storage.questions import add_question, remove_questions
from storage.web_reports import open_gaps, overview

PERIODS = (7, 30, 90, 365)
NOTICE_SUFFIXES = (".txt", ".md")
MAX_QUESTION = 1000


def _days(request: Request, default: int) -> int:
    value = request.query_params.get("days", "")
    return int(value) if value.isdigit() and int(value) in PERIODS else default


# -- overview ---------------------------------------------------------------------------


@page(ADMIN)
async def overview_page(request: Request) -> Response:
    site, days = site_of(request), _days(request, 30)
    today = datetime.now(site.web.zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), site.web.zone)
    async with site.db.transaction() as session:
        data = await overview(session, since, zone=site.web.timezone)
    share = charts.share([("已回答", data.answered, "ok"), ("未回答（已转介）", data.asked - data.answered, "no")])
    votes = charts.share([("👍 有帮助", data.up, "ok"), ("👎 没帮助", data.down, "no")])
    clauses = charts.bars([(f"{doc} {path}", n) for doc, path, n in data.top_clauses])
    refusals = charts.bars(data.top_refusals)
    return render(
        request,
        "overview.html",
        data=data,
        days=days,
        periods=PERIODS,
        daily=charts.daily(charts.every_day(data.days, first, today)),
        share=share,
        votes=votes,
        clauses=clauses,
        refusals=refusals,
    )


# -- knowledge gaps ---------------------------------------------------------------------


@page(ADMIN)
async def gaps_page(request: Request) -> Response:
    site, days = site_of(request), _days(request, 90)
    async with site.db.transaction() as session:
        found = await open_gaps(session, datetime.now(UTC) - timedelta(days=days))
    library = site.knowledge.library
    groups = gaps.group(found, library.kb)
    return render(
        request,
        "gaps.html",
        groups=groups,
        days=days,
        periods=PERIODS,
        library=library,
        topics=library.kb.bank.topics,
        total=sum(g.count for g in found),
    )


def _questions(form) -> list[str]:
    picked = [" ".join(str(q).split()) for q in form.getlist("question")]
    return list(dict.fromkeys(q[:MAX_QUESTION] for q in picked if q))


@page(ADMIN)
async def attach(request: Request) -> Response:
    """Files the chosen phrasings under a clause (the question bank), or under an
    out-of-scope topic; the search is rebuilt before the page comes back."""
    site, form = site_of(request), await request.form()
    library = site.knowledge.library
    questions = _questions(form)
    if not questions:
        return refuse(request, 400, "请至少勾选一个问法。")
    # One click on a suggestion sends its value; "pick" says a list's choice was meant instead.
    pick = form.get("pick")
    doc_no, _, path = str(form.get("clause_other" if pick == "clause" else "clause") or "").partition("\t")
    topic = str(form.get("topic_other" if pick == "topic" else "topic") or "")
    entries: list[BankQuestion | OosQuestion]
    if doc_no and library.clause(doc_no, path) is not None:
        entries = [BankQuestion(q, doc_no, path, by=actor(request)) for q in questions]
        action, target = "question.attach", f"{doc_no} {path}"
        where = f"条款 {doc_no} {path}"
    elif topic and topic in library.kb.bank.topics:
        entries = [OosQuestion(q, topic, by=actor(request)) for q in questions]
        action, target = "question.out_of_scope", topic
        where = f"范围外主题「{library.kb.bank.topics[topic].name}」"
    else:
        return refuse(request, 400, "所选的条款或主题不存在（知识库可能刚刚更新），请刷新页面后重新选择。")
    async with site.db.transaction() as session:
        ids = [await add_question(session, entry) for entry in entries]
        await admin_audit.record(session, actor(request), action, target, detail={"questions": questions})
    await site.knowledge.reload()
    gaps = f"/admin/gaps?days={_days(request, 90)}"
    if (wrong := _answered_elsewhere(site.knowledge.library, questions[0], doc_no, path)) is not None:
        # The bank is one view of three: a phrasing can tip the answer to another clause. An
        # honest refusal is better than that, so the attach is taken back and the admin told.
        async with site.db.transaction() as session:
            await remove_questions(session, ids)
            await admin_audit.record(session, actor(request), "question.attach_reverted", target, "reverted")
        await site.knowledge.reload()
        message = (
            f"没有保存：归入{where}后，机器人会把“{questions[0]}”答成 {wrong}，比不回答更糟，已撤回。"
            "请先把这个条款更常见的几种问法归入，或运行 skillbot questions train 重新训练后再试。"
        )
        return back(gaps, session_of(request), "error", message)
    check = _recheck(site.knowledge.library, questions[0], doc_no or None)
    message = f"已把 {len(questions)} 个问法归入{where}，检索已更新。{check}"
    return back(gaps, session_of(request), "ok", message)


def _answered_elsewhere(library: Library, question: str, doc_no: str, path: str) -> str | None:
    """The clause the rebuilt search answers with, when it is not the one attached to."""
    if not doc_no:
        return None
    result = library.kb.search(question, k=1)
    if not result.answered or not result.hits:
        return None
    p = result.hits[0].passage
    return None if (p.doc_no, p.path) == (doc_no, path) else f"{p.doc_no} {p.path}"


def _recheck(library: Library, question: str, doc_no: str | None) -> str:
    """What the rebuilt search now does with the question, so the effect is seen at once —
    including when the answer model still will not answer it (the bank is one of its views)."""
    result = library.kb.search(question, k=1)
    if result.answered and result.hits:
        p = result.hits[0].passage
        return f"现在搜索“{question}”会回答：{p.doc_no} {p.path}。"
    if doc_no is None:
        return f"现在搜索“{question}”会按范围外问题转介。"
    return (
        f"注意：问答模型仍不回答“{question}”（它还像范围外的问题）。"
        "可以再归入几种不同的问法，或运行 skillbot questions train 重新训练。"
    )


# -- notices ----------------------------------------------------------------------------


@page(ADMIN)
async def notices_admin(request: Request) -> Response:
    return await _notices_page(request)


async def _notices_page(request: Request, status: int = 200, **context: object) -> Response:
    site = site_of(request)
    async with site.db.transaction() as session:
        rows = await list_notices(session)
    library = site.knowledge.library
    context.setdefault("form", {})
    return render(request, "notices_admin.html", status, rows=rows, library=library, **context)


def _meta(form, filename: str, raw: str) -> NoticeMeta:
    """As `skillbot notices add` builds it."""

    def field(name: str) -> str:
        return str(form.get(name) or "")

    return new_notice_meta(
        raw,
        field("doc_no"),
        field("region"),
        field("date"),
        title=field("title"),
        issuer=field("issuer"),
        effective=field("effective"),
        source=filename,
    )


def _meta_problem(meta: NoticeMeta, raw: str, library: Library) -> str | None:
    if not meta.doc_no or not meta.region or not meta.date:
        return "文号、地区和发文日期都不能为空"
    if not DATE_ARG.match(meta.date) or (meta.effective and not DATE_ARG.match(meta.effective)):
        return "日期格式应为 YYYY-MM-DD（或只写年份 YYYY）"
    if meta.doc_no in library.notices:
        return f"文号 {meta.doc_no} 已在知识库中"
    return notice_problem(meta, raw)


async def _uploaded_text(upload: object) -> tuple[str, str]:
    """(file name, text) of an uploaded notice; NoticeError says why it cannot be read."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise NoticeError("请选择要上传的通知全文文件")
    name = upload.filename
    if not name.lower().endswith(NOTICE_SUFFIXES):
        raise NoticeError(f"只接受文本文件（.txt 或 .md），“{name}”不是")
    data = await upload.read()
    try:
        return name, one_newline(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NoticeError(f"{name} 不是 UTF-8 文本文件，请先转换编码") from None


def one_newline(text: str) -> str:
    """Line ends as \\n: a browser sends the previewed text back with \\r\\n, and the
    confirmation must match the preview byte for byte."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@page(ADMIN, upload="notice")
async def notice_preview(request: Request) -> Response:
    """The clause split of an uploaded notice; nothing is written until it is confirmed."""
    site, form = site_of(request), await request.form()
    library = site.knowledge.library
    fields = {k: str(form.get(k) or "") for k in ("doc_no", "region", "date", "title", "issuer", "effective")}
    try:
        filename, raw = await _uploaded_text(form.get("file"))
        meta = _meta(form, filename, raw)
        problem = _meta_problem(meta, raw, library)
        if problem:
            raise NoticeError(problem)
        clauses = parse_notice(raw, meta)
    except NoticeError as exc:
        return await _notices_page(request, 400, error=f"无法添加：{exc}。知识库未作任何改动。", form=fields)
    token = _fingerprint(meta, raw)
    return render(request, "notice_preview.html", meta=meta, clauses=clauses, raw=raw, token=site.sign(token))


def _fingerprint(meta: NoticeMeta, raw: str) -> str:
    """What the preview showed: the confirmation must carry the same, signed by this site."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return json.dumps([meta.doc_no, meta.title, meta.issuer, meta.region, meta.date, meta.effective, digest])


@page(ADMIN, upload="notice")
async def notice_add(request: Request) -> Response:
    site, form = site_of(request), await request.form()
    raw = one_newline(str(form.get("raw") or ""))
    meta = _meta(form, str(form.get("source") or "upload.txt"), raw)
    if not site.signed(_fingerprint(meta, raw), str(form.get("token") or "")):
        return refuse(request, 400, "确认的内容与预览时不一致（或预览已失效），没有添加任何内容。请重新上传并预览。")
    problem = _meta_problem(meta, raw, site.knowledge.library)
    try:
        if problem:
            raise NoticeError(problem)
        async with site.db.transaction() as session:
            count = await add_notice(session, meta, raw)
            await admin_audit.record(session, actor(request), "notice.add", meta.doc_no, detail={"clauses": count})
    except NoticeError as exc:
        return await _notices_page(request, 400, error=f"无法添加 {meta.doc_no}：{exc}。知识库未作任何改动。")
    await site.knowledge.reload()
    notice = site.knowledge.library.notices.get(meta.doc_no)
    url = notice.url if notice else "/admin/notices"
    return back(url, session_of(request), "ok", f"已添加 {meta.doc_no}：{count} 个条款，检索已更新。")


@page(ADMIN)
async def notices_reindex(request: Request) -> Response:
    site = site_of(request)
    try:
        async with site.db.transaction() as session:
            count = await reindex(session)
            await admin_audit.record(session, actor(request), "notice.reindex", detail={"clauses": count})
    except NoticeError as exc:
        return await _notices_page(request, 400, error=f"重建索引失败：{exc}。知识库未作任何改动。")
    await site.knowledge.reload()
    return back("/admin/notices", session_of(request), "ok", f"已按当前解析规则重建：共 {count} 个条款，检索已更新。")


# -- flows and rules --------------------------------------------------------------------

STEP_KINDS = {
    "choice": "选择",
    "check": "核对",
    "checklist": "材料清单",
    "info": "办理事项",
    "percent": "比例",
    "decide": "判定",
    "end": "结束",
}


@page(ADMIN)
async def rules_page(request: Request) -> Response:
    library = site_of(request).knowledge.library
    flows = FlowBook.load().flows.values()
    rules = EligibilityRules.load()

    def source(ref: SourceRef | None) -> tuple[str, str] | None:
        """(label, link) of the clause a rule or step cites; link "" if it cannot be found."""
        if ref is None:
            return None
        try:
            return ref.label, library.link(resolve(ref, library.kb.passages.values(), "web"))
        except SourceError:
            return ref.label, ""

    return render(
        request,
        "rules.html",
        flows=[(flow, _in_order(flow)) for flow in flows],
        rules=rules,
        source=source,
        kinds=STEP_KINDS,
    )


def _in_order(flow: Flow) -> list[Step]:
    """The steps as a walk-through meets them: breadth first from the start."""
    seen, queue, out = {flow.start}, [flow.start], []
    while queue:
        step = flow.steps[queue.pop(0)]
        out.append(step)
        for nxt in step.successors():
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return out
