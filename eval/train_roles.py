"""Train the sentence-role model (assistant/roles.py) from eval/sentence_roles.jsonl.

Each line of the label file: ``{"sid": "<case>:<start>:<end>", "role": …, "sentence": …}``,
one per sentence of the bundled corpus (how they were labelled: eval/README.md, "回答质量").
Prints leave-one-case-out accuracy and a confusion matrix (each case's
sentences classified by a model trained on the other cases), then fits on all
sentences and writes ``assistant/data/roles.json`` and, next to it,
``assistant/data/roles_held_out.json``: each training sentence's
leave-one-case-out probabilities, stamped with the fingerprint of the model
written, which :meth:`assistant.roles.RoleModel.reading` gives for a sentence
the model was trained on (the case cards read the bundled scripts with it as a
script added later is read).  ``--loco FILE`` also writes the leave-one-case-out
probabilities alone, for ``eval/roles_eval.py``.  ``--cache DIR`` keeps the 21
leave-one-case-out models there (the layout of ``eval/cards_eval.py --cache``,
refitted when the labels change); ``--held-out-only`` writes the table for the
model already in ``assistant/data/roles.json`` without refitting it.
Needs scikit-learn (``test`` extra); the shipped model needs only numpy.
About 8 minutes on 2 cores (21 leave-one-out fits).

    .venv/bin/python eval/train_roles.py [--loco /tmp/roles_loco.json] [--sweep]
    .venv/bin/python eval/train_roles.py --held-out-only --cache /tmp/cards_eval_loco
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.roles import HELD_OUT_PATH, MODEL_PATH, ROLES, RoleModel, fingerprint_of, train  # noqa: E402
from assistant import roles as roles_mod  # noqa: E402

LABELS = ROOT / "eval" / "sentence_roles.jsonl"


def loco(items: list[dict], c: float, cache: Path | None = None, labels_key: str = "") -> np.ndarray:
    """Leave-one-case-out probabilities, shape (n, len(ROLES)); the fold models of the default C are kept in
    ``cache`` (``<case>.json`` with ``<case>.labels`` holding the labels' digest), when given."""
    cases = np.array([it["sid"].split(":")[0] for it in items])
    out = np.zeros((len(items), len(ROLES)))
    for case in sorted(set(cases)):
        held = [i for i, x in enumerate(cases) if x == case]
        rest = [it for it, x in zip(items, cases) if x != case]
        path = cache / f"{case}.json" if cache and c == roles_mod.C else None
        stamp = path.with_suffix(".labels") if path else None
        if path and stamp and path.exists() and stamp.exists() and stamp.read_text() == labels_key:
            data = json.loads(path.read_text("utf-8"))
        else:
            data = train([it["sentence"] for it in rest], [it["role"] for it in rest], c)
            if path and stamp:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(data), "utf-8")
                stamp.write_text(labels_key)
        model = RoleModel.from_dict(data)
        for i in held:
            out[i] = model.probabilities(items[i]["sentence"])
    return out


def held_out_table(items: list[dict], probs: np.ndarray, model_bytes: bytes) -> dict:
    """The training sentences' leave-one-case-out readings, for the model ``model_bytes`` (its fingerprint).
    A sentence labelled in two cases keeps its first reading."""
    sentences: dict[str, list[float]] = {}
    for it, row in zip(items, probs):
        sentences.setdefault(it["sentence"], [round(float(x), 4) for x in row])
    return {"model": fingerprint_of(model_bytes), "sentences": sentences}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", default=str(LABELS), help="label file (default eval/sentence_roles.jsonl)")
    ap.add_argument("--loco", help="write leave-one-case-out probabilities here (JSON: sentence -> probs)")
    ap.add_argument("--sweep", action="store_true", help="leave-one-case-out accuracy for C = 1, 2, 4, 8, 16")
    ap.add_argument("--cache", help="keep the leave-one-case-out models here (eval/cards_eval.py's layout)")
    ap.add_argument(
        "--held-out-only", action="store_true",
        help=f"write only {HELD_OUT_PATH.name}, for the model already in {MODEL_PATH.name} (no refit)",
    )
    args = ap.parse_args()
    labels_bytes = Path(args.labels).read_bytes()
    labels_key = hashlib.sha1(labels_bytes).hexdigest()
    cache = Path(args.cache) if args.cache else None
    items = [json.loads(x) for x in labels_bytes.decode("utf-8").splitlines() if x.strip()]
    y = np.array([ROLES.index(it["role"]) for it in items])
    n_cases = len({it["sid"].split(":")[0] for it in items})
    print(f"{len(items)} sentences, {n_cases} cases: " + ", ".join(f"{r} {int((y == i).sum())}" for i, r in enumerate(ROLES)))
    for c in (1.0, 2.0, 4.0, 8.0, 16.0) if args.sweep else (roles_mod.C,):
        p = loco(items, c, cache, labels_key)
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
    if not args.held_out_only:
        model = train([it["sentence"] for it in items], [it["role"] for it in items])
        MODEL_PATH.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {MODEL_PATH.relative_to(ROOT)}: {len(model['weights'])} n-grams, {MODEL_PATH.stat().st_size // 1024} KB")
    table = held_out_table(items, kept, MODEL_PATH.read_bytes())
    HELD_OUT_PATH.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(
        f"wrote {HELD_OUT_PATH.relative_to(ROOT)}: {len(table['sentences'])} training sentences' held-out readings, "
        f"{HELD_OUT_PATH.stat().st_size // 1024} KB"
    )


if __name__ == "__main__":
    main()
