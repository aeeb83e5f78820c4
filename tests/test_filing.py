from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from knowledge.flows import FLOWS_DIR, Flow, FlowBook, FlowError, checklist, load_flow, parse_percent
from tests.conftest import bundled_passages, msg

BOOK = FlowBook.load()


def test_bundled_flows_load_and_every_cited_clause_exists() -> None:
    assert set(BOOK.flows) == {"qd_self", "nj_inst", "js_norm", "js_comp", "js_self"}
    resolved = BOOK.resolve_sources(bundled_passages())
    assert len(resolved) > 40


def _answers_for(flow: Flow, step_id: str) -> list[Any]:
    step = flow.step(step_id)
    if step.kind == "choice":
        return [o.value for o in step.options]
    if step.kind == "check":
        return ["yes", "no"]
    if step.kind == "percent":
        return [b.max for b in step.bands]
    if step.kind == "checklist":
        return [[], list(range(len(step.items)))]
    return ["seen"]


def _all_routes(flow: Flow) -> list[tuple[list[str], dict[str, Any]]]:
    """Every path from start to end, following every answer of every step."""
    routes = []

    def walk(step_id: str | None, history: list[str], answers: dict[str, Any]) -> None:
        if step_id is None or flow.step(step_id).kind == "end":
            routes.append((history, answers))
            return
        step = flow.step(step_id)
        if step.kind == "decide":
            walk(flow.next_of(step, None, answers), [*history, step_id], answers)
            return
        for answer in _answers_for(flow, step_id):
            new = {**answers, step_id: answer}
            walk(flow.next_of(step, answer, new), [*history, step_id], new)

    walk(flow.start, [], {})
    return routes


@pytest.mark.parametrize("flow_id", sorted(BOOK.flows))
def test_every_route_ends_with_a_sourced_checklist(flow_id: str) -> None:
    flow = BOOK.flows[flow_id]
    routes = _all_routes(flow)
    assert routes
    for history, answers in routes:
        lines = checklist(flow, history, answers)
        assert lines[-1].status == "contact"
        assert all(line.source is not None for line in lines), history
        assert any(line.status in ("todo", "closed", "done") for line in lines)


ORGS = ["central", "prov", "city", "leader", "tech_key", "tech", "voc", "prov_assoc", "city_assoc"]
NANJING = {
    ("central", "internal"): "省人社厅",
    ("prov", "internal"): "省人社厅",
    ("city", "internal"): "所在区人社部门**直接评估备案",
    ("tech_key", "students"): "面向本院校学生",
    ("tech", "students"): "面向本院校学生",
    ("voc", "students"): "面向本院校学生",
    ("central", "social"): "再次评估备案",
    ("prov", "social"): "再次评估备案",
    ("leader", "social"): "再次评估备案",
    # #13: a local 龙头 or private enterprise evaluating its own staff files where it is (属地).
    ("leader", "internal"): "所在区人社部门",
    ("private", "internal"): "所在区人社部门",
    ("tech_key", "social"): "经**市人社部门**评估备案",
    ("prov_assoc", "social"): "设立考核点",
    ("city_assoc", "social"): "暂无评价机构承接",
}


@pytest.mark.parametrize(
    ("org", "scope"),
    list(
        itertools.product(
            ["central", "prov", "city", "leader", "private", "tech_key", "tech", "voc", "prov_assoc", "city_assoc"],
            ["internal", "students", "social"],
        )
    ),
)
def test_nanjing_route_for_every_organisation_type_and_scope(org: str, scope: str) -> None:
    flow = BOOK.flows["nj_inst"]
    answers = {"org": org, "scope": scope}
    rule = flow.step("route").rule_for(answers)
    assert rule is not None
    expected = NANJING.get((org, scope))
    if expected is None:
        assert rule.outcome == "closed"
        assert flow.next_of(flow.step("route"), None, answers) is None
    else:
        assert rule.outcome == "ok" and expected in rule.say


@pytest.mark.parametrize(
    ("share", "authority"),
    [
        (0, "不涉及"),
        (5, "主办单位从严把握"),
        (10, "主办单位从严把握"),
        (10.5, "设区市人社局"),
        (50, "设区市人社局"),
        (50.1, "省人社厅"),
        (100, "省人社厅"),
    ],
)
def test_competition_share_bands_include_their_upper_bound(share: float, authority: str) -> None:
    step = BOOK.flows["js_comp"].step("share")
    assert authority in step.band_for(share).say


@pytest.mark.parametrize(
    ("text", "value"), [("15%", 15.0), ("１５％", 15.0), ("百分之三十", 30.0), ("10.5", 10.5), ("约20%左右", 20.0)]
)
def test_percent_parsing(text: str, value: float) -> None:
    assert parse_percent(text) == value


_INFO = '[[step]]\nid = "a"\nkind = "info"\nitems = ["x"]\nnext = "end"\n'
BROKEN = {
    "dangling": (
        'start = "a"',
        '[[step]]\nid = "a"\nkind = "info"\nitems = ["x"]\nnext = "nowhere"\n' + "{src}",
        "不存在的步骤",
    ),
    "no_clause": (
        'start = "a"',
        _INFO + 'source = { doc = "苏人社办函〔2022〕54号", clause = "十、没有这一条" }\n',
        "条款不存在",
    ),
    "bad_quote": (
        'start = "a"',
        _INFO + 'source = { doc = "苏人社办函〔2022〕54号", clause = "二、规范办赛行为", quote = "可以收费" }\n',
        "没有这句原文",
    ),
    "no_source": ('start = "a"', '[[step]]\nid = "a"\nkind = "info"\nitems = ["x"]\nnext = "end"\n', "出处"),
    "bad_start": (
        'start = "zzz"',
        '[[step]]\nid = "a"\nkind = "info"\nitems = ["x"]\nnext = "end"\n' + "{src}",
        "起始步骤",
    ),
    "bad_bands": (
        'start = "a"',
        '[[step]]\nid = "a"\nkind = "percent"\nnext = "end"\n{src}[[step.band]]\nmax = 50\nsay = "x"\n',
        "分段",
    ),
    "cycle": (
        'start = "a"',
        '[[step]]\nid = "a"\nkind = "info"\nitems = ["x"]\nnext = "b"\n{src}'
        + '[[step]]\nid = "b"\nkind = "info"\nitems = ["y"]\nnext = "a"\n{src}',
        "循环",
    ),
    "unknown_kind": ('start = "a"', '[[step]]\nid = "a"\nkind = "poll"\nnext = "end"\n{src}', "未知的步骤类型"),
}
_SRC = 'source = { doc = "苏人社办函〔2022〕54号", clause = "二、规范办赛行为" }\n'


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_loader_rejects_broken_flow_files(tmp_path: Path, case: str) -> None:
    head, steps, message = BROKEN[case]
    header = f'id = "broken"\ntitle = "坏流程"\nregion = "江苏省"\n{head}\n'
    text = header + steps.replace("{src}", _SRC) + '[[step]]\nid = "end"\nkind = "end"\n'
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FlowError, match=message) as caught:
        book = FlowBook(flows={"broken": load_flow(path)})
        book.resolve_sources(bundled_passages())
    # Start-up prints this as it is: one line that says which file to fix.
    assert str(caught.value).startswith("broken.toml: ") and "\n" not in str(caught.value)


def test_loader_rejects_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("id = [unclosed", encoding="utf-8")
    with pytest.raises(FlowError, match="TOML"):
        FlowBook.load(tmp_path)


def test_the_loader_reads_the_bundled_directory_by_default_and_stops_at_a_broken_file(tmp_path: Path) -> None:
    bundled = sorted(FLOWS_DIR.glob("*.toml"))
    assert bundled[0].name.startswith("01_")
    book = FlowBook.load()
    assert [flow.path for flow in book.flows.values()] == bundled
    assert book.flows == FlowBook.load(FLOWS_DIR).flows

    # The same files, the last with its first step renamed: its start points nowhere and nothing loads.
    for path in bundled:
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    last = tmp_path / bundled[-1].name
    text = last.read_text("utf-8")
    start = text.split('start = "')[1].split('"')[0]
    last.write_text(text.replace(f'id = "{start}"', 'id = "renamed"', 1), "utf-8")
    with pytest.raises(FlowError, match=f"^{last.name}: 起始步骤 {start} 不存在$"):
        FlowBook.load(tmp_path)


# -- through the engine -----------------------------------------------------------------


def _press(reply, label: str) -> str:  # type: ignore[no-untyped-def]
    return next(b.payload for b in reply.buttons if b.label.startswith(label))


async def test_free_text_prefills_and_answers_directly(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    reply, *_ = await engine.handle(msg("我们是南京的市属企业，想开展技能等级认定，找谁备案？"))
    p = reply.payload
    assert p["intent"] == "filing" and p["flow"] == "nj_inst"
    assert p["answers"] == {"org": "city", "scope": "internal"}
    assert "所在区人社部门" in reply.text and "市属企业" in reply.text


async def test_free_text_starts_at_first_unanswered_question(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    reply, *_ = await engine.handle(msg("我们是南京的省属企业，想申请认定机构备案"))
    assert reply.payload["step"] == "scope" and reply.payload["answers"] == {"org": "prov"}
    [route] = await engine.handle(msg("面向社会化评价"))
    assert "再次评估备案" in route.text and route.payload["step"] == "prep"


async def test_closed_combination_explains_what_is_open(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    implied, *_ = await engine.handle(msg("我们是南京的市级行业协会，想做认定机构备案"))
    assert implied.payload["answers"] == {"org": "city_assoc", "scope": "social"}  # the only open scope
    [menu] = await engine.handle(msg("/filing"))
    [step] = await engine.handle(msg(button=_press(menu, "重新开始")))
    [step] = await engine.handle(msg(button=_press(step, "市级行业组织")))
    [end] = await engine.handle(msg(button=_press(step, "企业内自主评价")))
    assert end.payload["outcome"] == "closed"
    assert "可以选择的评价范围：面向本市社会化评价认定" in end.text


async def test_qingdao_flow_end_to_end_with_back_skip_and_export(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    [menu] = await engine.handle(msg("/filing"))
    [step] = await engine.handle(msg(button=_press(menu, "青岛")))
    assert step.payload["progress"] == "1/12"
    [step] = await engine.handle(msg(button=_press(step, "山东省属企业")))
    assert "省职业技能鉴定指导中心" in step.text and step.payload["step"] == "c1"
    [step] = await engine.handle(msg(button=_press(step, "是")))
    [back] = await engine.handle(msg(button=_press(step, "上一步")))
    assert back.payload["step"] == "c1" and "c1" not in back.payload["answers"]
    [step] = await engine.handle(msg("是"))
    for answer in ("否", "是", "是", "是", "是", "是", "是"):
        [step] = await engine.handle(msg(answer))
    assert step.payload["step"] == "mat" and step.payload["progress"] == "10/12"
    [step] = await engine.handle(msg(button=_press(step, "☐ 1.")))
    [step] = await engine.handle(msg(button=_press(step, "☐ 3.")))
    [step] = await engine.handle(msg(button=_press(step, "完成")))
    assert step.payload["step"] == "proc"
    [step] = await engine.handle(msg("下一步"))
    [end] = await engine.handle(msg(button=_press(step, "下一步")))
    statuses = {(line["status"], line["text"][:12]) for line in end.payload["checklist"]}
    assert ("done", "企业技能人才自主评价备案申请表"[:12]) in statuses
    missing = [line for line in end.payload["checklist"] if line["status"] == "missing"]
    assert any("已建立技能人才培养" in line["text"] for line in missing)  # the "否"
    assert len([line for line in missing if line["source"] == "青人社发〔2020〕7号 附件2"]) == 8
    [export] = await engine.handle(msg("/export"))
    doc = export.document
    assert doc is not None and doc.filename.endswith(".md")
    assert "## ❌ 还缺少" in doc.content and "刘崑" in doc.content and "青人社发〔2020〕7号 附件2" in doc.content


async def test_skip_is_recorded_as_missing(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    [menu] = await engine.handle(msg("/filing"))
    [step] = await engine.handle(msg(button=_press(menu, "江苏 · 职业技能竞赛")))
    [step] = await engine.handle(msg("35%"))
    assert "设区市人社局" in step.text and step.payload["step"] == "span"
    [step] = await engine.handle(msg("跨市"))
    assert "省人社厅" in step.text
    [step] = await engine.handle(msg("市级二类赛"))
    assert step.payload["step"] == "form"
    [step] = await engine.handle(msg(button=_press(step, "跳过")))
    [end] = await engine.handle(msg("下一步"))
    lines = end.payload["checklist"]
    assert any(line["status"] == "missing" and "已跳过" in line["text"] for line in lines)
    assert any("委托具有职业技能等级认定权限的竞赛主办方" in line["text"] for line in lines)


async def test_bad_input_reprompts_and_leaves_state(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    [menu] = await engine.handle(msg("/filing"))
    [step] = await engine.handle(msg(button=_press(menu, "江苏 · 职业技能竞赛")))
    assert step.payload["step"] == "share"  # what most organisers ask comes first
    [bad] = await engine.handle(msg("150%"))
    assert bad.payload["step"] == "share" and "0%到100%" in bad.text
    [bad] = await engine.handle(msg("随便"))
    assert bad.payload["step"] == "share" and "没能识别" in bad.text
    [stale] = await engine.handle(msg(button=_press(menu, "青岛")))
    assert stale.payload["intent"] == "stale_button"
    [ok] = await engine.handle(msg("10%"))
    assert "从严把握" in ok.text


async def test_resume_after_restart_and_cancel(make_engine) -> None:  # type: ignore[no-untyped-def]
    first = await make_engine()
    [menu] = await first.handle(msg("/filing"))
    [step] = await first.handle(msg(button=_press(menu, "江苏 · 企业评价规范")))
    await first.handle(msg(button=_press(step, "用人单位")))
    await first.close()
    second = await make_engine()
    [offer] = await second.handle(msg("/filing"))
    assert offer.payload["resume"] is True and offer.payload["step"] == "std"
    [step] = await second.handle(msg(button=_press(offer, "继续")))
    assert step.payload["step"] == "std"
    [step] = await second.handle(msg("没有标准"))
    assert step.payload["step"] == "norm" and "设区市职业技能鉴定中心" in step.text
    [cancelled] = await second.handle(msg("/cancel"))
    assert "备案指引" in cancelled.text
    [fresh] = await second.handle(msg("/filing"))
    assert fresh.payload["step"] == "menu"


async def test_export_without_a_flow_says_so(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    [reply] = await engine.handle(msg("/export"))
    assert reply.payload["export"] is False and reply.document is None


async def test_what_the_first_message_says_is_applied_when_its_step_comes(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    step, *_ = await engine.handle(msg("我司是江苏的企业，准备举办一个市级二类赛，异地选手大概占30%，要备案吗"))
    assert step.payload["flow"] == "js_comp" and step.payload["step"] == "span"
    [step] = await engine.handle(msg("跨市"))
    assert step.payload["answers"]["share"] == 30.0 and step.payload["step"] == "form"
    assert "设区市人社局" in step.text


@pytest.mark.parametrize(
    ("text", "flow"),
    [
        ("我们是第三方评价机构，想在江苏申报一个没有国家标准的职业", "js_norm"),
        ("我们公司在青岛，想搞技能人才自主评价，需要什么条件", "qd_self"),
        ("我们学校是南京的技师学院，想给学生做技能等级认定，怎么备案", "nj_inst"),
    ],
)
async def test_free_text_picks_the_flow_by_topic_and_place(make_engine, text: str, flow: str) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    reply, *_ = await engine.handle(msg(text))
    assert reply.payload["flow"] == flow


async def test_a_flow_changed_under_a_user_offers_a_restart_not_an_error(make_engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from storage.models import Conversation

    engine = await make_engine()
    [menu] = await engine.handle(msg("/filing"))
    [step] = await engine.handle(msg(button=menu.buttons[1].payload))
    async with engine.db.transaction() as session:  # the flow file lost the step the user is on
        row = await session.scalar(select(Conversation).where(Conversation.user_id == 7))
        assert row is not None
        row.state = {**row.state, "filing": {**row.state["filing"], "step": "removed_step"}}
    for attempt in ("市属企业", "/filing"):
        [reply] = await engine.handle(msg(attempt))
        assert reply.payload.get("outdated") is True or reply.payload.get("step") == "menu", reply.text
        assert reply.payload.get("intent") != "error"
    [fresh] = await engine.handle(msg(button=step.buttons[0].payload))  # an old button: stale, not an error
    assert fresh.payload["intent"] in ("stale_button", "filing")


async def test_a_central_enterprise_in_qingdao_is_not_given_qingdaos_checklist(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    replies = await engine.handle(msg("中央驻青企业开展自主评价怎么备案"))
    flow = replies[0]
    assert flow.payload["flow"] == "qd_self" and "国家人社部" in flow.text and "不适用" in flow.text
    assert "企业条件" not in flow.text and "备案材料" not in flow.text


def test_the_competition_flow_refers_questions_to_the_appraisal_centre_not_the_report_line() -> None:
    contact = BOOK.flows["js_comp"].contact
    assert contact is not None and "省职业技能鉴定中心" in contact.text and "举报" not in contact.text
