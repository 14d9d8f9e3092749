"""Round 5 of the blind reading of the handouts: the same 5 cases and 5 topics as rounds 3 and 4.

Writes the sheet (the handouts' Markdown only, shuffled, numbered N1…N10, nothing that tells which case or
topic a number is beyond what the handout itself shows) and, in a separate file, the key.  The integrator copies
the sheet to the readers; they never see the key or the code.

    .venv/bin/python eval/blind_handouts_sheet_r5.py [--n 6] [--seed 2026] [--prefix N] \\
        [--sheet eval/blind/round5/sheet.md] [--key eval/blind/round5/key.json] [--copy /work/plan/blind/r5/sheet.md]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.cards import load_cards  # noqa: E402
from assistant.handout import build_handout, to_markdown  # noqa: E402
from blind_sheet import sheet_text, write_sheet  # noqa: E402

CASES = ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-07", "sj2025-12")
TOPICS = ("新就业群体", "停车", "加装电梯", "业委会", "动迁安置")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=6, help="questions asked for per handout (fewer when the checks leave fewer)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--prefix", default="N")
    ap.add_argument("--sheet", type=Path, default=ROOT / "eval" / "blind" / "round5" / "sheet.md")
    ap.add_argument("--key", type=Path, default=ROOT / "eval" / "blind" / "round5" / "key.json")
    ap.add_argument("--copy", type=Path, default=None, help="a copy of the sheet for the readers (outside the repository)")
    args = ap.parse_args()
    cards = load_cards(ROOT / "corpus")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    entries = []
    for kw in [{"case_id": c} for c in CASES] + [{"topic": t} for t in TOPICS]:
        h = build_handout(cards, n=args.n, **kw)
        label = f"{kw['case_id']} {cards[kw['case_id']].community}" if "case_id" in kw else kw["topic"]
        entries.append((label, to_markdown(h)))
    random.Random(args.seed).shuffle(entries)
    key = {f"{args.prefix}{i}": {"label": label, "version": "round5", "code": commit, "n": args.n}
           for i, (label, _) in enumerate(entries, 1)}
    write_sheet(sheet_text([md for _, md in entries], args.prefix), key, args.sheet, args.key, args.copy)
    print(f"{len(entries)} handouts -> {args.sheet}" + (f" and {args.copy}" if args.copy else "") + f"; key -> {args.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
