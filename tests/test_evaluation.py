"""Metric definitions of the evaluation runner, and the dev set's own consistency."""

from __future__ import annotations

import json

import pytest

from assistant.errors import InputError
from assistant.evaluation import evidence_in, first_block, normalise, read_questions, score_item

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


def test_evidence_in_a_block_whole_or_a_contiguous_half():
    block = "联合中山城管、大联动网格中心、派出所对小区地锁进行了拆除。通过联合行动,共拆除地锁146把。"
    assert evidence_in(block, ["共拆除 地锁146把"])  # whole, whitespace ignored
    assert evidence_in(block, ["共拆除地锁146把,有效提高了"])  # runs past the block: 9 of its 15 characters are there
    assert not evidence_in(block, ["共拆除地锁146把,有效提高了小区停车位的利用效率"])  # 9 of 25: not enough
    assert not evidence_in(block, ["有效提高了小区停车位的利用效率,减少了小区矛盾"])
    # scattered characters are not a match: the half must be one contiguous piece
    assert not evidence_in("城管在前。派出所在后。地锁拆了。", ["联合城管派出所拆除地锁146把"])
    assert not evidence_in(block, [""]) and not evidence_in("", ["地锁"])


def test_first_block_is_the_first_communitys_quotes():
    from types import SimpleNamespace as C

    text = "案例库中有 2 个社区（村）的做法可供参考：甲村“修桥”；乙村。以下为讲稿原文摘录，方括号内为出处编号。\n" \
        "1. 甲村（某镇 · 张三）：先修桥。[1]再修路。[2]\n   成效：修了3座桥。[3]\n2. 乙村（李四）：别的事。[4]"
    cites = [C(n=n, quote=q) for n, q in [(1, "先修桥。"), (2, "再修路。"), (3, "修了3座桥。"), (4, "别的事。")]]
    assert first_block(text, cites) == "先修桥。再修路。修了3座桥。"
    # an answer without numbered blocks (an LLM's): its first line that cites anything
    assert first_block("可以参考以下做法。\n甲村先修桥[2]，再修路[1]。\n乙村[3]", cites) == "再修路。先修桥。"


def test_a_conversation_is_read_with_its_last_turn_as_the_question(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps({"id": "f1", "turns": ["老小区加装电梯怎么协调？", "那钱从哪里来？"]}, ensure_ascii=False) + "\n", "utf-8")
    [item] = read_questions(path)
    assert item["question"] == "那钱从哪里来？" and item["turns"][0].startswith("老小区")
    path.write_text(json.dumps({"id": "f2", "turns": []}) + "\n", "utf-8")
    with pytest.raises(InputError, match="turns"):
        read_questions(path)


@pytest.mark.parametrize(
    "name", ["followups.jsonl", "followups_r2.jsonl", "followups_r3.jsonl", "followups_r4.jsonl", "followups_r5.jsonl"]
)
def test_followups_file_is_well_formed(name):
    items = [json.loads(x) for x in (ROOT / "eval" / name).read_text("utf-8").splitlines() if x.strip()]
    assert len(items) >= 25 and len({i["id"] for i in items}) == len(items)
    assert {i["kind"] for i in items} == {"same-topic", "topic-change", "anaphoric"}
    assert {i["half"] for i in items} == {"tune", "test"}
    assert all(2 <= len(i["turns"]) <= 3 and i["evidence"] for i in items)


@pytest.mark.parametrize(
    "name", ["followups_r2.jsonl", "followups_r3.jsonl", "followups_r4.jsonl", "followups_r5.jsonl", "followgaps_r1.jsonl"]
)
def test_the_blind_followups_sets_quote_their_gold_scripts_and_keep_their_seeded_halves(tmp_path, name):
    import subprocess
    import sys

    from assistant.corpus import load_corpus
    from assistant.evaluation import normalise

    texts = {c.id: normalise(c.text) for c in load_corpus(ROOT / "corpus")}
    path = ROOT / "eval" / name
    items = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    for item in items:
        if item.get("label") == "none":  # a follow-up the scripts do not answer (eval/followgaps_r1.jsonl)
            assert not item["evidence"] and not item["cases"] and 2 <= len(item["turns"]) <= 3, item["id"]
            continue
        assert all(normalise(e) in texts[item["cases"][0]] for e in item["evidence"]), item["id"]
    copy = tmp_path / "f.jsonl"
    copy.write_text(path.read_text("utf-8"), "utf-8")
    subprocess.run([sys.executable, str(ROOT / "eval" / "split_coverage.py"), str(copy)], check=True, capture_output=True)
    assert copy.read_text("utf-8") == path.read_text("utf-8")


def test_a_citation_lies_in_the_passage_that_holds_it_or_the_passages_it_runs_over():
    from assistant.chunking import Passage
    from assistant.citations import Citation
    from assistant.evaluation import _passage_of

    text = "甲做了第一件事,乙做了第二件事。丙说了结果。"
    cut = text.index("乙")
    ps = [Passage("c", 0, cut, text[:cut], (), "t"), Passage("c", cut, len(text), text[cut:], (), "t")]

    def cite(a: int, b: int) -> Citation:
        return Citation("c", "", text[a:b], a, b)

    assert _passage_of(ps, cite(cut, cut + 3)) == text[cut:]  # in one passage: that one
    assert _passage_of(ps, cite(2, cut + 3)) == text  # over the seam: both, read together
    assert _passage_of(ps, Citation("x", "", "甲", 0, 1)) is None  # another case's
