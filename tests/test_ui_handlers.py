"""The web UI's handlers called directly: no Gradio app, no browser.

The real default model on the shipped index (read only), feedback in a
temporary SQLite file; uploads go to a temporary corpus indexed with the fake
embedder.  Each handler's result is checked on content: the cited quotes are
the case's text and come highlighted in the viewer, the UI's answer is the
Python API's answer, the similar cases are SimilarFinder's, the downloads
open, the filters hold, and feedback lands in its row.
"""

from __future__ import annotations

import html
import json
import logging
import re
import subprocess
import sys
from urllib.parse import quote

import pytest

from assistant.config import get_settings
from assistant.feedback import FeedbackStore
from assistant.ui import handlers as H
from assistant.ui import render as R

from conftest import CORPUS_DIR, INDEX_DIR, ROOT

pytestmark = pytest.mark.slow

QUESTION = "小区停车位不够，外来车辆多，怎么办？"
LIFT = "老旧小区加装电梯，低层住户反对怎么协调？"
SITUATION = "我们小区是动迁安置房，老人把凳子、杂物搬到楼道里，屡清屡放，消防检查通不过。"


@pytest.fixture(scope="module")
def no_llm():
    # no LLM in these tests, whatever the developer's environment says
    mp = pytest.MonkeyPatch()
    for name in ("ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_LLM_API_KEY"):
        mp.delenv(name, raising=False)
    yield
    mp.undo()


@pytest.fixture(scope="module")
def backend(no_llm, tmp_path_factory):
    settings = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)
    return H.Backend(settings, FeedbackStore(tmp_path_factory.mktemp("feedback") / "feedback.db"))


@pytest.fixture(scope="module")
def asked(backend):
    """Every step of one answered question, from an empty chat."""
    return list(H.ask(backend, QUESTION, [], None, []))


def marked(fragment: str) -> str:
    """The text inside ``<mark>`` elements, whitespace removed (paragraph breaks split a mark)."""
    return "".join(html.unescape(m) for m in re.findall(r"<mark[^>]*>(.*?)</mark>", fragment, re.S)).replace("\n", "")


def norm(text: str) -> str:
    return "".join(text.split())


# ---------------------------------------------------------------------------
# 问答


def test_ask_streams_a_pending_message_then_the_cited_answer(backend, asked):
    first, last = asked[0], asked[-1]
    assert [m["role"] for m in first.chat] == ["user", "assistant"]
    assert QUESTION in first.chat[0]["content"] and "ans pending" in first.chat[1]["content"]
    assert first.question == "" and first.notice_html == "" and first.answer is None
    answer = last.answer
    assert answer is not None and answer.answered and answer.mode == "extractive" and answer.citations
    # the UI answers exactly what the Python API answers
    assert answer.answer == backend.answerer().ask(QUESTION).answer
    cases = backend.cases()
    message = last.chat[1]["content"]
    for c in answer.citations:
        assert cases[c.case_id].text[c.start : c.end] == c.quote
        assert f'href="#cite/{quote(c.case_id, safe="")}/{c.start}/{c.end}"' in message
    assert 'class="cite"' in message and "本地摘录" in message and "ans pending" not in message
    assert f"出处（{len(answer.citations)}）" in last.sources_html
    for c in answer.citations:
        assert html.escape(R.short(c.case_title, 40)) in last.sources_html
    assert last.viewer_html == R.viewer_empty() and last.question == "" and last.notice_html == ""
    [turn] = last.turns
    assert turn.index == 1 and turn.question == QUESTION and turn.answer == answer.answer
    assert turn.citations == [c.to_dict() for c in answer.citations] and turn.feedback_id is None
    assert last.conversation.turns[-1].question == QUESTION


def test_the_answer_shows_one_block_per_community_with_its_quotes_and_chips(backend):
    answer = backend.answerer().ask(SITUATION)
    message = R.answer_message(answer, None)
    heads = re.findall(r"<span class='block-n'>(\d)</span><b>(.*?)</b><span class='block-where'>(.*?)</span>", message)
    communities = list(dict.fromkeys(c.case_id for c in answer.citations))
    assert len(heads) == message.count("<div class='block'>") == len(communities) >= 1
    cases = backend.cases()
    for (n, name, where), case_id in zip(heads, communities):
        case = cases[case_id]
        assert name.startswith(case.community) and case.author in where
    # the lead line first, then the blocks; every quote is on the page with its chip right after it
    assert message.index("class='lead'") < message.index("<div class='block'>")
    for c in answer.citations:
        chip = f'href="#cite/{quote(c.case_id, safe="")}/{c.start}/{c.end}"'
        assert html.escape(c.quote) + '<a class="cite" ' + chip in message
    if "成效：" in answer.answer:
        assert "<span class='result-label'>成效</span>" in message


def test_an_llm_answer_without_blocks_renders_line_by_line(backend):
    from dataclasses import replace

    answer = backend.answerer().ask(QUESTION)
    plain = replace(answer, mode="llm", answer="可以参考蓝天二村的做法。\n蓝天二村拆除了地锁[1]。")
    message = R.answer_message(plain, "m")
    assert "<div class='block'>" not in message and "<p class='lead'>可以参考蓝天二村的做法。</p>" in message
    assert message.count('class="cite"') == 1


def test_follow_up_continues_the_conversation(backend):
    *_, one = H.ask(backend, LIFT, [], None, [])
    *_, two = H.ask(backend, "那资金从哪里来？", one.chat, one.conversation, one.turns)
    assert [m["role"] for m in two.chat] == ["user", "assistant"] * 2
    assert two.chat[:2] == one.chat
    assert [t.index for t in two.turns] == [1, 3]
    assert any("结合上一轮对话" in n and "电梯" in n for n in two.answer.notices)
    assert any("电梯" in c.quote or "加梯" in c.quote for c in two.answer.citations)
    assert "结合上一轮对话" in two.chat[3]["content"]  # the notice is shown with the answer


@pytest.mark.parametrize("question, message", [("   ", "问题是空的"), ("停车" * 1500, "问题太长")])
def test_a_refused_question_is_one_chinese_message_and_changes_nothing(backend, asked, question, message):
    before = asked[-1]
    n_turns = len(before.conversation.turns)
    [step] = list(H.ask(backend, question, before.chat, before.conversation, before.turns))
    assert message in step.notice_html and "msg-error" in step.notice_html
    assert not step.redraw_chat and step.answer is None
    assert step.chat == before.chat and step.turns == before.turns
    assert len(step.conversation.turns) == n_turns
    assert step.question == question  # left in the box to be corrected


def test_an_unexpected_error_is_a_friendly_message_and_its_traceback_is_logged(backend, asked, caplog):
    before = asked[-1]
    with caplog.at_level(logging.ERROR, logger="assistant.ui.handlers"):
        steps = list(H.ask(backend, QUESTION, before.chat, "not a conversation", before.turns))
    last = steps[-1]
    assert H.GENERIC_ERROR in last.notice_html and "Traceback" not in last.notice_html
    assert last.chat == before.chat and last.answer is None and last.question == QUESTION
    [record] = [r for r in caplog.records if "'ask'" in r.getMessage()]
    assert record.exc_info and record.exc_info[0] is AttributeError
    assert "Traceback" in caplog.text and "AttributeError" in caplog.text  # not "NoneType: None"


def test_new_chat_is_empty():
    r = H.new_chat()
    assert r.chat == [] and r.turns == [] and r.conversation.turns == []
    assert r.sources_html == R.sources_empty() and r.viewer_html == R.viewer_empty() and r.notice_html == ""


# ---------------------------------------------------------------------------
# citation links


def test_a_citation_opens_its_passage_highlighted(backend, asked):
    cases = backend.cases()
    for c in asked[-1].answer.citations[:3]:
        r = H.open_link(backend, f"cite/{quote(c.case_id, safe='')}/{c.start}/{c.end}|1712345678")
        assert r.notice_html == "" and r.case_detail_html is None and r.case_id is None
        assert norm(marked(r.viewer_html)) == norm(cases[c.case_id].text[c.start : c.end]) == norm(c.quote)
        assert "id='qa-hl'" in r.viewer_html
        assert html.escape(cases[c.case_id].title) in r.viewer_html
        assert f"#case/{quote(c.case_id, safe='')}/{c.start}/{c.end}" in r.viewer_html  # open in 案例库


def test_a_case_link_opens_the_case_in_the_library_highlighted(backend, asked):
    c = asked[-1].answer.citations[0]
    r = H.open_link(backend, f"case/{quote(c.case_id, safe='')}/{c.start}/{c.end}|1")
    assert r.case_id == c.case_id and r.viewer_html is None and r.notice_html == ""
    assert norm(marked(r.case_detail_html)) == norm(c.quote)
    assert "id='lib-hl'" in r.case_detail_html and "目录" in r.case_detail_html


@pytest.mark.parametrize("value, message", [
    ("cite/sj2025-03/x/9", "无法识别的链接"),
    ("jump/somewhere", "无法识别的链接"),
    ("", "无法识别的链接"),
    ("cite/nope-99/1/5|1", "不在当前案例库中"),
])
def test_a_bad_link_is_a_message(backend, value, message):
    r = H.open_link(backend, value)
    assert message in r.notice_html and r.viewer_html is None and r.case_detail_html is None and r.case_id is None


# ---------------------------------------------------------------------------
# 找相似案例


def test_similar_cases_are_the_python_apis_with_their_passages(backend):
    from assistant.similar import SimilarFinder

    r = H.find_similar(backend, SITUATION, 3)
    expected = SimilarFinder(backend.searcher()).find(SITUATION, 3)
    ids = re.findall(r"class='case-card' data-case='([^']+)'", r.html)
    assert ids == [s.card.case_id for s in r.cases] == [s.card.case_id for s in expected]
    assert "为什么相似" in r.html and "相似段落" in r.html
    cases = backend.cases()
    for s in r.cases:
        for p in s.passages:
            c = p.citation
            assert cases[c.case_id].text[c.start : c.end] == c.quote
            assert f"#case/{quote(c.case_id, safe='')}/{c.start}/{c.end}" in r.html


def test_similar_cases_bad_input(backend, caplog):
    empty = H.find_similar(backend, "", 3)
    assert "情况描述是空的" in empty.html and empty.cases == []
    with caplog.at_level(logging.ERROR, logger="assistant.ui.handlers"):
        broken = H.find_similar(backend, SITUATION, "三")  # not a number: a bug in a caller, not the user's fault
    assert H.GENERIC_ERROR in broken.html and broken.cases == []
    assert "ValueError" in caplog.text and "Traceback" in caplog.text


# ---------------------------------------------------------------------------
# 培训讨论题


def test_handout_for_a_case_and_its_downloads(backend, tmp_path):
    from docx import Document

    r = H.make_handout(backend, H.BY_CASE, "sj2025-03", None, 4, out_dir=tmp_path)
    assert r.handout is not None and len(r.handout.questions) == 4
    assert "讨论题（4）" in r.preview_html and "资料来源" in r.preview_html
    assert html.escape(r.handout.title) in r.preview_html
    cases = backend.cases()
    for c, _ in r.handout.sources:
        assert cases[c.case_id].text[c.start : c.end] == c.quote
        assert f"#case/{quote(c.case_id, safe='')}/{c.start}/{c.end}" in r.preview_html
    assert r.docx is not None and r.md is not None and r.docx.parent == r.md.parent
    assert r.docx.parent.is_relative_to(tmp_path) and r.docx.name.startswith("讨论题-")
    data = r.docx.read_bytes()
    assert data[:2] == b"PK"  # a zip container: a real .docx
    text = "\n".join(p.text for p in Document(str(r.docx)).paragraphs)
    assert "培训讨论题" in text and "资料来源" in text and "三驾马车" in text
    md = r.md.read_text(encoding="utf-8")
    assert md.startswith("# 培训讨论题") and "## 讨论题" in md
    assert all(q.text.split("[")[0][:12] in md for q in r.handout.questions)
    again = H.make_handout(backend, H.BY_CASE, "sj2025-03", None, 4, out_dir=tmp_path)
    assert again.docx is not None and again.docx.parent != r.docx.parent  # one folder per request


def test_handout_for_a_topic_and_missing_choices(backend, tmp_path):
    r = H.make_handout(backend, H.BY_TOPIC, None, "停车", 2, out_dir=tmp_path)
    assert r.handout is not None and "培训讨论题：停车" in r.preview_html and r.md is not None
    assert "停车" in r.md.name
    for by, case_id, topic, message in [
        (H.BY_TOPIC, None, None, "请先选择一个话题"),
        (H.BY_CASE, None, "停车", "请先选择一个案例"),
        (H.BY_CASE, "nope-99", None, "没有这个案例"),
    ]:
        bad = H.make_handout(backend, by, case_id, topic, 3, out_dir=tmp_path / "bad")
        assert message in bad.preview_html and bad.docx is None and bad.md is None and bad.handout is None
    assert not (tmp_path / "bad").exists()


def test_handout_trainer_note_is_shown_not_handed_out(backend, tmp_path):
    """Which kinds of question the material could not give is the trainer's business: the preview shows it, the
    Word and Markdown files the class gets do not carry it (round-6 readers: "发给学员前最好删掉")."""
    from docx import Document

    r = H.make_handout(backend, H.BY_CASE, "sj2025-16", None, 6, out_dir=tmp_path)
    assert r.handout is not None and r.handout.trainer_note and len(r.handout.questions) < 6
    assert "给培训者" in r.preview_html and html.escape(r.handout.trainer_note) in r.preview_html
    text = "\n".join(p.text for p in Document(str(r.docx)).paragraphs)
    md = r.md.read_text(encoding="utf-8")
    for out in (text, md):
        assert "给培训者" not in out and "本讲义未出" not in out and "宁少勿凑" not in out


# ---------------------------------------------------------------------------
# 案例库


def test_library_filters(backend):
    cards = backend.cards()
    everything = H.filter_library(backend, H.ALL, H.ALL, H.ALL)
    assert len(everything.cards) == len(cards) and f"共 {len(cards)} 个案例" in everything.list_html

    villages = H.filter_library(backend, H.ALL, "村", None)
    assert 0 < len(villages.cards) < len(cards) and all(c.community_type == "村" for c in villages.cards)
    assert villages.case_choices == R.case_choices({c.case_id: c for c in villages.cards})
    tiles = re.findall(r"class='case-tile' href='[^']*' data-case='([^']+)'", villages.list_html)
    assert tiles == [c.case_id for c in villages.cards]

    parking = H.filter_library(backend, "", "", "停车")
    assert parking.cards and all("停车" in c.tag_counts for c in parking.cards)
    counts = [c.tag_counts["停车"] for c in parking.cards]
    assert counts == sorted(counts, reverse=True)  # the most on the topic first

    town = next(t for t in R.town_choices(cards) if t != H.ALL)
    in_town = H.filter_library(backend, town, H.ALL, H.ALL)
    assert in_town.cards and all((c.town or "（未注明）") == town for c in in_town.cards)

    towns = {c.town or "（未注明）" for c in cards.values()}
    empty_town, empty_type = next(
        (t, kind) for t in sorted(towns) for kind in ("居民区", "村", "街区")
        if not any((c.town or "（未注明）") == t and c.community_type == kind for c in cards.values())
    )
    none = H.filter_library(backend, empty_town, empty_type, H.ALL)
    assert none.cards == [] and "没有符合条件的案例" in none.list_html and none.case_choices == []

    bad = H.filter_library(backend, H.ALL, "城市", H.ALL)
    assert "没有社区类型" in bad.list_html and bad.case_choices is None and bad.cards == []


def test_case_detail(backend):
    case = backend.cases()["sj2025-03"]
    r = H.open_case(backend, "sj2025-03")
    assert html.escape(case.title) in r.detail_html and "目录" in r.detail_html and "提出的方法" in r.detail_html
    assert "#jump/lib-sec-0" in r.detail_html and "case-text" in r.detail_html and "<mark" not in r.detail_html
    shown = html.unescape(re.sub(r"<[^>]+>", "", r.detail_html.split("<div class='case-text'", 1)[1].split(">", 1)[1]))
    assert norm(shown) == norm(case.text)  # the whole text, and nothing else after it
    assert H.open_case(backend, None).detail_html is None and H.open_case(backend, "").detail_html is None
    assert "不在当前案例库中" in H.open_case(backend, "nope-99").detail_html


def test_library_view_on_page_load(backend):
    v = H.library_view(backend, "wangli")
    n = len(backend.cases())
    assert v.n_cases == n and f"汇集松江 {n} 篇" in v.header_html and "本地摘录" in v.header_html
    assert "wangli" in v.header_html and "退出登录" in v.header_html
    assert [cid for _, cid in v.case_choices] == sorted(backend.cases())
    assert v.town_choices[0] == H.ALL and v.tag_choices[0] == (H.ALL, H.ALL)
    assert "退出登录" not in H.library_view(backend).header_html


# ---------------------------------------------------------------------------
# upload (a temporary corpus, the fake embedder)


def test_upload_adds_a_document_and_refreshes_the_library(workdir, fake_embedder, tmp_path):
    from assistant.indexing import build_index

    from test_ingest import make_docx

    settings = get_settings(corpus_dir=workdir / "corpus", index_dir=workdir / "index")
    build_index(settings, fake_embedder)
    backend = H.Backend(settings, FeedbackStore(tmp_path / "feedback.db"), embedder=fake_embedder)
    before = H.library_view(backend)

    nothing = H.upload(backend, [], {"author": "王小明"})
    assert "请先选择要添加的文件" in nothing.status_html and nothing.library.n_cases == before.n_cases

    steps: list[tuple[float, str]] = []
    path = make_docx(tmp_path / "新建村垃圾分类.docx")
    r = H.upload(backend, [path], {"title": "  ", "role": None}, progress=lambda f, m: steps.append((f, m)),
                 username="wangli")
    assert r.report is not None and not r.report.errors and len(r.report.added) == 1
    [case] = r.report.added[0].cases
    assert case.author == "王小明" and "已添加 新建村垃圾分类.docx" in r.status_html and "案例库已更新" in r.status_html
    assert case.id not in r.status_html and "向量化" not in r.status_html  # plain Chinese: no ids, no jargon
    assert r.library.n_cases == before.n_cases + 1 and f"汇集松江 {before.n_cases + 1} 篇" in r.library.header_html
    assert "wangli" in r.library.header_html
    assert case.id in [cid for _, cid in r.library.case_choices] and f"data-case='{case.id}'" in r.library.list_html
    assert case.id in backend.cases() and "垃圾分类" in backend.cases()[case.id].text
    assert steps[0] == (0, "正在读取文档……") and steps[-1][0] == 1.0 and "正在处理新讲稿" in steps[-1][1]
    hits = backend.searcher().search("垃圾分类积分兑换超市", k=1)
    assert hits[0].case.id == case.id  # the running backend searches the new version

    again = H.upload(backend, [path])
    assert "跳过" in again.status_html and again.library.n_cases == before.n_cases + 1

    bad = tmp_path / "扫描件.pdf"
    bad.write_bytes(b"not a pdf at all")
    refused = H.upload(backend, [bad])
    assert "未添加" in refused.status_html and "扫描件.pdf" in refused.status_html
    assert refused.library.n_cases == before.n_cases + 1


# ---------------------------------------------------------------------------
# feedback


def test_feedback_is_recorded_then_updated(backend, tmp_path):
    store = FeedbackStore(tmp_path / "feedback.db")
    b = H.Backend(backend.settings, store)
    *_, one = H.ask(b, QUESTION, [], None, [])
    *_, two = H.ask(b, LIFT, one.chat, one.conversation, one.turns)

    fresh = H.submit_feedback(b, "有帮助", "", [])
    assert "请先提一个问题" in fresh.status_html and store.rows() == []
    blank = H.submit_feedback(b, None, "  ", two.turns)
    assert "请先选择" in blank.status_html and blank.comment is None and store.rows() == []

    r = H.submit_feedback(b, "有帮助", "很实用", two.turns, session="s-1", username="wangli")
    assert "已记录" in r.status_html and r.comment == ""
    [row] = store.rows()
    assert row["question"] == LIFT and row["answer"] == two.answer.answer and row["rating"] == "👍"
    assert row["comment"] == "很实用" and row["mode"] == "extractive" and row["model"] is None
    assert row["session"] == "s-1" and row["username"] == "wangli"
    assert json.loads(row["citations"]) == [c.to_dict() for c in two.answer.citations]
    assert r.turns[-1].feedback_id == row["id"] and r.turns[0].feedback_id is None

    # the thumbs under the same answer change its row; under the first answer they add one
    down = H.rate_answer(b, r.turns, r.turns[-1].index, "Dislike")
    assert "没帮助" in down.status_html
    [row] = store.rows()
    assert row["rating"] == "👎" and row["comment"] == "很实用"
    up = H.rate_answer(b, down.turns, 1, True, "第一条也不错", session="s-1")
    assert "有帮助" in up.status_html
    rows = store.rows()
    assert len(rows) == 2 and rows[1]["question"] == QUESTION and rows[1]["comment"] == "第一条也不错"

    not_an_answer = H.rate_answer(b, up.turns, 0, "Like")
    assert "只能评价助手的回答" in not_an_answer.status_html
    unrated = H.rate_answer(b, up.turns, 1, None)
    assert unrated.status_html is None and len(store.rows()) == 2


# ---------------------------------------------------------------------------


def test_the_handlers_do_not_load_gradio():
    code = "import sys, assistant.ui.handlers; assert 'gradio' not in sys.modules, 'gradio was imported'"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------
# coverage: 没有 / 部分 look different, and gaps are recorded for trainers

WIFI = "社区里的公共Wi-Fi总是断，找谁修？"


def _join_gap_writers() -> None:
    import threading

    for t in threading.enumerate():
        if t.name == "record-gap":
            t.join(30)


def test_a_question_the_scripts_do_not_cover_is_a_calm_notice_with_references_and_a_recorded_gap(backend):
    *_, last = H.ask(backend, WIFI, [], None, [], username="wangli")
    answer = last.answer
    assert answer.coverage == "none" and not answer.answered
    message = last.chat[1]["content"]
    assert "not-covered" in message and "msg-error" not in message  # calm, not an error
    assert "讲稿没有讲到" in message and "Wi-Fi" in message
    assert 'class="cite"' not in message and "class='cite'" not in message  # no chips styled as answers
    assert "可参考" in message and message.count("#case/") == len(answer.references) >= 1
    assert "可参考" in last.sources_html and "class=\"cite\"" not in last.sources_html
    _join_gap_writers()
    gaps = backend.feedback.gaps()
    assert any(g["question"] == WIFI and g["coverage"] == "none" and g["username"] == "wangli" for g in gaps)
    view = H.gaps_view(backend)
    assert "Wi-Fi" in view.html and any(t.topic == "Wi-Fi" and t.count >= 1 for t in view.topics)
    assert "讲稿未覆盖" in R.gaps([]) or "还没有记录" in R.gaps([])


def test_a_partly_covered_answer_names_the_missing_part_and_keeps_its_chips(backend):
    *_, last = H.ask(backend, "飞线充电整治以后电瓶车的保险怎么买", [], None, [])
    message = last.chat[1]["content"]
    assert last.answer.coverage == "partial" and 'class="cite"' in message
    assert "partial-note" in message and "关于保险，讲稿中没有涉及。" in html.unescape(message)
    assert "讲稿只讲到问题的一部分" in message


def test_an_off_domain_question_gets_example_questions(backend):
    *_, last = H.ask(backend, "明天上海会下雨吗", [], None, [])
    message = html.unescape(last.chat[1]["content"])
    assert "这个问题不在案例库的范围内" in message and message.count("<li>") == 3
    assert "可参考" not in message and 'class="cite"' not in message


def test_a_covered_answer_is_not_recorded_as_a_gap(backend):
    _join_gap_writers()
    before = len(backend.feedback.gaps())
    *_, last = H.ask(backend, QUESTION, [], None, [])
    assert last.answer.coverage == "full" and backend.record_gap(last.answer) is None
    _join_gap_writers()
    assert len(backend.feedback.gaps()) == before


def test_a_greeting_in_the_chat_is_answered_in_kind_and_is_no_gap(backend):
    _join_gap_writers()
    before = len(backend.feedback.gaps())
    *_, first = H.ask(backend, QUESTION, [], None, [])
    *_, last = H.ask(backend, "谢谢！", first.chat, first.conversation, first.turns)
    html = last.chat[-1]["content"]
    assert "不客气" in html and "class='examples'" in html and "讲稿没有讲到" not in html and "cite" not in html
    _join_gap_writers()
    assert len(backend.feedback.gaps()) == before
    assert len(last.conversation.turns) == 1  # the conversation goes on where it was


def test_the_gaps_view_shows_a_database_error_as_one_message(tmp_path, no_llm):
    settings = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)
    (tmp_path / "feedback.db").write_text("not a database", encoding="utf-8")
    view = H.gaps_view(H.Backend(settings, FeedbackStore(tmp_path / "feedback.db")))
    assert "msg-error" in view.html and "Traceback" not in view.html and view.topics == []


# 关联问题: after 没帮助, the question is linked to the passage that answers it


def test_a_disliked_answer_is_linked_to_the_passage_that_answers_it(no_llm, tmp_path):
    from ui_server import copy_data

    from assistant.links import ADDED_FILE, load_links

    corpus, index = copy_data(tmp_path)
    settings = get_settings(corpus_dir=corpus, index_dir=index)
    b = H.Backend(settings, FeedbackStore(tmp_path / "feedback.db"))
    *_, one = H.ask(b, QUESTION, [], None, [])
    target = next(p for p in b.searcher().index.passages if p.case_id == "sj2025-03" and "内外兼修" in p.text)
    assert not [c for c in one.answer.citations if c.case_id == target.case_id and target.start <= c.start < target.end]

    liked = H.rate_answer(b, one.turns, one.turns[-1].index, "Like")
    assert liked.relate_question is None
    down = H.rate_answer(b, one.turns, one.turns[-1].index, "Dislike")
    assert down.relate_question == QUESTION  # the form opens with the question
    assert H.submit_feedback(b, "没帮助", "", one.turns).relate_question == QUESTION
    assert H.relate_offer(one.turns, "没帮助") == QUESTION  # after the public feedback API's 提交反馈
    assert H.relate_offer(one.turns, "有帮助") is None and H.relate_offer([], "没帮助") is None

    opened = H.relate_case(b, target.case_id)
    value = f"{target.start}-{target.end}"
    assert value in [v for _, v in opened.choices] and "湖畔天地" in opened.viewer_html
    assert "<mark" not in opened.viewer_html  # the script, nothing chosen yet
    shown = H.relate_passage(b, target.case_id, value)
    assert norm(marked(shown.viewer_html)) == norm(target.text)

    # bad choices are refused in Chinese and change nothing
    version = b.searcher().index.version
    for question, case_id, passage, message in [
        ("", target.case_id, value, "关联问题是空的"),
        (QUESTION, None, value, "请先选择能回答这个问题的讲稿"),
        (QUESTION, target.case_id, None, "请先在“段落”中选择"),
        (QUESTION, target.case_id, "1-2", "所选段落不在这个案例中"),
        (QUESTION, "sj2025-99", value, "没有这个案例"),
    ]:
        refused = H.relate(b, question, case_id, passage)
        assert message in refused.status_html and refused.link is None
    assert b.searcher().index.version == version and not (corpus / ADDED_FILE).exists()

    steps: list[tuple[float, str]] = []
    done = H.relate(b, QUESTION, target.case_id, value, username="wangli", progress=lambda f, m: steps.append((f, m)))
    assert "已把" in done.status_html and "案例库已更新" in done.status_html and steps
    (stored,) = [link for link in load_links(corpus) if link.source == "user"]
    assert stored.user == "wangli" and stored.question == QUESTION and stored.created_at
    assert b.searcher().index.version != version
    # the same question now finds the linked passage first, and the answer quotes it
    assert b.searcher().search(QUESTION, k=1)[0].passage.key == target.key
    *_, two = H.ask(b, QUESTION, [], None, [])
    assert [c for c in two.answer.citations if c.case_id == target.case_id and target.start <= c.start < target.end]
    again = H.relate(b, QUESTION, target.case_id, value)
    assert "已经关联到这个段落了" in again.status_html


def test_a_script_without_author_line_is_added_through_the_fields(workdir, fake_embedder, tmp_path):
    from assistant.indexing import build_index

    from test_ingest import make_docx

    settings = get_settings(corpus_dir=workdir / "corpus", index_dir=workdir / "index")
    build_index(settings, fake_embedder)
    backend = H.Backend(settings, FeedbackStore(tmp_path / "feedback.db"), embedder=fake_embedder)
    shown = H.library_view(backend)
    assert H.refresh_library(backend, shown.version) is None  # nothing published since: nothing to redraw

    path = make_docx(tmp_path / "新建村垃圾分类.docx", with_author_line=False)
    refused = H.upload(backend, [path])
    text = html.unescape(refused.status_html)
    assert "未添加" in text and "“单篇讲稿的补充信息”中填写作者" in text and refused.ask_fields
    assert "--author" not in text and "---" not in text  # no command-line flags, no front matter syntax
    assert refused.library.n_cases == shown.n_cases

    fields = {"author": "王小明", "role": "党总支书记", "town": "泖港镇", "community": "新建村", "community_type": "村"}
    two = H.upload(backend, [path, path], fields)
    assert "只能用于一篇讲稿" in two.status_html and two.library.n_cases == shown.n_cases
    added = H.upload(backend, [path], {**fields, "title": "  "})
    assert added.report is not None and not added.report.errors and not added.ask_fields
    [case] = added.report.added[0].cases
    assert (case.author, case.community, case.town) == ("王小明", "新建村", "泖港镇")

    # another open page, showing the old version under its filters, catches up on its next check
    r = H.refresh_library(backend, shown.version, "泖港镇", H.ALL, "no-such-tag")
    assert r is not None and r.view.n_cases == shown.n_cases + 1 and r.view.version != shown.version
    assert f"汇集松江 {shown.n_cases + 1} 篇" in r.view.header_html
    assert r.town == "泖港镇" and r.tag == H.ALL  # a filter value that still exists stays, a vanished one resets
    assert f"data-case='{case.id}'" in r.filtered.list_html
    assert case.id in [cid for _, cid in r.view.case_choices]
    assert H.refresh_library(backend, r.view.version) is None


def test_messages_and_views_speak_plain_chinese(backend):
    case = next(iter(backend.cases().values()))
    assert not re.search(r"第 \d+–\d+ 字", R.passage_view(case, 10, 40))
    assert case.id not in re.sub(r"data-case='[^']*'|href=\"[^\"]*\"|href='[^']*'", "", R.case_detail(case, None))
    said = R.plain("没有编号为 sj2025-99 的案例。可用的编号：sj2025-01、sj2025-02。", [case.id])
    assert said == "没有这个案例，请刷新页面后重新选择。"
    assert "ASSISTANT_" not in R.plain("问题太长（--max-chars）；请缩短，或调整 ASSISTANT_MAX_QUESTION_CHARS")
    note = R.notices_html(["结合上一轮对话，按“停车 那资金从哪里来”检索。"])
    assert "检索" not in note and R.FOLLOW_UP_PLAIN in note
