"""Metric definitions of the evaluation runner, and the dev set's own consistency."""

from __future__ import annotations

import json

from assistant.evaluation import normalise, score_item

from conftest import ROOT


def test_evidence_ignores_whitespace_and_respects_the_budget():
    item = {"evidence": ["共拆除 地锁146把"], "gold_author": "沈东"}
    texts = ["甲" * 500, "乙" * 500, "……共拆除地锁146 把……"]
    s = score_item(item, texts, ["a", "b", "沈东"], k=5)
    assert s["evidence@k"] and s["evidence@1200ch"] and not s["evidence@600ch"]
    assert s["author@k"] and s["author_mrr@10"] == 1 / 3
    s = score_item(item, texts, ["a", "b", "沈东"], k=2)
    assert not s["evidence@k"] and not s["author@k"]


def test_missing_gold_fields_are_not_scored():
    assert score_item({"id": "x"}, ["text"], ["a"], k=5) == {}


def test_normalise():
    assert normalise(" 2022 年\n12 月 ") == "2022年12月"


def test_dev_set_is_well_formed():
    items = [json.loads(line) for line in (ROOT / "eval" / "dev.jsonl").read_text("utf-8").splitlines() if line.strip()]
    assert len(items) >= 60
    assert len({i["id"] for i in items}) == len(items)
    kinds = {i["kind"] for i in items}
    assert kinds == {"howto", "fact", "similar", "unanswerable"}
    authors = [i["gold_author"] for i in items if i.get("gold_author")]
    assert len(set(authors)) == 21 and min(authors.count(a) for a in set(authors)) >= 2
