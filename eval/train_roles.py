"""Train the sentence-role model (assistant/roles.py) from eval/sentence_roles.jsonl.

Each line of the label file: ``{"sid": "<case>:<start>:<end>", "role": …, "sentence": …}``,
one per sentence of the bundled corpus (how they were labelled: eval/README.md, "回答质量").
Prints leave-one-case-out accuracy and a confusion matrix (each case's
sentences classified by a model trained on the other cases), then fits on all
sentences and writes ``assistant/data/roles.json``.  ``--loco FILE`` also
writes the leave-one-case-out probabilities, for ``eval/roles_eval.py``.
Needs scikit-learn (``test`` extra); the shipped model needs only numpy.
About 8 minutes on 2 cores (21 leave-one-out fits).

    .venv/bin/python eval/train_roles.py [--loco /tmp/roles_loco.json] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.roles import MODEL_PATH, ROLES, RoleModel, train  # noqa: E402
from assistant import roles as roles_mod  # noqa: E402

LABELS = ROOT / "eval" / "sentence_roles.jsonl"


def loco(items: list[dict], c: float) -> np.ndarray:
    """Leave-one-case-out probabilities, shape (n, len(ROLES))."""
    cases = np.array([it["sid"].split(":")[0] for it in items])
    out = np.zeros((len(items), len(ROLES)))
    for case in sorted(set(cases)):
        held = [i for i, x in enumerate(cases) if x == case]
        rest = [it for it, x in zip(items, cases) if x != case]
        model = RoleModel.from_dict(train([it["sentence"] for it in rest], [it["role"] for it in rest], c))
        for i in held:
            out[i] = model.probabilities(items[i]["sentence"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", default=str(LABELS), help="label file (default eval/sentence_roles.jsonl)")
    ap.add_argument("--loco", help="write leave-one-case-out probabilities here (JSON: sentence -> probs)")
    ap.add_argument("--sweep", action="store_true", help="leave-one-case-out accuracy for C = 1, 2, 4, 8, 16")
    args = ap.parse_args()
    items = [json.loads(x) for x in Path(args.labels).read_text("utf-8").splitlines() if x.strip()]
    y = np.array([ROLES.index(it["role"]) for it in items])
    n_cases = len({it["sid"].split(":")[0] for it in items})
    print(f"{len(items)} sentences, {n_cases} cases: " + ", ".join(f"{r} {int((y == i).sum())}" for i, r in enumerate(ROLES)))
    for c in (1.0, 2.0, 4.0, 8.0, 16.0) if args.sweep else (roles_mod.C,):
        p = loco(items, c)
        pred = p.argmax(1)
        print(f"C={c:g}: leave-one-case-out accuracy {np.mean(pred == y):.3f}")
        if c == roles_mod.C:
            kept = p
    print("confusion (rows: label, columns: predicted) " + " ".join(ROLES))
    pred = kept.argmax(1)
    for i, r in enumerate(ROLES):
        print(f"  {r} " + " ".join(f"{int(((y == i) & (pred == j)).sum()):4d}" for j in range(len(ROLES))))
    if args.loco:
        table = {it["sentence"]: [round(float(x), 4) for x in row] for it, row in zip(items, kept)}
        Path(args.loco).write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    model = train([it["sentence"] for it in items], [it["role"] for it in items])
    MODEL_PATH.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)}: {len(model['weights'])} n-grams, {MODEL_PATH.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
