"""Round 5 of the blind reading of the handouts: the same 5 cases and 5 topics as rounds 3 and 4.

Writes the sheet (the handouts' Markdown only, shuffled, numbered N1…N10, nothing that tells which case or
topic a number is beyond what the handout itself shows) and, in a separate file, the key.  The integrator copies
the sheet to the readers; they never see the key or the code.

    .venv/bin/python eval/blind_handouts_sheet_r5.py [--n 6] [--seed 2026] [--prefix N] \\
        [--sheet eval/blind/round5/sheet.md] [--key eval/blind/round5/key.json] [--copy /work/plan/blind/r5/sheet.md]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.cards import load_cards  # noqa: E402
from assistant.handout import build_handout, to_markdown  # noqa: E402

CASES = ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-07", "sj2025-12")
TOPICS = ("新就业群体", "停车", "加装电梯", "业委会", "动迁安置")


def sheet_body(entries: list[tuple[str, str]], prefix: str) -> tuple[list[str], dict]:
    lines = [
        "# 培训讲义盲评表",
        "",
        f"下面是 {len(entries)} 份由系统生成的培训讨论题讲义（编号 {prefix}1–{prefix}{len(entries)}，顺序随机）。请只根据讲义本身判断：",
        "**这份讲义能否不经修改直接在培训课上发给学员使用？**（能 / 不能；不能时请写一句原因）",
        "",
    ]
    key = {}
    for i, (label, md) in enumerate(entries, 1):
        key[f"{prefix}{i}"] = label
        body = re.sub(r"^# ", "### ", md, flags=re.M)
        body = re.sub(r"^## ", "#### ", body, flags=re.M)
        lines += ["---", "", f"## {prefix}{i}", "", body.strip(), "", "**能否直接使用：** □ 能　□ 不能　原因：", ""]
    return lines, key


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
    lines, labels = sheet_body(entries, args.prefix)
    text = "\n".join(lines) + "\n"
    key = {k: {"label": v, "version": "round5", "code": commit, "n": args.n} for k, v in labels.items()}
    for path in [args.sheet] + ([args.copy] if args.copy else []):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    args.key.parent.mkdir(parents=True, exist_ok=True)
    args.key.write_text(json.dumps(key, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(entries)} handouts -> {args.sheet}" + (f" and {args.copy}" if args.copy else "") + f"; key -> {args.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
