"""The round-5 checks (:func:`assistant.handout.question_faults`) applied to handouts saved as JSON
(:meth:`assistant.handout.Handout.to_dict`, e.g. those another version of the code wrote): how many questions of
each handout would be rejected, and why.  Used for the before/after figures in eval/cards_eval.md.

    .venv/bin/python eval/handout_faults_of.py handouts.json
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.cards import load_cards  # noqa: E402
from assistant.handout import Question, generic_bigrams, question_faults  # noqa: E402


def main() -> int:
    data = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    cards = load_cards(ROOT / "corpus")
    generic = generic_bigrams(cards)
    why: collections.Counter = collections.Counter()
    print("| handout | questions | with a fault | kinds (情境/对比/角色/反思) |")
    print("|---|---|---|---|")
    total = bad_total = 0
    for label, h in data.items():
        items = [(SimpleNamespace(quote=s["quote"], case_id=s["case_id"], start=s["start"]), cards[s["case_id"]]) for s in h["sources"]]
        bad = 0
        for q in h["questions"]:
            qu = Question(q["kind"], q["text"], q["sources"], q["quotes"], [(p["party"], p["source"]) for p in q["parties"]])
            faults = question_faults(qu, items, generic)
            bad += bool(faults)
            why.update({f.split("：")[0] for f in faults})
        kinds = "/".join(str(sum(q["kind"] == k for q in h["questions"])) for k in ("情境研讨", "对比分析", "角色扮演", "反思迁移"))
        print(f"| {label} | {len(h['questions'])} | {bad} | {kinds} |")
        total += len(h["questions"])
        bad_total += bad
    print(f"\n{bad_total} of {total} questions have a fault; handouts without any: "
          f"{sum(1 for h in data.values() if not any(question_faults(Question(q['kind'], q['text'], q['sources'], q['quotes'], [(p['party'], p['source']) for p in q['parties']]), [(SimpleNamespace(quote=s['quote'], case_id=s['case_id'], start=s['start']), cards[s['case_id']]) for s in h['sources']], generic) for q in h['questions']))} of {len(data)}")
    print("why: " + "; ".join(f"{k} {v}" for k, v in why.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
