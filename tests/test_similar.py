"""Similar-case finder with the real default model on the shipped index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import InputError

DEV = Path(__file__).resolve().parent.parent / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def finder():
    from assistant.retrieval import get_searcher
    from assistant.similar import SimilarFinder

    return SimilarFinder(get_searcher())


def test_issue_example_finds_the_bench_case(finder):
    res = finder.find("我们小区是动迁安置房，老人把凳子搬到楼道里聊天，屡清屡放，既不好看又挡路", k=3)
    assert len(res) == 3 and res[0].card.author == "施英"
    top = res[0]
    assert "楼道堆物" in top.shared_tags and "动迁安置" in top.shared_tags
    assert top.passages and top.why
    case = finder.searcher.index.cases[top.card.case_id]
    for p in top.passages:
        assert case.text[p.citation.start : p.citation.end] == p.citation.quote
    assert [r.score for r in res] == sorted((r.score for r in res), reverse=True)


def test_why_similar_is_a_reason_a_person_would_write(finder):
    """为什么相似: the shared situation and the measure worth borrowing, in sentences, each claim linked to its span;
    not a token list ("居民、小区、委会、2000")."""
    import re

    from assistant.ui.render import similar_cards

    res = finder.find("我们小区是动迁安置房，老人把凳子搬到楼道里聊天，屡清屡放，既不好看又挡路", k=3)
    top = res[0]
    why, reason = top.why, top.reason
    assert why.startswith(top.card.community) and "动迁安置" in why and "值得借鉴" in why
    assert why.count("。") in (1, 2) and len(why) <= 160
    assert not re.search(r"（[^）]*、[^）]*）|问题描述相近|共同话题", why)
    case = finder.searcher.index.cases[top.card.case_id]
    for c in (reason.situation, reason.measure):
        assert c is not None and case.text[c.start : c.end] == c.quote
    quoted = re.search(r"“([^”]+)”", why)
    assert quoted and quoted.group(1) in reason.situation.quote  # the difficulty in the script's own words
    assert reason.measure_name in why
    html = similar_cards(res)
    assert f"#case/{top.card.case_id}/{reason.measure.start}/{reason.measure.end}" in html
    for r in res:
        assert r.why and not re.search(r"（[^）]*、[^）]*）", r.why)


def test_json_shape(finder):
    d = {"cases": [r.to_dict() for r in finder.find("村里想搞宅基地平移归并，村民担心新房分配不公平", k=2)]}
    assert d["cases"][0]["case_id"] in ("sj2025-16", "sj2025-17")
    for c in d["cases"]:
        assert {"case_id", "case_title", "author", "score", "tags", "passages", "why", "why_sources"} <= set(c)
        assert all({"section", "text"} <= set(p) for p in c["passages"])


def test_gold_case_in_top3_for_similar_questions(finder):
    from assistant.evaluation import read_questions
    from assistant.similar import evaluate

    report = evaluate(finder, read_questions(DEV))
    hit, n = report.rate({"similar"}, k=3)
    assert n >= 9 and hit / n >= 0.9


def test_bad_input(finder, capsys):
    with pytest.raises(InputError, match="描述是空的"):
        finder.find("   ")
    assert main(["similar", ""]) == 2
    assert "描述是空的" in capsys.readouterr().err
    assert main(["similar", "商业街装了护栏，店铺卸货不方便", "--k", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["cases"]) == 2 and out["cases"][0]["author"] == "朱佳燕"


def test_reasons_quote_the_difficulty_and_what_was_done(finder):
    """The shared difficulty as a whole statement of it, not a consequence or a warning; the measure one that bears on
    what the description asks (the fee rule asked for, not the parking regulation's name)."""
    d = (
        "小区登记的车比车位多出好几百辆，停车费多年没涨、特别便宜，旁边商场的车也开进来停，业主下班回来找不到车位天天吵，"
        "业委会都被骂得集体辞职了。有没有小区是靠调整收费规则把停车理顺的？"
    )
    why = finder.find(d, k=1)[0].why
    assert "湖畔天地" in why and "收费" in why.split("值得借鉴")[1]
    d = (
        "我们小区是分几期开发的，多层、高层、别墅的物业费都不一样，业委会按区域分开管，每个区域对不合自己利益的事都能一票否决，"
        "一大笔公共收益一直用不了，业委会基本瘫痪。换届的时候有没有好的办法？"
    )
    why = finder.find(d, k=1)[0].why
    assert "一票否决" in why and "猫" not in why


def test_a_difficulty_counts_by_how_well_its_passage_matched(finder):
    """A sentence of the case's third-best passage does not outweigh the stated difficulty of its best ones."""
    from assistant.citations import Citation
    from assistant.similar import _inside, _standing

    spans = [Citation("c", "", "x" * 10, 0, 10), Citation("c", "", "y" * 10, 20, 30)]
    standing = _standing([(1, 2.0), (2, 1.0)])
    assert standing == [1.0, 0.5]
    assert _inside(2, 5, spans, standing) == 1.0 and _inside(22, 25, spans, standing) == 0.5 and _inside(12, 15, spans, standing) == 0.0
    d = "我们小区是动迁安置房，老人们习惯把自家凳子椅子搬到楼道里聊天，清理了一批又摆回来，既不好看又挡路。有没有社区是用别的办法把这件事理顺的？"
    why = finder.find(d, k=1)[0].why
    situation, measure = why.split("值得借鉴")
    assert "凳椅" in situation and "板凳课堂" in measure
