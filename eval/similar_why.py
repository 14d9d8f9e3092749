"""为什么相似 for the similar-case questions: the 9 of eval/dev.jsonl (kind "similar") and the
10 of eval/similar_new.jsonl (written before the finder was run on them).

Prints, per situation, the gold case's rank and the top card's 为什么相似.
``--sheet`` writes the blind-reading sheet eval/blind_similar_sheet.md: each
situation with a card's title and its 为什么相似, the reason as shown before
issue 14 (shared tags and matched words) and as shown now, shuffled together
and numbered S1…S38, for readers to judge "convincing: yes / no"; the key
(which number is which situation, version and whether the card is the gold
case) goes to eval/blind_similar_key.json.

    .venv/bin/python eval/similar_why.py [--sheet] [--seed 14]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import read_questions  # noqa: E402
from assistant.retrieval import get_searcher  # noqa: E402
from assistant.similar import SimilarCase, SimilarFinder  # noqa: E402

RAW_TOKENS = re.compile(r"（[^）]*、[^）]*）")  # "问题描述相近（居民、小区、委会、2000）"


def old_why(r: SimilarCase) -> str:
    """The reason as the finder gave it before issue 14: shared tags and the words the passages share."""
    bits = []
    if r.shared_tags:
        bits.append(f"共同话题：{'、'.join(r.shared_tags)}")
    terms: list[str] = []
    for p in r.passages:
        terms += [t for t in p.terms if t not in terms]
    if terms:
        bits.append(f"问题描述相近（{'、'.join(terms[:6])}）")
    elif r.passages:
        bits.append("问题描述语义相近")
    return "；".join(bits)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheet", action="store_true")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    items = [q for q in read_questions(ROOT / "eval" / "dev.jsonl") if q.get("kind") == "similar"]
    items += read_questions(ROOT / "eval" / "similar_new.jsonl")
    finder = SimilarFinder(get_searcher())
    rows = []
    for q in items:
        res = finder.find(q["question"], k=3)
        top = res[0]
        authors = [r.card.author for r in res]
        rank = authors.index(q["gold_author"]) + 1 if q["gold_author"] in authors else None
        rows.append({"id": q["id"], "question": q["question"], "gold": q["gold_author"], "rank": rank,
                     "title": top.card.title, "author": top.card.author, "community": top.card.community,
                     "why": top.why, "old_why": old_why(top),
                     "grounded": bool(top.reason and (top.reason.situation or top.reason.measure))})
    hits = sum(1 for r in rows if r["rank"] == 1)
    print(f"gold case first: {hits}/{len(rows)}; in top 3: {sum(1 for r in rows if r['rank'])}/{len(rows)}")
    print(f"reasons with raw token lists: {sum(bool(RAW_TOKENS.search(r['why'])) for r in rows)} now, "
          f"{sum(bool(RAW_TOKENS.search(r['old_why'])) for r in rows)} before; "
          f"reasons linked to a span: {sum(r['grounded'] for r in rows)}/{len(rows)}")
    for r in rows:
        print(f"\n{r['id']}  gold {r['gold']} rank {r['rank']}  top: {r['community']}（{r['author']}）")
        print(f"  情况：{r['question']}")
        print(f"  now:    {r['why']}")
        print(f"  before: {r['old_why']}")
    if args.sheet:
        entries = [(r, "new") for r in rows] + [(r, "old") for r in rows]
        random.Random(args.seed).shuffle(entries)
        lines = [
            "# “为什么相似”盲评表",
            "",
            "每一条是一位基层干部描述的情况，以及系统推荐的案例和它给出的“为什么相似”。请只看这几行判断：",
            "**这个“为什么相似”是否有说服力**——读完能明白这个案例和描述的情况哪里相似、值得借鉴什么？（是 / 否）",
            "",
        ]
        key = {}
        for i, (r, version) in enumerate(entries, 1):
            key[f"S{i}"] = {"id": r["id"], "version": version, "top_is_gold": r["rank"] == 1}
            lines += [
                f"## S{i}",
                "",
                f"**情况描述：** {r['question']}",
                "",
                f"**推荐案例：** 《{r['title']}》",
                "",
                f"**为什么相似：** {r['why'] if version == 'new' else r['old_why']}",
                "",
                "**有说服力吗：** □ 是　□ 否",
                "",
            ]
        (ROOT / "eval" / "blind_similar_sheet.md").write_text("\n".join(lines), encoding="utf-8")
        (ROOT / "eval" / "blind_similar_key.json").write_text(json.dumps(key, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print("\nwrote eval/blind_similar_sheet.md and eval/blind_similar_key.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
