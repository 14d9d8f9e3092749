"""Handouts for 5 cases and 5 topics, checked as a trainer would hand them out.

For each handout (8 questions, the four kinds twice) it prints:

- repeated quotes: spans quoted more than once (same words, or the same cited sentence);
- long quotes: quoted spans longer than ``QUOTE_CHARS`` (60) characters;
- the largest pairwise overlap of two questions' own words (character-bigram
  Jaccard with the quotes left out) and whether it stays below ``MAX_OVERLAP``;
- role-play parties whose cited sentence does not mention them;
- internal ids ("sj2025-20") or character offsets ("第 1437–1478 字") in the
  Markdown, the .docx text and the UI preview;
- the .docx page size and language.

``--sheet`` also writes the blind-reading sheet: the 10 handouts' Markdown,
shuffled and numbered H1…H10 (eval/blind_handouts_sheet.md), and the key
mapping numbers to case or topic (eval/blind_handouts_key.json).

    .venv/bin/python eval/handout_eval.py [--n 8] [--sheet] [--seed 14]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.cards import load_cards  # noqa: E402
from assistant.handout import (  # noqa: E402
    MAX_OVERLAP,
    QUOTE_CHARS,
    build_handout,
    max_overlap,
    party_pattern,
    to_docx_bytes,
    to_markdown,
)
from assistant.taxonomy import load_taxonomy  # noqa: E402
from assistant.ui import render  # noqa: E402

CASES = ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-07", "sj2025-12")
TOPICS = ("新就业群体", "停车", "加装电梯", "业委会", "动迁安置")
INTERNAL = re.compile(r"sj\d{4}-\d+|第\s*\d+\s*[–-]\s*\d+\s*字")


def check(h) -> dict:
    from docx import Document

    taxonomy = load_taxonomy()
    quotes = [q for qu in h.questions for q in qu.quotes]
    spans = [(h.sources[n - 1][0].start, h.sources[n - 1][0].case_id) for qu in h.questions for n in _quoted_numbers(qu)]
    repeated = len(quotes) - len({re.sub(r"\s+", "", q) for q in quotes}) + len(spans) - len(set(spans))
    long_quotes = [q for q in quotes if len(q) > QUOTE_CHARS]
    unbacked = []
    for qu in h.questions:
        for party, n in qu.parties:
            role = next(r for r in taxonomy.roles if r.name == party)
            if not party_pattern(role).search(h.sources[n - 1][0].quote):
                unbacked.append(party)
    md = to_markdown(h)
    data = to_docx_bytes(h)
    doc = Document(io.BytesIO(data))
    docx_text = "\n".join(p.text for p in doc.paragraphs)
    sec = doc.sections[0]
    styles = doc.styles.element.xml
    return {
        "questions": len(h.questions),
        "kinds": [q.kind for q in h.questions],
        "quotes": len(quotes),
        "repeated_quotes": repeated,
        "long_quotes": len(long_quotes),
        "max_overlap": round(max_overlap(h.questions), 3),
        "unbacked_parties": unbacked,
        "internal_ids": len(INTERNAL.findall(md + docx_text + re.sub(r"<[^>]+>", " ", render.handout_view(h)))),
        "a4": (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7),
        "zh_cn": 'w:eastAsia="zh-CN"' in styles and 'w:val="zh-CN"' in styles,
        "md": md,
    }


def _quoted_numbers(q) -> list[int]:
    """Source numbers that follow a quote in the question text (“…”[n])."""
    return [int(n) for n in re.findall(r"”\[(\d+)\]", q.text)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--sheet", action="store_true", help="write eval/blind_handouts_sheet.md and the key")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    cards = load_cards(ROOT / "corpus")
    rows = []
    for label, kw in [(c, {"case_id": c}) for c in CASES] + [(t, {"topic": t}) for t in TOPICS]:
        h = build_handout(cards, n=args.n, **kw)
        r = check(h)
        r["label"] = label if "case_id" not in kw else f"{label} {cards[label].community}"
        r["title"] = h.title
        rows.append(r)
    print(f"| handout | questions | quotes | repeated quotes | quotes > {QUOTE_CHARS} chars | max overlap | "
          "unbacked parties | ids/offsets | A4 | zh-CN |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['label']} | {r['questions']} | {r['quotes']} | {r['repeated_quotes']} | {r['long_quotes']} | "
            f"{r['max_overlap']:.3f} | {len(r['unbacked_parties'])} | {r['internal_ids']} | {r['a4']} | {r['zh_cn']} |"
        )
    worst = max(r["max_overlap"] for r in rows)
    total_rep = sum(r["repeated_quotes"] for r in rows)
    print(
        f"\nrepeated quotes in all {len(rows)} handouts: {total_rep}; largest pairwise overlap of two questions: "
        f"{worst:.3f} (threshold {MAX_OVERLAP}); questions per handout: "
        f"{sorted({r['questions'] for r in rows})}"
    )
    if args.sheet:
        order = list(range(len(rows)))
        random.Random(args.seed).shuffle(order)
        sheet = [
            "# 培训讲义盲评表",
            "",
            "下面是 10 份由系统生成的培训讨论题讲义（编号 H1–H10，顺序随机）。请只根据讲义本身判断：",
            "**这份讲义能否不经修改直接在培训课上发给学员使用？**（能 / 不能；不能时请写一句原因）",
            "",
        ]
        key = {}
        for i, k in enumerate(order, 1):
            r = rows[k]
            key[f"H{i}"] = r["label"]
            body = re.sub(r"^# ", "### ", r["md"], flags=re.M)
            body = re.sub(r"^## ", "#### ", body, flags=re.M)
            sheet += ["---", "", f"## H{i}", "", body.strip(), "", "**能否直接使用：** □ 能　□ 不能　原因：", ""]
        (ROOT / "eval" / "blind_handouts_sheet.md").write_text("\n".join(sheet) + "\n", encoding="utf-8")
        (ROOT / "eval" / "blind_handouts_key.json").write_text(json.dumps(key, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print("wrote eval/blind_handouts_sheet.md and eval/blind_handouts_key.json")
    bad = total_rep or worst >= MAX_OVERLAP or any(r["unbacked_parties"] or r["internal_ids"] or r["long_quotes"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
