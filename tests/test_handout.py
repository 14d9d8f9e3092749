"""Discussion prompts and handouts (.md, .docx) from the real cases."""

from __future__ import annotations

import os
import re

import pytest
from docx import Document

from assistant.cli import main
from assistant.config import get_settings
from assistant.errors import InputError
from assistant.handout import (
    CJK_FONT,
    KINDS,
    MAX_OVERLAP,
    QUOTE_CHARS,
    Question,
    build_handout,
    max_overlap,
    overlap,
    to_markdown,
    write_handout,
)


INTERNAL = re.compile(r"sj\d{4}-\d+|第\s*\d+\s*[–-]\s*\d+\s*字")
QUOTE = re.compile(r"“([^”]*)”\[(\d+)\]")


@pytest.fixture(scope="module")
def handouts(cards):
    """Eight questions (the four kinds twice) for cases and topics a trainer would pick."""
    made = {c: build_handout(cards, case_id=c, n=8) for c in ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-19")}
    made |= {t: build_handout(cards, topic=t, n=8) for t in ("新就业群体", "停车", "宅基地")}
    return made


def test_four_kinds_grounded_in_short_quotes_of_cited_sentences(cards, texts):
    h = build_handout(cards, case_id="sj2025-19", n=8)
    assert [q.kind for q in h.questions] == list(KINDS) * 2
    assert h.sources and h.notice is None
    for c, _ in h.sources:
        assert texts[c.case_id][c.start : c.end] == c.quote
    for q in h.questions:
        quoted = QUOTE.findall(q.text)
        assert quoted and len(quoted) == len(q.quotes), q.text  # every question quotes, and says what it quotes
        for span, n in quoted:
            assert int(n) in q.sources
            assert len(span) <= QUOTE_CHARS  # short enough to read aloud
            assert span in h.sources[int(n) - 1][0].quote  # verbatim, the rest of the sentence is cited
    compare = h.questions[1]
    assert len({h.sources[n - 1][0].case_id for n in compare.sources}) == 2  # two communities compared
    assert "施英" in "\n".join(h.summary)


def test_no_quote_twice_and_no_question_twice(handouts):
    for label, h in handouts.items():
        assert len(h.questions) == 8, label
        spans = [re.sub(r"\s+", "", x) for q in h.questions for x in q.quotes]
        assert len(spans) == len(set(spans)), label
        cited = [(n, h.sources[int(n) - 1][0].start) for q in h.questions for _, n in QUOTE.findall(q.text)]
        assert len(cited) == len(set(cited)), label  # no sentence quoted twice either
        assert max_overlap(h.questions) < MAX_OVERLAP, label


def test_the_overlap_check_catches_a_question_asked_twice(cards):
    h = build_handout(cards, case_id="sj2025-03", n=4)
    q = h.questions[0]
    again = Question(q.kind, QUOTE.sub("“另一句原文”[9]", q.text), q.sources)
    assert overlap(q.text, again.text) > MAX_OVERLAP  # same question, other quote: caught
    assert max_overlap([q, again]) > MAX_OVERLAP
    assert all(overlap(a.text, b.text) < MAX_OVERLAP for a, b in zip(h.questions, h.questions[1:]))


def test_role_play_parties_are_backed_by_sentences_about_them(handouts):
    from assistant.handout import party_pattern
    from assistant.taxonomy import load_taxonomy

    roles = {r.name: r for r in load_taxonomy().roles}
    plays = [q for h in handouts.values() for q in h.questions if q.kind == "角色扮演"]
    assert len(plays) == 2 * len(handouts)
    for h in handouts.values():
        casts = []
        for q in (q for q in h.questions if q.kind == "角色扮演"):
            assert len(q.parties) >= 2
            for party, n in q.parties:
                assert party in q.text and party != "社区党组织"
                assert party_pattern(roles[party]).search(h.sources[n - 1][0].quote), (party, h.sources[n - 1][0].quote)
            casts.append({p for p, _ in q.parties})
        assert casts[0] != casts[1]  # the second role-play is not the first one again


def test_scenarios_come_from_the_real_problem_and_the_headline_result(cards, handouts):
    h = handouts["sj2025-16"]
    text = "\n".join(q.text for q in h.questions)
    assert "515户" in text  # 黄桥's headline result, not the 98% cleaning fee
    assert not re.search(r"习近平|三农", text)  # the opening directive is not a scenario
    situation = next(q for q in h.questions if q.kind == "情境研讨")
    assert QUOTE.findall(situation.text)[0][0] in cards["sj2025-16"].problem[0].quote
    for topic in ("新就业群体", "停车"):
        compare = next(q for q in handouts[topic].questions if q.kind == "对比分析")
        pair = {handouts[topic].sources[n - 1][1].case_id for n in compare.sources}
        assert len(pair) == 2 and all(topic in cards[c].tag_counts for c in pair)  # the same problem, two communities


def test_nothing_a_trainer_reads_carries_an_id_or_an_offset(handouts):
    from assistant.ui import render

    for label, h in handouts.items():
        preview = re.sub(r"<[^>]+>", " ", render.handout_view(h))
        texts = [h.title, *h.summary, *(q.text for q in h.questions), to_markdown(h), preview]
        for t in texts:
            assert not INTERNAL.search(t), (label, INTERNAL.search(t).group(0))
        assert "（（" not in to_markdown(h)


def test_markdown_quotes_render_as_quotes(cards):
    h = build_handout(cards, topic="新就业群体", n=4)
    md = to_markdown(h)
    assert "\n    > " not in md
    sources = md.split("## 资料来源", 1)[1]
    quotes = [line for line in sources.splitlines() if line.startswith("> ")]
    assert len(quotes) == len(h.sources)
    for i, (c, card) in enumerate(h.sources, 1):
        assert f"**[{i}]** 《{card.title}》 {card.author_line} · " in sources
        assert f"> {' '.join(c.quote.split())}" in quotes


def test_topic_handout(cards):
    h = build_handout(cards, topic="停车", n=4)
    assert h.title == "培训讨论题：停车"
    assert all(cards[c.case_id].tag_counts.get("停车") for c, _ in h.sources)


def test_docx_is_a4_chinese_with_page_numbers(cards, tmp_path):
    h = build_handout(cards, case_id="sj2025-12", n=6)
    doc = Document(write_handout(h, tmp_path / "handout.docx"))
    sec = doc.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)
    styles = doc.styles.element.xml
    assert 'w:eastAsia="zh-CN"' in styles and 'w:val="zh-CN"' in styles
    assert f'w:eastAsia="{CJK_FONT}"' in styles and "w:eastAsiaTheme" not in styles
    footer = sec.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer
    paras = [p.text for p in doc.paragraphs]
    body = "\n".join(paras)
    assert paras[0] == h.title and "三个一" in paras[0]
    for heading in ("案例概要", "讨论题", "资料来源"):
        assert heading in paras
    assert "陈晓燕" in body and not INTERNAL.search(body)
    for q in h.questions:
        assert q.text in body
    for i, (c, card) in enumerate(h.sources, 1):
        assert f"[{i}] 《{card.title}》 {card.author_line} · {c.section or '开头'}" in paras
        assert " ".join(c.quote.split()) in paras
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
        "情境研讨|假如你是书记，面对“抢位大战”[1]，你先做什么？\n"  # asked already: dropped
        "反思迁移|“这句话原文里没有”[1]能否照搬？",
    ])
    monkeypatch.setattr(llm, "complete", lambda messages, settings, on_token=None, **kw: next(replies))
    h = build_handout(cards, case_id="sj2025-03", n=4, settings=settings)
    assert [q.kind for q in h.questions][:3] == ["情境研讨", "对比分析", "反思迁移"]
    assert "【未核实】" in h.questions[2].text and "【未核实】" not in h.questions[0].text
    assert len(h.questions) == 4 and "有 2 道" in h.notice and "舍弃" in h.notice  # topped up with a template question
    assert max_overlap(h.questions) < MAX_OVERLAP

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
