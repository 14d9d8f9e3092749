"""Hybrid retrieval: dense vectors + BM25 over jieba words + BM25 over character n-grams,
over the passages and over the questions linked to them.

The store (:mod:`assistant.stores`, FAISS files or Milvus: retrieval never
asks which) returns each route's top ``depth`` passages with their raw
scores, the same on every store.  Six routes: the three views of the
passages, and the same three of the link questions (:mod:`assistant.links`),
where a link found lifts the passage it points to.  The lists are fused either
by rescaled score (``minmax``, the default) or by reciprocal rank (``rrf``);
both need no calibration between BM25 scores and cosine similarities, which
live on unrelated scales.  ``assistant eval`` on ``eval/dev.jsonl`` compares
them (see eval/README.md).

Every passage then gains a share of the best score in its case (a script
that matches strongly somewhere tends to hold the answer elsewhere too), a
strong passage lifts the passage after it (the measures usually follow the
problem they answer), and the list is diversified: every passage
taken from a case discounts that case's others, so when several cases answer
a question the user sees several communities rather than five passages of
one script.

Example::

    >>> from assistant.retrieval import HybridSearcher
    >>> searcher = HybridSearcher.from_settings()
    >>> hits = searcher.search("小区停车位不够怎么办", k=5)
    >>> hits[0].case.author
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

from assistant.chunking import Passage
from assistant.config import Settings, get_settings
from assistant.corpus import Case
from assistant.embedding import Embedder, get_embedder
from assistant.errors import AssistantError, InputError
from assistant.memory import release_memory
from assistant.roles import problem_share
from assistant.stores import open_store
from assistant.stores.base import Filters, Library, Query, Ranking

log = logging.getLogger(__name__)

# Route weights.  The dense model and the two BM25 views are about equally
# good alone on the dev set; equal weights are the untuned choice and were
# within noise of the best grid point (eval/README.md).  The same holds
# for the three routes over the link questions (eval/links_eval.py --grid,
# tuned on the odd half of dev and the tune half of coverage only).
# A route missing here is not searched (a new route is switched on by giving it a weight).
DEFAULT_WEIGHTS = {"dense": 1.0, "words": 1.0, "chars": 1.0, "link_dense": 1.0, "link_words": 1.0, "link_chars": 1.0}
SEMANTIC_ROUTES = ("dense", "link_dense")  # the embedding routes; the others match words (BM25)


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: Passage
    case: Case
    parts: dict[str, float]  # raw score from each ranker that found this passage
    links: tuple[str, ...] = ()  # the questions linked to this passage (what it is known to answer)

    @property
    def dense_score(self) -> float | None:
        """Cosine similarity between question and passage (None if not in the dense top list)."""
        return self.parts.get("dense")

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "case_id": self.case.id,
            "case_title": self.case.title,
            "author": self.case.author,
            "section": self.passage.section_label,
            "text": self.passage.text,
            "score": round(self.score, 6),
            "start": self.passage.start,
            "end": self.passage.end,
        }


@dataclass
class Fused:
    scores: dict[int, float]  # passage index -> fused score
    raw: dict[str, dict[int, float]]  # route -> passage index -> raw score, where known
    query_vector: np.ndarray | None = None  # the question's embedding, when a route computed it


def check_question(question: object, max_chars: int) -> str:
    """Normalise a question, or raise InputError with a message for the user."""
    if not isinstance(question, str):
        raise InputError("问题必须是文字。")
    cleaned = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in question.replace("\x00", "")
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InputError("问题是空的：请输入想了解的问题，例如“小区停车位不够怎么办？”")
    if len(cleaned) > max_chars:
        raise InputError(f"问题太长（{len(cleaned)} 字），请精简到 {max_chars} 字以内。")
    return cleaned


# A look-up asks for a fact ("多少辆", "哪一年"), a how-to for a measure.  The
# links of the corpus and of `assistant add` are written for passages that
# describe a measure, so for a look-up they would lift measures over the
# background passage holding the fact: a look-up searches only the links
# users made (who may link any passage).  Tune halves (eval/links_eval.py):
# dev 0.950 -> 0.975 within 600 characters, coverage unchanged.  The same pattern tells the
# extractive answer a look-up from a how-to (assistant.extractive: no role weights, facts lead).
# 几 counts only where it asks: 好几年, 十几次, 没几个 describe (as in assistant.coverage._QWORD).
_LOOKUP = re.compile(
    r"多少|(?<![十百千万0-9就这那好没前])几[个次部辆年名人户位家把条]|哪一年|什么时候|哪年|是谁|多大|多长|多久|哪些人"
)
_HOW = re.compile(r"怎么|怎样|如何|咋|办法")
LOOKUP_LINK_SOURCES = ("user",)


def asking_clauses(question: str) -> list[str]:
    """The clause before each question mark, and the last clause of any text after the last one:
    what a question asks, as against the situation it describes."""
    clauses = []
    for segment in re.findall(r"[^？?]+(?:[？?]+|$)", question):
        parts = [p for p in re.split(r"[，,。！!；;：:]", segment) if p.strip()]
        if parts:
            clauses.append(parts[-1])
    return clauses


def is_lookup(question: str) -> bool:
    """A look-up ("多少辆""哪一年"), judged on the asking clauses only.

    The asking clause is the last clause before each question mark (and of
    any text after the last one): "商业街旁边几个公共停车场是免费的，……，怎么整治？" describes a
    situation with 几个 but asks how, so it is not a look-up; nor is "用了十几年的老电梯换新钱从哪来"
    (十几年 says how long, it does not ask).
    """
    return any(_LOOKUP.search(c) and not _HOW.search(c) for c in asking_clauses(question))


_BACKGROUND = re.compile(r"概况|背景|难点|挑战|困境|现状|问题|痛点|难在|之困|困局|矛盾|基本情况|为什么")
_MEASURES = re.compile(r"做法|路径|探索|实践|举措|破解|对策|措施|工作法|机制|之治|怎么|如何|步")


class HybridSearcher:
    """Dense + BM25 (jieba words) + BM25 (character n-grams), over the passages and the link
    questions of a loaded library, on any store."""

    def __init__(
        self,
        index: Library,
        embedder: Embedder,
        *,
        weights: dict[str, float] | None = None,
        fusion: str = "minmax",
        depth: int = 100,
        rrf_k: int = 60,
        follow: float = 0.6,
        diversity: float = 0.9,
        background_penalty: float = 0.2,
        role_penalty: float = 0.3,
        case_weight: float = 0.4,
        word_excess: float | None = 1.5,
        max_question_chars: int = 2000,
    ) -> None:
        if fusion not in ("minmax", "rrf"):
            raise ValueError(f"fusion ({fusion!r}) must be 'minmax' or 'rrf'")
        self.index = index
        self.embedder = embedder
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        offered = index.store.route_names
        unknown = set(self.weights) - set(offered)
        if unknown:
            raise ValueError(f"weights has unknown routes {sorted(unknown)}; expected {offered}")
        self.fusion = fusion
        self.depth = depth
        self.rrf_k = rrf_k
        if not 0 <= follow < 1 or not 0 < diversity <= 1:
            raise ValueError(f"follow ({follow}) must be in [0, 1) and diversity ({diversity}) in (0, 1]")
        self.follow = follow
        self.diversity = diversity
        self.background_penalty = background_penalty
        self.role_penalty = role_penalty
        self._problem_share: dict[int, float] = {}
        self.case_weight = case_weight
        self.word_excess = word_excess
        self._background = [
            bool(_BACKGROUND.search(" ".join(p.section)) and not _MEASURES.search(" ".join(p.section)))
            for p in index.passages
        ]
        self.max_question_chars = max_question_chars
        self._link_questions: dict[int, tuple[str, ...]] = {}
        for link in index.links:
            self._link_questions[link.passage] = self._link_questions.get(link.passage, ()) + (link.question,)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs) -> "HybridSearcher":
        settings = settings or get_settings()
        embedder = get_embedder(settings.embedder, settings.query_instruction)
        index = open_store(settings).load(embedder.id)
        return cls(index, embedder, max_question_chars=settings.max_question_chars, **kwargs)

    def query(self, question: str) -> Query:
        """The question as the routes see it (a look-up searches only the links users made)."""
        return Query(question, self.embedder.embed_query, LOOKUP_LINK_SOURCES if is_lookup(question) else None)

    def rankings(self, question: str, filters: Filters | None = None) -> dict[str, Ranking]:
        """Each weighted route's top ``depth`` ``(passage index, raw score)``, best first."""
        return self._rankings(self.query(question), filters)

    def _rankings(self, query: Query, filters: Filters | None) -> dict[str, Ranking]:
        names = [name for name in self.index.store.route_names if self.weights.get(name)]
        return self.index.store.routes(self.index, query, self.depth, filters, names)

    def fuse(self, rankings: dict[str, Ranking]) -> dict[int, float]:
        """Weighted fusion of the routes' lists.

        ``minmax`` rescales each list to [0, 1] between its last and first
        score, so a passage that one route likes far more than the runner-up
        keeps that margin; ``rrf`` uses ranks only.  On eval/dev.jsonl
        minmax beat rrf on every metric (eval/README.md).
        """
        fused: dict[int, float] = {}
        for name, ranking in rankings.items():
            if not ranking:
                continue
            weight = self.weights[name]
            hi, lo = ranking[0][1], ranking[-1][1]
            for r, (i, s) in enumerate(ranking):
                if self.fusion == "rrf":
                    part = 1.0 / (self.rrf_k + r + 1)
                else:
                    part = (s - lo) / (hi - lo) if hi > lo else 1.0
                fused[i] = fused.get(i, 0.0) + weight * part
        return fused

    def fused(self, question: str, filters: Filters | None = None) -> Fused:
        """Fused score per passage index, and each route's raw scores where known."""
        if filters is not None:
            filters = filters.resolved()
            towns = sorted({f.town for f in self.index.facets().values() if f.town})
            if filters.town and filters.town not in towns:
                raise InputError(f"没有街镇“{filters.town}”。可用的街镇：{'、'.join(towns)}")
        query = self.query(question)
        rankings = self._rankings(query, filters)
        fused = self.fuse(rankings)
        if self.word_excess is not None and self.fusion == "minmax":
            fused = self._cap_words(rankings, fused)
        return Fused(fused, {name: dict(r) for name, r in rankings.items()}, query.computed_vector())

    def _cap_words(self, rankings: dict[str, Ranking], fused: dict[int, float]) -> dict[int, float]:
        """The word routes of a passage count for at most what they would if the embedding routes
        agreed with them, plus ``word_excess`` routes' worth.

        Four of the six routes match words (BM25 over jieba words and over character n-grams,
        of the passage and of its link questions), two match meaning.  One rare word of the
        question that a passage mentions in passing is found by all four word routes at once:
        "反诈宣传居民不爱听，怎么做才有效？" led with 鲁星村's 党建结对 passage, whose list of
        partners' services names 反诈 and whose link question "村民需要反诈宣传、健康义诊，能找哪些单位结对？"
        repeats it, although neither embedding route ranks that passage near the top (the dense
        route not at all); 平复苑's 板凳课堂 passages, which the embeddings rank first, came second
        and third.  So a passage's word part is capped at ``ratio`` times its semantic part plus
        ``word_excess`` (in route weights), where ``ratio`` is the word routes' weight over the
        embedding routes' (2 with the default weights, with or without the link routes): a word
        match the meaning agrees with counts in full, a bare word match up to one and a half routes'
        worth.  Only for ``minmax`` fusion (its parts are in [0, 1] per route).  Tune halves
        (eval/answers.md, round 6): first blocks 111 → 112 of 147, dev retrieval unchanged; 1.5 rather
        than 1.0, which also gives 112, because at 1.0 a topic word the embeddings miss (演练 in
        "居民应急演练怎么组织才有人参加") no longer brings its passage among the coverage judgement's
        places, and two answerable tune questions were judged 没有.
        """
        semantic = {name for name in rankings if name in SEMANTIC_ROUTES and self.weights.get(name)}
        words = {name for name in rankings if name not in SEMANTIC_ROUTES and self.weights.get(name)}
        if self.word_excess is None or not semantic or not words:
            return fused
        ratio = sum(self.weights[n] for n in words) / sum(self.weights[n] for n in semantic)
        excess = self.word_excess * max(self.weights[n] for n in words)
        sem_part = self.fuse({name: rankings[name] for name in semantic})
        out = {}
        for i, total in fused.items():
            sem = sem_part.get(i, 0.0)
            out[i] = sem + min(total - sem, ratio * sem + excess)
        return out

    def search(self, question: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """Top ``k`` passages for ``question``, fused and case-diversified.

        ``filters`` keeps only cases of a town/street, community type or topic
        tag; when no case matches, the list is empty.
        """
        question = check_question(question, self.max_question_chars)
        if k < 1:
            raise InputError(f"k（{k}）必须至少为 1。")
        fused = self.fused(question, filters)
        scores = self._follow(self._case_prior(self._discount_background(fused.scores)))
        chosen = self._diversify(scores, k)
        raw = fused.raw
        hits = []
        for rank, i in enumerate(chosen, 1):
            p = self.index.passages[i]
            parts = {name: raw[name][i] for name in raw if i in raw[name]}
            hits.append(Hit(rank, scores[i], p, self.index.cases[p.case_id], parts, self._link_questions.get(i, ())))
        return hits

    def hit(self, i: int, score: float, rank: int = 0) -> Hit:
        """Passage ``i`` as a :class:`Hit` found by no route (rank 0: added after retrieval, by what is asked)."""
        p = self.index.passages[i]
        return Hit(rank, score, p, self.index.cases[p.case_id], {}, self._link_questions.get(i, ()))

    def _discount_background(self, scores: dict[int, float]) -> dict[int, float]:
        """Passages that recount the situation rather than what was done lose some score.

        People ask what to do; a script's account of its difficulties shares
        the asker's words but rarely holds the answer.  Two signals:

        - the heading: passages under 概况, 难点, 困境 … lose ``background_penalty``
          (a fifth): on the dev set the share of questions whose first
          passage holds the evidence went from 0.54 to 0.59;
        - the sentences: each passage loses ``role_penalty`` (0.3) times the
          share of its characters the role model (``assistant/roles.py``)
          reads as 问题 or 背景, which also catches problem statements under
          a measures heading or in scripts without headings.  Dev set:
          evidence@5 0.875 -> 0.900, within 600 characters 0.825 -> 0.850,
          within 1,200 0.912 -> 0.925 (0.2 / 0.4: 0.825 / 0.838 at 600
          characters; with roles from a model that never saw the case:
          0.900 / 0.838 / 0.925).

        Factual questions about a community still find its 概况 (eval/README.md).
        """
        keep = 1.0 - self.background_penalty
        out = {i: s * keep if self._background[i] else s for i, s in scores.items()}
        if self.role_penalty:
            out = {i: s * (1.0 - self.role_penalty * self.problem_share(i)) for i, s in out.items()}
        return out

    def problem_share(self, i: int) -> float:
        """Share of passage ``i`` read as 问题/背景: stored by the index build, else computed once here."""
        stored = self.index.problem_share
        if stored is not None and len(stored) == len(self.index.passages):
            return float(stored[i])
        got = self._problem_share.get(i)
        if got is None:
            got = self._problem_share[i] = problem_share(self.index.passages[i].text)
        return got

    def _case_prior(self, scores: dict[int, float]) -> dict[int, float]:
        """Each passage gains ``case_weight`` times the best score in its case.

        A script that matches the question strongly somewhere is more likely
        to hold the answer in its other passages too than a script that only
        shares a few words with it (document-level evidence, as in classic
        passage retrieval).  On the dev set 0.4 raised evidence within 600 /
        1,200 characters from 0.800 / 0.900 to 0.825 / 0.912 (leave-one-out
        tuning: 0.838 / 0.912), at the price of fewer distinct cases in the
        top 5 (2.85 → 2.42 on average); diversity still applies afterwards.
        """
        if not self.case_weight:
            return scores
        passages = self.index.passages
        best: dict[str, float] = {}
        for i, s in scores.items():
            c = passages[i].case_id
            best[c] = max(best.get(c, 0.0), s)
        return {i: s + self.case_weight * best[passages[i].case_id] for i, s in scores.items()}

    def _follow(self, scores: dict[int, float]) -> dict[int, float]:
        """Let a strong passage lift the one right after it in the same case.

        Users describe their problem; scripts describe the problem first and
        the measures next.  The passage after a strong match inherits
        ``follow`` times its score (if that is more than its own), which on
        the dev set brought the measures into the reading budget far more
        often (eval/README.md).
        """
        if not self.follow:
            return scores
        passages = self.index.passages
        out = dict(scores)
        for i, s in sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:30]:
            j = i + 1
            if j < len(passages) and passages[j].case_id == passages[i].case_id:
                out[j] = max(out.get(j, 0.0), self.follow * s)
        return out

    def _diversify(self, scores: dict[int, float], k: int) -> list[int]:
        """Greedy selection where each passage already taken from a case discounts
        that case's other passages by ``diversity``: another case moves up only
        when it answers nearly as well, so one case cannot crowd out the rest."""
        pool = sorted(scores, key=lambda i: (-scores[i], i))[: max(4 * k, 40)]
        taken: dict[str, int] = {}
        chosen: list[int] = []
        while pool and len(chosen) < k:
            best = max(pool, key=lambda i: scores[i] * self.diversity ** taken.get(self.index.passages[i].case_id, 0))
            pool.remove(best)
            chosen.append(best)
            case_id = self.index.passages[best].case_id
            taken[case_id] = taken.get(case_id, 0) + 1
        return chosen


_searchers: dict[tuple, HybridSearcher] = {}
_lock = threading.Lock()


# the settings a searcher depends on (the LLM, feedback and login settings do not matter to it)
_SEARCHER_FIELDS = (
    "index_dir", "corpus_dir", "embedder", "query_instruction", "max_question_chars",
    "store", "milvus_uri", "milvus_collection", "milvus_timeout",
)


def get_searcher(settings: Settings | None = None) -> HybridSearcher:
    """A process-wide searcher per settings over the store's published version (loaded once).

    When an update publishes a new index version, the next call loads it and
    drops the searcher of the old one, so a running UI picks up added
    documents without a restart and without keeping old versions in memory.
    Until the new version is complete the old one keeps answering; if the new
    one cannot be loaded (a damaged CURRENT, manifest or file), the old one
    stays in service and the log says why, once per cause.
    """
    settings = settings or get_settings()
    key = tuple(getattr(settings, name) for name in _SEARCHER_FIELDS)
    with _lock:
        searcher = _searchers.get(key)
        if searcher is None:
            searcher = _searchers[key] = HybridSearcher.from_settings(settings)
            return searcher
        try:
            published = searcher.index.store.published_version()
        except AssistantError as exc:
            _keep_serving(key, searcher, exc)
            return searcher
        if published in (None, searcher.index.version) or _failed.get(key, ("",))[0] == published:
            return searcher
        try:
            searcher = _searchers[key] = HybridSearcher.from_settings(settings)
        except AssistantError as exc:
            _keep_serving(key, searcher, exc, published)
        else:
            _failed.pop(key, None)
            release_memory()  # the old version is gone: give its pages back
        return searcher


_failed: dict[tuple, tuple[str | None, str]] = {}  # settings key -> (version that failed to load, why)


def _keep_serving(key: tuple, searcher: HybridSearcher, exc: AssistantError, version: str | None = None) -> None:
    """Log (once per cause) why the published version is not switched to; the loaded one keeps answering.

    A version that failed to load is not tried again on every question (it
    does not change: a repair publishes a new one).
    """
    why = str(exc)
    if _failed.get(key) != (version, why):
        log.warning(
            "keeping index version %s in service; the published one%s cannot be used: %s",
            searcher.index.version, f" ({version})" if version else "", why,
        )
    _failed[key] = (version, why)
