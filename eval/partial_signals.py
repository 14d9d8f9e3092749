"""Can any signal at hand tell a 部分 that is a gap from a 部分 whose missed words are wording?

The coverage judgement says 部分 when the places discuss some of a question's concepts and miss others.
For an in-domain gap the missed part is what is asked ("…被油车占着" → 油车); for an answerable question it
is mostly the asker's wording (挪走 for the script's 迁移).  Two rules already act on such 部分s: the
retrieval confidence (near → 有) and the linked questions (none as alike as the unasked level → 没有).
This script reads, for every question the judgement calls 部分 *before* those two rules, the signals a
rule could use, and prints how well each one separates the gaps from the answerable questions:

- ``confidence``: the answerer's retrieval confidence (what ``near`` thresholds)
- ``link``: the best ``link_dense`` of the places (what the unasked level thresholds)
- ``passage``: the best passage ``dense`` similarity of the places
- ``missed_share``: the weight of the missed concepts over the weight of all focal concepts
- ``missed_noun``: a missed concept is a noun (1) or not (0)
- ``missed_unseen``: a missed word occurs nowhere in the scripts (1) or does (0)

For each: the separation as AUC (the chance that a random gap scores lower than a random answerable
question, or higher if gaps lean that way; 0.5 = no separation, 1.0 = perfect; ties count half), and
the best cut "部分 → 没有 on the gaps' side of t" that refuses no more than 1, 2 or 3 of the answerable
questions, with the gaps it would refuse.

The halves are those of every other eval script (tune: odd dev/short ids, ``half == "tune"``)::

    .venv/bin/python eval/partial_signals.py           # tune halves
    .venv/bin/python eval/partial_signals.py --test    # test halves (read once)
    .venv/bin/python eval/partial_signals.py --rows    # ... and every 部分 with its signals
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import get_answerer  # noqa: E402
from assistant.coverage import PARTIAL, PLACES  # noqa: E402
from assistant.evaluation import read_questions  # noqa: E402
from assistant.grounding import CONFIDENCE_THRESHOLD  # noqa: E402

SETS = ("coverage", "dev", "short", *(f"holdout_r{n}" for n in range(3, 28)))
SIGNALS = ("confidence", "link", "passage", "missed_share", "missed_noun", "missed_unseen")


def _odd(item: dict) -> bool:
    return int(re.sub(r"\D", "", item["id"])) % 2 == 1


def kind(item: dict) -> str | None:
    """gap (in-domain, unanswered), answerable, or None (off-domain: not this script's concern)."""
    if item.get("domain") == "off":
        return None
    if "answerable" in item:
        return "answerable" if item["answerable"] else None  # dev/short's unanswerable are off-domain
    return "gap" if item.get("label") == "none" else "answerable"


def questions(test: bool) -> list[tuple[str, dict]]:
    out = []
    for name in SETS:
        items = read_questions(ROOT / "eval" / f"{name}.jsonl")
        if name in ("dev", "short"):
            items = [i for i in items if _odd(i) != test]
        else:
            items = [i for i in items if i.get("half") == ("test" if test else "tune")]
        out += [(name, i) for i in items if "question" in i]
    return out


def signals(answerer, question: str) -> dict | None:
    """The signals of a question the judgement calls 部分 before the near and link rules, else None."""
    hits = answerer.search(question, [])
    sure = answerer.confidence(question, hits)
    judge = answerer.judge
    raw = judge.judge(question, hits, far=sure < CONFIDENCE_THRESHOLD, near=False, follows=True)
    if raw.level != PARTIAL:
        return None
    places = hits[:PLACES]
    focal = [c for c in raw.concepts if c.focal]
    missed = [c for c in focal if c.text in raw.uncovered]
    total = sum(c.weight for c in focal) or 1.0
    corpus = "\n".join(case.text for case in answerer.searcher.index.cases.values())
    return {
        "confidence": sure,
        "link": max((h.parts.get("link_dense", 0.0) for h in places), default=0.0),
        "passage": max((h.parts.get("dense", 0.0) for h in places), default=0.0),
        "missed_share": sum(c.weight for c in missed) / total,
        "missed_noun": float(any(c.noun for c in missed)),
        "missed_unseen": float(any(u not in corpus for u in raw.uncovered)),
        "uncovered": list(raw.uncovered),
        "shipped": answerer.ask(question, use_llm=False).coverage,  # after the near and link rules
    }


def auc(gaps: list[float], answerable: list[float]) -> float:
    """P(a gap scores lower than an answerable question), ties half."""
    if not gaps or not answerable:
        return float("nan")
    wins = sum((g < a) + 0.5 * (g == a) for g in gaps for a in answerable)
    return wins / (len(gaps) * len(answerable))


def best_cut(gaps: list[float], answerable: list[float], lost: int) -> tuple[float, int, int]:
    """The cut t ("部分 → 没有 when signal < t") refusing the most gaps with at most ``lost`` answerable."""
    best = (float("-inf"), 0, 0)
    for t in sorted(set(gaps) | set(answerable)) + [float("inf")]:
        a = sum(x < t for x in answerable)
        g = sum(x < t for x in gaps)
        if a <= lost and g > best[1]:
            best = (t, g, a)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", action="store_true", help="the test halves instead of the tune halves")
    parser.add_argument("--rows", action="store_true", help="print every 部分 with its signals")
    args = parser.parse_args()
    answerer = get_answerer()
    rows = []
    for name, item in questions(args.test):
        k = kind(item)
        if k is None:
            continue
        got = signals(answerer, item["question"])
        if got is not None:
            rows.append((k, name, item, got))
    half = "test" if args.test else "tune"
    table(rows, f"{half} halves, judged 部分 before the near and link rules")
    table([r for r in rows if r[3]["shipped"] != "none"], f"{half} halves, of those, not refused as shipped")
    if args.rows:
        for k, name, item, got in sorted(rows, key=lambda r: (r[0], r[3]["confidence"])):
            sig = " ".join(f"{s}={got[s]:.3f}" for s in SIGNALS)
            print(f"{k:<10} {item['id']:<6} {got['shipped']:<7} {sig} {got['uncovered']} {item['question'][:40]}")


def table(rows: list, title: str) -> None:
    gaps = [r for r in rows if r[0] == "gap"]
    ans = [r for r in rows if r[0] == "answerable"]
    print(f"{title}: {len(gaps)} gaps, {len(ans)} answerable")
    print(f"{'signal':<15}{'AUC':>6}   best cut losing ≤1 / ≤2 / ≤3 answerable: gaps refused (of {len(gaps)})")
    for s in SIGNALS:
        # a look-up searches only the links users made: its link signal is no reading of the bundled links
        keep = (lambda r: r[3]["link"] > 0) if s == "link" else (lambda r: True)
        g = [r[3][s] for r in gaps if keep(r)]
        a = [r[3][s] for r in ans if keep(r)]
        sign, side = (1.0, "<") if auc(g, a) >= 0.5 else (-1.0, ">")  # the side the gaps lean to
        found = (best_cut([sign * x for x in g], [sign * x for x in a], k) for k in (1, 2, 3))
        cuts = "  ".join(f"{side} {sign * t:.3f}: {n} gaps ({m} ans)" for t, n, m in found)
        print(f"{s:<15}{max(auc(g, a), 1 - auc(g, a)):6.2f}   {cuts}")


if __name__ == "__main__":
    main()
