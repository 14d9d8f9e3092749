"""The fresh question sets (eval/holdout_r*.jsonl) are what the closing notes report on: each line must be
well formed, split into fixed halves by eval/split_coverage.py, and every evidence string must be verbatim in
the script of its gold case (otherwise first_block_evidence silently reads 0 for that question)."""

import json
import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from assistant.evaluation import normalise

EVAL = Path(__file__).resolve().parent.parent / "eval"
SETS = sorted(EVAL.glob("holdout_r*.jsonl"))


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_there_are_fresh_sets():
    assert len(SETS) >= 5  # r3 … r7


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_fresh_set_is_well_formed(path, texts):
    items = rows(path)
    ids = [r["id"] for r in items]
    assert len(ids) == len(set(ids))
    for r in items:
        assert r["question"].strip() and r["label"] in ("full", "partial", "none"), r["id"]
        assert r["half"] in ("tune", "test"), r["id"]
        if r["label"] == "none":
            assert not r["evidence"] and not r["cases"], r["id"]
            continue
        assert r["evidence"] and r["cases"], r["id"]
        text = "".join(normalise(texts[c]) for c in r["cases"])
        for ev in r["evidence"]:
            assert normalise(ev) in text, (r["id"], ev)


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_fresh_set_halves_are_the_seeded_split(path):
    """The halves are eval/split_coverage.py's: stratified by label, seed 20261130 (nobody moved a question)."""
    items = rows(path)
    strata = defaultdict(list)
    for r in items:
        strata[(r.get("domain", "in"), r["label"])].append(r["id"])
    rng = random.Random(20261130)
    want = {}
    for key in sorted(strata):
        got = sorted(strata[key])
        rng.shuffle(got)
        for i, qid in enumerate(got):
            want[qid] = "tune" if i < (len(got) + 1) // 2 else "test"
    assert {r["id"]: r["half"] for r in items} == want
    assert Counter(r["half"] for r in items)["tune"] >= len(items) // 2
