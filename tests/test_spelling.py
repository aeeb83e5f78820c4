"""Homophone typos are read as meant, and only typos (knowledge/spelling.py)."""

from __future__ import annotations

import pytest

from knowledge.spelling import shared_respeller


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("人在连运港跑", "人在连云港跑"),
        ("身份正是浙江的", "身份证是浙江的"),
        ("射保在河北交", "社保在河北交"),
        ("社保在常洲交了", "社保在常州交了"),
        ("职工足能报吗", "职工组能报吗"),
        ("户口冇迁", "户口没迁"),
        ("岗位联兵可以参加不", "岗位练兵可以参加不"),
    ],
)
def test_a_typo_is_read_as_meant(typed: str, meant: str) -> None:
    assert shared_respeller().respell(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "我拿了第三名",  # 三名 is not 福建's 三明
        "户籍安徽",  # 籍安 is not 江西's 吉安
        "我公司为南京市属国有企业",  # 为南 is not 陕西's 渭南
        "驻宁的单位",  # 宁的 is not 福建's 宁德
        "公司喺蘇州",  # 蘇州 sounds like 苏州 and 宿州 alike: left as typed
        "睢宁县",  # a 江苏 county, not 四川's 遂宁
        "企业大力开展评价",  # 大力 is a word, not 云南's 大理
        "网上办事大厅",
    ],
)
def test_words_that_are_no_typos_are_left_alone(text: str) -> None:
    assert shared_respeller().respell(text) == text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('words = ["社保"]\n[same]\n"莫得" = "没"\n', "等长"),
        ('words = ["社保"\n', "不是有效的 TOML"),
        ('[same]\n"冇" = "没"\n', "words 应是一组非空的词"),
        ('words = ["社保", ""]\n', "words 应是一组非空的词"),
        ('words = ["社保"]\nsame = 3\n', "[same]"),
    ],
)
def test_a_broken_spelling_file_is_refused_in_chinese(tmp_path, content: str, message: str) -> None:  # type: ignore[no-untyped-def]
    """Checked at start-up (bot.services), where a SourceError stops the bot with one line."""
    from knowledge.sources import SourceError
    from knowledge.spelling import Respeller, SpellingError

    bad = tmp_path / "spelling.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(SpellingError, match=message.replace("[", r"\[").replace("]", r"\]")) as raised:
        Respeller.load(bad)
    assert isinstance(raised.value, SourceError) and "spelling.toml" in str(raised.value)


def test_readings_are_pypinyins_a_character_at_a_time() -> None:
    import json
    import re
    from pathlib import Path

    from knowledge.spelling import lazy_pinyin, readings

    sets = Path(__file__).parent / "data" / "sets"
    for path in sorted(sets.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            item = json.loads(line)
            for run in re.findall(r"[\u4e00-\u9fff]{2,}", item.get("q") or item.get("text") or ""):
                assert readings(run) == lazy_pinyin(run), run


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("wo hk zai anhui, sb zai nj jiao le 2 nian", True),
        ("zs bh zenme cha zhenjia", True),
        ("women gongsi xiang beian", True),
        ("'; DROP TABLE conversations; --", False),
        ("Can I join the skills competition in Suzhou?", False),
        ("lorem ipsum dolor sit amet", False),
        ("我的 zs 是真的吗", False),
        ("jnds", False),
    ],
)
def test_a_message_typed_in_pinyin_is_told_from_english_and_noise(text: str, pinyin: bool) -> None:
    from knowledge.spelling import typed_in_pinyin_already

    assert typed_in_pinyin_already(text) is pinyin


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("sb在无锡交了1年 hk甘肃", "社保在无锡交了1年 户口甘肃"),
        ("xsz的比赛我能报吗", "学生组的比赛我能报吗"),
        ("常州jnds 外地人能参加吗", "常州技能大赛 外地人能参加吗"),
        ("我的zs查不到", "我的证书查不到"),
    ],
)
def test_initials_typed_among_chinese_are_read_as_the_word_people_mean(typed: str, meant: str) -> None:
    from knowledge.spelling import respelled

    assert respelled(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "这是sm意思",  # 什么, not 厦门: people write 什么 far more often
        "ta能报名吗",  # a syllable (他), not initials
        "HR说OK，pdf发我",
        "by下个月要交材料",  # 毕业 and 不要 are both common: neither is taken
        "wo hk zai anhui",  # pinyin alone is left to the pinyin model
    ],
)
def test_letters_that_are_not_clearly_initials_are_left_alone(text: str) -> None:
    from knowledge.spelling import respelled

    assert respelled(text) == text


def test_the_initials_table_is_saved_and_loaded_as_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from knowledge.spelling import Respeller

    counted = Respeller.load().count_initials()
    first, second = Respeller.load(), Respeller.load()
    first.load_initials(tmp_path)
    second.usage = lambda: ""  # a second process must not count again
    second.load_initials(tmp_path)
    assert first.initials() == second.initials() == counted and counted.get("sb") == "社保"
