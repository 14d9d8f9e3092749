"""Discussion prompts and handouts (.md, .docx) from the real cases."""

from __future__ import annotations

import os
import re

import pytest
from docx import Document

from assistant.cli import main
from assistant.config import get_settings
from assistant.errors import InputError
from assistant.handout import KINDS, build_handout, to_markdown, write_handout


def test_four_kinds_grounded_in_cited_passages(cards, texts):
    h = build_handout(cards, case_id="sj2025-19", n=8)
    assert [q.kind for q in h.questions] == list(KINDS) * 2
    assert h.sources and h.notice is None
    for q in h.questions:
        for n in map(int, re.findall(r"\[(\d+)\]", q.text)):
            assert n in q.sources
    for c, _ in h.sources:
        assert texts[c.case_id][c.start : c.end] == c.quote
    compare = h.questions[1]
    assert len({h.sources[n - 1][0].case_id for n in compare.sources}) == 2  # two cases compared
    assert "施英" in "\n".join(h.summary)


def test_topic_handout(cards):
    h = build_handout(cards, topic="停车", n=4)
    assert h.title == "培训讨论题：停车"
    assert all(cards[c.case_id].tag_counts.get("停车") for c, _ in h.sources)


def test_docx_and_markdown_export(cards, tmp_path):
    h = build_handout(cards, case_id="sj2025-12", n=6)
    doc = Document(write_handout(h, tmp_path / "handout.docx"))
    paras = [p.text for p in doc.paragraphs]
    body = "\n".join(paras)
    assert paras[0] == h.title and "三个一" in paras[0]
    for heading in ("案例概要", "讨论题", "资料来源"):
        assert heading in paras
    assert "陈晓燕" in body
    for q in h.questions:
        assert q.text in body
    for c, _ in h.sources:
        assert " ".join(c.quote.split()) in body
    md = write_handout(h, tmp_path / "handout.md").read_text(encoding="utf-8")
    assert md == to_markdown(h) and md.startswith(f"# {h.title}")
    assert sorted(os.listdir(tmp_path)) == ["handout.docx", "handout.md"]  # no temp files left


def test_bad_input(cards, tmp_path, capsys):
    h = build_handout(cards, case_id="sj2025-01", n=2)
    with pytest.raises(InputError, match="不存在"):
        write_handout(h, tmp_path / "missing" / "h.docx")
    with pytest.raises(InputError, match=".docx"):
        write_handout(h, tmp_path / "h.pdf")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):  # root can write anywhere
            with pytest.raises(InputError, match="写"):
                write_handout(h, ro / "h.md")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)
    with pytest.raises(InputError, match="sj2025-01"):
        build_handout(cards, case_id="sj2025-99")
    with pytest.raises(InputError, match="可用的标签"):
        build_handout(cards, topic="火星")
    assert main(["prompts", "--case", "sj2025-03", "--out", str(tmp_path / "no" / "x.docx")]) == 2
    assert "无法写入" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_cli_writes_docx(tmp_path, capsys):
    out = tmp_path / "h.docx"
    assert main(["prompts", "--topic", "宅基地", "--n", "4", "--out", str(out)]) == 0
    assert "已写入" in capsys.readouterr().out
    assert Document(out).paragraphs[0].text == "培训讨论题：宅基地"


def test_llm_questions_are_checked_and_fall_back(cards, monkeypatch):
    import assistant.llm as llm

    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "test")
    settings = get_settings()
    replies = iter([
        "情境研讨|假如你是书记，面对“抢位大战”[1]，你先做什么？\n"
        "对比分析|两地做法有何不同？[2][99]\n"
        "角色扮演|没有来源的题\n"
        "反思迁移|“这句话原文里没有”[1]能否照搬？",
    ])
    monkeypatch.setattr(llm, "complete", lambda messages, settings, on_token=None, **kw: next(replies))
    h = build_handout(cards, case_id="sj2025-03", n=4, settings=settings)
    assert [q.kind for q in h.questions][:3] == ["情境研讨", "对比分析", "反思迁移"]
    assert "【未核实】" in h.questions[2].text and "【未核实】" not in h.questions[0].text
    assert len(h.questions) == 4 and "舍弃" in h.notice  # topped up with a template question

    def fail(*a, **kw):
        raise llm.LLMError("无法连接大模型服务。", "connection")

    monkeypatch.setattr(llm, "complete", fail)
    h = build_handout(cards, case_id="sj2025-03", n=4, settings=settings)
    assert "大模型出题失败" in h.notice and len(h.questions) == 4
    assert [q.kind for q in h.questions] == list(KINDS)


def test_every_community_type_has_a_contrast():
    from assistant.corpus import COMMUNITY_TYPES
    from assistant.handout import _CONTRAST_TYPE

    assert set(_CONTRAST_TYPE) == set(COMMUNITY_TYPES)
    assert all(_CONTRAST_TYPE[t] in COMMUNITY_TYPES and _CONTRAST_TYPE[t] != t for t in COMMUNITY_TYPES)
