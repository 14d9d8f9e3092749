"""为什么相似 for the similar-case questions: the 9 of eval/dev.jsonl (kind "similar") and the
10 of eval/similar_new.jsonl (written before the finder was run on them).

Prints, per situation, the gold case's rank and the top card's 为什么相似,
and checks each reason: the quotes read on their own
(:func:`assistant.quoting.reads_alone`), no bare method name stands for the
measure, the difficulty is quoted from a sentence that states one.

``--sheet`` writes the blind-reading sheet eval/blind_similar_sheet.md: each
situation with the top card's title and its 为什么相似 as shown now (round 2),
plus, for calibration, ``--calibrate`` reasons of the first round
(eval/blind/round1/, with the first reader's grade in the key), shuffled
together and numbered W1…; readers judge "convincing: yes / no"; the key
(which number is which situation, which round, whether the card is the gold
case, the first reader's grade of a calibration item) goes to
eval/blind_similar_key.json.

    .venv/bin/python eval/similar_why.py [--sheet] [--seed 214] [--calibrate 5] [--prefix W]
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
from assistant.quoting import reads_alone  # noqa: E402
from assistant.retrieval import get_searcher  # noqa: E402
from assistant.similar import SimilarCase, SimilarFinder  # noqa: E402

RAW_TOKENS = re.compile(r"（[^）]*、[^）]*）")  # "问题描述相近（居民、小区、委会、2000）"
ROUND1 = ROOT / "eval" / "blind" / "round1"
BARE_METHOD = re.compile(r"做法：“?[^，。“”]{0,12}(?:工作法|模式|机制|法)”?。")  # "值得借鉴的做法："四三"工作法。"


def round1_reasons() -> list[dict]:
    """The first round's new reasons with the first reader's grade: ``{id, why, convincing}``."""
    key = json.loads((ROUND1 / "blind_similar_key.json").read_text(encoding="utf-8"))
    grades = {}
    for line in (ROUND1 / "similar_reader1.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            grades[g["item"]] = g["convincing"]
    sheet = (ROUND1 / "blind_similar_sheet.md").read_text(encoding="utf-8")
    out = []
    for item, k in key.items():
        if k["version"] != "new":
            continue
        m = re.search(rf"^## {item}\n.*?\*\*为什么相似：\*\* (.*?)\n", sheet, flags=re.S | re.M)
        if m:
            out.append({"id": k["id"], "item": item, "why": m.group(1), "convincing": grades.get(item)})
    return out


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
    ap.add_argument("--seed", type=int, default=214)
    ap.add_argument("--calibrate", type=int, default=5, help="round-1 reasons mixed in for calibration")
    ap.add_argument("--prefix", default="W", help="item numbers: W1… (round 1 used S1…S38)")
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
    quotes = [(r["id"], q) for r in rows for q in re.findall(r"“([^”]+)”", r["why"])]
    fragments = [(i, q) for i, q in quotes if not reads_alone(q)]
    bare = [r["id"] for r in rows if BARE_METHOD.search(r["why"])]
    no_measure = [r["id"] for r in rows if "值得借鉴" not in r["why"]]
    hits = sum(1 for r in rows if r["rank"] == 1)
    print(f"gold case first: {hits}/{len(rows)}; in top 3: {sum(1 for r in rows if r['rank'])}/{len(rows)}")
    print(f"reasons with raw token lists: {sum(bool(RAW_TOKENS.search(r['why'])) for r in rows)} now, "
          f"{sum(bool(RAW_TOKENS.search(r['old_why'])) for r in rows)} before; "
          f"reasons linked to a span: {sum(r['grounded'] for r in rows)}/{len(rows)}")
    print(f"quoted spans: {len(quotes)}, not reading alone: {len(fragments)} {fragments}; "
          f"bare method names as the measure: {len(bare)} {bare}; reasons without a measure: {len(no_measure)} {no_measure}")
    for r in rows:
        print(f"\n{r['id']}  gold {r['gold']} rank {r['rank']}  top: {r['community']}（{r['author']}）")
        print(f"  情况：{r['question']}")
        print(f"  now:    {r['why']}")
        print(f"  before: {r['old_why']}")
    if args.sheet:
        old = round1_reasons()
        rng = random.Random(args.seed)
        # calibration: as many the first reader found convincing as not, where possible
        yes = [o for o in old if o["convincing"]]
        no = [o for o in old if o["convincing"] is False]
        k_yes = min(len(yes), (args.calibrate + 1) // 2)
        calib = rng.sample(yes, k_yes) + rng.sample(no, min(len(no), args.calibrate - k_yes))
        by_id = {r["id"]: r for r in rows}
        entries = [(r, "round2", r["why"], None) for r in rows] + [
            (by_id[o["id"]], "round1", o["why"], o) for o in calib if o["id"] in by_id
        ]
        rng.shuffle(entries)
        p = args.prefix
        lines = [
            "# “为什么相似”盲评表",
            "",
            "每一条是一位基层干部描述的情况，以及系统推荐的案例和它给出的“为什么相似”。请只看这几行判断：",
            "**这个“为什么相似”是否有说服力**——读完能明白这个案例和描述的情况哪里相似、值得借鉴什么？（是 / 否）",
            "",
        ]
        key = {}
        for i, (r, version, why, o) in enumerate(entries, 1):
            key[f"{p}{i}"] = {"id": r["id"], "version": version, "top_is_gold": r["rank"] == 1}
            if o is not None:
                key[f"{p}{i}"] |= {"round1_item": o["item"], "round1_convincing": o["convincing"]}
            lines += [
                f"## {p}{i}",
                "",
                f"**情况描述：** {r['question']}",
                "",
                f"**推荐案例：** 《{r['title']}》",
                "",
                f"**为什么相似：** {why}",
                "",
                "**有说服力吗：** □ 是　□ 否",
                "",
            ]
        (ROOT / "eval" / "blind_similar_sheet.md").write_text("\n".join(lines), encoding="utf-8")
        (ROOT / "eval" / "blind_similar_key.json").write_text(json.dumps(key, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote eval/blind_similar_sheet.md ({len(entries)} items: {len(rows)} round 2, {len(entries) - len(rows)} round 1) "
              "and eval/blind_similar_key.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
