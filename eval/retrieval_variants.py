"""Fusion, diversity and sentence-scoring variants, measured on the tune halves only.

Each variant patches :class:`assistant.retrieval.HybridSearcher` or
:class:`assistant.extractive.Extractor` in this process (nothing is written)
and prints, on one line: how many tune questions' first answer block holds
gold evidence (dev odd, coverage tune, follow-ups tune, and the answerable
``half == "tune"`` questions of ``eval/holdout_r4.jsonl``), then the dev retrieval
floor (evidence within 600 / 1,200 characters, all of eval/dev.jsonl, with and
without the link routes).  The test halves are never read here.

Usage::

    .venv/bin/python eval/retrieval_variants.py                 # every variant, after the shipped version
    .venv/bin/python eval/retrieval_variants.py base zscore     # the named ones
    .venv/bin/python eval/retrieval_variants.py --ranks         # where the shipped version's misses have their evidence

Results and reading: eval/answers.md, "Round 4".
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

import blocks_eval  # noqa: E402
from assistant import extractive as X  # noqa: E402
from assistant import retrieval as R  # noqa: E402
from assistant.evaluation import answerable, evaluate, read_questions  # noqa: E402

ORIGINAL = {
    "init": R.HybridSearcher.__init__, "fuse": R.HybridSearcher.fuse, "fused": R.HybridSearcher.fused,
    "diversify": R.HybridSearcher._diversify, "candidates": X.Extractor.candidates, "anchored": X.Extractor._anchored, "role": X.ROLE_WEIGHT,
}


def restore() -> None:
    R.HybridSearcher.__init__ = ORIGINAL["init"]
    R.HybridSearcher.fuse = ORIGINAL["fuse"]
    R.HybridSearcher.fused = ORIGINAL["fused"]
    R.HybridSearcher._diversify = ORIGINAL["diversify"]
    X.Extractor.candidates = ORIGINAL["candidates"]
    X.Extractor._anchored = ORIGINAL["anchored"]
    X.ROLE_WEIGHT = ORIGINAL["role"]


def _defaults(**kw) -> None:
    """Searchers built from now on get these keyword defaults."""
    def init(self, *a, **k):
        for key, v in kw.items():
            k.setdefault(key, v)
        ORIGINAL["init"](self, *a, **k)
    R.HybridSearcher.__init__ = init


def _parts(partfn) -> None:
    """Fusion as a weighted sum of ``partfn(route, scores best first)``."""
    def fuse(self, rankings):
        fused: dict[int, float] = {}
        for name, ranking in rankings.items():
            if not ranking:
                continue
            s = np.array([x[1] for x in ranking], dtype=float)
            for (i, _), p in zip(ranking, partfn(name, s)):
                fused[i] = fused.get(i, 0.0) + self.weights[name] * float(p)
        return fused
    R.HybridSearcher.fuse = fuse


def _minmax(s):
    return (s - s[-1]) / (s[0] - s[-1]) if s[0] > s[-1] else np.ones_like(s)


def _z(s, top_one: bool):
    sd = s.std()
    if sd <= 0:
        return np.ones_like(s)
    z = np.clip((s - s.mean()) / sd, 0, None)
    return z / z[0] if top_one and z[0] > 0 else z


def _semantic_rank(name, s):
    """Dense routes by rank (reciprocal rank, 1 at the top), word routes by min-max."""
    return 61.0 / (60 + np.arange(len(s)) + 1) if name in ("dense", "link_dense") else _minmax(s)


def _protect(top: int, both: bool) -> None:
    """Diversity spares a passage in the top ``top`` of the dense and (``both``) / or the link-dense route."""
    def fused(self, question, filters=None):
        f = ORIGINAL["fused"](self, question, filters)
        sets = [set(sorted(raw, key=lambda i: -raw[i])[:top]) for raw in (f.raw.get(n) or {} for n in ("dense", "link_dense"))]
        self._protected = (sets[0] & sets[1]) if both else (sets[0] | sets[1])
        return f

    def diversify(self, scores, k):
        spared = getattr(self, "_protected", set())
        pool = sorted(scores, key=lambda i: (-scores[i], i))[: max(4 * k, 40)]
        taken: dict[str, int] = {}
        chosen: list[int] = []
        while pool and len(chosen) < k:
            best = max(pool, key=lambda i: scores[i] * (1.0 if i in spared else self.diversity ** taken.get(self.index.passages[i].case_id, 0)))
            pool.remove(best)
            chosen.append(best)
            case_id = self.index.passages[best].case_id
            taken[case_id] = taken.get(case_id, 0) + 1
        return chosen
    R.HybridSearcher.fused = fused
    R.HybridSearcher._diversify = diversify


def _fused_guard(share: float) -> None:
    """The passages in the top ``share * k`` of the fused list (before background discount, case prior,
    follow and diversity) stay among the k chosen: each one missing replaces the last chosen passage
    that is not in that top list."""
    def fused(self, question, filters=None):
        f = ORIGINAL["fused"](self, question, filters)
        self._fused_order = sorted(f.scores, key=lambda i: (-f.scores[i], i))
        return f

    def diversify(self, scores, k):
        chosen = ORIGINAL["diversify"](self, scores, k)
        guard = [i for i in getattr(self, "_fused_order", [])[: max(1, round(share * k))] if i in scores]
        for i in guard:
            if i in chosen:
                continue
            out = next((j for j in reversed(chosen) if j not in guard), None)
            if out is None:
                break
            chosen.remove(out)
            chosen.append(i)
        return sorted(chosen, key=lambda i: -scores[i])
    R.HybridSearcher.fused = fused
    R.HybridSearcher._diversify = diversify


def _candidates(old: str, new: str) -> None:
    """Extractor.candidates with one expression replaced."""
    src = textwrap.dedent(inspect.getsource(ORIGINAL["candidates"]))
    if old not in src:
        raise SystemExit(f"Extractor.candidates no longer contains {old!r}: update this variant")
    ns: dict = {}
    exec(src.replace(old, new), X.__dict__, ns)
    X.Extractor.candidates = ns["candidates"]


def _best_passage_first(first_only: bool) -> None:
    """A community's block is built in the passage retrieval ranks first in that case (or the one
    right after it) when that passage has an anchor; its other passages only when it has none."""
    original = X.Extractor._anchored

    def anchored(self, anchors, q_tokens, fact, budget):
        if first_only and budget != X.FIRST_BLOCK_CHARS:
            return original(self, anchors, q_tokens, fact, budget)
        ranked = [a for a in anchors if a.hit.rank > 0]
        if ranked:
            best = max(ranked, key=lambda a: a.hit.score).hit.passage
            after = X.next_in_case(self.stats.passages, self.stats.position(best))
            keep = {best.id} | ({self.stats.passages[after].id} if after is not None else set())
            anchors = [a for a in anchors if a.hit.passage.id in keep] + [a for a in anchors if a.hit.passage.id not in keep]
        return original(self, anchors, q_tokens, fact, budget)
    X.Extractor._anchored = anchored


_SEM = lambda w: {"dense": w, "words": 1.0, "chars": 1.0, "link_dense": w, "link_words": 1.0, "link_chars": 1.0}  # noqa: E731
_SCORE = "2.0 * lex + 1.0 * plex"
VARIANTS = {
    "base": lambda: None,
    # fusion
    "rrf": lambda: _defaults(fusion="rrf"),
    "rrf20": lambda: _defaults(fusion="rrf", rrf_k=20),
    "zscore": lambda: _parts(lambda n, s: _z(s, True)),
    "zraw": lambda: _parts(lambda n, s: _z(s, False)),
    "topnorm": lambda: _parts(lambda n, s: s / s[0] if s[0] > 0 else np.ones_like(s)),
    "semantic-rank": lambda: _parts(_semantic_rank),
    "semantic-x1.5": lambda: _defaults(weights=_SEM(1.5)),
    "semantic-x2": lambda: _defaults(weights=_SEM(2.0)),
    # diversity
    "diversity-1.0": lambda: _defaults(diversity=1.0),
    "diversity-0.95": lambda: _defaults(diversity=0.95),
    "diversity-0.8": lambda: _defaults(diversity=0.8),
    "fused-guard-1": lambda: _fused_guard(1.0),
    "fused-guard-0.5": lambda: _fused_guard(0.5),
    "spare-top3-both": lambda: _protect(3, True),
    "spare-top3-either": lambda: _protect(3, False),
    "spare-top1-either": lambda: _protect(1, False),
    "case-prior-0": lambda: _defaults(case_weight=0.0),
    "case-prior-0.2": lambda: _defaults(case_weight=0.2),
    "case-prior-0.6": lambda: _defaults(case_weight=0.6),
    "depth-50": lambda: _defaults(depth=50),
    "depth-200": lambda: _defaults(depth=200),
    "follow-0": lambda: _defaults(follow=0.0),
    # which sentence leads a community's block
    "echo-lex-1": lambda: _candidates(_SCORE, "1.0 * lex + 1.0 * plex"),
    "no-passage-echo": lambda: _candidates(_SCORE, "2.0 * lex"),
    "no-echo-follow": lambda: _candidates("c.score += FOLLOW_WEIGHT * max(before, default=0.0)", "pass"),
    "best-passage-first": lambda: _best_passage_first(False),
    "best-passage-first-block": lambda: _best_passage_first(True),
    "roles-x2": lambda: setattr(X, "ROLE_WEIGHT", 2.0),
}


def tune_sets() -> dict[str, list[dict]]:
    sets = blocks_eval.splits(False)
    holdout = read_questions(ROOT / "eval" / "holdout_r4.jsonl")
    sets["holdout-tune"] = [q for q in holdout if q.get("half") == "tune" and answerable(q)]
    return sets


def measure(name: str) -> str:
    from assistant.answer import Answerer
    from assistant.config import get_settings

    restore()
    VARIANTS[name]()
    settings = get_settings()
    searcher = R.HybridSearcher.from_settings(settings)
    answerer = Answerer(searcher, settings)
    total, cells = 0, []
    for set_name, items in tune_sets().items():
        report = blocks_eval.run(answerer, items)
        n = report.counts.get("first_block_evidence", 0)
        held = round(report.metrics.get("first_block_evidence", 0.0) * n)
        total += held
        cells.append(f"{set_name} {held}/{n}")
    dev = read_questions(ROOT / "eval" / "dev.jsonl")
    m = evaluate(lambda q, n: searcher.search(q, n), dev, k=5).metrics
    cells.append(f"dev retrieval 600/1200 {m['evidence@600ch']:.3f}/{m['evidence@1200ch']:.3f}")
    searcher.weights = {k: v for k, v in searcher.weights.items() if not k.startswith("link")}
    m = evaluate(lambda q, n: searcher.search(q, n), dev, k=5).metrics
    cells.append(f"without links {m['evidence@600ch']:.3f}/{m['evidence@1200ch']:.3f}")
    return f"{name:<18} tune first blocks {total:3d}  " + " | ".join(cells)


def miss_ranks() -> None:
    """For each tune question (not the follow-ups) whose first block misses the evidence: the rank of
    the best evidence passage in the search, in the fused list (before discounts, case prior and
    diversity) and in each route (999: not in its top ``depth``)."""
    from assistant.answer import Answerer
    from assistant.config import get_settings
    from assistant.evaluation import evidence_in

    restore()
    settings = get_settings()
    searcher = R.HybridSearcher.from_settings(settings)
    answerer = Answerer(searcher, settings)
    passages = searcher.index.passages
    for set_name, items in tune_sets().items():
        if set_name.startswith("followups"):
            continue
        report = blocks_eval.run(answerer, items)
        missed = {r["id"] for r in report.rows if r["first_block_evidence"] is False}
        for q in items:
            if q["id"] not in missed:
                continue
            ev = {i for i, p in enumerate(passages) if evidence_in(p.text, q["evidence"])}
            rankings = searcher.rankings(q["question"])
            routes = {n: next((r for r, (i, _) in enumerate(lst, 1) if i in ev), 999) for n, lst in rankings.items()}
            fused = searcher.fuse(rankings)
            order = sorted(fused, key=lambda i: -fused[i])
            fused_rank = next((r for r, i in enumerate(order, 1) if i in ev), 999)
            hits = searcher.search(q["question"], 40)
            final = next((h.rank for h in hits if h.passage.id in {passages[i].id for i in ev}), 999)
            print(f"{set_name}:{q['id']}  search {final}  fused {fused_rank}  " + " ".join(f"{n} {r}" for n, r in routes.items()))


def main() -> None:
    if sys.argv[1:] == ["--ranks"]:
        miss_ranks()
        return
    names = sys.argv[1:] or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    for name in names:
        print(measure(name), flush=True)
    restore()


if __name__ == "__main__":
    main()
