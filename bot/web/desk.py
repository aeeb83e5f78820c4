"""The hotline desk, for every signed-in account: search as you type, the notices clause by
clause, and the certificate lookup (audited and rate-limited as in chat)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web import answers
from bot.web.site import Site, account_of, page, refuse, render, site_of
from handlers.certificate import limited_text, result_text
from knowledge.certno import OLD_QUALIFICATION, SKILL_LEVEL, decode, mask_id
from storage.certificates import lookup
from storage.notices import list_notices
from storage.qa_log import log_question

MAX_NAME = 30
# The Q&A log's user id for questions asked at the hotline desk (chat users are Telegram ids).
DESK_USER = 0


@page()
async def desk(request: Request) -> Response:
    q, region = request.query_params.get("q", ""), request.query_params.get("region", "")
    site = site_of(request)
    view = answers.search(site.knowledge.library, q, region)
    await _log_if_asked(site, view, asked=bool(view.query))  # the page with ?q= is a submitted form
    return render(request, "desk.html", view=view, regions=site.knowledge.library.regions)


@page()
async def search(request: Request) -> Response:
    """The results alone, for the search box's script (debounced as the user types). A search
    asked for (Enter, 查询) is logged like a chat question, so the desk's refusals reach the
    knowledge gaps; the prefixes typed on the way are not."""
    q, region = request.query_params.get("q", ""), request.query_params.get("region", "")
    site = site_of(request)
    view = answers.search(site.knowledge.library, q, region)
    await _log_if_asked(site, view, asked=request.query_params.get("asked") == "1")
    return render(request, "_results.html", view=view)


async def _log_if_asked(site: Site, view: answers.SearchView, asked: bool) -> None:
    if asked and view.result is not None:
        async with site.db.transaction() as session:
            await log_question(session, DESK_USER, view.query, view.result)


@page()
async def notices(request: Request) -> Response:
    site = site_of(request)
    async with site.db.transaction() as session:
        rows = await list_notices(session)
    library = site.knowledge.library
    return render(request, "notices.html", rows=rows, library=library)


@page()
async def notice(request: Request) -> Response:
    library = site_of(request).knowledge.library
    slug = request.path_params["slug"]
    found = library.find(slug)
    if found is None:
        return refuse(request, 404, f"知识库里没有文号为“{slug}”的政策文件。")
    if found.slug != slug:  # reached by 文号 or another spelling: go to the one address
        return RedirectResponse(found.url, 301)
    relations = library.relations.get(found.doc_no, [])
    return render(request, "notice.html", notice=found, relations=relations, library=library)


@page()
async def lookup_form(request: Request) -> Response:
    return render(request, "lookup.html")


@page()
async def lookup_submit(request: Request) -> Response:
    site = site_of(request)
    form = await request.form()
    number, name = str(form.get("number") or "").strip(), str(form.get("name") or "").strip()
    if not number or not name or len(name) > MAX_NAME:
        return render(request, "lookup.html", 400, error=f"请填写证书编号和持证人姓名（姓名不超过{MAX_NAME}个字）。")
    now = datetime.now(UTC)
    decoded = decode(number, now.date())
    if decoded.format != SKILL_LEVEL or decoded.errors:
        return render(request, "lookup.html", 400, error=_format_problem(decoded.format, decoded))
    requester = f"web:{account_of(request).username}"
    async with site.db.transaction() as session:
        result = await lookup(session, decoded.number, name, requester, now, site.lookup_limits)
    if result.result.startswith("rate_limited"):
        return render(request, "lookup.html", 429, error=limited_text(result))
    return render(request, "lookup.html", result=result, text=result_text(result), masked=mask_id(decoded.number))


def _format_problem(kind: str, decoded) -> str:
    if kind == OLD_QUALIFICATION:
        return f"这是{decoded.fields.get('kind', '旧版证书')}的编号，不是现行职业技能等级证书编号，登记库不收录。"
    reasons = "；".join(decoded.errors) or "应为22位，以S或Y开头，后接21位数字"
    return f"编号格式不符合职业技能等级证书全国统一编码规则：{reasons}。请核对后重新输入。"
