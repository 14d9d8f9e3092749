"""Write the link-audit reading sheets (session 10): every bundled link's question with its passage.

Each item shows the question, the passage's headings, the passage and up to 150 characters of the
passages before and after it in the same section; the items are shuffled (seed 7) and dealt into six
sheets, one per reader.  The readers' grades are pass1_grades.json (答 / 部分 / 否 and a reason).

Usage::

    .venv/bin/python eval/blind/links_audit/sheets.py OUT_DIR
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from assistant.chunking import chunk_cases  # noqa: E402
from assistant.corpus import load_corpus  # noqa: E402
from assistant.links import load_links, resolve  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cases = load_corpus(ROOT / "corpus")
    passages = chunk_cases(cases)
    resolved, _ = resolve(load_links(ROOT / "corpus"), cases, passages)
    items = []
    for r in resolved:
        i, p = r.passage, passages[r.passage]

        def same(j: int) -> bool:
            return 0 <= j < len(passages) and passages[j].case_id == p.case_id and passages[j].section == p.section

        before = passages[i - 1].text[-150:] if same(i - 1) else ""
        after = passages[i + 1].text[:150] if same(i + 1) else ""
        items.append((r.link.id, r.link.question, " > ".join(p.section) or "（开头）", before, p.text, after))
    random.Random(7).shuffle(items)
    for b in range(6):
        part = items[b::6]
        lines = [f"# 批次 {b + 1}：{len(part)} 条\n"]
        for link_id, question, section, before, text, after in part:
            lines.append(f"## {link_id}\n问题：{question}\n小标题：{section}")
            if before:
                lines.append(f"上文：……{before}")
            lines.append(f"段落：{text}")
            if after:
                lines.append(f"下文：{after}……")
            lines.append("")
        (out / f"batch{b + 1}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
