"""Fusion, diversity and sentence-scoring variants, measured on the tune halves only.

Each variant patches :class:`assistant.retrieval.HybridSearcher` or
:class:`assistant.extractive.Extractor` in this process (nothing is written)
and prints, on one line: how many tune questions' first answer block holds
gold evidence (the tune halves of ``eval/blocks_eval.py``: dev odd, coverage,
follow-ups, holdout r4 / r3 / r5), then the dev retrieval
floor (evidence within 600 / 1,200 characters, all of eval/dev.jsonl, with and
without the link routes).  The test halves are never read here.

Usage::

    .venv/bin/python eval/retrieval_variants.py                 # every variant, after the shipped version
    .venv/bin/python eval/retrieval_variants.py base zscore     # the named ones
    .venv/bin/python eval/retrieval_variants.py --ranks         # where the shipped version's misses have their evidence

Results and reading: eval/answers.md, "Round 4" and "Round 6" (the word cap, and the
asking-clause, link and measure variants of round 6, which rescore the hits a block is built from).
"""

from __future__ import annotations

import inspect
import os
from dataclasses import replace
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
from assistant.evaluation import evaluate, read_questions  # noqa: E402
from assistant.lexical import tokenize, tokenize_chars  # noqa: E402

ORIGINAL = {
    "init": R.HybridSearcher.__init__, "fuse": R.HybridSearcher.fuse, "fused": R.HybridSearcher.fused,
    "diversify": R.HybridSearcher._diversify, "candidates": X.Extractor.candidates, "anchored": X.Extractor._anchored, "role": X.ROLE_WEIGHT,
    "cap": R.HybridSearcher._cap_words, "query": R.HybridSearcher.query, "blocks": X.Extractor.blocks,
}


def restore() -> None:
    R.HybridSearcher.__init__ = ORIGINAL["init"]
    R.HybridSearcher.fuse = ORIGINAL["fuse"]
    R.HybridSearcher.fused = ORIGINAL["fused"]
    R.HybridSearcher._diversify = ORIGINAL["diversify"]
    X.Extractor.candidates = ORIGINAL["candidates"]
    X.Extractor._anchored = ORIGINAL["anchored"]
    X.ROLE_WEIGHT = ORIGINAL["role"]
    R.HybridSearcher._cap_words = ORIGINAL["cap"]
    R.HybridSearcher.query = ORIGINAL["query"]
    X.Extractor.blocks = ORIGINAL["blocks"]


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


def _word_cap(ratio: float, excess: float) -> None:
    """The word cap (``HybridSearcher._cap_words``) with a fixed ratio and excess instead of the
    weights' ratio (2) and one route's worth (1)."""
    def cap(self, rankings, fused):
        semantic = [n for n in rankings if n in R.SEMANTIC_ROUTES]
        sem_part = self.fuse({n: rankings[n] for n in semantic})
        return {i: sem_part.get(i, 0.0) + min(t - sem_part.get(i, 0.0), ratio * sem_part.get(i, 0.0) + excess) for i, t in fused.items()}
    R.HybridSearcher._cap_words = cap


# Words of a question that ask rather than name a matter (the asking clause's content is the rest).
_ASKING = set("怎么 怎样 如何 咋 办法 什么 哪些 能 能不能 可以 要 该 吗 呢 啥 谁 才 做 办 搞 让 有 没有 是 的 了 和 也 都 还 就 又 怎么办 怎么样 好".split())


def _content(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in _ASKING}


def _asked(text: str) -> set[str]:
    """Content words of the asking clauses (``retrieval.asking_clauses``)."""
    return _content("".join(R.asking_clauses(text)))


def _long(question: str) -> bool:
    """The asking clause is not the whole question (there is a situation besides)."""
    return len("".join(R.asking_clauses(question))) < 0.8 * len(question)


def _rescore(factor) -> None:
    """The blocks are built from the hits with each score times ``factor(extractor, question, hit, hits)``."""
    def blocks(self, question, hits, shown=(), aspect=()):
        rescored = [replace(h, score=h.score * factor(self, question, h, hits)) for h in hits]
        return ORIGINAL["blocks"](self, question, rescored, shown, aspect)
    X.Extractor.blocks = blocks


def _link_ask(k: float):
    """A hit's link that matches the question best lifts less when the question holds little of what
    that link asks (its asking clause): x(1 - k(1 - share))."""
    def factor(ex, question, h, hits):
        if not h.links:
            return 1.0
        q = _content(question)
        best = max(h.links, key=lambda link: ex.stats.weighted_share(_content(link), q))
        asked = _asked(best)
        return 1.0 - k * (1.0 - ex.stats.weighted_share(asked, q)) if asked else 1.0
    return factor


def _asked_in_passage(k: float):
    """A hit whose passage (and link questions) holds little of what the question asks loses up to k."""
    def factor(ex, question, h, hits):
        asked = _asked(question) & set(tokenize(question))
        if not asked or not _long(question):
            return 1.0
        found = set(ex.stats.passage_tokens(h.passage)).union(*(tokenize(link) for link in h.links))
        return 1.0 - k * (1.0 - ex.stats.weighted_share(asked, found))
    return factor


def _measure_share(k: float, roles: tuple[str, ...]):
    """For a how-to question, a hit loses up to k by the share of its passage not read as ``roles``."""
    def factor(ex, question, h, hits):
        if R.is_lookup(question):
            return 1.0
        text = h.case.text
        spans = X.sentence_spans(text, h.passage)
        total = sum(e - s for s, e in spans) or 1
        share = sum((e - s) * sum(ex.roles_of(text[s:e])[r] for r in roles) for s, e in spans) / total
        return 1.0 - k * (1.0 - share)
    return factor


def _no_dense(k: float):
    """A hit the dense route did not find (lifted by words and links only) loses k."""
    return lambda ex, question, h, hits: 1.0 - k if h.parts and "dense" not in h.parts else 1.0


_ASK_VECTORS: dict[str, np.ndarray] = {}


def _dense_ask(k: float, own_ask: bool):
    """A hit gains k x (how close the question, or its asking clause, is to the asking clause of the
    passage's closest link - the mean of that over the hits): the embedding version of _link_ask.
    (Embeds every link's asking clause once: about 15 s.)"""
    def factor(ex, question, h, hits):
        from assistant.retrieval import get_searcher

        embed = get_searcher().embedder.embed_query
        if not _ASK_VECTORS:
            for link in {x for hit in hits for x in hit.links} | {x for qs in get_searcher()._link_questions.values() for x in qs}:
                _ASK_VECTORS[link] = np.asarray(embed("".join(R.asking_clauses(link)[-1:]) or link))
        q = np.asarray(embed("".join(R.asking_clauses(question)[-1:]) or question if own_ask else question))
        agree = {hit.passage.id: max(float(q @ _ASK_VECTORS[x]) for x in hit.links) for hit in hits if hit.links}
        if h.passage.id not in agree:
            return 1.0
        return 1.0 + k * (agree[h.passage.id] - sum(agree.values()) / len(agree))
    return factor


def _ask_query(times: int, chars: bool) -> None:
    """The word routes (and ``chars``: the character routes) read the asking clause's content
    ``times`` more times (a repeated query token counts again in BM25), for questions with a situation."""
    def query(self, question):
        q = ORIGINAL["query"](self, question)
        ask = "".join(R.asking_clauses(question))
        if ask and _long(question):
            extra = [t for t in tokenize(ask) if t not in _ASKING]
            q.__dict__["words"] = list(q.words) + extra * times
            if chars:
                q.__dict__["chars"] = list(q.chars) + tokenize_chars(ask) * times
        return q
    R.HybridSearcher.query = query


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
    # round 6: the word cap (shipped: ratio of the weights, 2, plus one route's worth)
    "no-word-cap": lambda: _defaults(word_excess=None),
    **{f"word-cap-{r:g}-{e:g}": (lambda r=r, e=e: _word_cap(r, e)) for r, e in
       ((1, 1), (1.5, 0.5), (1.5, 1), (2, 0.75), (2, 1.5), (2, 2), (2.5, 1), (3, 0.5), (3, 1))},
    # round 6: what the question asks against the situation it describes, links, measures
    "link-ask-0.3": lambda: _rescore(_link_ask(0.3)),
    "link-ask-0.5": lambda: _rescore(_link_ask(0.5)),
    "asked-in-passage-0.2": lambda: _rescore(_asked_in_passage(0.2)),
    "asked-in-passage-0.4": lambda: _rescore(_asked_in_passage(0.4)),
    "measure-share-0.2": lambda: _rescore(_measure_share(0.2, ("做法",))),
    "measure-share-0.4": lambda: _rescore(_measure_share(0.4, ("做法",))),
    "measure-result-share-0.3": lambda: _rescore(_measure_share(0.3, ("做法", "成效"))),
    "no-dense-0.2": lambda: _rescore(_no_dense(0.2)),
    "no-dense-0.4": lambda: _rescore(_no_dense(0.4)),
    "dense-ask-2": lambda: _rescore(_dense_ask(2.0, False)),
    "dense-ask-5": lambda: _rescore(_dense_ask(5.0, False)),
    "dense-own-ask-2": lambda: _rescore(_dense_ask(2.0, True)),
    "ask-query-words": lambda: _ask_query(1, False),
    "ask-query-both": lambda: _ask_query(1, True),
}


def tune_sets() -> dict[str, list[dict]]:
    """The tune halves of eval/blocks_eval.py (dev odd, coverage, follow-ups, holdout r4 / r3 / r5)."""
    return blocks_eval.splits(False)


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
