from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from knowledge.evaluation import evaluate, load_items, norm
from knowledge.notices import NoticeError, NoticeMeta, load_manifest, parse_notice
from storage.models import Feedback, QaLog
from tests.conftest import DATA, bundled_passages, msg


def clauses_of(doc_no: str):
    for meta, raw in load_manifest():
        if meta.doc_no == doc_no:
            return parse_notice(raw, meta)
    raise KeyError(doc_no)


def test_every_clause_fits_the_chat_and_artefacts_are_gone():
    passages = bundled_passages()
    assert {p.doc_no for p in passages} == {
        "苏人社办函〔2021〕26号",
        "人社厅发〔2020〕104号",
        "宁人社函〔2021〕22号",
        "苏人社办函〔2022〕54号",
        "青人社发〔2020〕7号",
        "黄改委发〔2020〕4号",
    }
    for p in passages:
        assert 0 < len(p.text) <= 600
        for artefact in ("**", "##", "此页无正文", "<http", "<input", "\n\n"):
            assert artefact not in p.text, (p.doc_no, p.path, artefact)


def test_sentences_broken_by_page_breaks_are_rejoined():
    text = "\n".join(c.text for c in clauses_of("苏人社办函〔2021〕26号"))
    assert "深入了解掌握企业工作开展情况" in text
    assert "条件成熟、管理规范的第三方评价机构" in text


def test_heading_paths():
    paths = [c.path for c in clauses_of("青人社发〔2020〕7号")]
    assert "二、依据和范围（三）人员范围" in paths
    assert "三、自主评价条件" in paths
    assert "附件2 企业技能人才自主评价备案材料" in paths
    assert [c.path for c in clauses_of("苏人社办函〔2022〕54号")][1:3] == ["一、规范资格审核", "二、规范办赛行为"]


def test_national_attachment_is_a_notice_of_its_own():
    forward = "\n".join(c.text for c in clauses_of("苏人社办函〔2021〕26号"))
    national = "\n".join(c.text for c in clauses_of("人社厅发〔2020〕104号"))
    assert "企业自主确定评价范围" in national and "企业自主确定评价范围" not in forward
    assert "2020年11月9日印发" in national
    assert "2021年3月11日印发" in forward  # the forwarder's own print line goes back to it


def test_appendix_lists_are_content():
    materials = next(c for c in clauses_of("青人社发〔2020〕7号") if c.path.startswith("附件2"))
    assert "法人登记证书复印件" in materials.text and "题库或卷库目录清单" in materials.text


def test_unparseable_notice_is_refused():
    meta = NoticeMeta("测试〔2024〕1号", "t", "i", "江苏省", "2024-01-01")
    with pytest.raises(NoticeError):
        parse_notice("这是一段没有任何编号条款的文字。\n第二行。", meta)


@pytest.mark.parametrize(
    ("question", "doc_no", "needle"),
    [
        ("异地选手占比超过50%向谁备案", "苏人社办函〔2022〕54号", "报省人力资源社会保障厅备案"),
        ("南京市属企业找谁备案", "宁人社函〔2021〕22号", "市属企业经所在区人社部门直接评估备案"),
        ("青岛企业备案需要提交哪些材料", "青人社发〔2020〕7号", "法人登记证书复印件"),
        ("黄石 竞赛 前三名 直接认定", "黄改委发〔2020〕4号", "取得前3名的技能人才"),
        ("人社厅发〔2020〕104号 印发日期", "人社厅发〔2020〕104号", "2020年11月9日印发"),
        ("我们公司想做技能评价但还没备按，江苏人社部门会帮着弄吗", "苏人社办函〔2021〕26号", "仍未备案"),
        ("职业技能竟赛证书用什么样式", "苏人社办函〔2022〕54号", "竞赛专用证书样式"),
    ],
)
def test_questions_find_their_clause(kb, question, doc_no, needle):
    result = kb.search(question)
    assert result.answered, result.reason
    top = result.hits[0].passage
    assert top.doc_no == doc_no and needle in top.text


def test_region_named_is_preferred(kb):
    nanjing = kb.search("南京 评价机构 备案 开设账号").hits[0].passage
    assert nanjing.region == "江苏省南京市"
    qingdao = kb.search("青岛 企业 自主评价 备案 流程").hits[0].passage
    assert qingdao.region == "山东省青岛市"


@pytest.mark.parametrize(
    "question",
    [
        "生孩子的生育津贴怎么算",
        "年休假 天数 规定",
        "深圳 技能人才 积分入户",
        "住房公积金能提取出来装修吗",
        "二级建造师执业资格注册需要提交哪些材料？",
        "南京人才公寓怎么申请",
    ],
)
def test_out_of_scope_is_refused(kb, question):
    result = kb.search(question)
    assert not result.answered


def test_held_out_questions_meet_the_bar(kb):
    """Paraphrases written apart from the development set; guards against regressions."""

    def answer(q: str) -> tuple[bool, list[str]]:
        r = kb.search(q, 5)
        return r.answered, [h.passage.text for h in r.hits]

    metrics = evaluate(load_items(DATA / "heldout_qa.jsonl"), answer).metrics()
    assert metrics["top1"] >= 0.85
    assert metrics["top3"] >= 0.95
    assert metrics["out_of_scope_rejected"] >= 0.9
    assert metrics["false_rejection"] <= 0.05


def test_evaluation_follows_the_scoring_rule():
    items = load_items(DATA / "heldout_qa.jsonl")[:1]
    long_passage = "x" * 601 + items[0].evidence[0]
    report = evaluate(items, lambda q: (True, [long_passage, "前缀 " + items[0].evidence[0]]))
    assert report.hits_at[1] == 0 and report.hits_at[3] == 1  # >600 chars never counts
    assert norm("Ａ Ｂ\n") == "AB"


async def test_chat_answer_cites_and_says_whose_rule(make_engine):
    engine = await make_engine()
    [reply] = await engine.handle(msg("/ask 南京 异地选手占比超过50%向谁备案"))
    assert "来源：苏人社办函〔2022〕54号 二、规范办赛行为（江苏省人社厅办公室，2022-04-08）" in reply.text
    assert "江苏省的规定，同样适用于南京市" in reply.text
    assert "**" in reply.text  # the answering sentence is emphasised
    assert "占比超过50%的，报省人力资源社会保障厅备案" in reply.text.replace("**", "")
    assert "各地组织的职业技能竞赛" not in reply.text  # the lead, not the whole clause…
    assert reply.buttons[0].label == "📄 查看条款全文"  # …which is one button away
    [whole] = await engine.handle(msg(button=reply.buttons[0].payload))
    assert "各地组织的职业技能竞赛" in whole.text
    assert [b.label for b in reply.buttons][-2:] == ["👍 有帮助", "👎 没帮助"]


async def test_no_answer_points_to_contacts(make_engine):
    engine = await make_engine()
    # This test asked "南京评价机构的年度考核分数怎么算" until 2026-11-27. That question sits on the
    # answer line (0.46-0.50 against 0.45 as the bank grew round by round, answered with 宁人社函
    # 二): a known miss of the decision model, counted in the blind figures, not pinned here.
    [reply] = await engine.handle(msg("/ask 南京考评员的年龄上限是多少"))
    assert reply.payload["answered"] is False and reply.payload["hits"] == []
    assert "57718294" in reply.text and "12333" in reply.text


async def test_refusal_carries_its_topics_referral(make_engine):
    engine = await make_engine()
    for question, topic, where in [
        ("南京人才公寓怎么申请", "wages_benefits", "人才服务部门"),
        ("社保断缴了三个月还能补交吗", "social_insurance", "社会保险经办机构"),
        ("评中级职称要啥条件", "professional_title", "职称管理机构"),
    ]:
        [reply] = await engine.handle(msg("/ask " + question))
        assert reply.payload["answered"] is False and reply.payload["topic"] == topic, question
        assert where in reply.text and "举报" not in reply.text


async def test_feedback_and_unanswered_are_stored(make_engine):
    engine = await make_engine()
    [answer] = await engine.handle(msg("/ask 异地选手占比超过50%向谁备案"))
    down = next(b.payload for b in answer.buttons if b.label.startswith("👎"))
    await engine.handle(msg(button=down))
    up = next(b.payload for b in answer.buttons if b.label.startswith("👍"))
    [thanks] = await engine.handle(msg(button=up))  # a second vote replaces the first
    assert thanks.payload["vote"] == 1
    await engine.handle(msg("年休假 天数 规定"))
    async with engine.db.transaction() as session:
        votes = (await session.scalars(select(Feedback.vote))).all()
        unanswered = await session.scalar(select(func.count()).where(QaLog.answered.is_(False)))
    assert votes == [1] and unanswered == 1


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_ask_json_contract(cli_env):
    result = CliRunner().invoke(app, ["ask", "异地选手占比超过50%向谁备案", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answered"] is True and 1 <= len(data["hits"]) <= 3
    hit = data["hits"][0]
    assert set(hit) == {"doc_no", "title", "region", "date", "clause", "text", "score"}
    assert hit["doc_no"] == "苏人社办函〔2022〕54号" and len(hit["text"]) <= 600


def test_ask_batch_one_line_per_question(cli_env):
    questions = cli_env / "q.txt"
    questions.write_text("南京市属企业找谁备案\n年休假 天数 规定\n", "utf-8")
    result = CliRunner().invoke(app, ["ask", "--batch", str(questions), "--json"])
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["answered"] for x in lines] == [True, False]


def test_notices_add_bad_file_leaves_the_base_intact(cli_env):
    runner = CliRunner()
    before = runner.invoke(app, ["notices", "list"]).stdout
    bad = cli_env / "bad.txt"
    bad.write_text("只有一段话，没有编号条款。", "utf-8")
    result = runner.invoke(
        app, ["notices", "add", str(bad), "--doc-no", "测试〔2024〕9号", "--region", "江苏省", "--date", "2024-01-01"]
    )
    assert result.exit_code == 1 and "知识库未作任何改动" in result.stderr
    assert runner.invoke(app, ["notices", "list"]).stdout == before


def test_notices_add_makes_a_new_notice_searchable(cli_env):
    runner = CliRunner()
    new = cli_env / "new.txt"
    new.write_text(
        "某市人社局文件\n测〔2024〕5号\n关于焊工技能评价的通知\n各区：\n"
        "一、焊接机器人操作员评价。焊接机器人操作员的技能评价由市鉴定中心每季度组织一次。\n"
        "二、其他。本通知自印发之日起施行。\n",
        "utf-8",
    )
    result = runner.invoke(
        app, ["notices", "add", str(new), "--doc-no", "测〔2024〕5号", "--region", "江苏省", "--date", "2024-03-01"]
    )
    assert result.exit_code == 0, result.output
    ask = runner.invoke(app, ["ask", "焊接机器人操作员多久评价一次", "--json"])
    assert json.loads(ask.stdout)["hits"][0]["doc_no"] == "测〔2024〕5号"
    again = runner.invoke(
        app, ["notices", "add", str(new), "--doc-no", "测〔2024〕5号", "--region", "江苏省", "--date", "2024-03-01"]
    )
    assert again.exit_code == 1 and "已在知识库中" in again.stderr
    for spelling in ("测[2024]5号", "测（2024）5号", "测［2024］5号"):  # one 文号, however bracketed
        same = runner.invoke(
            app, ["notices", "add", str(new), "--doc-no", spelling, "--region", "江苏省", "--date", "2024-03-01"]
        )
        assert same.exit_code == 1 and "已在知识库中" in same.stderr, spelling


def test_cli_bad_files_get_clear_messages(cli_env):
    runner = CliRunner()
    broken = cli_env / "broken.jsonl"
    broken.write_text('{"q": "缺字段"\nnot json\n', "utf-8")
    result = runner.invoke(app, ["eval", str(broken)])
    assert result.exit_code == 1 and "格式不对" in result.stderr
    binary = cli_env / "gbk.txt"
    binary.write_bytes("南京市属企业找谁备案".encode("gbk"))
    result = runner.invoke(app, ["ask", "--batch", str(binary), "--json"])
    assert result.exit_code == 1 and "不是 UTF-8" in result.stderr
    result = runner.invoke(
        app, ["notices", "add", str(binary), "--doc-no", "测〔2024〕6号", "--region", "江苏省", "--date", "下周"]
    )
    assert result.exit_code == 1 and "不是 UTF-8" in result.stderr
    utf8 = cli_env / "n.txt"
    utf8.write_text("一、条款。内容。\n", "utf-8")
    result = runner.invoke(
        app, ["notices", "add", str(utf8), "--doc-no", "测〔2024〕6号", "--region", "江苏省", "--date", "下周"]
    )
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    nul = cli_env / "nul.txt"
    nul.write_bytes(b"\x00" * 2000)
    for path, region, date, said in [
        (nul, "江苏省", "2024-03-01", "空字节"),
        (utf8, "江苏省", "2024-13-45", "不是有效日期"),
        (utf8, "火星", "2024-03-01", "不是已知的省市"),
    ]:
        result = runner.invoke(
            app, ["notices", "add", str(path), "--doc-no", "测〔2024〕7号", "--region", region, "--date", date]
        )
        assert result.exit_code == 2 and said in result.stderr, result.stderr
    listed = runner.invoke(app, ["notices", "list"])
    assert "测〔2024〕7号" not in listed.stdout  # nothing half-written


async def test_a_running_bot_picks_up_a_notice_added_by_another_process(tmp_path):
    from bot.engine import Engine
    from bot.settings import Settings
    from knowledge.notices import NoticeMeta
    from storage.db import Database
    from storage.notices import add_notice
    from tests.conftest import msg

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = await Engine.start(Settings(database_url=url))
    engine.knowledge_check_s = 0.0  # look on every update
    try:
        [before] = await engine.handle(msg("焊接机器人操作员多久评价一次", update=1))
        assert before.payload["answered"] is False
        other = Database(url)  # `skillbot notices add` in another process
        meta = NoticeMeta(
            doc_no="测〔2024〕5号",
            title="关于焊工技能评价的通知",
            issuer="某市人社局",
            region="江苏省",
            date="2024-03-01",
        )
        raw = (
            "测〔2024〕5号\n一、焊接机器人操作员评价。焊接机器人操作员的技能评价由市鉴定中心每季度组织一次。\n"
            "二、其他。本通知自印发之日起施行。\n"
        )
        async with other.transaction() as session:
            await add_notice(session, meta, raw)
        await other.dispose()
        await engine.handle(msg("你好", update=2))  # trips the check; the index is rebuilt meanwhile
        await engine.knowledge_settled()
        [after] = await engine.handle(msg("焊接机器人操作员多久评价一次", update=3))
        assert after.payload["answered"] is True and "测〔2024〕5号" in after.text
    finally:
        await engine.close()


def test_a_broken_flow_file_stops_the_bot_with_one_chinese_line(cli_env, monkeypatch):
    from knowledge import flows

    broken = cli_env / "flows"
    broken.mkdir()
    (broken / "x.toml").write_text(
        'id = "x"\ntitle = "坏"\nregion = "江苏省"\nstart = "a"\n[[step]]\nid = "a"\nkind = "end"\n'
        '[[step]]\nid = "b"\nkind = "end"\n',
        "utf-8",
    )
    monkeypatch.setattr(
        flows.FlowBook, "load", classmethod(lambda cls: flows.FlowBook({"x": flows.load_flow(broken / "x.toml")}))
    )
    script = cli_env / "s.txt"
    script.write_text("/help\n", "utf-8")
    result = CliRunner().invoke(app, ["chat", "--script", str(script)])
    assert result.exit_code == 1 and "规则或流程文件有误" in result.stderr and "Traceback" not in result.output


async def test_the_update_that_trips_a_reload_is_not_kept_waiting_for_it(make_engine):
    """The reload builds an index (seconds at a thousand notices); the user whose message
    happens to trip the 30-second check must not wait for it."""
    from tests.conftest import msg

    engine = await make_engine()
    engine.knowledge_check_s = 0.0
    release = asyncio.Event()
    calls = []

    async def slow_reload(db):  # type: ignore[no-untyped-def]
        calls.append(db)
        await release.wait()
        return None

    engine.services.reloaded = slow_reload  # type: ignore[method-assign]
    replies = await asyncio.wait_for(engine.handle(msg("/help", update=1)), timeout=10)
    assert replies and calls  # answered while the reload was still waiting
    release.set()
    await engine.knowledge_settled()


def test_a_new_notices_issuer_is_its_office_not_its_title():
    """Found by a fresh user test: with no --issuer, the whole title line became the 发文单位."""
    from knowledge.notices import new_notice_meta

    body = "\n一、总则。本通知适用于焊工。\n测试市人力资源和社会保障局\n2024年3月1日\n"
    titled = new_notice_meta("测试市人社局关于开展焊工评价的通知" + body, "测〔2024〕1号", "江苏省", "2024-03-01")
    assert titled.issuer == "测试市人社局" and titled.title == "测试市人社局关于开展焊工评价的通知"
    signed = new_notice_meta("焊工评价工作通知" + body, "测〔2024〕1号", "江苏省", "2024-03-01")
    assert signed.issuer == "测试市人力资源和社会保障局"
    given = new_notice_meta("焊工评价工作通知" + body, "测〔2024〕1号", "江苏省", "2024-03-01", issuer="某局")
    assert given.issuer == "某局"
