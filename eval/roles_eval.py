"""Answer quality with sentence roles a model never saw the case of.

The shipped role model (assistant/data/roles.json) was trained on every
sentence of the bundled corpus, so on that corpus it is better than on a new
document.  This script scores the dev set's answers (``evaluate_answers``) three
ways: without roles, with the shipped model, and with each sentence's role
from the model trained on the other 20 cases (``eval/train_roles.py --loco``),
which is what a newly added script gets.

    .venv/bin/python eval/train_roles.py --loco /tmp/roles_loco.json
    .venv/bin/python eval/roles_eval.py /tmp/roles_loco.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import answer as ans  # noqa: E402
from assistant.evaluation import evaluate_answers, read_questions  # noqa: E402
from assistant.roles import ROLES, get_role_model  # noqa: E402


class FixedRoles:
    """Role probabilities looked up by sentence text (leave-one-case-out), else uniform."""

    classes = list(ROLES)

    def __init__(self, table: dict[str, list[float]] | None) -> None:
        self.table = table or {}
        self.missing = 0

    def probabilities(self, sentence: str) -> np.ndarray:
        p = self.table.get(sentence)
        if p is None:
            self.missing += 1
            return np.full(len(ROLES), 1 / len(ROLES))
        return np.asarray(p)


def main() -> None:
    loco = json.loads(Path(sys.argv[1]).read_text("utf-8")) if len(sys.argv) > 1 else None
    searcher = ans.get_answerer().searcher
    items = read_questions(ROOT / "eval" / "dev.jsonl")
    variants = {"no roles": FixedRoles(None), "shipped model": get_role_model()}
    if loco:
        variants["leave-one-case-out"] = FixedRoles(loco)
    for name, roles in variants.items():
        answerer = ans.Answerer(searcher, roles=roles)  # type: ignore[arg-type]
        report = evaluate_answers(lambda q: answerer.ask(q), items, searcher.index.passages)
        m = report.metrics
        print(
            f"{name:<20} top_sentence_evidence {m['top_sentence_evidence']:.3f}  "
            f"refused unanswerable {m['refused_unanswerable']:.3f}  answerable {m['refused_answerable']:.3f}"
        )


if __name__ == "__main__":
    main()
