"""Does the first block quote the passage that answers?  Every question file, on fixed halves.

The figure is ``first_block_evidence`` of ``assistant eval FILE --answers``
(:func:`assistant.evaluation.evaluate_answers`): the first community's quotes
hold a gold evidence string.  The files are split once and for all, and only
the tune halves are looked at while the blocks are changed:

- tune: ``eval/dev.jsonl`` questions with an odd number (q001, q003, …), the
  answerable questions (label full/partial) of ``eval/coverage.jsonl`` and the
  conversations of ``eval/followups.jsonl`` with ``half == "tune"`` and the
  answerable ``half == "tune"`` questions of the fresh sets ``eval/holdout_r3.jsonl`` …
  ``eval/holdout_r27.jsonl`` (``HOLDOUTS``);
- test: the even-numbered dev questions and the ``half == "test"`` ones,
  printed only with ``--test`` (once, for the chosen version).

``--misses`` prints, for the tune questions the first block misses, the
question, the block and the retrieved passages that hold the evidence (rank
in the hits), which is what the blocks were tuned on.

Usage::

    .venv/bin/python eval/blocks_eval.py            # tune halves
    .venv/bin/python eval/blocks_eval.py --misses   # ... and what the misses quote
    .venv/bin/python eval/blocks_eval.py --test     # every half, test included
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import Answerer, Conversation, get_answerer  # noqa: E402
from assistant.evaluation import answerable, evidence_in, evaluate_answers, first_block, read_questions  # noqa: E402


HOLDOUTS = (4, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27)


def _odd(q: dict) -> bool:
    return int("".join(ch for ch in q["id"] if ch.isdigit())) % 2 == 1


def splits(test: bool) -> dict[str, list[dict]]:
    """The question sets, by name; the test halves only when ``test``."""
    dev = read_questions(ROOT / "eval" / "dev.jsonl")
    cov = [q for q in read_questions(ROOT / "eval" / "coverage.jsonl") if answerable(q)]
    fol = read_questions(ROOT / "eval" / "followups.jsonl")
    # the sets written blind, in the order they were written (r4 first: the first holdout)
    hold = {r: [q for q in read_questions(ROOT / "eval" / f"holdout_r{r}.jsonl") if answerable(q)] for r in HOLDOUTS}
    out = {
        "dev-tune(odd)": [q for q in dev if _odd(q)],
        "coverage-tune": [q for q in cov if q.get("half") == "tune"],
        "followups-tune": [q for q in fol if q.get("half") == "tune"],
    }
    out |= {f"holdout-r{r}-tune": [q for q in qs if q.get("half") == "tune"] for r, qs in hold.items()}
    if test:
        out |= {
            "dev-test(even)": [q for q in dev if not _odd(q)],
            "dev(all)": dev,
            "coverage-test": [q for q in cov if q.get("half") == "test"],
            "followups-test": [q for q in fol if q.get("half") == "test"],
            "followups(all)": fol,
        }
        out |= {f"holdout-r{r}-test": [q for q in qs if q.get("half") == "test"] for r, qs in hold.items()}
    return out


def run(answerer: Answerer, items: list[dict]):
    def converse(turns: list[str]):
        chat = Conversation()
        for turn in turns:
            last = answerer.ask(turn, chat, use_llm=False)
        return last

    return evaluate_answers(lambda q: answerer.ask(q, use_llm=False), items, answerer.searcher.index.passages, converse)


def misses(answerer: Answerer, items: list[dict], report) -> None:
    by_id = {q["id"]: q for q in items}
    for row in report.rows:
        if row["first_block_evidence"] is not False:
            continue
        q = by_id[row["id"]]
        block = first_block(row["answer"], [SimpleNamespace(**c) for c in row["citations"]])
        print(f"== {q['id']}  coverage={row['coverage']}")
        print("Q:", " / ".join(q.get("turns") or [q["question"]]))
        print("EV:", q["evidence"])
        print("BLOCK:", block[:400])
        hits = answerer.search(row["search_question"] or q["question"], [])
        for h in hits:
            if evidence_in(h.passage.text, q["evidence"]):
                print(f"  ev in hit {h.rank} ({h.case.id} {h.passage.section_label}):", h.passage.text[:200].replace("\n", " "))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", action="store_true", help="also the test halves (once, at the end)")
    ap.add_argument("--misses", action="store_true", help="print the tune questions the first block misses")
    ap.add_argument("--save", type=Path, help="write each question's outcome (id -> held / missed) to this JSON file")
    args = ap.parse_args()
    outcome: dict[str, bool | None] = {}
    answerer = get_answerer()
    for name, items in splits(args.test).items():
        report = run(answerer, items)
        m = report.metrics
        extra = "  ".join(f"{k.split('[')[1][:-1]} {v:.3f} (n={report.counts[k]})" for k, v in m.items() if k.startswith("first_block_evidence[") and "tune" not in k and "test" not in k)
        top = m.get("top_sentence_evidence", 0)
        print(f"{name:<16} first block {m.get('first_block_evidence', 0):.3f} (n={report.counts.get('first_block_evidence', 0)})  top sentence {top:.3f}  {extra}")
        if args.misses and "tune" in name:
            misses(answerer, items, report)
        outcome |= {f"{name}:{r['id']}": r["first_block_evidence"] for r in report.rows if r["first_block_evidence"] is not None}
        outcome |= {f"{name}:{r['id']}:top": r["top_sentence_evidence"] for r in report.rows if r["top_sentence_evidence"] is not None}
    if args.save:
        args.save.write_text(json.dumps(outcome, indent=0), encoding="utf-8")


if __name__ == "__main__":
    main()
