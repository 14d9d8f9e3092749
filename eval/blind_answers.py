"""A blind-reading sheet of the first block of two systems' answers, shuffled together.

Each system's answers come from ``assistant eval eval/dev.jsonl --answers --out FILE``
(today's system run from its own checkout, the new one from this one).  For every
answerable question each answer's first block is taken (:func:`assistant.evaluation.first_block`:
the first community's quotes; for an answer written as lines "…的做法：…", its first
such line) and written as plain text, without citation numbers or community labels, so
a reader cannot tell the systems apart by their format.  The items are shuffled with a
fixed seed and numbered; the key (item -> system, question id) goes to a separate file::

    (cd /work/main && .venv/bin/assistant eval eval/dev.jsonl --answers --out /tmp/old.jsonl)
    .venv/bin/assistant eval eval/dev.jsonl --answers --out /tmp/new.jsonl
    .venv/bin/python eval/blind_answers.py /tmp/old.jsonl /tmp/new.jsonl \\
        --sheet eval/blind_answers_sheet.md --key eval/blind_answers_key.json

Readers grade every item 答到 (a measure that addresses what is asked), 部分 (on topic,
misses the core) or 未答 (restates the problem, or off topic); ``--score GRADES.json``
({"1": "答到", …}) prints the counts per system.  With one answers file only, its blocks are read alone
(``--questions eval/coverage.jsonl``: how the blocks read where no gold string is quoted).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import answerable, first_block, read_questions  # noqa: E402

SEED = 13
GRADES = ("答到", "部分", "未答")


def blocks(path: Path) -> dict[str, str]:
    """Question id -> the text of the answer's first block ("" for a refusal)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cites = [SimpleNamespace(**c) for c in row["citations"]]
        out[row["id"]] = first_block(row["answer"], cites) if row["answered"] else ""
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old", type=Path, help="today's answers (eval --answers --out)")
    ap.add_argument("new", type=Path, nargs="?", help="the new answers (none: one system's blocks, read alone)")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "dev.jsonl")
    ap.add_argument("--sheet", type=Path, default=ROOT / "eval" / "blind_answers_sheet.md")
    ap.add_argument("--key", type=Path, default=ROOT / "eval" / "blind_answers_key.json")
    ap.add_argument("--score", type=Path, help="a reader's grades (JSON: item number -> 答到/部分/未答)")
    args = ap.parse_args()
    if args.score:
        key = json.loads(args.key.read_text(encoding="utf-8"))
        grades = json.loads(args.score.read_text(encoding="utf-8"))
        for system in sorted({k["system"] for k in key.values()}):
            got = [grades[n] for n, k in key.items() if k["system"] == system and n in grades]
            print(system, " ".join(f"{g} {got.count(g)}" for g in GRADES), f"(of {len(got)})")
        return
    items = [q for q in read_questions(args.questions) if answerable(q)]
    systems = [("old", blocks(args.old)), ("new", blocks(args.new))] if args.new else [("only", blocks(args.old))]
    entries = [(q, system, texts[q["id"]]) for q in items for system, texts in systems if q["id"] in texts]
    random.Random(SEED).shuffle(entries)
    lines = [
        "# 盲评：回答的第一段（第一个社区的摘录）",
        "",
        "每一条是一个问题和一段回答（讲稿原文摘录）。请判断这段回答对这个问题：",
        "**答到**（给出了针对所问的做法）/ **部分**（话题相关，但没答到要点）/ **未答**（只复述了问题，或答非所问）。",
        "",
    ]
    key = {}
    for n, (q, system, text) in enumerate(entries, 1):
        key[str(n)] = {"system": system, "id": q["id"]}
        lines += [f"## {n}", "", f"**问题**：{q['question']}", "", f"**回答**：{text or '（未作答：案例库中没有找到直接相关的做法）'}", "", "评分：", ""]
    args.sheet.write_text("\n".join(lines), encoding="utf-8")
    args.key.write_text(json.dumps(key, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(entries)} items -> {args.sheet}, key -> {args.key}")


if __name__ == "__main__":
    main()
