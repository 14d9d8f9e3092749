"""The web UI through its API (gradio_client) against a real server on 127.0.0.1.

The same endpoints the browser uses: /ask (streamed chat), /feedback,
/similar, /handout, /case, /upload.  Answers are compared with the Python
API's own answers, so 20 concurrent users must each get exactly theirs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from ui_server import free_port, running_ui

pytestmark = pytest.mark.slow

QUESTION = "小区停车位不够，外来车辆多，怎么办？"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    with running_ui(tmp_path_factory.mktemp("ui-api")) as running:
        yield running


@pytest.fixture
def api(ui, tmp_path):
    from gradio_client import Client

    return Client(ui.url, verbose=False, download_files=str(tmp_path))


def answer_of(result) -> dict:
    return next(x for x in result if isinstance(x, dict) and "citations" in x)


def html_with(result, needle: str) -> str:
    return next(x for x in result if isinstance(x, str) and needle in x)


def chat_of(result) -> list:
    return next(x for x in result if isinstance(x, list))


def test_ask_gives_cited_answer_with_clickable_markers(ui, api):
    from assistant.retrieval import get_searcher

    result = api.predict(QUESTION, api_name="/ask")
    answer = answer_of(result)
    assert answer["answered"] and answer["mode"] == "extractive" and answer["citations"]
    cases = get_searcher(ui.settings).index.cases
    for c in answer["citations"]:
        assert cases[c["case_id"]].text[c["start"] : c["end"]] == c["quote"]
    chat = chat_of(result)
    assert [m["role"] for m in chat] == ["user", "assistant"]
    message = chat[1]["content"][0]["text"]
    first = answer["citations"][0]
    assert f'href="#cite/{first["case_id"]}/{first["start"]}/{first["end"]}"' in message
    assert 'class="cite"' in message and "本地摘录" in message
    sources = html_with(result, "出处（")
    assert first["case_title"][:10] in sources and (first["section"] or "开头")[:8] in sources


def test_follow_up_uses_the_conversation(api):
    api.predict("老旧小区加装电梯，低层住户反对怎么协调？", api_name="/ask")
    follow = answer_of(api.predict("那资金从哪里来？", api_name="/ask"))
    assert any("结合上一轮对话" in n and "电梯" in n for n in follow["notices"])
    assert any("电梯" in c["quote"] or "加梯" in c["quote"] for c in follow["citations"])


def test_errors_are_friendly_and_the_chat_stays_usable(api):
    empty = api.predict("   ", api_name="/ask")
    assert "问题是空的" in html_with(empty, "msg-error")
    too_long = api.predict("停车" * 1500, api_name="/ask")
    assert "问题太长" in html_with(too_long, "msg-error")
    for result in (empty, too_long):
        assert "Traceback" not in json.dumps(result, ensure_ascii=False)
    ok = api.predict(QUESTION, api_name="/ask")
    assert answer_of(ok)["citations"] and len(chat_of(ok)) == 2  # the failed attempts left no trace


def test_feedback_needs_an_answer_first(ui, tmp_path):
    from gradio_client import Client

    fresh = Client(ui.url, verbose=False, download_files=str(tmp_path))
    _, status = fresh.predict("有帮助", "", api_name="/feedback")
    assert "请先提一个问题" in status


def test_similar_cases_match_the_python_api(ui, api):
    from assistant.retrieval import get_searcher
    from assistant.similar import SimilarFinder

    text = "我们小区是动迁安置房，老人把凳子、杂物搬到楼道里，屡清屡放，消防检查通不过。"
    html = api.predict(text, 3, api_name="/similar")
    expected = SimilarFinder(get_searcher(ui.settings)).find(text, 3)
    ids = re.findall(r"class='case-card' data-case='([^']+)'", html)
    assert ids == [r.card.case_id for r in expected]
    assert "为什么相似" in html and "相似段落" in html and "#case/" in html
    assert "情况描述是空的" in api.predict("", 3, api_name="/similar")


def test_handout_downloads_open(api):
    from docx import Document

    preview, docx, md = api.predict("按案例", "sj2025-03", None, 4, api_name="/handout")
    docx_path, md_path = (x["value"] if isinstance(x, dict) else x for x in (docx, md))  # visible + file
    assert "讨论题（4）" in preview and "资料来源" in preview
    doc = Document(docx_path)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "培训讨论题" in text and "资料来源" in text
    md = Path(md_path).read_text(encoding="utf-8")
    assert md.startswith("# 培训讨论题") and "## 讨论题" in md
    by_topic = api.predict("按话题", None, "停车", 2, api_name="/handout")
    assert "培训讨论题：停车" in by_topic[0]
    missing = api.predict("按话题", None, None, 2, api_name="/handout")
    assert "请先选择一个话题" in missing[0]


def test_case_opens_with_outline_card_and_methods(api):
    html = api.predict("sj2025-03", api_name="/case")
    assert "目录" in html and "#jump/lib-sec-0" in html and "提出的方法" in html
    assert "case-text" in html and "<mark" not in html


def test_upload_reports_each_bad_file(api, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "扫描件.pdf"
    bad.write_bytes(b"not a pdf at all")
    empty = tmp_path / "空白.txt"
    empty.write_text("  \n", encoding="utf-8")
    # the upload's one value: its report (the page's library follows in a chained, private step)
    status = api.predict([handle_file(str(bad)), handle_file(str(empty))], "", "", "", "", "", "", "", api_name="/upload")
    assert "扫描件.pdf" in status and "空白.txt" in status and status.count("未添加") == 2


def test_twenty_users_at_once_get_their_own_answers_and_feedback(ui, tmp_path):
    """20 sessions ask different questions simultaneously; each answer is that
    question's answer, and every session's feedback row is stored with it."""
    from gradio_client import Client

    from assistant.answer import Answerer
    from assistant.retrieval import get_searcher

    items = [json.loads(x) for x in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    questions = [x["question"] for x in items if x.get("answerable", True)][:20]
    assert len(set(questions)) == 20
    answerer = Answerer(get_searcher(ui.settings), ui.settings)
    expected = {q: answerer.ask(q).answer for q in questions}
    before = len(ui.store.rows())
    got: dict[int, dict] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def user(i: int) -> None:
        try:
            c = Client(ui.url, verbose=False, download_files=str(tmp_path / str(i)))
            start.wait(timeout=60)
            answer = answer_of(c.submit(questions[i], api_name="/ask").result(timeout=120))
            _, status = c.predict("有帮助" if i % 2 else "没帮助", f"用户{i}的意见", api_name="/feedback")
            got[i] = {"answer": answer, "status": status}
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(got) == 20
    for i, r in got.items():
        assert r["answer"]["question"] == questions[i]
        assert r["answer"]["answer"] == expected[questions[i]]
        assert "已记录" in r["status"]
    rows = ui.store.rows()[before:]
    assert len(rows) == 20
    by_comment = {r["comment"]: r for r in rows}
    for i in range(20):
        row = by_comment[f"用户{i}的意见"]
        assert row["question"] == questions[i]
        assert row["rating"] == ("👍" if i % 2 else "👎")
        assert json.loads(row["citations"]) and row["mode"] == "extractive"
    with sqlite3.connect(ui.store.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# ---------------------------------------------------------------------------
# LLM mode: streaming, and a model that is down


def test_llm_answer_streams_and_shows_the_model(tmp_path):
    from gradio_client import Client

    from fake_openai import Dynamic, FakeOpenAI

    def reply(body: dict) -> str:
        user = body["messages"][-1]["content"]
        passage = re.search(r"<<<段落1开始>>>\n(.*?)\n<<<段落1结束>>>", user, re.S).group(1)
        sentence = re.split(r"(?<=[。；！？])", passage.strip())[0].rstrip("。；！？")
        return f"可以参考这个做法：{sentence}[1]。"

    with FakeOpenAI() as server:
        server.script(Dynamic(reply))
        with running_ui(tmp_path, llm_base_url=server.base_url, llm_model="fake-qwen") as ui:
            c = Client(ui.url, verbose=False, download_files=str(tmp_path / "dl"))
            job = c.submit(QUESTION, api_name="/ask")
            final = job.result(timeout=120)
            answer = answer_of(final)
            assert answer["mode"] == "llm" and answer["citations"]
            message = chat_of(final)[1]["content"][0]["text"]
            assert "fake-qwen" in message and 'class="cite"' in message
            # the chat showed something before the answer was complete
            steps = [chat_of(o) for o in job.outputs() if any(isinstance(x, list) for x in o)]
            assert any("ans pending" in s[-1]["content"][0]["text"] or "ans streaming" in s[-1]["content"][0]["text"]
                       for s in steps[:-1] if len(s) == 2)
            header = c.view_api(print_info=False, return_format="dict")  # the app is still serving
            assert header


def test_llm_down_falls_back_with_a_notice(tmp_path):
    from gradio_client import Client

    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with running_ui(tmp_path, llm_base_url=dead, llm_model="offline-model", llm_timeout=5) as ui:
        c = Client(ui.url, verbose=False, download_files=str(tmp_path / "dl"))
        answer = answer_of(c.predict(QUESTION, api_name="/ask"))
        assert answer["mode"] == "extractive" and answer["citations"]
        assert any("大模型暂不可用" in n for n in answer["notices"])
        again = answer_of(c.predict("老旧小区加装电梯，低层住户反对怎么协调？", api_name="/ask"))
        assert again["citations"]  # still usable


# ---------------------------------------------------------------------------
# access


def test_login_is_required_when_users_are_configured(tmp_path):
    from gradio_client import Client

    from assistant.auth import add_user, load_users, make_auth
    from assistant.config import get_settings
    from assistant.ui import build_app, launch
    from ui_server import copy_data

    users_file = add_user("wangli", "正确的密码123", tmp_path / "users.txt")
    users, _ = load_users(users_file)
    corpus, index = copy_data(tmp_path)
    app = build_app(get_settings(corpus_dir=corpus, index_dir=index))
    port = free_port()
    launch(app, "127.0.0.1", port, make_auth(users), block=False, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):
            Client(url, verbose=False, auth=("wangli", "错误的密码"), download_files=str(tmp_path / "a"))
        with pytest.raises(Exception):
            Client(url, verbose=False, download_files=str(tmp_path / "b")).predict(QUESTION, api_name="/ask")
        ok = Client(url, verbose=False, auth=("wangli", "正确的密码123"), download_files=str(tmp_path / "c"))
        assert answer_of(ok.predict(QUESTION, api_name="/ask"))["citations"]
    finally:
        app.close()


def test_serve_refuses_a_public_address_without_login(capsys, tmp_path, monkeypatch):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))  # no users file there
    monkeypatch.delenv("ASSISTANT_USERS", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "--allow-anonymous" in err and "--users" in err and "Traceback" not in err
