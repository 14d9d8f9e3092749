"""The web service under attack and under failure (issue 17, items 7 and 8).

* the login page exposes nothing of the API (no case ids, tags or towns);
* failed logins are throttled per user name and per address, with a log
  line, and the right password gets in again after the back-off (and at once
  from an address where it logged in before);
* an unexpected error in a UI handler reaches the service log of
  ``assistant serve`` with its traceback;
* ``serve`` says 已启动 only once it listens, and a port in use is one
  Chinese line (no 已启动 before it).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from ui_server import copy_data, free_port


def ctrl_c_reaches_the_child() -> None:
    """A test run started in the background (``make test &``) ignores SIGINT, and a child inherits
    that: give the child the default handling, as when a user presses Ctrl+C in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


pytestmark = pytest.mark.slow

PASSWORD = "正确的密码123"


@pytest.fixture(scope="module")
def login_ui(tmp_path_factory):
    """A server with login on and a quick back-off (seconds, not minutes), on copies of the data."""
    from assistant.auth import LoginThrottle, add_user, load_users, make_auth
    from assistant.config import get_settings
    from assistant.ui import build_app, launch

    root = tmp_path_factory.mktemp("login-ui")
    users, _ = load_users(add_user("wangli", PASSWORD, root / "users.txt"))
    corpus, index = copy_data(root)
    app = build_app(get_settings(corpus_dir=corpus, index_dir=index))
    throttle = LoginThrottle(free_user=3, free_address=8, base=0.5, cap=2.0, forget=120.0)
    port = free_port()
    launch(app, "127.0.0.1", port, make_auth(users), block=False, quiet=True, throttle=throttle)
    try:
        yield f"http://127.0.0.1:{port}", throttle
    finally:
        app.close()


def login(url: str, user: str, password: str, address: str = "10.0.0.1") -> httpx.Response:
    return httpx.post(f"{url}/login", data={"username": user, "password": password},
                      headers={"X-Forwarded-For": address}, timeout=30)


def wait_out(response: httpx.Response) -> None:
    """Sleep the back-off the server asked for (Retry-After), then a little."""
    time.sleep(float(response.headers["retry-after"]) + 0.2)


def test_the_login_page_exposes_nothing_of_the_api(login_ui):
    url, _ = login_ui
    page = httpx.get(url + "/", timeout=30)
    assert page.status_code == 200 and '"auth_required":true' in page.text
    assert "window.gradio_api_info = {};" in page.text
    for secret in ("sj2025-", "named_endpoints", "岳阳街道", "加装电梯", "/similar"):
        assert secret not in page.text, secret
    assert httpx.get(url + "/gradio_api/info", timeout=30).status_code == 401
    # once logged in, the page is Gradio's own again
    ok = login(url, "wangli", PASSWORD, "10.0.0.5")
    assert ok.status_code == 200
    inside = httpx.get(url + "/", cookies=ok.cookies, timeout=30)
    assert "named_endpoints" in inside.text and '"auth_required":true' not in inside.text


def test_failed_logins_back_off_per_user_with_a_log_line(login_ui, caplog):
    url, throttle = login_ui
    with caplog.at_level(logging.WARNING, logger="assistant"):
        for _ in range(3):
            assert login(url, "wangli", "wrong-password", "10.0.0.66").status_code == 400
        refused = login(url, "wangli", PASSWORD, "10.0.0.66")  # even the right password waits now
        assert refused.status_code == 429 and "登录失败次数过多" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        # the owner, from the address where they logged in before, is not locked out by the guesser
        assert login(url, "wangli", PASSWORD, "10.0.0.5").status_code == 200
        wait_out(refused)
        assert login(url, "wangli", PASSWORD, "10.0.0.66").status_code == 200  # not locked for ever
        assert login(url, "wangli", "wrong-password", "10.0.0.66").status_code == 400  # counting starts afresh
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("failed login for user 'wangli' from 10.0.0.66")]
    assert len(failures) == 4 and "next attempt in" in failures[-1]
    assert any("refused" in r.getMessage() and "back-off" in r.getMessage() for r in caplog.records)


def test_failed_logins_back_off_per_address(login_ui):
    url, _ = login_ui
    for n in range(8):
        assert login(url, f"guess{n}", "x" * 8, "10.0.0.77").status_code == 400
    refused = login(url, "another-name", "x" * 8, "10.0.0.77")
    assert refused.status_code == 429
    assert login(url, "another-name", "x" * 8, "10.0.0.78").status_code == 400  # another address is not affected
    wait_out(refused)
    assert login(url, "wangli", PASSWORD, "10.0.0.77").status_code == 200


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_the_emptied_login_page_still_logs_in_in_a_browser(login_ui):
    from playwright.sync_api import sync_playwright

    url, _ = login_ui
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(locale="zh-CN")
            page.set_default_timeout(60_000)
            page.goto(url + "/")
            page.locator("input[type=text]").first.fill("wangli")
            page.locator("input[type=password]").fill(PASSWORD)
            page.locator("button").filter(has_text=re.compile("登录|Login")).first.click()
            page.wait_for_selector("#question textarea")
        finally:
            browser.close()


# ---------------------------------------------------------------------------
# assistant serve: the service log, and the start-up message


SERVE = r"""
import sys
sys.path.insert(0, sys.argv[1])
import assistant.similar as similar

def find(self, text, k=3):
    raise RuntimeError("boom in the similar-case finder")

similar.SimilarFinder.find = find  # an unexpected bug, raised inside a UI handler
from assistant.cli import main

sys.exit(main(sys.argv[2:]))
"""


def test_serve_logs_ui_errors_with_their_traceback_and_says_started_only_when_listening(tmp_path):
    from gradio_client import Client

    corpus, index = copy_data(tmp_path)
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", ASSISTANT_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    env.pop("ASSISTANT_USERS", None)
    args = ["serve", "--port", str(port), "--corpus-dir", str(corpus), "--index-dir", str(index)]
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERVE, str(ROOT / "tests"), *args],
                                stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=tmp_path,
                                preexec_fn=ctrl_c_reaches_the_child)
    try:
        deadline = time.monotonic() + 180
        while "已启动" not in log_path.read_text("utf-8", "replace") and time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text("utf-8", "replace")
            time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it listened when it said so
        # a second server on the same port: one line, and never 已启动
        second = subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                                env=env, cwd=tmp_path, timeout=120)
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert f"无法在 127.0.0.1:{port} 上启动" in second.stderr and "--port" in second.stderr
        assert "已启动" not in second.stderr and "正在加载索引" not in second.stderr  # checked before loading
        html = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(tmp_path / "dl")).predict(
            "我们小区是动迁安置房，老人把凳子搬到楼道里聊天。", 3, api_name="/similar"
        )
        assert "请联系管理员查看服务日志" in html and "boom" not in html
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = log_path.read_text("utf-8", "replace")
    assert "unexpected error in the UI handler 'similar'" in log
    assert "Traceback (most recent call last)" in log and "RuntimeError: boom in the similar-case finder" in log
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ERROR assistant\.ui\.handlers", log)  # a dated log line
    assert log.index("正在加载索引") < log.index("已启动") and proc.returncode == 0


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_a_large_upload_shows_the_time_left_and_its_cancel_button_leaves_nothing(tmp_path):
    """In a real browser, with the real model: 取消上传 while the passages are embedded."""
    from playwright.sync_api import sync_playwright

    from test_limits import long_script
    from ui_server import running_ui

    big = tmp_path / "长篇讲稿.txt"
    big.write_text(long_script(400), encoding="utf-8")
    with running_ui(tmp_path / "ui") as ui, sync_playwright() as p:
        before = {q: q.read_bytes() for d in (ui.settings.corpus_dir, ui.settings.index_dir) for q in d.rglob("*") if q.is_file()}
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(ui.url)
            page.get_by_role("tab", name="案例库").click()
            page.get_by_text("添加讲稿（.txt / .md / .docx / .pdf）").click()
            page.locator("#upload-files input[type=file]").set_input_files(str(big))
            page.wait_for_selector("#upload-files :text('长篇讲稿.txt')", timeout=300_000)  # a loaded box is slow to show it
            page.locator("#upload-go").click()
            page.wait_for_selector("text=/预计还需/")  # the progress line, once a batch or two are done
            page.locator("#upload-cancel").click()
            page.wait_for_selector("#upload-status :text('已取消')")
            assert "案例库没有改动" in page.locator("#upload-status").inner_text()
        finally:
            browser.close()
        after = {q: q.read_bytes() for d in (ui.settings.corpus_dir, ui.settings.index_dir) for q in d.rglob("*") if q.is_file()}
        assert after == before
