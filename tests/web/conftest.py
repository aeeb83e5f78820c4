"""One real console (`skillbot web` in a process of its own) and one headless Chromium per
module, for the browser tests. Chromium comes from Debian's packages (scripts/ensure-chromium.sh);
without it these tests are skipped, unless SKILLBOT_REQUIRE_BROWSER=1 or CI=true, when a
missing browser is a failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.postgres import free_port
from tests.web.helpers import PASSWORDS

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SKILLBOT = Path(sys.executable).parent / "skillbot"
WIDTHS = (1366, 390)


@dataclass
class Server:
    base: str
    url: str  # the database's
    root: Path
    log: Path


def _env(url: str, index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "CERT_"))}
    return env | {"DATABASE_URL": url, "INDEX_DIR": str(index), "LOG_LEVEL": "INFO", "BOT_TOKEN": ""}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The console on a fresh SQLite file, accounts made by the real `skillbot users add`."""
    root = tmp_path_factory.mktemp("browser")
    url = f"sqlite+aiosqlite:///{root / 'bot.db'}"
    env = _env(url, tmp_path_factory.getbasetemp() / "web-index")
    for name, role in (("boss", "admin"), ("alice", "staff")):
        command = [str(SKILLBOT), "users", "add", name, "--role", role, "--password-stdin"]
        subprocess.run(command, input=PASSWORDS[name] + "\n", env=env, check=True, capture_output=True, text=True)
    port = free_port()
    log = root / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(SKILLBOT), "web", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield Server(base, url, root, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"skillbot web exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"skillbot web did not come up in {timeout:.0f} s: {log.read_text()[-2000:]}")


def _browser_required() -> bool:
    return os.environ.get("SKILLBOT_REQUIRE_BROWSER") == "1" or os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "Chromium or chromedriver not installed (scripts/ensure-chromium.sh installs Debian's packages)"
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={WIDTHS[0]},900")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": server.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shot(browser) -> Callable[[str], None]:  # type: ignore[no-untyped-def]
    """Screenshots of the page in hand at desktop and phone widths, into SKILLBOT_WEB_SHOTS
    (e.g. /tmp/web-shots) when it is set; nothing otherwise."""
    directory = os.environ.get("SKILLBOT_WEB_SHOTS")

    def take(name: str) -> None:
        if not directory:
            return
        Path(directory).mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(width, min(max(height, 600), 5000))
            browser.save_screenshot(f"{directory}/{name}-{width}.png")
        browser.set_window_size(WIDTHS[0], 900)

    return take
