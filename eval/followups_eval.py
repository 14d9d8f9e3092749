"""Follow-ups without an LLM: does the last turn's first block hold the gold evidence, and does it repeat?

Plays each conversation of ``eval/followups.jsonl`` turn by turn (extractive,
no LLM) and prints, per conversation, whether the first block of the last
answer holds a gold evidence string (the ``first_block_evidence`` of
``assistant eval eval/followups.jsonl --answers``) and how it relates to the
first block of the answer before it:

- ``SAME``: the same text again (the scripts had nothing else: the answer says so);
- ``PART``: a part of it (the sentence that names what the follow-up asks, read on);
- blank: something else.

A set whose conversations carry a ``label`` (``eval/followgaps_r1.jsonl``: the last turn is a follow-up
the scripts answer, ``full``, or one they do not, ``none``) also prints whether each last turn was judged
没有, and per half how many of the ``none`` ones were (refused) and of the ``full`` ones were too.

Only the ``tune`` half is played unless ``--test`` is given (once, at the end).
``--allow-repeat`` measures the counterfactual in which a follow-up's first
block may be the last answer's first block again (``Extractor.blocks`` never
finds a block already quoted), which is what not repeating costs.

Usage::

    .venv/bin/python eval/followups_eval.py                  # tune half
    .venv/bin/python eval/followups_eval.py --allow-repeat   # ... were repeats allowed
    .venv/bin/python eval/followups_eval.py --test           # both halves
    .venv/bin/python eval/followups_eval.py eval/followups_r2.jsonl   # the second set (session 13), tune half
    .venv/bin/python eval/followups_eval.py eval/followups_r3.jsonl   # the third (session 14), written blind the same way
    .venv/bin/python eval/followups_eval.py eval/followups_r4.jsonl   # the fourth (session 15)
    .venv/bin/python eval/followups_eval.py eval/followups_r5.jsonl   # the fifth (session 16)
    .venv/bin/python eval/followups_eval.py eval/followgaps_r1.jsonl  # follow-ups the scripts do not answer (session 16)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import assistant.extractive as extractive  # noqa: E402
from assistant.answer import Conversation, get_answerer  # noqa: E402
from assistant.coverage import NONE  # noqa: E402
from assistant.evaluation import evidence_in, first_block, read_questions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", action="store_true", help="also the test half (once, at the end)")
    ap.add_argument("--allow-repeat", action="store_true", help="let a follow-up quote the last first block again")
    ap.add_argument("file", nargs="?", type=Path, default=ROOT / "eval" / "followups.jsonl",
                    help="a file of conversations (default eval/followups.jsonl; also eval/followups_r2.jsonl … "
                    "eval/followups_r5.jsonl, eval/followgaps_r1.jsonl)")
    args = ap.parse_args()
    if args.allow_repeat:
        extractive._quoted = lambda *a, **k: False
    answerer = get_answerer()
    items = read_questions(args.file)
    halves = ("tune", "test") if args.test else ("tune",)
    totals = {}
    refused: dict[str, dict[str, list[int]]] = {}  # half -> label -> [judged 没有, of]
    for half in halves:
        held = 0
        rows = [q for q in items if q.get("half") == half and q.get("label", "full") != "none"]
        for q in [q for q in items if q.get("half") == half]:
            chat = Conversation()
            blocks = []
            for turn in q["turns"]:
                a = answerer.ask(turn, chat, use_llm=False)
                blocks.append(first_block(a.answer, a.citations) if a.answered else "")
            label = q.get("label", "full")
            if "label" in q:
                count = refused.setdefault(half, {}).setdefault(label, [0, 0])
                count[0] += a.coverage == NONE
                count[1] += 1
            if label == "none":  # nothing to hold: whether it was judged 没有
                print(f"{half} {q['id']} {'gap':<12} {'REFUSED' if a.coverage == NONE else 'covered':<10} "
                      f"{a.coverage:<7} {' / '.join(q['turns'])[:70]}")
                continue
            ok = bool(blocks[-1]) and evidence_in(blocks[-1], q["evidence"])
            held += ok
            before = blocks[-2] if len(blocks) > 1 else ""
            rel = "SAME" if blocks[-1] and blocks[-1] == before else ("PART" if blocks[-1] and blocks[-1] in before else "")
            kind = q.get("kind", label)
            print(f"{half} {q['id']} {kind:<12} {'held ' if ok else 'MISS '} {rel:<4} {a.coverage:<7} {' / '.join(q['turns'])[:70]}")
        totals[half] = (held, len(rows))
    for half, (held, n) in totals.items():
        print(f"{half}: first block holds evidence {held}/{n} = {held / n:.3f}")
        for label, (k, m) in sorted(refused.get(half, {}).items(), reverse=True):
            what = "in-domain gaps judged 没有" if label == "none" else "answerable judged 没有"
            print(f"{half}: {what} {k}/{m}")
    if len(totals) > 1:
        held, n = map(sum, zip(*totals.values()))
        print(f"all: {held}/{n} = {held / n:.3f}")


if __name__ == "__main__":
    main()
