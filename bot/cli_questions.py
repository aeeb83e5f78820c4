"""`skillbot questions …`: grow the question bank from what users asked, export it to the
bundled TOML files, and re-learn the answer model from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import console, fail, in_store, read_text

questions_app = typer.Typer(help="问题库：补充问法、导出、重新训练问答模型")


def _parse_clause(ref: str, passages: list) -> tuple[str, str]:
    """ "苏人社办函〔2022〕54号 二、规范办赛行为" → (doc, clause path), checked against the notices."""
    doc, _, clause = ref.strip().partition(" ")
    clause = clause.strip()
    if not doc or not clause:
        fail('--clause 的格式是 "<文号> <条款>"，例如 "苏人社办函〔2022〕54号 二、规范办赛行为"。', 2)
    if not any(p.doc_no == doc and p.path.startswith(clause) for p in passages):
        known = sorted({p.path for p in passages if p.doc_no == doc})
        hint = f"该文件的条款有：{'；'.join(known[:12])}" if known else "知识库里没有这个文号。"
        fail(f"找不到条款 {doc} {clause}。{hint}", 2)
    return doc, clause


@questions_app.command("add")
def questions_add(
    question: Annotated[str, typer.Argument(help="用户的问法")],
    clause: Annotated[str | None, typer.Option(help='回答它的条款："<文号> <条款>"')] = None,
    out_of_scope: Annotated[str | None, typer.Option("--out-of-scope", help="不在文件范围内：主题 id")] = None,
) -> None:
    """把一个问法加入问题库；运行中的机器人 30 秒内生效。"""
    from knowledge.bank import BankQuestion, OosQuestion
    from knowledge.base import bundled_bank
    from storage.notices import load_passages
    from storage.questions import add_question

    question = question.strip()
    if not question:
        fail("问题不能为空。", 2)
    if (clause is None) == (out_of_scope is None):
        fail("请用 --clause 指定回答它的条款，或用 --out-of-scope 指定主题（二选一）。", 2)
    topics = bundled_bank().topics
    if out_of_scope is not None and out_of_scope not in topics:
        fail(f"未知的主题 {out_of_scope}。可用的主题：{'、'.join(topics)}", 2)

    async def work(session) -> str:
        if out_of_scope is not None:
            await add_question(session, OosQuestion(question, out_of_scope, by="operator"))
            return f"范围外主题「{topics[out_of_scope].name}」"
        doc, path = _parse_clause(clause or "", await load_passages(session))
        await add_question(session, BankQuestion(question, doc, path, by="operator"))
        return f"{doc} {path}"

    where = in_store(work)
    console.print(f"已加入问题库：{question} → {where}。运行中的机器人 30 秒内生效。")


@questions_app.command("import")
def questions_import(
    file: Annotated[Path, typer.Argument(help="评测集格式的 JSON lines（q、kind、doc、evidence、style，可带 topic）")],
    by: Annotated[str, typer.Option(help="写这些问题的人或来源的标记")],
    skip_unresolved: Annotated[
        bool, typer.Option(help="跳过在文件中找不到依据原文的问题（逐条列出），而不是整批放弃")
    ] = False,
) -> None:
    """把一批问题（评测集格式）加入问题库；全部可解析才写入。"""
    from knowledge.bank import BankError, OosQuestion, from_eval_item
    from knowledge.base import bundled_bank
    from storage.notices import load_passages
    from storage.questions import add_question

    lines = [x for x in read_text(file).splitlines() if x.strip()]
    try:
        items = [json.loads(x) for x in lines]
    except ValueError as exc:
        fail(f"{file.name} 不是每行一个 JSON 对象：{exc}", 2)
    topics = bundled_bank().topics

    async def work(session) -> int:
        passages = await load_passages(session)
        parsed = []
        for item in items:
            try:
                q = from_eval_item(item, passages, by)
            except BankError as exc:
                if skip_unresolved:
                    console.print(f"[yellow]跳过：[/]{exc}")
                    continue
                fail(f"{exc}。问题库未作任何改动。")
            if isinstance(q, OosQuestion) and q.topic not in topics:
                fail(f"未知的主题 {q.topic}（{q.q}）。问题库未作任何改动。")
            parsed.append(q)
        for q in parsed:
            await add_question(session, q)
        return len(parsed)

    console.print(f"已加入问题库：{in_store(work)} 条。")


@questions_app.command("export")
def questions_export(
    directory: Annotated[Path | None, typer.Option("--dir", help="写到哪个目录（默认：内置问题库目录）")] = None,
) -> None:
    """把内置问题库与后来补充的问法一起写成 TOML 文件（每份文件一个，另有范围外主题）。"""
    from knowledge.bank import BANK_DIR, OUT_OF_SCOPE_FILE, clauses_toml, topics_toml
    from knowledge.base import bundled_bank
    from storage.questions import added_questions

    target = directory or BANK_DIR
    answerable, out_of_scope = in_store(added_questions)
    bank = bundled_bank().extended(answerable, out_of_scope)
    target.mkdir(parents=True, exist_ok=True)
    by_doc: dict[str, list] = {}
    seen: set[tuple[str, str, str]] = set()
    for q in bank.answerable:
        if (q.q, q.doc, q.clause) not in seen:  # an addition exported before is not written twice
            seen.add((q.q, q.doc, q.clause))
            by_doc.setdefault(q.doc, []).append(q)
    for doc, qs in by_doc.items():
        (target / bank_file_name(doc)).write_text(clauses_toml(doc, qs), encoding="utf-8")
    oos = list({(q.q, q.topic): q for q in bank.out_of_scope}.values())
    (target / OUT_OF_SCOPE_FILE).write_text(topics_toml(bank.topics.values(), oos), encoding="utf-8")
    written = sum(len(qs) for qs in by_doc.values())
    console.print(f"已导出到 {target}：{written} 个可答问法，{len(oos)} 个范围外问法。")


def bank_file_name(doc: str) -> str:
    """苏人社办函〔2022〕54号 → 苏人社办函-2022-54.toml: readable, and safe on any file system."""
    for a, b in (("〔", "-"), ("〕", "-"), ("号", ""), ("[", "-"), ("]", "-"), ("/", "-"), (" ", "")):
        doc = doc.replace(a, b)
    return f"{doc}.toml"


@questions_app.command("train")
def questions_train(
    out: Annotated[Path | None, typer.Option(help="模型写到哪里（默认：内置模型文件）")] = None,
) -> None:
    """用问题库重新训练问答模型（按问法风格交叉验证），打印交叉验证的成绩。"""
    from rich.progress import Progress

    from knowledge.answering import MODEL_FILE
    from knowledge.base import bundled_bank, shared_lexicon
    from knowledge.retrieval import Retriever
    from knowledge.training import train
    from storage.knowledge_inputs import knowledge_inputs

    passages, added, _ = in_store(knowledge_inputs)
    bank = bundled_bank().extended(*added)
    if not bank.answerable or not bank.out_of_scope:
        fail("问题库里需要既有可答问法也有范围外问法，才能训练。", 2)
    retriever = Retriever(passages, shared_lexicon())
    with Progress(console=console.rich, transient=True) as bar:
        task = bar.add_task("交叉验证", total=len(bank.answerable) + len(bank.out_of_scope))
        model = train(bank, passages, retriever, progress=lambda done, _: bar.update(task, completed=done))
    model.save(out or MODEL_FILE)
    console.print_json(json.dumps(model.report, ensure_ascii=False))
    console.print(f"阈值 {model.threshold:.2f}；模型已写入 {out or MODEL_FILE}")
