"""The coverage judgement (有 / 部分 / 没有) on eval/coverage.jsonl, one half at a time.

Prints, for the half, the share of each gold label judged full / partial / none
(the same figures as ``assistant eval eval/coverage.jsonl --answers --half HALF``),
and with ``--partial-md FILE`` writes every gold-partial question of the half with
what the answer named as not covered beside the gold ``uncovered``, for a reader
to judge (eval/coverage_partial.md)::

    .venv/bin/python eval/coverage_eval.py tune
    .venv/bin/python eval/coverage_eval.py test --partial-md eval/coverage_partial.md --append

The tune half was used to build the judgement; the test half is read once, at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import Answerer  # noqa: E402
from assistant.config import get_settings  # noqa: E402
from assistant.evaluation import evaluate_answers, gold_label  # noqa: E402
from assistant.retrieval import HybridSearcher  # noqa: E402

LABELS = {"full": "有", "partial": "部分", "none": "没有"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("half", choices=("tune", "test"))
    parser.add_argument("--partial-md", help="write the gold-partial questions with the named uncovered part here")
    parser.add_argument("--append", action="store_true", help="append the half's section to --partial-md")
    args = parser.parse_args()
    items = [json.loads(x) for x in (ROOT / "eval" / "coverage.jsonl").read_text("utf-8").splitlines() if x.strip()]
    items = [i for i in items if i["half"] == args.half]
    settings = get_settings()
    answerer = Answerer(HybridSearcher.from_settings(settings), settings)
    answers = {}

    def ask(question: str):
        answers[question] = answerer.ask(question, use_llm=False)
        return answers[question]

    report = evaluate_answers(ask, items, answerer.searcher.index.passages)
    print(f"eval/coverage.jsonl, half {args.half}: {len(items)} questions")
    for name, value in report.metrics.items():
        if name.startswith("gold="):
            print(f"  {name:<28}{value:6.3f}  (n={report.counts[name]})")
    if args.partial_md:
        rows = [i for i in items if gold_label(i) == "partial"]
        lines = [
            f"## {args.half} half: {len(rows)} gold-partial questions", "",
            "| id | question | judged | named as not covered | gold uncovered | gold covered |",
            "|---|---|---|---|---|---|",
        ]
        for i in rows:
            a = answers[i["question"]]
            named = "、".join(a.uncovered) or "—"
            lines.append(
                f"| {i['id']} | {i['question']} | {LABELS[a.coverage]} | {named} | {i.get('uncovered') or ''} "
                f"| {i.get('covered') or ''} |"
            )
        text = "\n".join(lines) + "\n\n"
        path = Path(args.partial_md)
        if args.append and path.exists():
            text = path.read_text("utf-8") + text
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
