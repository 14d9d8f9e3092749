"""Rhetorical role of a script sentence: 背景, 问题, 做法, 成效 or 感悟.

A 讲稿 tells a story: the place, the difficulty, what was done, what came of
it, what was learnt.  A practitioner asking "how do I…" wants the 做法, yet the
sentence that echoes their question most is usually the 问题 (they describe
their problem in the words the script uses for it).  The extractive answerer
therefore weighs each candidate sentence by its role (``assistant.answer``).

The model is a multinomial logistic regression over the sentence's character
1-3-grams (digits folded to ``0``, binary, L2-normalised), trained by
``eval/train_roles.py`` on the bundled corpus's 2,327 sentences, each labelled
with its role (``eval/sentence_roles.jsonl``; :func:`train` needs scikit-learn,
from the ``test`` extra).  Inference is a sparse dot product in numpy, about
0.2 ms a sentence: the answerer classifies its ~40 candidate sentences at
query time, the index build stores each passage's :func:`problem_share` for
retrieval, and documents added later are classified the same way.

The shipped model has read every sentence of the bundled corpus with its
label, so on those sentences it gives back its training labels, surely (0.97
of them, against 0.67 for a model that has not seen the script).  Where a
reading must behave as it will on a script added later — the case cards'
"fewer but surer" gates (:mod:`assistant.cards`) — :meth:`RoleModel.reading`
reads a sentence of the training set with the model trained without that
sentence's case (cross-fitted, leave-one-case-out; the table
``data/roles_held_out.json`` is written with the model by
``eval/train_roles.py``) and any other sentence with the full model.  A
script added later has no sentence in the table: it is read by the full model,
nothing retrained.

    >>> from assistant.roles import get_role_model
    >>> m = get_role_model()
    >>> m.predict("联合城管、派出所对小区地锁进行了拆除。")
    {'背景': 0.058, '问题': 0.078, '做法': 0.784, '成效': 0.074, '感悟': 0.006}
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunking import split_sentences
from assistant.errors import AssistantError

ROLES = ("背景", "问题", "做法", "成效", "感悟")
MODEL_PATH = Path(__file__).resolve().parent / "data" / "roles.json"
# the training sentences' leave-one-case-out readings: {"model": fingerprint of roles.json, "sentences": {text: p}}
HELD_OUT_PATH = MODEL_PATH.with_name("roles_held_out.json")
NGRAMS = (1, 2, 3)
MIN_DF = 2  # n-grams seen in fewer training sentences are dropped
C = 4.0  # inverse L2 strength: leave-one-case-out accuracy 0.654/0.667/0.668/0.667/0.669 for C = 1/2/4/8/16
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def features(sentence: str) -> list[str]:
    """Distinct character n-grams of a sentence; the same function trains and predicts."""
    text = _DIGITS.sub("0", unicodedata.normalize("NFKC", sentence))
    text = re.sub(r"\s+", "", text)
    grams = {text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1)}
    return sorted(grams)


class RoleModel:
    """Weights per n-gram and class; unknown n-grams are ignored."""

    def __init__(
        self,
        classes: list[str],
        weights: dict[str, list[float]],
        bias: list[float],
        held_out: dict[str, list[float]] | None = None,
    ) -> None:
        if list(classes) != list(ROLES):
            raise ValueError(f"role model classes {classes} != {list(ROLES)}")
        self.classes = list(classes)
        self.index = {g: i for i, g in enumerate(weights)}
        self.W = np.asarray(list(weights.values()), dtype=np.float32).reshape(len(weights), len(classes))
        self.b = np.asarray(bias, dtype=np.float32)
        # training sentence -> its reading by the model trained without its case (see the module docstring)
        self.held_out = {s: np.asarray(p, dtype=np.float64) for s, p in (held_out or {}).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "RoleModel":
        return cls(data["classes"], data["weights"], data["bias"])

    @classmethod
    def load(cls, path: Path = MODEL_PATH, held_out_path: Path | None = None) -> "RoleModel":
        """The model at ``path``, with the held-out readings of its training sentences at ``held_out_path``
        when that table was written for this very model (its ``model`` fingerprint); a table written for
        another model is not used."""
        try:
            raw = path.read_bytes()
            data = json.loads(raw.decode("utf-8"))
            held: dict[str, list[float]] | None = None
            if held_out_path is not None and held_out_path.exists():
                table = json.loads(held_out_path.read_text(encoding="utf-8"))
                if table.get("model") == fingerprint_of(raw):
                    held = table["sentences"]
            return cls(data["classes"], data["weights"], data["bias"], held)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AssistantError(
                f"句子角色模型 {path} 缺失或已损坏（{exc}）。请重新安装本程序，或运行 eval/train_roles.py 重新生成。"
            ) from None

    def probabilities(self, sentence: str) -> np.ndarray:
        """Class probabilities in ``self.classes`` order."""
        grams = features(sentence)
        rows = [self.index[g] for g in grams if g in self.index]
        logits = self.b.copy()
        if rows:
            logits += self.W[rows].sum(axis=0) / math.sqrt(len(grams))
        z = np.exp(logits - logits.max())
        return z / z.sum()

    def reading(self, sentence: str) -> np.ndarray:
        """Class probabilities as a model that has not seen ``sentence`` gives them: a sentence this model was
        trained on is read by the model trained without its case (cross-fitted); any other by this model."""
        held = self.held_out.get(sentence)
        return held.copy() if held is not None else self.probabilities(sentence)

    def predict(self, sentence: str) -> dict[str, float]:
        p = self.probabilities(sentence)
        return {c: round(float(x), 3) for c, x in zip(self.classes, p)}

    def role(self, sentence: str) -> str:
        return self.classes[int(np.argmax(self.probabilities(sentence)))]


# -- training (eval/train_roles.py) --------------------------------------------


def _matrix(grams: list[list[str]], vocab: dict[str, int]) -> Any:
    """Rows as :meth:`RoleModel.probabilities` sees them: 1/sqrt(#n-grams) per known n-gram."""
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, gs in enumerate(grams):
        for g in gs:
            j = vocab.get(g)
            if j is not None:
                rows.append(r)
                cols.append(j)
                vals.append(1.0 / math.sqrt(len(gs)))
    return csr_matrix((vals, (rows, cols)), shape=(len(grams), len(vocab)), dtype=np.float64)


def train(sentences: list[str], roles: list[str], c: float = C) -> dict:
    """Fit the model on labelled sentences; returns the JSON-ready dict :meth:`RoleModel.from_dict` reads."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # pragma: no cover - the test extra installs it
        raise RuntimeError("训练角色模型需要 scikit-learn：pip install -e '.[test]'") from None
    grams = [features(s) for s in sentences]
    df = Counter(g for gs in grams for g in gs)
    vocab = {g: i for i, g in enumerate(sorted(g for g, n in df.items() if n >= MIN_DF))}
    y = np.array([ROLES.index(r) for r in roles])
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(_matrix(grams, vocab), y)
    W = np.zeros((len(vocab), len(ROLES)))
    W[:, model.classes_] = model.coef_.T if len(model.classes_) > 2 else np.c_[-model.coef_[0], model.coef_[0]] / 2
    b = np.full(len(ROLES), -30.0)  # a role absent from the labels is never predicted
    b[model.classes_] = model.intercept_ if len(model.classes_) > 2 else [-model.intercept_[0] / 2, model.intercept_[0] / 2]
    weights = {g: [round(float(x), 4) for x in W[j]] for g, j in vocab.items() if np.abs(W[j]).max() >= 1e-3}
    return {"classes": list(ROLES), "bias": [round(float(x), 4) for x in b], "weights": weights}


@functools.lru_cache(maxsize=1)
def get_role_model() -> RoleModel:
    return RoleModel.load(MODEL_PATH, HELD_OUT_PATH)


def fingerprint_of(model_bytes: bytes) -> str:
    return hashlib.sha1(model_bytes).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """Identifies the shipped model; an index stores it next to the shares it computed with it."""
    return fingerprint_of(MODEL_PATH.read_bytes())


def problem_share(text: str, model: RoleModel | None = None) -> float:
    """Share of a passage's characters in sentences read as 问题 or 背景 (probability-weighted).

    Retrieval discounts passages by it (``HybridSearcher._discount_background``);
    the index computes it once per passage at build time (~0.4 ms a passage).
    """
    model = model or get_role_model()
    total = problem = 0.0
    for line in text.split("\n"):
        for a, b in split_sentences(line):
            if line[a:b].strip():
                p = model.probabilities(line[a:b])
                total += b - a
                problem += (b - a) * float(p[ROLES.index("问题")] + p[ROLES.index("背景")])
    return problem / total if total else 0.0
