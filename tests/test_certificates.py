from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.roster import HEADER, rows
from handlers.base import Incoming
from knowledge.certno import (
    OLD_QUALIFICATION,
    SKILL_LEVEL,
    UNKNOWN,
    decode,
    find_number,
    id_number_error,
    mask_id,
    mask_name,
)
from knowledge.roster import RosterError, read_roster
from storage.certificates import import_roster, lookup, revoke
from storage.db import Database
from storage.models import Certificate, CertLookup, StagedCertificate
from tests.conftest import msg

TODAY = date(2026, 11, 22)
VALID = "S000032010001213000123"


def test_decodes_every_field_of_a_valid_number() -> None:
    d = decode(VALID, TODAY)
    assert d.valid and d.format == SKILL_LEVEL
    assert d.fields["province"] == "江苏省" and d.fields["year"] == 2021 and d.fields["level_name"] == "三级/高级工"
    assert d.fields["issuer_kind"] == "社会培训评价组织" and d.fields["org_code"] == "0000"


def test_full_width_spaces_and_hyphens_are_normalised() -> None:
    assert decode("Ｓ0000-3201 0001 2130 00123", TODAY).number == VALID
    assert decode("s000032010001213000123", TODAY).valid


@pytest.mark.parametrize(
    ("number", "part"),
    [
        ("X000032010001213000123", "第1位"),
        ("S000099010001213000123", "第6–7位省份代码“99”"),
        ("S000032010001210000123", "第16位"),
        ("S000032010001216000123", "第16位"),
        ("S000032010001273000123", "晚于今年"),
        ("S000032010001213000A23", "第17–22位"),
        ("S00A032010001213000123", "第2–5位"),
    ],
)
def test_each_wrong_part_is_named(number: str, part: str) -> None:
    d = decode(number, TODAY)
    assert not d.valid and any(part in e for e in d.errors), d.errors


def test_old_and_unknown_formats() -> None:
    old = decode("1032000000300001", TODAY)
    assert old.format == OLD_QUALIFICATION and old.fields["year"] == 2010 and old.fields["level"] == 3
    assert decode("0001234567890", TODAY).format == OLD_QUALIFICATION
    assert decode("ABC123", TODAY).format == UNKNOWN


def test_resident_id_check_digit() -> None:
    assert id_number_error("11010519491231002X") is None
    assert id_number_error("110105194912310021") == "居民身份证号校验位不正确"
    assert "出生日期" in (id_number_error("110105194913310021") or "")
    assert id_number_error("12345") is not None


def test_masks() -> None:
    assert mask_name("张三") == "张*" and mask_name("张小三") == "张*三" and mask_name("欧阳小明") == "欧**明"
    assert mask_id("11010519491231002X") == "1101**********002X"


def test_number_in_free_text_is_found_but_an_id_number_alone_is_not() -> None:
    assert find_number(f"查一下我的证书 {VALID[:10]} {VALID[10:]}") == VALID
    assert find_number("我的身份证是11010519491231002X") is None
    assert find_number("证书编号 1032000000300001 是真的吗") == "1032000000300001"


# -- registry ---------------------------------------------------------------------------


def write_roster(path: Path, data: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(data)
    return path


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'certs.db'}")
    await database.migrate()
    yield database
    await database.dispose()


async def count(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Certificate)) or 0)


async def test_import_is_all_or_nothing_and_reports_each_bad_row(db: Database, tmp_path: Path) -> None:
    data = list(rows(50))
    data[20][5] = "110105194912310021"  # wrong ID check digit
    data[30] = list(data[29])  # duplicate number
    data[40][15] = "61801"  # bad occupation code
    report = await import_roster(db, write_roster(tmp_path / "r.csv", data), "b1", TODAY)
    assert not report.ok
    lines = {line for line, _ in report.errors}
    assert lines == {22, 32, 42}  # file lines: header is line 1
    assert any("重复" in e for _, e in report.errors)
    assert await count(db) == 0 and await staged(db) == 0


async def staged(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(StagedCertificate)) or 0)


async def test_an_import_does_not_hold_the_database_while_it_reads_the_file(db, tmp_path, monkeypatch) -> None:
    """A 500k-row import used to hold SQLite's write lock for its whole run, and the bot failed
    with "database is locked". Rows are now staged in short transactions: another process
    writes while the file is being read, and sees nothing of the import until it is published."""
    import sqlite3

    from storage import certificates

    monkeypatch.setattr(certificates, "CHUNK", 10)
    validated, midway = [], []
    validate = certificates.validate_row

    def validate_and_meanwhile_write_from_another_process(raw, today):  # type: ignore[no-untyped-def]
        validated.append(1)
        if len(validated) == 45:
            other = sqlite3.connect(tmp_path / "certs.db", timeout=5)
            other.execute("INSERT INTO users (id, first_seen) VALUES (99, '2026-11-22 00:00:00')")
            other.commit()
            midway.append(other.execute("SELECT count(*) FROM certificates").fetchone()[0])
            midway.append(other.execute("SELECT count(*) FROM certificate_staging").fetchone()[0])
            other.close()
        return validate(raw, today)

    monkeypatch.setattr(certificates, "validate_row", validate_and_meanwhile_write_from_another_process)
    report = await import_roster(db, write_roster(tmp_path / "r.csv", list(rows(60))), "b1", TODAY)
    assert report.ok and report.inserted_or_updated == 60
    registry_midway, staged_midway = midway
    assert registry_midway == 0 and staged_midway >= 30  # staged, not yet published
    assert await count(db) == 60 and await staged(db) == 0


async def test_import_then_reimport_updates_and_lookup_masks(db: Database, tmp_path: Path) -> None:
    data = list(rows(30))
    assert (await import_roster(db, write_roster(tmp_path / "a.csv", data), "a", TODAY)).ok
    data[3][3] = "改名后"
    refused = await import_roster(db, write_roster(tmp_path / "b.csv", data[:5]), "b", TODAY)
    assert not refused.ok and len(refused.errors) == 5 and "已在登记库中（批次 a）" in refused.errors[0][1]
    assert (await import_roster(db, write_roster(tmp_path / "b.csv", data[:5]), "b", TODAY, replace=True)).ok
    assert await count(db) == 30
    now = datetime.now(UTC)
    async with db.transaction() as session:
        found = await lookup(session, data[3][19], "改名后", "t", now)
    assert found.found and found.holder is not None
    assert found.holder["name"] == "改*后" and "*" in found.holder["id_no"]
    assert data[3][5] not in str(found.holder)


async def test_reimport_never_undoes_a_revocation_and_keeps_no_id_hash(db: Database, tmp_path: Path) -> None:
    import hashlib

    data = list(rows(10))
    assert (await import_roster(db, write_roster(tmp_path / "a.csv", data), "a", TODAY)).ok
    async with db.transaction() as session:
        assert await revoke(session, "伪造", datetime.now(UTC), numbers=[data[2][19]]) == 1
    data[2][3] = "别人"
    assert (await import_roster(db, write_roster(tmp_path / "b.csv", data), "b", TODAY, replace=True)).ok
    async with db.transaction() as session:
        cert = await session.scalar(select(Certificate).where(Certificate.cert_no == data[2][19]))
    assert cert is not None and cert.status == "注销" and cert.revoke_reason == "伪造"
    stored = (tmp_path / "certs.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("certs.db-*"))
    for row in data:  # no form of the ID number beyond the mask: nothing to test guesses against
        id_no = row[5].encode()
        assert id_no not in stored
        for digest in (hashlib.sha256(id_no).hexdigest(), hashlib.sha256(b"id:" + id_no).hexdigest()):
            assert digest.encode() not in stored


async def test_import_from_xlsx(db: Database, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows(5):
        row[20] = datetime.fromisoformat(row[20])  # Excel date cell
        sheet.append(row)
    book.save(tmp_path / "r.xlsx")
    report = await import_roster(db, tmp_path / "r.xlsx", "x", TODAY)
    assert report.ok and report.inserted_or_updated == 5


def test_unreadable_rosters_are_refused(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(RosterError, match="不支持"):
        read_roster(tmp_path / "r.txt")
    (tmp_path / "r.csv").write_text("姓名,证书编号\n张三,S1\n", encoding="utf-8")
    with pytest.raises(RosterError, match="表头缺少"):
        list(read_roster(tmp_path / "r.csv")[1])


async def test_revoke_by_number_and_batch(db: Database, tmp_path: Path) -> None:
    first, second = list(rows(10)), list(rows(10, start=10))
    await import_roster(db, write_roster(tmp_path / "a.csv", first), "batch-a", TODAY)
    await import_roster(db, write_roster(tmp_path / "b.csv", second), "batch-b", TODAY)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        assert await revoke(session, "违规发证", now, numbers=[first[0][19]]) == 1
        assert await revoke(session, "办赛标准不高", now, batch="batch-b") == 10
    async with db.transaction() as session:
        one = await lookup(session, first[0][19], first[0][3], "t", now)
        other = await lookup(session, second[5][19], second[5][3], "t", now)
        fine = await lookup(session, first[1][19], first[1][3], "t", now)
    assert one.holder and one.holder["status"] == "注销" and one.holder["revoke_reason"] == "违规发证"
    assert other.holder and other.holder["revoke_reason"] == "办赛标准不高"
    assert fine.holder and fine.holder["status"] == "有效"


# -- chat -------------------------------------------------------------------------------


async def _engine_with_roster(make_engine, tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    engine = await make_engine(**settings)
    data = list(rows(5))
    await import_roster(engine.db, write_roster(tmp_path / "r.csv", data), "chat", datetime.now(UTC).date())
    return engine, data


async def test_chat_lookup_needs_the_name_and_gives_the_same_answer_when_wrong(make_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path)
    number, name = data[0][19], data[0][3]
    [ask] = await engine.handle(msg(f"帮我查一下证书 {number}"))
    assert ask.payload["intent"] == "certificate" and ask.payload["asking"] == "name"
    assert ask.payload["fields"]["province"] == "江苏省"
    [found] = await engine.handle(msg(name))
    assert found.payload["found"] is True and found.payload["status"] == "有效"
    assert name not in found.text and data[0][5] not in found.text

    await engine.handle(msg(number))
    [wrong_name] = await engine.handle(msg("王某某"))
    unknown = number[:-3] + ("000" if number[-3:] != "000" else "001")
    await engine.handle(msg(unknown))
    [unknown_number] = await engine.handle(msg(name))
    assert wrong_name.text == unknown_number.text
    assert wrong_name.payload["found"] is False and unknown_number.payload["found"] is False

    async with engine.db.transaction() as session:
        results = (await session.execute(select(CertLookup.result).order_by(CertLookup.id))).scalars().all()
        stored = (await session.execute(select(CertLookup.number_hash))).scalars().all()
    assert results == ["found", "not_found", "not_found"]
    assert all(number not in h for h in stored)


async def test_rate_limit_per_user(make_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path, cert_lookups_per_user=2)
    replies = []
    for _ in range(3):
        await engine.handle(msg(data[1][19]))
        [reply] = await engine.handle(msg(data[1][3]))
        replies.append(reply)
    assert [r.payload["found"] for r in replies[:2]] == [True, True]
    assert replies[2].payload.get("limited") is True and "太频繁" in replies[2].text


async def test_one_user_hammering_cannot_lock_out_the_others(make_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path, cert_lookups_per_user=2, cert_lookups_per_minute=5)
    for _ in range(40):  # one account: 2 lookups, then 38 refusals
        await engine.handle(msg(data[1][19], user=66))
        await engine.handle(msg("王某某", user=66))
    await engine.handle(msg(data[2][19], user=67))
    [found] = await engine.handle(msg(data[2][3], user=67))
    assert found.payload["found"] is True, found.text


async def test_malformed_old_and_foreign_numbers_are_explained(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    [bad] = await engine.handle(msg("/cert S000099010001213000123"))
    assert bad.payload["format"] == "skill_level" and "省份代码" in bad.text
    [old] = await engine.handle(msg("证书编号 1032000000300001 是真的吗"))
    assert old.payload["format"] == "old_qualification" and "jndj.osta.org.cn" in old.text
    [unknown] = await engine.handle(msg("/cert ABC-123456789"))
    assert unknown.payload["format"] == "unknown" and "苏人社办函〔2022〕54号" in unknown.text


async def test_revoke_from_chat_is_for_admins_only(make_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path)
    [refused] = await engine.handle(msg(f"/cert revoke {data[2][19]} 违规"))
    assert "只有管理员" in refused.text
    admin = Incoming(user_id=99, chat_id=99, text=f"/cert revoke {data[2][19]} 违规发证", is_admin=True)
    [done] = await engine.handle(admin)
    assert done.payload["revoked"] == 1


async def test_a_number_pasted_in_the_middle_of_a_flow_is_looked_up(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = await make_engine()
    [menu] = await engine.handle(msg("/filing"))
    await engine.handle(msg(button=menu.buttons[0].payload))
    [reply] = await engine.handle(msg(f"这个证书 {VALID} 是真的吗"))
    assert reply.payload["intent"] == "certificate" and reply.payload["asking"] == "name"
    [resume] = await engine.handle(msg("/filing"))
    assert resume.payload.get("resume") is True  # the flow kept its place


@pytest.mark.parametrize(
    "template",
    ["{number} {name}", "{name} {number}", "帮我查下证书{number}，持证人{name}", "证书编号：{number}，姓名：{name}"],
)
async def test_number_and_name_in_one_message_are_looked_up_at_once(make_engine, tmp_path, template) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path)
    [found] = await engine.handle(msg(template.format(number=data[0][19], name=data[0][3])))
    assert found.payload["intent"] == "certificate" and found.payload["found"] is True, found.text


@pytest.mark.parametrize(("cut", "said"), [(-1, "少了1位"), (None, "多了1位")])
async def test_a_number_a_digit_short_or_long_is_explained(make_engine, tmp_path, cut, said) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path)
    number = data[0][19][:cut] if cut else data[0][19] + "7"
    [reply] = await engine.handle(msg(f"帮我查下这个证书 {number}"))
    assert reply.payload["intent"] == "certificate" and said in reply.text, reply.text
    assert "22位" in reply.text and reply.payload.get("found") is not True


async def test_a_letter_o_for_a_zero_is_read_as_zero(make_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, data = await _engine_with_roster(make_engine, tmp_path)
    typed = data[0][19][:10] + data[0][19][10:].replace("0", "O", 1)
    assert typed != data[0][19]
    [reply] = await engine.handle(msg(f"{typed} {data[0][3]}"))
    assert reply.payload["found"] is True


def test_a_bad_roster_row_reports_every_problem_at_once() -> None:
    """Found by a fresh user test: an empty name hid the row's bad number and impossible date."""
    from knowledge.roster import validate_row

    raw = dict(zip(HEADER, next(rows(1)), strict=True))
    raw |= {"姓名": "", "证书编号": "S00003201000121300012", "发证日期": "2021-02-30"}
    record, errors = validate_row(raw, TODAY)
    assert not record and len(errors) == 3
    assert (
        any("姓名" in e for e in errors)
        and any("证书编号" in e for e in errors)
        and any("发证日期" in e for e in errors)
    )
