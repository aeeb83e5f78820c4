"""Each `skillbot` command: its happy path and its answer to bad input (a Chinese line, exit 2 or 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.roster import rows
from bot.cli import app
from tests.conftest import msg
from tests.test_certificates import write_roster


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One saved index for the module's commands: each would otherwise build its own."""
    return tmp_path_factory.mktemp("index")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_dir: Path) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INDEX_DIR", str(index_dir))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_chat_script_json_presses_buttons_by_number(cli: CliRunner, tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text("/filing\n#btn 2\n#btn 99\n#btn x\n", "utf-8")
    result = cli.invoke(app, ["chat", "--script", str(script), "--json"])
    assert result.exit_code == 0, result.output
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    menu, started, *rest = replies
    assert menu["payload"]["step"] == "menu" and len(menu["buttons"]) >= 2
    assert started["payload"]["intent"] == "filing" and started["payload"]["flow"] == "nj_inst"
    assert [r["payload"]["intent"] for r in rest] == ["no_such_button", "no_such_button"]
    assert "第99个按钮" in rest[0]["text"]


async def test_admin_ids_make_a_chat_user_an_admin(make_engine) -> None:
    engine = await make_engine(admin_ids="7")
    [admin] = await engine.handle(msg("/cert revoke S000032010001213000123 伪造", user=7))
    [other] = await engine.handle(msg("/cert revoke S000032010001213000123 伪造", user=8))
    assert "只有管理员" not in admin.text and "没有找到可注销的有效证书" in admin.text
    assert "只有管理员可以注销证书" in other.text


def test_notices_reindex(cli: CliRunner) -> None:
    assert cli.invoke(app, ["notices", "list"]).exit_code == 0
    result = cli.invoke(app, ["notices", "reindex"])
    assert result.exit_code == 0 and "条款" in result.stdout, result.output


def test_eval_scores_a_set_and_refuses_a_missing_file(cli: CliRunner, tmp_path: Path) -> None:
    items = tmp_path / "set.jsonl"
    item = {
        "id": "a",
        "q": "异地选手占比超过50%向谁备案",
        "doc": "苏人社办函〔2022〕54号",
        "evidence": ["占比超过50%的，报省人力资源社会保障厅备案"],
        "kind": "answerable",
    }
    items.write_text(json.dumps(item, ensure_ascii=False) + "\n", "utf-8")
    result = cli.invoke(app, ["eval", str(items)])
    assert result.exit_code == 0 and "top1=1.000" in result.stdout, result.output
    missing = cli.invoke(app, ["eval", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output


def test_certs_revoke_and_lookup(cli: CliRunner, tmp_path: Path) -> None:
    data = list(rows(3))
    assert cli.invoke(app, ["certs", "import", str(write_roster(tmp_path / "r.csv", data))]).exit_code == 0
    number, name = data[0][19], data[0][3]
    no_reason = cli.invoke(app, ["certs", "revoke", number])
    assert no_reason.exit_code == 1 and "注销原因" in no_reason.stderr
    both = cli.invoke(app, ["certs", "revoke", number, "--batch", "r", "--reason", "伪造"])
    assert both.exit_code == 1 and "二者选一" in both.stderr
    revoked = cli.invoke(app, ["certs", "revoke", number, "--reason", "伪造"])
    assert revoked.exit_code == 0 and "已注销1张" in revoked.stdout
    looked = cli.invoke(app, ["certs", "lookup", number, "--name", name, "--json"])
    data_out = json.loads(looked.stdout)
    assert data_out["found"] is True and data_out["status"] == "注销"
    bad = cli.invoke(app, ["certs", "lookup", "S12", "--name", name])
    assert bad.exit_code == 1 and "统一编码规则" in bad.stdout
    no_name = cli.invoke(app, ["certs", "lookup", number])
    assert no_name.exit_code == 1 and "--name" in no_name.stderr


def test_report_lists_unanswered_questions(cli: CliRunner) -> None:
    cli.invoke(app, ["ask", "明天会下雨吗"])  # `ask` is not logged; a chat question is
    script = Path("q.txt")
    script.write_text("火星上的焊工证怎么考\n", "utf-8")
    assert cli.invoke(app, ["chat", "--script", str(script)]).exit_code == 0
    result = cli.invoke(app, ["report"])
    assert result.exit_code == 0 and "火星上的焊工证怎么考" in result.stdout


def test_migrate_and_serve_without_a_token(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.invoke(app, ["migrate"]).exit_code == 0
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    result = cli.invoke(app, ["serve"])
    assert result.exit_code == 1 and "BOT_TOKEN" in result.stderr
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    hook = cli.invoke(app, ["serve", "--webhook", "https://example.org/hook"])
    assert hook.exit_code == 1 and "WEBHOOK_SECRET" in hook.stderr


def test_questions_export_then_add_and_bad_clause(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(app, ["questions", "add", "异地选手多了找谁备案", "--clause", "苏人社办函〔2022〕54号 二"])
    assert added.exit_code == 0, added.output
    bad = cli.invoke(app, ["questions", "add", "随便问问", "--clause", "不存在〔2099〕1号 九"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    out = tmp_path / "bank"
    exported = cli.invoke(app, ["questions", "export", "--dir", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "异地选手多了找谁备案" in (out / "苏人社办函-2022-54.toml").read_text("utf-8")
