"""The console as hotline staff and administrators use it: a real Chromium driving a real
`skillbot web` — sign-in, search as you type, copy, gap triage, notice upload with preview,
roster upload and revocation, and a staff account kept out of administration.

The tests run in file order and share one browser: each starts from where the last one left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.web.conftest import Server
from tests.web.helpers import NOTICE, PASSWORDS, log_questions, refused, roster_csv

GAP = "考评员的补贴发多少"
CLAUSE = "宁人社函〔2021〕22号\t一、加大评价机构培育力度"


@pytest.fixture(scope="module")
def b(browser: Any, server: Server) -> Any:
    """The browser, with the gaps the admin will triage already in the Q&A log."""
    log_questions(server.url, [(GAP, refused(GAP), 0)] * 3 + [("你好", refused("你好"), 0)])
    browser.base = server.base
    return browser


def wait(b: Any, condition: Any, timeout: float = 15) -> Any:
    """Until `condition(b)` holds; an element read while the next page replaces it is read again."""
    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(b, timeout, poll_frequency=0.05, ignored_exceptions=ignored).until(condition)


def go(b: Any, path: str) -> None:
    b.get(b.base + path)


def text(b: Any, css: str = "body") -> str:
    return str(b.find_element(By.CSS_SELECTOR, css).text)


def sign_in(b: Any, name: str, password: str) -> None:
    go(b, "/login")
    b.find_element(By.NAME, "username").send_keys(name)
    b.find_element(By.NAME, "password").send_keys(password, Keys.ENTER)


def test_sign_in(b: Any, shot: Any) -> None:
    go(b, "/")
    assert b.current_url.endswith("/login")
    shot("login")
    sign_in(b, "boss", "wrong-password")
    assert "用户名或密码不正确" in wait(b, lambda d: text(d, ".alert.error"))
    sign_in(b, "boss", PASSWORDS["boss"])
    wait(b, lambda d: d.find_elements(By.ID, "q"))
    assert "boss" in text(b, ".who") and "管理员" in text(b, ".who")


def type_question(b: Any, question: str) -> None:
    """Types as a person does (the page asks as the words come), and waits for the answer to
    the whole question: answers to the words typed so far come and go before it."""
    box = b.find_element(By.ID, "q")
    box.clear()
    for ch in question:
        box.send_keys(ch)
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, f'#results [data-query="{question}"]'))


def test_search_as_you_type_then_copy_the_answer(b: Any, shot: Any) -> None:
    type_question(b, "异地选手 比例")
    mark = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#results .hit.lead mark"))[0]
    assert "10%—50%" in mark.text
    assert "q=" in b.current_url  # the address follows the box: a search can be shared
    hit = text(b, "#results .hit.lead")
    assert "苏人社办函〔2022〕54号 二、规范办赛行为" in hit and "江苏省人力资源和社会保障厅办公室" in hit
    shot("desk-answer")
    button = b.find_element(By.CSS_SELECTOR, "#results .hit.lead button.copy")
    expected = button.get_attribute("data-copy")
    button.click()
    wait(b, lambda d: "已复制" in button.text)
    pasted = b.execute_async_script("navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))")
    assert pasted == expected and pasted.startswith("【江苏省的规定】")
    assert pasted.endswith("来源：苏人社办函〔2022〕54号 二、规范办赛行为（江苏省人社厅办公室，2022-04-08）")


def test_region_filter_and_the_refusal_with_its_referral(b: Any, shot: Any) -> None:
    Select(b.find_element(By.ID, "region")).select_by_value("全国")
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, '#results [data-region="全国"]'))
    assert "答案来自江苏省" in text(b, "#results")
    Select(b.find_element(By.ID, "region")).select_by_value("")
    type_question(b, "社保断缴了怎么补交")
    refusal = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#results .refusal .reply"))[0]
    assert "12333" in refusal.text and "社保" in refusal.text
    shot("desk-refusal")


def test_a_clause_has_a_stable_link(b: Any, shot: Any) -> None:
    type_question(b, "异地选手 比例")
    link = wait(b, lambda d: d.find_elements(By.LINK_TEXT, "查看全文"))[0]
    link.click()
    wait(b, lambda d: "/notices/" in d.current_url)
    assert b.execute_script("return document.querySelector(':target').id") == "二、规范办赛行为"
    assert len(b.find_elements(By.CSS_SELECTOR, "section.clause")) > 5
    shot("notice")
    go(b, "/notices")
    assert "转发了 人社厅发〔2020〕104号" in text(b, "table")
    shot("notices")


def test_gap_triage_reaches_the_next_search(b: Any, shot: Any) -> None:
    go(b, "/admin/gaps")
    card = next(c for c in b.find_elements(By.CSS_SELECTOR, "article.gap") if GAP in c.text)
    assert "3 次" in card.text
    shot("gaps")
    Select(card.find_element(By.CSS_SELECTOR, "select[name=clause_other]")).select_by_value(CLAUSE)
    card.find_element(By.CSS_SELECTOR, "button[name=pick][value=clause]").click()
    flash = wait(b, lambda d: text(d, ".alert.ok"))
    assert f"现在搜索“{GAP}”会回答：宁人社函〔2021〕22号 一、加大评价机构培育力度" in flash
    assert GAP not in " ".join(c.text for c in b.find_elements(By.CSS_SELECTOR, "article.gap"))
    go(b, "/")
    type_question(b, GAP)
    lead = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#results .hit.lead .cite"))[0]
    assert lead.text == "宁人社函〔2021〕22号 一、加大评价机构培育力度"


def _upload_notice(b: Any, path: Path, doc_no: str) -> None:
    go(b, "/admin/notices")
    b.find_element(By.NAME, "file").send_keys(str(path))
    b.find_element(By.NAME, "doc_no").send_keys(doc_no)
    b.find_element(By.NAME, "region").send_keys("江苏省")
    b.find_element(By.NAME, "date").send_keys("2026-01-05")
    b.find_element(By.XPATH, "//button[text()='预览条款拆分']").click()


def test_notice_upload_is_previewed_before_it_is_added(b: Any, server: Server, shot: Any) -> None:
    bad = server.root / "bad.txt"
    bad.write_text("一段没有编号条款的文字。", encoding="utf-8")
    _upload_notice(b, bad, "测人社发〔2026〕8号")
    assert "没有找到“一、”" in wait(b, lambda d: text(d, ".alert.error"))
    good = server.root / "notice.txt"
    good.write_text(NOTICE, encoding="utf-8")
    _upload_notice(b, good, "测人社发〔2026〕9号")
    wait(b, lambda d: "还没有写入知识库" in text(d))
    assert text(b, "#clause-count") == "5" and "二、收费管理" in text(b, "ol.preview")
    shot("notice-preview")
    b.find_element(By.CSS_SELECTOR, "form.confirm button[type=submit]").click()
    assert "已添加 测人社发〔2026〕9号：5 个条款" in wait(b, lambda d: text(d, ".alert.ok"))
    assert "/notices/" in b.current_url
    go(b, "/notices/苏人社办函-2021-26")
    assert "已被废止" in text(b, ".warn")


def _upload_roster(b: Any, path: Path, batch: str) -> str:
    go(b, "/admin/certs")
    b.find_element(By.NAME, "file").send_keys(str(path))
    b.find_element(By.NAME, "batch").send_keys(batch)
    b.find_element(By.XPATH, "//button[text()='上传并导入']").click()
    # The upload's bar, then the import's, then its report.
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#import-status progress"), timeout=10)
    job = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#import-status [data-state]:not([data-state=running])"))
    return str(job[0].get_attribute("data-state"))


def test_roster_upload_all_or_nothing_then_revoke(b: Any, server: Server, shot: Any) -> None:
    bad = server.root / "bad.csv"
    roster_csv(bad, 40, seed=21, start=100, bad_line=5)
    assert _upload_roster(b, bad, "坏批次") == "rejected"
    assert "第5行" in text(b, "table.errors") and "未导入任何数据" in text(b, "#import-status")
    shot("roster-rejected")
    good = server.root / "good.csv"
    roster_csv(good, 300, seed=22, start=200)
    assert _upload_roster(b, good, "浏览器批次") == "done"
    assert "已导入 300 条证书记录" in text(b, "#import-status")
    # The batch list is brought up to date without a reload (found by a fresh user test).
    wait(b, lambda d: "浏览器批次" in text(d, "#batches"))
    go(b, "/admin/certs")
    assert "坏批次" not in text(b, "table")
    for attempt in range(2):  # the second time, as a second administrator would
        row = next(r for r in b.find_elements(By.CSS_SELECTOR, "tbody tr") if "浏览器批次" in r.text)
        row.find_element(By.NAME, "reason").send_keys("评价机构违规")
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        b.switch_to.alert.accept()
        message = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, ".alert.ok, .alert.info"))[0].text
        expected = "已注销批次“浏览器批次”中的 300 张证书" if attempt == 0 else "此前已全部注销（web:boss 已于"
        assert expected in message
    shot("certs")


def test_other_admin_pages_render(b: Any, shot: Any) -> None:
    for path, expect in [
        ("/admin/overview", "每日提问"),
        ("/admin/rules", "参赛资格规则"),
        ("/admin/audit", "注销证书"),
        ("/admin/certs/audit", "证书查询审计"),
        ("/certs/lookup", "证书查询"),
    ]:
        go(b, path)
        assert expect in text(b, "main"), path
        shot(path.strip("/").replace("/", "-"))


def test_staff_cannot_reach_administration(b: Any, shot: Any) -> None:
    b.find_element(By.CSS_SELECTOR, ".who button").click()
    assert "您已退出登录" in wait(b, lambda d: text(d, ".alert"))
    sign_in(b, "alice", PASSWORDS["alice"])
    wait(b, lambda d: d.find_elements(By.ID, "q"))
    assert not b.find_elements(By.CSS_SELECTOR, "a[href^='/admin']")
    go(b, "/admin/certs")
    assert "没有管理员权限" in text(b, ".alert.error")
    shot("forbidden")
