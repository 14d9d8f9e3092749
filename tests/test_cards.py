"""Case cards computed from the real corpus: every extracted item is quotable."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from assistant import cards as cards_mod
from assistant.cards import all_methods, cards_for, filter_cards, get_card
from assistant.cli import main
from assistant.corpus import COMMUNITY_TYPES
from assistant.errors import InputError
from assistant.taxonomy import load_taxonomy, resolve_tag


def test_every_case_has_a_card_with_metadata(cards, cases):
    assert len(cards) == len(cases) == 21
    for case in cases:
        card = cards[case.id]
        assert (card.author, card.community, card.community_type) == (case.author, case.community, case.community_type)
        assert card.community_type in COMMUNITY_TYPES
        assert card.tags, case.id
        assert card.measures and card.outcomes, case.id  # every script reports what it did and what came of it
    assert sum(1 for c in cards.values() if c.problem) >= 18


def test_every_citation_is_verbatim(cards, texts):
    for card in cards.values():
        cites = card.problem + [m.citation for m in card.measures] + [m.definition for m in card.methods]
        cites += [o.citation for o in card.outcomes] + ([card.lessons.citation] if card.lessons else [])
        for c in cites:
            assert texts[c.case_id][c.start : c.end] == c.quote
        d = card.to_dict()
        assert all({"label", "citation"} <= set(m) for m in d["measures"]) and "story" not in d


def _situation_spans(card):
    """The spans of the situation sections (背景/问题) at the start of the script, when it has headed ones."""
    story = card.story
    lead = story.situation_parts
    if not any(story.parts[i].title for i in lead):
        return None
    return [(story.parts[i].start, story.parts[i].end) for i in lead]


def test_problem_comes_from_the_problem_sections_when_the_script_has_them(cards):
    checked = 0
    for card in cards.values():
        spans = _situation_spans(card)
        if spans is None:
            continue
        checked += 1
        for c in card.problem:
            assert any(a <= c.start and c.end <= b for a, b in spans), (card.case_id, c.quote)
    assert checked >= 12


def test_problem_is_the_communitys_own_not_a_directive_or_a_question(cards):
    for card in cards.values():
        for c in card.problem:
            assert not re.search(r"习近平|总书记|指出|大家好|我是", c.quote), (card.case_id, c.quote)
            assert not re.search(r"[？?]", c.quote), (card.case_id, c.quote)
    # 黄桥村 opens with a 三农 directive; its problem is the scattered homesteads, not the directive
    assert any("宅基地" in c.quote or "平移" in c.quote for c in cards["sj2025-16"].problem)
    # 金地艺境's problem is its own, not a remark about provinces
    assert not any("澳门" in c.quote for c in cards["sj2025-04"].problem)


def test_measures_are_measures_and_headings_only_when_they_name_one(cards):
    from assistant.roles import get_role_model

    model = get_role_model()
    for card in cards.values():
        for m in card.measures:
            assert m.label and len(m.label) <= 60
            assert not re.search(r"基本情况|关键词$|面临的问题|难在何处|背景", m.label), (card.case_id, m.label)
            if m.named_by_heading:
                assert model.role(m.label) == "做法", (card.case_id, m.label)
            else:
                assert m.label.replace("…", "")[:6] in m.citation.quote or m.label in m.citation.quote
    labels = [m.label for m in cards["sj2025-03"].measures]
    assert any("价格杠杆" in x for x in labels)
    assert not any(x.startswith(("一、", "第一个关键词")) for c in cards.values() for x in (m.label for m in c.measures))


def test_outcomes_carry_a_figure_or_a_completed_change(cards):
    from assistant.cards import _DONE

    quotes = [o.quote for o in cards["sj2025-01"].outcomes]
    # the leak repairs' fall (1758 in 2015 to 60 in 2022), told in one of its two sentences
    assert any("60次" in q and ("1758" in q or "百分之95" in q) for q in quotes)
    assert any("439套" in o.quote for o in cards["sj2025-10"].outcomes)
    assert any("515户" in o.quote for o in cards["sj2025-16"].outcomes)
    assert any(o.headline and "515户" in o.quote for o in cards["sj2025-16"].outcomes)  # the headline result
    for card in cards.values():
        for o in card.outcomes:
            assert (o.numbers and all(n.replace("百分之", "")[0].isdigit() for n in o.numbers)) or _DONE.search(o.quote)


def test_a_script_added_later_gets_its_card_from_the_same_model(cases):
    """Nothing per case: a card is computed for a script the cards were never built with, with any role model."""
    import dataclasses
    import json as json_

    from assistant.cards import build_card
    from assistant.roles import MODEL_PATH, RoleModel

    case = cases[2]
    renamed = dataclasses.replace(case, id="new-01", community="新社区")
    model = RoleModel.from_dict(json_.loads(MODEL_PATH.read_text(encoding="utf-8")))
    card = build_card(renamed, role_model=model)
    assert card.case_id == "new-01" and card.measures and card.outcomes
    assert all(renamed.text[c.start : c.end] == c.quote for c in card.problem)


def test_taxonomy_tags_match_the_cases(cards):
    tags = {cid: set(c.tag_counts) for cid, c in cards.items()}
    assert "停车" in tags["sj2025-03"]
    assert "电梯更新" in tags["sj2025-06"]
    assert "无产证" in tags["sj2025-11"]
    assert "宅基地" in tags["sj2025-16"] and "宅基地" in tags["sj2025-17"]
    assert "新就业群体" in tags["sj2025-20"] and "新就业群体" in tags["sj2025-21"]
    assert "在职党员" in tags["sj2025-04"]
    assert "大型居住社区" in tags["sj2025-18"]
    # every curated tag is carried by at least one case
    used = set().union(*tags.values())
    assert {t.name for t in load_taxonomy().tags} <= used
    # synonyms resolve to their tag
    assert load_taxonomy().tag("飞线充电").name == "充电/飞线" == resolve_tag("飞线充电") == resolve_tag("充电/飞线")
    with pytest.raises(InputError, match="可用的标签"):
        resolve_tag("火星")


def test_named_methods_are_found_with_their_definition(cards):
    names = {cid: [m.name for m in c.methods] for cid, c in cards.items()}
    assert any("1+3+N" in n for n in names["sj2025-01"])
    assert any("三驾马车" in n for n in names["sj2025-03"])
    assert any("三个一" in n for n in names["sj2025-12"])
    assert any("四步工作法" in n for n in names["sj2025-04"])
    assert any("红黄绿" in n for n in names["sj2025-20"])
    assert any("四三" in n for n in names["sj2025-15"])
    assert any("奥园四制" in n for n in names["sj2025-08"])
    m = next(m for m in cards["sj2025-15"].methods if "四三" in m.name)
    assert "三问、三聚、三会和三制" in m.definition.quote
    # common slogans are not methods
    all_names = " ".join(m.name for m in all_methods(cards))
    assert "急难愁盼" not in all_names and "最后一公里" not in all_names


def test_lessons_section(cards):
    assert "启示" in cards["sj2025-01"].lessons.title
    assert "感悟" in cards["sj2025-06"].lessons.title
    assert cards["sj2025-07"].lessons.points[0].startswith("(一)")


def test_filters_and_bad_input(cards):
    assert {c.case_id for c in filter_cards(cards, community_type="村")} == {
        "sj2025-09", "sj2025-14", "sj2025-15", "sj2025-16", "sj2025-17"}
    assert filter_cards(cards, tag="停车")[0].case_id in ("sj2025-01", "sj2025-03")
    with pytest.raises(InputError, match="可用的标签"):
        filter_cards(cards, tag="火星")
    with pytest.raises(InputError, match="sj2025-01"):
        get_card(cards, "sj2025-99")
    with pytest.raises(InputError, match="居民区"):
        filter_cards(cards, community_type="城")


def test_cli_cases_case_methods(capsys):
    assert main(["cases", "--tag", "宅基地", "--json"]) == 0
    ids = [c["case_id"] for c in json.loads(capsys.readouterr().out)]
    assert "sj2025-16" in ids and "sj2025-17" in ids
    assert main(["case", "sj2025-12"]) == 0
    out = capsys.readouterr().out
    assert "陈晓燕" in out and "三个一" in out and "【启示】" in out and "【主要做法】" in out
    assert not re.search(r"第\s*\d+\s*[–-]\s*\d+\s*字", out)  # no character offsets for a reader
    assert main(["methods", "--json"]) == 0
    methods = json.loads(capsys.readouterr().out)
    assert len(methods) > 40 and all(m["definition"]["quote"] for m in methods)
    assert main(["case", "nope"]) == 2
    assert "可用的编号" in capsys.readouterr().err


def test_every_community_type_occurs_in_the_corpus(cases):
    assert {c.community_type for c in cases} == set(COMMUNITY_TYPES)


def test_card_cache_follows_the_records_not_the_dict(cases):
    """A new dict of other records never gets stale cards, even at a collected dict's address
    (CPython hands a freed dict's memory to the next dict; the cache used to be keyed by id(cases))."""
    revised = [dataclasses.replace(c, title=c.title + "（修订）") for c in cases[:3]]
    first = {c.id: c for c in cases[:3]}
    assert cards_for(first) is cards_for(first)  # computed once
    assert [c.title for c in cards_for(first).values()] == [c.title for c in cases[:3]]
    del first
    second = {c.id: c for c in revised}  # typically where the first one was
    assert [c.title for c in cards_for(second).values()] == [c.title for c in revised]
    # equal records in another dict share the cards; only the latest sets are kept
    assert cards_for({c.id: c for c in revised}) is cards_for(second)
    for n in (4, 5, 6):
        cards_for({c.id: c for c in cases[:n]})
    assert len(cards_mod._card_cache) <= cards_mod.CARD_CACHE_SIZE
