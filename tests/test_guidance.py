"""Guidance that must match the notices (issue #13, items 12–14), through the engine."""

from __future__ import annotations

from knowledge.base import KnowledgeBase
from tests.conftest import msg


async def test_a_jiangsu_enterprise_outside_nanjing_gets_the_local_filing_path(make_engine):
    """26号 二: 属地管理, under 苏人社函〔2020〕297号. It used to get a menu of every place's flows."""
    engine = await make_engine()
    replies = await engine.handle(msg("我们是苏州的一家企业，想自主开展技能等级认定，去哪里备案？"))
    first = replies[0]
    assert first.payload["intent"] == "filing" and first.payload["flow"] == "js_self"
    assert "所在地" in first.text and "297号" in first.text and "苏人社办函〔2021〕26号" in first.text
    assert "青岛" not in first.text


async def test_a_nanjing_private_enterprise_gets_its_district_and_no_contradicting_clause(make_engine):
    """宁人社函 二 lists 央企/省属/市属 first; a private enterprise files with its district (last
    paragraph). The walk-through says so; the clause sent alongside used to show only the
    央企/市属 sentences, so it is not sent when the walk-through already cites that clause."""
    engine = await make_engine()
    replies = await engine.handle(msg("南京的民营企业想自主评价，找谁备案"))
    assert replies[0].payload["flow"] == "nj_inst"
    assert "所在区人社部门" in replies[0].text and "宁人社函〔2021〕22号 二" in replies[0].text
    assert not any("央企单位、省属企业经省人社厅备案" in r.text for r in replies)


async def test_the_qingdao_contact_reads_as_a_contact(make_engine):
    engine = await make_engine()
    [answer] = await engine.handle(msg("/ask 青岛企业自主评价备案咨询电话是多少"))
    assert "青岛市人力资源和社会保障局　联系人：刘崑，联系电话：85845299" in answer.text
    assert "(联系人:" not in answer.text


def test_referral_contacts_are_tidied(kb: KnowledgeBase):
    qingdao = [c.text for c in kb.contacts_for({"山东省青岛市"}) if c.doc_no == "青人社发〔2020〕7号"]
    assert qingdao == ["联系人：刘崑，联系电话：85845299"]
    assert not any("南京" in c.doc_no or "宁人社" in c.doc_no for c in kb.contacts_for({"江苏省"}))


async def test_hotline_keywords_typed_inside_a_walk_through_are_answered(make_engine):
    """ "异地选手 比例" is no answer to "贵单位属于哪一类？" and no question by its punctuation, but
    the notices answer it: the walk-through steps aside (its progress kept) instead of re-prompting."""
    engine = await make_engine()
    [step] = await engine.handle(msg("/filing"))
    await engine.handle(msg(button=step.buttons[1].payload))  # 南京
    replies = await engine.handle(msg("异地选手 比例"))
    # Answered from the notice: alone, or beside the competition walk-through it may start.
    answers = [r for r in replies if r.payload.get("intent") == "qa" and r.payload.get("answered") is True]
    assert answers and "苏人社办函〔2022〕54号" in answers[0].text
    assert not any("没能识别" in r.text for r in replies)
    [resume] = await engine.handle(msg("/filing"))
    assert "要接着办吗" in resume.text
    await engine.handle(msg(button=resume.buttons[0].payload))
    nonsense = await engine.handle(msg("嗯嗯"))
    assert nonsense[0].payload["intent"] == "filing" and "没能识别" in nonsense[0].text


async def test_typed_export_words_work_like_the_command(make_engine):
    engine = await make_engine()
    [typed] = await engine.handle(msg("导出清单"))
    [command] = await engine.handle(msg("/export"))
    assert typed.text == command.text and typed.payload == command.payload


async def test_another_citys_rule_is_no_answer_for_the_city_asked(make_engine):
    """黄石's notice says nothing of subsidies; 南京's does. "黄石 补贴" used to get 南京's rule
    with a warning: now the honest refusal, with 黄石's referral."""
    engine = await make_engine()
    [reply] = await engine.handle(msg("/ask 黄石 补贴"))
    # Refused for the place (other_region) or, since the answer model reads the clause
    # classifier, already as too far from any clause (low_confidence): either way 黄石's referral.
    assert reply.payload["answered"] is False and reply.payload["reason"] in {"other_region", "low_confidence"}
    assert "黄石" in reply.text and "宁人社函" not in reply.text and "上浮" not in reply.text
    [nanjing] = await engine.handle(msg("/ask 南京 技能等级证书 补贴"))
    assert nanjing.payload["answered"] is True and "宁人社函〔2021〕22号" in nanjing.text


async def test_an_answer_shows_the_whole_rule_not_one_band_of_it(make_engine):
    """Found by a fresh user test: "异地选手 比例" was answered with the 10%—50% band alone, so a
    hotline worker copying it gave the caller a third of the rule."""
    engine = await make_engine()
    [answer] = await engine.handle(msg("/ask 异地选手 比例"))
    lead = answer.text.split("**")[1]
    assert "10%之内的，由竞赛主办单位从严把握" in lead and "占比10%—50%的" in lead and "占比超过50%的" in lead


async def test_a_qingdao_enterprise_of_no_named_kind_is_told_the_usual_authority_while_asked(make_engine):
    """青人社发 六（一）: enterprises file with the 市职业技能鉴定中心, 省属 may choose the province's,
    中央驻青 follow the ministry. A foreign-owned or 规上 enterprise fits no option word; the
    question that asks its kind now says the usual authority (blind routes set 8)."""
    engine = await make_engine()
    replies = await engine.handle(msg("We are a foreign-owned factory in 青岛城阳，想做自主评价，filing 机构是哪个？"))
    first = replies[0]
    assert first.payload["flow"] == "qd_self" and "青岛市职业技能鉴定中心" in first.text
