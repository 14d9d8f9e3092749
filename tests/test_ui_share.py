"""Sharing an answer: the text for a WeChat message and the Word file, from a real answer."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from assistant.ui import handlers as H
from assistant.ui.share import SharedAnswer

pytestmark = pytest.mark.slow

QUESTION = "小区停车位不够，外来车辆多，怎么办？"
DAY = date(2025, 6, 3)


@pytest.fixture(scope="module")
def answer():
    from assistant.answer import ask

    return ask(QUESTION)


def test_text_carries_the_answer_and_where_each_part_comes_from(answer):
    text = SharedAnswer.from_answer(answer, DAY).text()
    assert text.startswith(f"问：{QUESTION}\n\n答：") and answer.answer.strip() in text
    assert text.endswith("2025年6月3日") and "出处：" in text
    sources = text.split("出处：", 1)[1]
    for c in answer.citations:
        assert f"[{c.n}]" in text  # every marker of the answer names its source
        assert f"《{c.case_title}》{c.author}" in sources  # title, author with community and role
        assert c.case_id not in text and f"{c.start}" not in re.sub(r"\[\d+\]", "", sources)
    # the extractive answer is the scripts' own words: no second copy of each quote
    assert "“" + answer.citations[0].quote not in sources
    assert "<" not in text  # plain text, no HTML


def test_an_llm_answer_carries_each_quoted_sentence(answer):
    llm = dataclasses.replace(answer, mode="llm")
    text = SharedAnswer.from_answer(llm, DAY).text()
    sources = text.split("出处：", 1)[1]
    for c in llm.citations:
        assert f"[{c.n}]“{' '.join(c.quote.split())}”" in sources


def test_word_file_is_a4_chinese_with_question_answer_sources_and_date(answer, tmp_path):
    import zipfile

    from docx import Document

    from assistant.handout import CJK_FONT

    shared = SharedAnswer.from_answer(answer, DAY)
    path = shared.write_docx(tmp_path / shared.filename())
    assert path.name.startswith("问答-小区停车位不够") and path.suffix == ".docx"
    doc = Document(str(path))
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert doc.core_properties.language == "zh-CN"
    styles = zipfile.ZipFile(path).read("word/styles.xml").decode("utf-8")
    assert 'w:eastAsia="zh-CN"' in styles and f'w:eastAsia="{CJK_FONT}"' in styles  # East Asian language, font
    text = "\n".join(p.text for p in doc.paragraphs)
    for part in ("问题", QUESTION, "回答", "出处", "2025年6月3日"):
        assert part in text
    for c in answer.citations:
        assert c.case_title in text and c.author in text
    assert answer.citations[0].quote[:20] in text  # the answer's own words


def test_share_latest_takes_the_last_answer_and_nothing_before_one(tmp_path):
    from assistant.config import get_settings
    from assistant.feedback import FeedbackStore

    from conftest import CORPUS_DIR, INDEX_DIR

    empty = H.share_latest([], out_dir=tmp_path)
    assert empty.text == "" and empty.docx is None
    backend = H.Backend(get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR), FeedbackStore(tmp_path / "f.db"))
    *_, done = H.ask(backend, QUESTION, [], None, [])
    r = H.share_latest(done.turns, out_dir=tmp_path)
    assert r.text.startswith(f"问：{QUESTION}") and r.docx is not None and r.docx.is_file()
    again = H.share_latest(done.turns, out_dir=tmp_path)
    assert again.docx != r.docx  # one file per request: sessions never share one
