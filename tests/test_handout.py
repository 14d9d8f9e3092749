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
    shown_sentence,
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


def test_four_kinds_grounded_in_short_quotes_that_read_alone(cards, texts):
    from assistant.quoting import is_slogan, reads_alone

    # the generator offers all four kinds and writes each where the script supports it: 第三街区's script has a
    # party speaking for itself (商铺的从业人员反应…) and a community that met 新就业群体 differently
    full = build_handout(cards, case_id="sj2025-20", n=8)
    assert set(q.kind for q in full.questions) == set(KINDS) and 6 <= len(full.questions) <= 8
    assert full.trainer_note is None and not any("本讲义未出" in line for line in full.summary)
    # a script that gives no party a position of its own gets no role-play rather than a bad one, and the
    # trainer is told in one line
    h = build_handout(cards, case_id="sj2025-19", n=8)
    assert {"情境研讨", "反思迁移"} <= set(q.kind for q in h.questions) and 4 <= len(h.questions) <= 8
    missing = [k for k in KINDS if all(q.kind != k for q in h.questions)]
    # the note is the trainer's: the UI and the CLI show it, the handout the class gets does not carry it
    assert not missing or (h.trainer_note and all(k in h.trainer_note for k in missing))
    assert "本讲义未出" not in to_markdown(h) and "给培训者" not in to_markdown(h)
    for one in (full, h):
        assert one.sources and one.notice is None
        for c, _ in one.sources:
            assert texts[c.case_id][c.start : c.end] == c.quote
        for q in one.questions:
            quoted = QUOTE.findall(q.text)
            assert quoted and len(quoted) == len(q.quotes), q.text  # every question quotes, and says what it quotes
            for span, n in quoted:
                assert int(n) in q.sources
                assert len(span) <= QUOTE_CHARS  # short enough to read aloud
                assert span in one.sources[int(n) - 1][0].quote  # verbatim, the rest of the sentence is cited
                assert reads_alone(span) and not is_slogan(span), span  # whole clauses, no slogan
    for one in (full, h):
        for compare in (q for q in one.questions if q.kind == "对比分析"):
            assert len({one.sources[n - 1][0].case_id for n in compare.sources}) == 2  # two communities compared
    assert "朱佳燕" in "\n".join(full.summary)


def test_no_quote_twice_and_no_question_twice(handouts):
    for label, h in handouts.items():
        assert 3 <= len(h.questions) <= 8, label  # fewer rather than a question that does not fit
        spans = [re.sub(r"\s+", "", x) for q in h.questions for x in q.quotes]
        assert len(spans) == len(set(spans)), label
        cited = [(n, h.sources[int(n) - 1][0].start) for q in h.questions for _, n in QUOTE.findall(q.text)]
        assert len(cited) == len(set(cited)), label  # no sentence quoted twice either
        assert max_overlap(h.questions) < MAX_OVERLAP, label


def test_no_handout_question_fails_the_checks(handouts, cards):
    """What the blind readers stopped at is not handed out: every question of every handout passes
    question_faults (quotes that read alone, parties with their own position on the scene, comparisons of one
    thing for the same people, scenes that do not give the way away)."""
    from assistant.handout import generic_bigrams, question_faults

    for label, h in handouts.items():
        for q in h.questions:
            assert question_faults(q, h.sources, generic_bigrams(cards)) == [], (label, q.text)


def test_no_two_questions_about_one_conflict(handouts, cards):
    """Two questions may not rest on two problem sentences of one paragraph (one story, one conflict)."""

    for label, h in handouts.items():
        seen: list = []
        for q in h.questions:
            if q.kind not in ("情境研讨", "角色扮演"):
                continue
            for n in q.sources:
                c, card = h.sources[n - 1]
                s = next(x for x in card.story.sentences if x.start == c.start)
                if s.role != "问题" or any(p for p, k in q.parties if k == n):
                    continue
                assert not any(cid == c.case_id and o.par == s.par and o.start != s.start for cid, o in seen), (label, c.quote)
                seen.append((c.case_id, s))


def test_one_event_told_in_several_parts_is_asked_about_once(cards):
    """三湘四季's frozen maintenance fund is told in three parts of the script ("冻结", a word no other script
    uses): one question on it, the role-play's parties included.  The card's problem is set to the script's
    first sentence on it, so the handout starts from that event whichever problem the card picks."""
    from dataclasses import replace

    from assistant.citations import cite

    card = cards["sj2025-07"]
    frozen = next(s for s in card.story.sentences if "冻结" in s.text and s.role == "问题")
    on_frozen = dict(cards) | {card.case_id: replace(card, problem=[cite(card.story.case, frozen.start, frozen.end)])}
    h = build_handout(on_frozen, case_id="sj2025-07", n=8)
    on_it = [q for q in h.questions if any("冻结" in x for x in q.quotes)]
    assert len(on_it) <= 1, [q.text[:40] for q in on_it]  # none when no sentence on it reads on its own


def test_the_overlap_check_catches_a_question_asked_twice(cards):
    h = build_handout(cards, case_id="sj2025-03", n=4)
    q = h.questions[0]
    again = Question(q.kind, QUOTE.sub("“另一句原文”[9]", q.text), q.sources)
    assert overlap(q.text, again.text) > MAX_OVERLAP  # same question, other quote: caught
    assert max_overlap([q, again]) > MAX_OVERLAP
    assert all(overlap(a.text, b.text) < MAX_OVERLAP for a, b in zip(h.questions, h.questions[1:]))


def test_role_play_parties_speak_for_themselves(handouts):
    """Every cast party is the subject or the speaker of the sentence quoted for it, stating its situation; no two
    parties of a role-play are one party under two names; a party the story says is gone is not cast."""
    from assistant import handout_material as hm

    plays = [q for h in handouts.values() for q in h.questions if q.kind == "角色扮演"]
    # (a script that gives no party a position of its own on a scene has none: 黄桥, 宅基地)
    assert len(plays) >= 2
    for h in handouts.values():
        casts = []
        for q in (q for q in h.questions if q.kind == "角色扮演"):
            assert q.parties
            for party, n in q.parties:
                c, card = h.sources[n - 1]
                assert party in q.text and party not in ("社区党组织", "居委会", "村委会")
                found = hm.stances(card, lambda s, c=c: s.start == c.start)
                assert any(st.label == party and not st.absent for st in found), (party, c.quote)
            labels = [p for p, _ in q.parties]
            assert len(labels) == len(set(labels))
            casts.append(set(labels))
        assert len(casts) < 2 or casts[0] != casts[1]  # the second role-play is not the first one again


def test_stances_are_the_partys_own(cards):
    from assistant import handout_material as hm

    def labels(case_id):
        return {(st.label, st.quote) for st in hm.stances(cards[case_id], lambda s: True)}

    got = labels("sj2025-20")
    # a courier telling of residents' complaints speaks for the courier, not for the residents
    assert any(lbl == "快递小哥" and "二次投诉" in q for lbl, q in got)
    assert not any(lbl == "居民" and "二次投诉" in q for lbl, q in got)
    assert any(lbl == "店主" and "卸货实在不方便" in q for lbl, q in got)  # the shopkeeper's own words
    got = labels("sj2025-06")
    assert {"一楼业主", "二楼业主"} <= {lbl for lbl, _ in got}  # groups of residents named apart
    # the speaker's general view of a party is not its situation; its own position, however plainly said, is
    assert not any(q.startswith("居民意见不统一") for _, q in labels("sj2025-07") | labels("sj2025-01"))
    assert not any("老大难问题" in q and lbl == "居民" for lbl, q in labels("sj2025-03"))
    gone = hm.stances(cards["sj2025-03"], lambda s: True)
    assert "业委会" in hm.absent_parties(cards["sj2025-03"], gone)  # the 业委会 resigned: not at the table
    assert any(st.label == "地下车库产权车主" for st in gone)
    # served, not speaking: "为老人…", "赠送对象为…老人"
    assert hm.owner("初期赠送对象为社区空巢老人、高龄老人、困境儿童、残疾人。") is None
    assert hm.owner("居民区党总支根据居民需求免费提供遮阳棚。")[0].name == "社区党组织"  # the Party branch acts, not 居民


def test_scenarios_come_from_the_real_problem_and_the_headline_result(cards, handouts):
    h = handouts["sj2025-16"]
    text = "\n".join(q.text for q in h.questions)
    # 黄桥's headline result ("515 户, 节地 31%", issue 14), not the 98% cleaning fee
    assert re.search(r"515户|减量比例高达31%", text) and "98%" not in text
    assert not re.search(r"习近平|三农", text)  # the opening directive is not a scenario
    # "改革的核心在于减量" (the card's first problem) names the way out: no scene is set with it
    assert "核心在于" not in text
    # a comparison only where two communities did one thing differently (停车's measures are on different sides of
    # the problem: none there rather than an unfair pair)
    compares = [(t, q) for t in ("新就业群体", "停车") for q in handouts[t].questions if q.kind == "对比分析"]
    assert compares
    for topic, compare in compares:
        pair = {handouts[topic].sources[n - 1][1].case_id for n in compare.sources}
        assert len(pair) == 2 and all(topic in cards[c].tag_counts for c in pair)  # the same problem, two communities
        quotes = QUOTE.findall(compare.text)
        assert all(re.search(r"停车|车位|停车费|骑手|外卖|小哥|快递|新就业", span) for span, _ in quotes[:2])  # measures on it


def test_prompts_fit_the_community_and_the_problem(handouts, cards):
    """A prompt written for a kind of problem or community is used only there: "情绪激动…马上解决" for a
    grievance, the village's 村民代表会议 for a village, "你所在的村" when transferring a village's measure."""
    from assistant import handout_material as hm

    for label, h in handouts.items():
        for q in h.questions:
            if "马上解决" in q.text:
                span = QUOTE.findall(q.text)[0][0]
                assert hm.PROBLEM_KINDS["诉求"].search(span), (label, span)
            if "议事会上" in q.text or "代表会议上" in q.text:
                kinds = {h.sources[n - 1][1].community_type for n in q.sources}
                assert ("村民代表会议" in q.text) == (kinds == {"村"}), (label, q.text)
    village = handouts["sj2025-16"]
    assert not any("搬到一个居民区" in q.text or "你所在的小区" in q.text for q in village.questions)
    # the learners run villages and neighbourhoods: a 街区's measure goes to "your community", and so does a
    # comparison of two kinds of community
    for label, h in handouts.items():
        for q in h.questions:
            assert "你所在的街区" not in q.text, label
            kinds = {h.sources[n - 1][1].community_type for n in q.sources}
            if q.kind == "对比分析" and len(kinds) == 2 and "你所在的" in q.text:
                assert "你所在的社区" in q.text, (label, q.text)


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
        # the whole sentence on one line (without a closing quotation mark left over from the script's paragraph)
        assert f"> {shown_sentence(c.quote)}" in quotes and shown_sentence(c.quote) in " ".join(c.quote.split())


def test_topic_handout(cards):
    h = build_handout(cards, topic="停车", n=4)
    assert h.title == "培训讨论题：停车"
    assert all(cards[c.case_id].tag_counts.get("停车") for c, _ in h.sources)


def test_a_kind_of_community_compares_its_communities_on_a_problem_they_share(cards):
    """动迁安置: the two resettlement communities compared on a problem both took measures on, each a measure
    of its own community (the first problem they share may give no pair: the next ones are tried)."""
    h = build_handout(cards, topic="动迁安置", n=8)
    assert {"情境研讨", "反思迁移"} <= {q.kind for q in h.questions}
    assert {h.sources[n - 1][1].community for q in h.questions for n in q.sources} == {"平复苑", "祥东"}
    # (their pair on 老年人服务 quotes a category label, "邻里互助型(如…)": no comparison rather than that one)
    for q in (q for q in h.questions if q.kind == "对比分析"):
        assert {cards[h.sources[n - 1][0].case_id].community for n in q.sources} == {"平复苑", "祥东"}


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
    # (第三街区: a case whose material passes the checks for all four kinds)
    h = build_handout(cards, case_id="sj2025-20", n=4, settings=settings)
    assert "大模型出题失败" in h.notice and len(h.questions) == 4
    assert [q.kind for q in h.questions] == list(KINDS)


def test_every_community_type_has_its_words():
    from assistant.corpus import COMMUNITY_TYPES
    from assistant.handout import MEETING, OWN, PEOPLE

    for words in (PEOPLE, MEETING, OWN):
        assert set(words) == set(COMMUNITY_TYPES)


def test_templates_say_where_they_fit(tmp_path):
    from assistant.handout import load_templates

    t = load_templates()
    grievance = [v for v in t["情境研讨"] if v.fits.get("难题") == frozenset({"诉求"})]
    assert grievance and "马上解决" in grievance[0].text and "@适用" not in grievance[0].text
    assert any(not v.fits for v in t["情境研讨"])  # some prompts fit everywhere


def test_a_measure_said_in_general_terms_is_not_quoted(cards):
    """"我们做了大量的前期准备工作" tells a class nothing it can discuss: not a measure to quote."""
    from assistant import handout_material as hm

    got = [s.text for s in hm.measure_sentences(cards["sj2025-03"], lambda s: True, None)]
    assert got and not any("大量的前期准备工作" in t for t in got)
    assert any("抠" in t and "11个" in t for t in got)  # what was done, with its figure
