"""A blind reading of the handouts: the 10 handouts of this code (5 cases, 5 topics: the set of
eval/handout_eval.py), shuffled, numbered, ids hidden; ``--base`` mixes in another version's 10 for comparison.

The other version's handouts are written by that version's own code: ``--base DIR`` is a checkout of it
(``git archive main | tar -x -C /tmp/hbase``); this script runs itself there with ``--dump`` (same
interpreter, ``PYTHONPATH=DIR``) and reads the handouts' Markdown back.  A topic or case for which a version
writes no handout (it says why instead) enters the sheet with that message, as a trainer would see it.

Writes the sheet (Markdown only, nothing telling which version or case a number is beyond what the handout itself
shows) and, separately, the key.  The trainer-only note (which kinds are missing and why, ``Handout.trainer_note``)
is not part of the handout the class gets, so it is not on the sheet.

``--round N`` names the files (eval/blind/roundN/sheet.md, key.json) and the version in the key; the seed and item
letter of the rounds read so far are kept in ``ROUNDS`` so each sheet can be written again from its key's commit::

    .venv/bin/python eval/blind_handouts_sheet.py --round 11 [--n 6] [--copy /work/plan/blind/r11/sheet.md]
    .venv/bin/python eval/blind_handouts_sheet.py --round 6 --base /tmp/hbase --base-code $(git rev-parse --short main)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from blind_sheet import sheet_text, write_sheet

HERE = Path(__file__).resolve().parent.parent

CASES = ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-07", "sj2025-12")
TOPICS = ("新就业群体", "停车", "加装电梯", "业委会", "动迁安置")


def dump(root: Path, n: int) -> list[dict]:
    """The 10 handouts of the code under ``root`` (on sys.path): label, Markdown (or the message instead)."""
    sys.path.insert(0, str(root))
    from assistant.cards import load_cards
    from assistant.errors import InputError
    from assistant.handout import build_handout, to_markdown

    cards = load_cards(root / "corpus")
    out = []
    for kw in [{"case_id": c} for c in CASES] + [{"topic": t} for t in TOPICS]:
        label = f"{kw['case_id']} {cards[kw['case_id']].community}" if "case_id" in kw else kw["topic"]
        try:
            h = build_handout(cards, n=n, **kw)
            md, kinds = to_markdown(h), [q.kind for q in h.questions]
        except InputError as exc:
            title = f"培训讨论题：{kw['topic']}" if "topic" in kw else f"培训讨论题：《{cards[kw['case_id']].title}》"
            md, kinds = f"# {title}\n\n（系统未生成讲义）{exc}\n", []
        out.append({"label": label, "md": md, "kinds": kinds})
    return out


def commit_of(root: Path) -> str:
    got = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return got.stdout.strip() or "?"


# round -> (shuffle seed, item letter) of the sheets read so far (eval/blind/README.md); round 11 was read by two fresh
# readers (k, l: eval/blind/round11/reader_k.jsonl, reader_l.jsonl), round 12 is read by two more (m, n)
ROUNDS = {6: (2606, "M"), 7: (2607, "N"), 8: (2608, "Q"), 9: (2609, "Q"), 10: (2609, "Q"), 11: (2611, "Q"), 12: (2612, "Q"), 13: (2613, "Q"), 14: (2614, "Q"), 15: (2615, "Q")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--round", type=int, required=True, help="the reading's number: names the files and the version")
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--seed", type=int, help="shuffle seed (default: the round's in ROUNDS, else 2600 + round)")
    ap.add_argument("--prefix", help="item letter (default: the round's in ROUNDS, else R)")
    ap.add_argument("--base", type=Path, help="a checkout of the version to compare with (main)")
    ap.add_argument("--base-name", default="main")
    ap.add_argument("--base-code", default="", help="the base version's commit, for the key (its checkout has no .git)")
    ap.add_argument("--dump", action="store_true", help="(internal) print this code's handouts as JSON")
    ap.add_argument("--sheet", type=Path, help="default: eval/blind/roundN/sheet.md")
    ap.add_argument("--key", type=Path, help="default: eval/blind/roundN/key.json")
    ap.add_argument("--copy", type=Path, default=None, help="a copy of the sheet for the readers (outside the repository)")
    args = ap.parse_args()
    if args.dump:
        root = Path(os.environ.get("H6_ROOT", HERE))
        print(json.dumps(dump(root, args.n), ensure_ascii=False))
        return 0
    seed, prefix = ROUNDS.get(args.round, (2600 + args.round, "R"))
    args.seed = seed if args.seed is None else args.seed
    args.prefix = args.prefix or prefix
    folder = HERE / "eval" / "blind" / f"round{args.round}"
    args.sheet = args.sheet or folder / "sheet.md"
    args.key = args.key or folder / "key.json"
    mine = [dict(h, version=f"round{args.round}", code=commit_of(HERE)) for h in dump(HERE, args.n)]
    theirs = []
    if args.base:
        env = dict(os.environ, PYTHONPATH=str(args.base), H6_ROOT=str(args.base))
        got = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--dump", "--n", str(args.n)],
            cwd=args.base, env=env, capture_output=True, text=True, check=True,
        )
        theirs = [dict(h, version=args.base_name, code=args.base_code or args.base_name) for h in json.loads(got.stdout)]
    entries = mine + theirs
    random.Random(args.seed).shuffle(entries)
    p = args.prefix
    key = {
        f"{p}{i}": {"label": e["label"], "version": e["version"], "code": e["code"], "n": args.n, "kinds": e["kinds"]}
        for i, e in enumerate(entries, 1)
    }
    write_sheet(sheet_text([e["md"] for e in entries], p), key, args.sheet, args.key, args.copy)
    print(f"{len(entries)} handouts -> {args.sheet}" + (f" and {args.copy}" if args.copy else "") + f"; key -> {args.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
