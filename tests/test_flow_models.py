"""The file formats of flows and eligibility rules: what a wrong file is told, in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.eligibility import RULES_FILE, EligibilityRules, MonthsCondition, SchoolCondition
from knowledge.flows import FlowBook, FlowError, load_flow
from knowledge.sources import SourceError, SourceRef

_SRC = 'source = { doc = "苏人社办函〔2022〕54号", clause = "二、规范办赛行为" }\n'
GOOD = (
    'id = "demo"\ntitle = "示例"\nregion = "江苏省"\nstart = "kind"\n'
    '[[step]]\nid = "kind"\nkind = "choice"\nask = "哪一类？"\nnext = "share"\n'
    + _SRC
    + '[[step.option]]\nvalue = 1\nlabel = "甲"\n[[step.option]]\nvalue = "b"\nlabel = "乙"\nnext = "mat"\n'
    '[[step]]\nid = "share"\nkind = "percent"\nnext = "mat"\n'
    + _SRC
    + '[[step.band]]\nmax = 50\nsay = "少"\n[[step.band]]\nmax = 100\nsay = "多"\n'
    '[[step]]\nid = "mat"\nkind = "checklist"\nitem = "材料"\nitems = ["申请表", { text = "方案", '
    + _SRC.strip()
    + ' }]\nnext = "route"\n'
    + _SRC
    + '[[step]]\nid = "route"\nkind = "decide"\nnext = "end"\n'
    + _SRC
    + '[[step.rule]]\nwhen = { kind = 1 }\nsay = "甲"\n[[step.rule]]\nsay = "其他"\noutcome = "closed"\n'
    '[[step]]\nid = "end"\nkind = "end"\n'
)
# A line start-up can print as it is: the file, where in it, and what is wrong, in Chinese
# (pydantic's English must not leak through).
ONE_LINE = re.compile(r"^demo\.toml: [^\n]*[\u4e00-\u9fff][^\n]*$")


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "demo.toml"
    path.write_text(text, "utf-8")
    return load_flow(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(FlowError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert ONE_LINE.match(message), message
    assert not re.search(r"Field required|Input should|Extra inputs|Value error", message), message
    return message


def test_a_good_file_becomes_one_model_per_step_kind(tmp_path: Path) -> None:
    flow = _load(tmp_path, GOOD)
    assert [type(s).__name__ for s in flow.steps.values()] == [
        "ChoiceStep",
        "PercentStep",
        "ItemsStep",
        "DecideStep",
        "EndStep",
    ]
    kind, mat, route = flow.step("kind"), flow.step("mat"), flow.step("route")
    assert kind.item == "哪一类？"  # no `item`: the question stands for it
    assert [o.value for o in kind.options] == ["1", "b"]  # answers are compared as text
    assert [i.text for i in mat.items] == ["申请表", "方案"] and mat.items[0].source is None
    assert mat.items[1].source == SourceRef("苏人社办函〔2022〕54号", "二、规范办赛行为")
    assert route.rules[0].when == {"kind": ("1",)} and route.rules[1].outcome == "closed"
    assert flow.next_of(route, None, {"kind": 1}) == "end" and flow.next_of(route, None, {"kind": "b"}) is None
    assert flow.path == tmp_path / "demo.toml"
    assert flow.remaining("kind") == 3 and kind.successors() == ["mat", "share"]


def test_an_unknown_step_kind_is_named(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace('kind = "percent"', 'kind = "percentage"'))
    assert message.startswith("demo.toml: step.share：未知的步骤类型 'percentage'") and "'percent'" in message


def test_a_step_without_a_kind_is_named(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace('kind = "percent"\n', "")) == "demo.toml: step.share：缺少步骤类型"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('title = "示例"\n', "", "demo.toml: title：缺少这一项"),
        ('label = "乙"\n', "", "demo.toml: step.kind.option#2.label：缺少这一项"),
        (
            '[[step.band]]\nmax = 100\nsay = "多"\n',
            "[[step.band]]\nmax = 100\n",
            "demo.toml: step.share.band#2.say：缺少这一项",
        ),
        ('next = "share"\n' + _SRC, 'next = "share"\n', "demo.toml: step.kind.source：缺少出处（source）"),
    ],
)
def test_a_missing_required_key_is_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert _error(tmp_path, GOOD.replace(old, new, 1)) == expected


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('kind = "percent"\nnext = "mat"', 'kind = "percent"\nnxet = "mat"', "step.share.nxet"),
        ('label = "乙"', 'lable = "乙"', "step.kind.option#2.lable"),
        ('region = "江苏省"', 'regoin = "江苏省"', "regoin"),
        ('clause = "二、规范办赛行为" }', 'clause = "二、规范办赛行为", qoute = "x" }', "step.kind.source.qoute"),
        # A key that belongs to another kind is as wrong as a misspelt one.
        ('kind = "percent"\n', 'kind = "percent"\nif_no = "先备案"\n', "step.share.if_no"),
    ],
)
def test_a_misspelt_key_is_named_rather_than_ignored(tmp_path: Path, old: str, new: str, where: str) -> None:
    assert _error(tmp_path, GOOD.replace(old, new, 1)) == f"demo.toml: {where}：不认识这个字段（拼错了？）"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('next = "route"', 'next = "rout"', "demo.toml: 步骤 mat 指向不存在的步骤 rout"),
        ('label = "乙"\nnext = "mat"', 'label = "乙"\nnext = "mats"', "demo.toml: 步骤 kind 指向不存在的步骤 mats"),
        ('start = "kind"', 'start = "begin"', "demo.toml: 起始步骤 begin 不存在"),
    ],
)
def test_a_step_pointing_at_a_missing_step_is_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert _error(tmp_path, GOOD.replace(old, new, 1)) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("max = 50", 'max = "五十"', "demo.toml: step.share.band#1.max：应为数字，而不是 '五十'"),
        (
            'items = ["申请表", { text = "方案", ' + _SRC.strip() + " }]",
            'items = "申请表"',
            "demo.toml: step.mat.items：应为列表，而不是 '申请表'",
        ),
        ('title = "示例"', "title = 7", "demo.toml: title：应为文字，而不是 7"),
        (
            'next = "share"',
            'next = "share"\nskippable = [1]',
            "demo.toml: step.kind.skippable：应为布尔值（true/false），而不是 [1]",
        ),
        ('outcome = "closed"', 'outcome = "shut"', "demo.toml: step.route.rule#2.outcome：只能是 'ok' 或 'closed'"),
        ('id = "mat"', 'id = "Mat"', "demo.toml: step.Mat.id：只能用小写字母、数字和下划线，最长12个字符"),
    ],
)
def test_a_wrong_type_or_value_is_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert _error(tmp_path, GOOD.replace(old, new, 1)) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('value = "b"', 'value = "1"', "step.kind：选项值重复"),
        ('[[step.option]]\nvalue = "b"\nlabel = "乙"\nnext = "mat"\n', "", "step.kind.option：至少要有2项"),
        ("max = 100", "max = 90", "step.share：分段上限须递增，最后一段到100"),
        ('id = "mat"', 'id = "kind"', "step：步骤 kind 重复"),
        ('next = "route"', 'next = "kind"', "步骤 kind 处形成循环"),
        ('[[step]]\nid = "end"', '[[step]]\nid = "spare"\nkind = "end"\n[[step]]\nid = "end"', "这些步骤走不到：spare"),
    ],
)
def test_a_shape_that_cannot_be_walked_is_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert _error(tmp_path, GOOD.replace(old, new, 1)) == f"demo.toml: {expected}"


def test_every_bundled_flow_loads_and_a_broken_one_stops_the_book(tmp_path: Path) -> None:
    assert FlowBook.load().flows
    (tmp_path / "demo.toml").write_text(GOOD.replace('kind = "decide"', 'kind = "decision"'), "utf-8")
    with pytest.raises(FlowError, match=r"^demo\.toml: step\.route：未知的步骤类型 'decision'"):
        FlowBook.load(tmp_path)


# -- eligibility rules -------------------------------------------------------------------


def test_the_bundled_rules_load_into_one_model_per_condition_test() -> None:
    [ruleset] = EligibilityRules.load().rulesets
    assert [c.test for c in ruleset.conditions] == ["months_in_region", "in_region", "school_in_region"]
    months, _, school = ruleset.conditions
    assert isinstance(months, MonthsCondition) and months.at_least == 12
    assert isinstance(school, SchoolCondition) and "技工院校" in school.school_types
    assert (
        ruleset.outsider_text.startswith("您属于异地选手") and ruleset.outsider_source.doc == "苏人社办函〔2022〕54号"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('test = "in_region"', 'test = "in_province"', "ruleset#1.condition#2：未知的条件类型 'in_province'"),
        ("at_least = 12\n", "", "ruleset#1.condition#1.at_least：缺少这一项"),
        ("[ruleset.outsider]", "[ruleset.outsidr]", "ruleset#1.outsidr：不认识这个字段（拼错了？）"),
        ("max_rank = 3", 'max_rank = "三"', "result_rule#1.max_rank：应为整数，而不是 '三'"),
        ("[[ruleset]]", "[[rule_set]]", "rule_set：不认识这个字段（拼错了？）"),
    ],
)
def test_a_broken_rules_file_is_named_in_one_chinese_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = RULES_FILE.read_text("utf-8")
    assert old in text
    path = tmp_path / RULES_FILE.name
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(SourceError) as caught:
        EligibilityRules.load(path)
    assert str(caught.value).startswith(f"{RULES_FILE.name}: {expected}"), str(caught.value)
    assert "\n" not in str(caught.value)
