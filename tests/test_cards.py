"""Case cards computed from the real corpus: every extracted item is quotable."""

from __future__ import annotations

import dataclasses
import json

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
        assert card.summary is not None and card.problem


def test_every_citation_is_verbatim(cards, texts):
    for card in cards.values():
        cites = card.problem + card.measures + [m.definition for m in card.methods]
        cites += [o.citation for o in card.outcomes] + ([card.lessons.citation] if card.lessons else [])
        for c in cites:
            assert texts[c.case_id][c.start : c.end] == c.quote


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


def test_outcomes_carry_numbers(cards):
    quotes = [o.quote for o in cards["sj2025-01"].outcomes]
    assert any("1758" in q and "60" in q for q in quotes)
    assert any("439套" in o.quote for o in cards["sj2025-10"].outcomes)
    for card in cards.values():
        for o in card.outcomes:
            assert o.numbers and all(n.replace("百分之", "")[0].isdigit() for n in o.numbers)


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
    assert "陈晓燕" in out and "三个一" in out and "【启示】" in out
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
