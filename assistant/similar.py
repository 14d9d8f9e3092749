"""Rank whole cases for a described situation ("find communities that faced this").

A case's score combines two signals, each rescaled to [0, 1] over the cases:

* **passages**: the hybrid passage retrieval (BM25 words + characters + e5),
  fused per passage without diversification, then summed per case with
  decaying weights (best passage, half the second, a quarter the third): a
  case that matches in several places beats one lucky sentence;
* **tags**: taxonomy tags found in the description and shared with the case,
  weighted by rarity (IDF), so "无产证" or "宅基地" say more than "物业".

On eval/dev.jsonl (``assistant similar --eval eval/dev.jsonl``) the passage
signal alone puts the gold case in the top 3 for 9/9 "similar" questions and
79/80 answerable ones; tags at 0.2 nudge MRR from 0.942 to 0.949 (within
noise, kept as a tie-breaker that also explains the match).  A case-level
mean-vector signal was tried and lowered top-1, so it is not used.
Each result carries the matching passages (cited) and why it matched
(:func:`explain`): one or two sentences on the shared situation (kind and
size of community, the difficulty in the script's own words) and the measure
worth borrowing, each linked to its span.

Example::

    >>> from assistant.retrieval import get_searcher
    >>> from assistant.similar import SimilarFinder
    >>> finder = SimilarFinder(get_searcher())
    >>> res = finder.find("我们小区是动迁安置房，老人把凳子搬到楼道里聊天，屡清屡放", k=3)
    >>> res[0].card.author
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from assistant import handout_material as hm
from assistant.cards import CaseCard, Sentence, cards_for, tag_idf
from assistant.citations import Citation, cite, place
from assistant.errors import AssistantError, InputError
from assistant.lexical import tokenize
from assistant.quoting import tidy, excerpts, is_slogan, reads_alone
from assistant.retrieval import HybridSearcher, check_question
from assistant.roles import ROLES, get_role_model
from assistant.taxonomy import load_taxonomy

WEIGHTS = {"passages": 1.0, "tags": 0.2}
PASSAGE_DECAY = (1.0, 0.5, 0.25)
MAX_PASSAGES = 3


@dataclass
class MatchedPassage:
    citation: Citation
    score: float
    terms: list[str]  # words the description and the passage share

    def to_dict(self) -> dict:
        c = self.citation
        return {
            "section": c.section,
            "text": c.quote,
            "start": c.start,
            "end": c.end,
            "score": round(self.score, 4),
            "matched_terms": self.terms,
        }


@dataclass
class Reason:
    """Why a case is similar, in one or two sentences, with the spans each claim rests on."""

    text: str
    situation: Citation | None  # the sentence showing the shared situation
    measure: Citation | None  # where the measure worth borrowing is told
    measure_name: str | None  # as written in ``text`` (a named method, a heading, a measure's label)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "situation": self.situation.to_dict() if self.situation else None,
            "measure": self.measure.to_dict() if self.measure else None,
            "measure_name": self.measure_name,
        }


@dataclass
class SimilarCase:
    rank: int
    score: float
    card: CaseCard
    shared_tags: list[str]
    passages: list[MatchedPassage]
    parts: dict[str, float]
    reason: Reason | None = None

    @property
    def why(self) -> str:
        """Why this case matched, as a person would say it (:func:`explain`)."""
        return self.reason.text if self.reason else ""

    def to_dict(self) -> dict:
        c = self.card
        return {
            "rank": self.rank,
            "case_id": c.case_id,
            "case_title": c.title,
            "author": c.author,
            "community": c.community,
            "community_type": c.community_type,
            "score": round(self.score, 4),
            "tags": c.tags,
            "shared_tags": self.shared_tags,
            "why": self.why,
            "why_sources": self.reason.to_dict() if self.reason else None,
            "passages": [p.to_dict() for p in self.passages],
        }


PASSAGE_ROUTES = ("dense", "words", "chars")


class SimilarFinder:
    """Ranks cases for a situation description over a loaded :class:`HybridSearcher`."""

    def __init__(self, searcher: HybridSearcher, weights: dict[str, float] | None = None) -> None:
        self.searcher = searcher
        self.weights = dict(WEIGHTS if weights is None else weights)
        self.cards = cards_for(searcher.index.cases)
        self.taxonomy = load_taxonomy()
        self.idf = tag_idf(self.cards)
        self.case_ids = list(self.cards)

    def find(self, description: str, k: int = 3) -> list[SimilarCase]:
        """The ``k`` cases most similar to ``description``, best first."""
        if not isinstance(description, str) or not description.strip():
            raise InputError("情况描述是空的：请用两三句话描述你们遇到的问题，例如“我们小区是动迁安置房，老人把凳子搬到楼道里聊天，屡清屡放”。")
        description = check_question(description, self.searcher.max_question_chars)
        if k < 1:
            raise InputError(f"k（{k}）必须至少为 1。")
        scores, per_case, query_tags = self._score(description)
        order = sorted(self.case_ids, key=lambda c: -scores["total"][c])[:k]
        q_terms = set(tokenize(description))
        close = self._closeness(description, order, per_case)
        out = []
        for rank, cid in enumerate(order, 1):
            card = self.cards[cid]
            case = self.searcher.index.cases[cid]
            passages = []
            for i, s in per_case.get(cid, [])[:MAX_PASSAGES]:
                p = self.searcher.index.passages[i]
                terms = [t for t in dict.fromkeys(tokenize(p.text)) if t in q_terms and len(t) > 1]
                # "动迁安置" says it all: drop its sub-words ("动迁", "迁安")
                terms = [t for t in terms if not any(t != o and t in o for o in terms)]
                passages.append(MatchedPassage(cite(case, p.start, p.end), s, terms[:8]))
            shared = [t for t in query_tags if t in card.tag_counts]
            parts = {name: round(scores[name][cid], 4) for name in ("passages", "tags")}
            standing = _standing(per_case.get(cid, [])[:MAX_PASSAGES])
            reason = explain(card, description, shared, [p.citation for p in passages], self.idf, close, standing)
            out.append(SimilarCase(rank, scores["total"][cid], card, shared, passages, parts, reason))
        return out

    def _closeness(self, description: str, order: list[str], per_case: dict) -> Closeness:
        """Meaning-closeness to the description of the sentences a reason may quote (the likeliest few
        difficulties and measures of each case), in one embedding batch."""
        texts: list[str] = []
        for cid in order:
            case = self.searcher.index.cases[cid]
            spans = [
                cite(case, p.start, p.end)
                for p in (self.searcher.index.passages[i] for i, _ in per_case.get(cid, [])[:MAX_PASSAGES])
            ]
            shared = [t for t in self.taxonomy.match(description) if t in self.cards[cid].tag_counts]
            standing = _standing(per_case.get(cid, [])[:MAX_PASSAGES])
            texts += reason_candidates(self.cards[cid], description, spans, shared, standing=standing)
        return Closeness.embedded(description, texts, getattr(self.searcher, "embedder", None))

    def _score(self, description: str):
        s = self.searcher
        # the passages' own text only: a situation is compared with what the scripts tell, not with the
        # questions linked to passages (how-to questions that lift measures over the situation a script states)
        rankings = {name: r for name, r in s.rankings(description).items() if name in PASSAGE_ROUTES}
        fused = s.fuse(rankings)
        per_case: dict[str, list[tuple[int, float]]] = {}
        for i, sc in sorted(fused.items(), key=lambda x: -x[1]):
            per_case.setdefault(s.index.passages[i].case_id, []).append((i, sc))
        passage_score = {
            cid: sum(w * sc for w, (_, sc) in zip(PASSAGE_DECAY, per_case.get(cid, []))) for cid in self.case_ids
        }
        query_tags = self.taxonomy.match(description)
        tag_score = {
            cid: sum(self.idf.get(t, 0.0) for t in query_tags if t in self.cards[cid].tag_counts)
            for cid in self.case_ids
        }
        scores = {"passages": _rescale(passage_score), "tags": _rescale(tag_score)}
        scores["total"] = {
            cid: sum(self.weights.get(name, 0.0) * scores[name][cid] for name in ("passages", "tags"))
            for cid in self.case_ids
        }
        return scores, per_case, list(query_tags)


# ---------------------------------------------------------------------------
# 为什么相似
#
# A reason a practitioner finds convincing names the difficulty the two share, in a sentence of the script
# that states it (not a side detail or who did what), and a measure worth borrowing, in a sentence that says
# what was done (not a bare method name or a structural step).  Both are chosen by meaning: the words they
# share with the description, each weighed by how rare it is across the scripts (油烟 says more than 街区),
# fused with the closeness of their embeddings to the description, as retrieval fuses its routes; and by
# what the sentence is (the role model's 问题 / 做法).  Each is quoted as a span that reads on its own
# (:func:`assistant.quoting.excerpt`).

# a description's mention of size: then the community's own size is worth saying
_SCALE = re.compile(r"万人|上万|大型|大居|\d{3,}\s*(?:户|人)|几千|数千")
# the size of a community as its script states it: "总户数784户", "常住人口3600人左右"
_HOUSEHOLDS = re.compile(r"(?<![\d、.])(\d{3,6})\s*(?:余|多)?户")
_PEOPLE = re.compile(r"(?:常住|户籍|实住|居民|人口)[^，,。；;]{0,8}?(?<![\d、.])(\d+(?:\.\d+)?万?)\s*(?:余|多)?人")
# a figure about something else than the community as it is: a plan, a building site, the whole town
_NOT_SIZE = re.compile(r"规划|计划|在建|导入|目标|签约|全镇|全区|全市|全街道|镇域")
_ASKS = re.compile(r"[？?]|如何|怎样|怎么|为什么|为何")
_CJK = re.compile(r"[\u4e00-\u9fff]")
EMBED_PER_CASE = 4  # difficulty spans embedded per case: ~40 ms a sentence on two cores
REASON_QUOTE_CHARS = 60
PROBLEM_MIN = 0.25  # a difficulty is read at least this surely as 问题
MEASURE_MIN = 0.45  # a measure at least this surely as 做法


def community_size(card: CaseCard) -> tuple[str, Citation] | None:
    """"784户" or "3600人": the community's own size, from a background sentence at the start of the
    script that names the community (not a plan, a building site or the whole town)."""
    story = card.story
    if not story:
        return None
    lead = set(story.situation_parts)
    names = (card.community, "小区", "本村", "全村", "社区", "居民区", "街区")
    for s in story.sentences:
        if s.part not in lead or s.role != "背景" or _NOT_SIZE.search(s.text) or not any(n in s.text for n in names):
            continue
        m = _HOUSEHOLDS.search(s.text) or _PEOPLE.search(s.text)
        if m:
            unit = "户" if m.re is _HOUSEHOLDS else "人"
            return f"{m.group(1)}{unit}", story.cite(s)
    return None


class Closeness:
    """How close in meaning a text of a case is to the description: cosine of their embeddings
    (the searcher's embedder), computed in one batch for the texts a reason may quote; texts not
    embedded fall back to the share of the description's character bigrams they contain."""

    def __init__(self, description: str, sims: dict[str, float] | None = None, embedder=None) -> None:
        self.description = description
        self.wanted = _bigrams(description)
        self.sims = sims or {}
        self.embedder = embedder
        self._query: np.ndarray | None = None

    def __call__(self, text: str) -> float:
        if text in self.sims:
            return self.sims[text]
        return self.words(text)

    def words(self, text: str) -> float:
        """The share of the description's character bigrams ``text`` contains."""
        return self.shared(text) / max(1, len(self.wanted))

    def shared(self, text: str) -> int:
        """How many of the description's character bigrams ``text`` contains."""
        return _shared(text, self.wanted)

    def ensure(self, texts: list[str]) -> None:
        """Embed the texts not embedded yet, in one batch (nothing without an embedder, or when it fails:
        a reason without meaning-closeness still reads right)."""
        texts = [t for t in dict.fromkeys(texts) if t.strip() and t not in self.sims]
        if self.embedder is None or not texts:
            return
        try:
            if self._query is None:
                q = np.asarray(self.embedder.embed_query(self.description), dtype=np.float32)
                self._query = q / max(float(np.linalg.norm(q)), 1e-12)
            d = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
        except (AssistantError, RuntimeError, ValueError, OSError):
            self.embedder = None
            return
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        self.sims.update({t: float(x) for t, x in zip(texts, d @ self._query)})

    @classmethod
    def embedded(cls, description: str, texts: list[str], embedder) -> "Closeness":
        close = cls(description, embedder=embedder)
        close.ensure(texts)
        return close


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def _shared(a: str, b: set[str]) -> int:
    return len(_bigrams(a) & b)


def _standing(scored: list[tuple[int, float]]) -> list[float]:
    """How well each matching passage of a case matched, relative to the case's best one (1.0 for the best)."""
    top = scored[0][1] if scored else 0.0
    return [sc / top if top > 0 else 1.0 for _, sc in scored]


def _inside(start: int, end: int, spans: list[Citation], standing: list[float] | None = None) -> float:
    """How much a sentence counts as told in the matching passages: the standing of the best passage holding it
    (1.0 for any passage when no standing is given), 0.0 outside them."""
    got = [standing[i] if standing else 1.0 for i, p in enumerate(spans) if start < p.end and p.start < end]
    return max(got, default=0.0)


class Wording:
    """The description's words, each weighed by its rarity across the scripts (:class:`assistant.cards.Rarity`):
    a sentence's word score is the summed weight of the description's words it holds.  The situation is what
    the description tells; what it asks ("有没有小区是靠调整收费规则…") says which measure it wants."""

    def __init__(self, description: str, card: CaseCard, kinds: Iterable[str] = ()) -> None:
        parts = [x for x in re.split(r"(?<=[。！？!?])", description) if x.strip()]
        told = "".join(x for x in parts if not re.search(r"[？?]\s*$", x)) or description
        asked = "".join(x for x in parts if re.search(r"[？?]\s*$", x))
        rarity = card.rarity
        self.told = {w for w in tokenize(told) if len(w) > 1}
        self.asked = {w for w in tokenize(asked) if len(w) > 1} - self.told
        # the kind of community the two share is said apart ("同为动迁安置小区"): its name does not make a difficulty shared
        kind_words = {w for k in kinds for w in tokenize(k)}
        self.told -= kind_words
        self.asked -= kind_words
        words = self.told | self.asked
        if rarity is not None:
            self.weight = {w: max(0.0, math.log((rarity.n + 1) / (rarity.df.get(w, 0) + 0.5))) for w in words}
        else:
            self.weight = {w: 1.0 for w in words}

    def score(self, text: str, asked: float = 0.0) -> float:
        """The weight of the told words ``text`` holds, plus ``asked`` times that of the asked words."""
        got = set(tokenize(text))
        return sum(self.weight[w] for w in got & self.told) + asked * sum(self.weight[w] for w in got & self.asked)

    def pattern(self, text: str, asked: bool = False, rare: float = 0.0) -> re.Pattern | None:
        """The rarest description words ``text`` holds (of what it tells, and with ``asked`` of what it asks too;
        of weight at least ``rare``), as a pattern a quote should keep."""
        words = self.told | self.asked if asked else self.told
        got = sorted((w for w in words if w in text and self.weight[w] >= rare), key=lambda w: (-self.weight[w], -len(w), w))[:2]
        return re.compile("|".join(re.escape(w) for w in got)) if got else None


MIN_RARE = 1.5
MIN_RELEVANT = 1.5  # a measure less about the description's matter or its difficulty is not worth offering
LINKED = 0.15  # a measure sharing this much of the difficulty's wording is about it
NEAR_CHARS = 500
# a span that only names a method ("探索出的群租整治"四步法"") says nothing of what was done
_NAMES_ONLY = re.compile(r"(?:探索出|形成了?|总结出|提炼出|打造了?|构建了?|推出了?|建立了?)[^,，;；]{0,24}(?:法|模式|机制|体系|品牌)[\"”]?$")
# a warning of what would happen, not a difficulty met: "迁移一棵树后,若不制定《树木管理公约》,新的矛盾还会出现"
_IF = re.compile(r"(?:若|如果|假如|倘若|要是)[^。]{0,30}[,，][^。]*(?:会|将)")
# the difficulty a measure is told against: "针对操办红白事时,乱燃放乱堆丢造成周边环境脏乱差等问题"
_AGAINST = re.compile(r"(?:针对|面对|为解决|为了解决|鉴于)(?P<inner>[^。；;]{4,60}?)(?:的|等)(?:情况|问题|诉求|需求|困难|难题|现象|矛盾|状况|困境)")
_SPOKEN = re.compile(r"[!！]\s*[\"”]?\s*$")  # a measure told this close after the difficulty, in its paragraph, answers it
# what a result that tells what was done says was done
_ACTS = re.compile(r"增设|新增|建成|安装|设立|开通|打通|拆除|改造|调整|成立|组建|制定|出台|推出|划设|腾出|抠出")  # a shared difficulty shares at least one word few scripts use (or several common ones)


@dataclass
class _Cand:
    score: float
    sentence: Sentence
    card: CaseCard = field(repr=False)
    span: str | None = None  # a span chosen already (the difficulty told inside a measure's frame)


def _difficulties(card: CaseCard, wording: Wording, spans: list[Citation], standing: list[float] | None = None) -> list[_Cand]:
    """Spans that may state the shared difficulty, with their word score: of sentences read as 问题 (or stating a
    difficulty), sharing rare words with the description; those of the matching passages count up to double
    (by how well their passage matched).  A
    difficulty told in a measure's frame ("针对…老人、儿童易迷路的问题,…") counts as well."""
    story = card.story
    if not story:
        return []
    out = []
    for s in story.sentences:
        if is_slogan(s.text) or _ASKS.search(s.text):
            continue
        boost = 1.0 + _inside(s.start, s.end, spans, standing)
        p = s.prob("问题")
        w = wording.score(s.text, asked=1.0)
        if (p >= 0.45 or (p >= PROBLEM_MIN and hm.TROUBLE.search(s.text))) and w >= MIN_RARE:
            span = _quote(card, s, wording.pattern(s.text), "问题")
            if span and not _IF.search(span):
                out.append(_Cand(w * boost, s, card, span))
        for m in hm.FRAMED.finditer(s.text):
            inner = m.group("inner").strip(",，、 ")
            w = wording.score(inner, asked=1.0)
            if w >= MIN_RARE and hm.TROUBLE.search(inner) and reads_alone(inner) and len(inner) <= REASON_QUOTE_CHARS:
                out.append(_Cand(w * boost, s, card, inner))
    out.sort(key=lambda c: -c.score)
    return out


def _measures(card: CaseCard, wording: Wording, spans: list[Citation], near: Sentence | None) -> tuple[list[_Cand], list[_Cand]]:
    """Spans that may state the measure worth borrowing: of sentences read as 做法, saying what was done
    concretely (not an aim, a plan, a slogan, someone's exclamation, general phrasing or only finding out).

    Returns two lists, best first.  What a script did about a difficulty it tells right after it, in the same
    paragraph: those (the nearest, the most concrete) are the first list.  The second holds measures about the
    same thing as the difficulty (its words) or about the description's matter (its words, above all those of
    what it asks), scored by those words; the caller weighs their meaning too."""
    story = card.story
    if not story:
        return [], []
    told_after: list[_Cand] = []
    about: list[_Cand] = []
    for s in story.sentences:
        if near is not None and s.start == near.start:
            continue  # the difficulty's own sentence
        # told right after the difficulty: in its paragraph, or opening the next ones of its sub-section
        after = (
            near is not None
            and 0 < s.start - near.start <= NEAR_CHARS
            and (
                s.par == near.par
                or (s.block == near.block and s.par - near.par <= 2)
                or (s.block[-1].startswith("¶") and s.par - near.par == 1)  # no headings: the next paragraph
            )
        )
        # a measure, or a result told with what was done right after the difficulty ("已经协助李大姐的小店完成了烟道改造")
        done = s.role == "成效" and s.prob("做法") >= 0.15 and _ACTS.search(s.text) and (after or hm.concreteness(s.text) > 0)
        if not (s.role == "做法" and s.prob("做法") >= MEASURE_MIN or done):
            continue
        if is_slogan(s.text) or hm.is_plan(s.text) or _ASKS.search(s.text) or _SPOKEN.search(s.text):
            continue
        if hm.concreteness(s.text) < 0 or hm.specificity(card, s.text) < hm.SPECIFIC * (0.8 if s.prob("做法") >= 0.8 else 1.0):
            continue
        span = _quote(card, s, wording.pattern(s.text, asked=True, rare=1.0), "做法", measure=True)
        if not span:
            continue
        quality = (0.2 + s.prob("做法")) * (1 + 0.25 * _detail(span))
        if after:
            assert near is not None
            told_after.append(_Cand(quality * (1.0 - (s.start - near.start) / (2 * NEAR_CHARS)), s, card, span))
            continue
        # judged on what the reader sees: the span
        words = wording.score(span, asked=2.0) + (1.0 if _inside(s.start, s.end, spans) else 0.0)  # in any matching passage
        framed = _AGAINST.search(span)
        if framed and wording.score(framed.group("inner")) < 1.0:
            words *= 0.5  # "针对操办红白事时,乱燃放乱堆丢…的问题,…": a measure against another difficulty than the description's
        if near is not None:
            a, b = _bigrams(span), _bigrams(near.text)
            words += 10.0 * len(a & b) / max(1.0, (len(a) * len(b)) ** 0.5)
            if s.part == near.part:
                words += 0.5
        if words >= MIN_RELEVANT:
            about.append(_Cand(words, s, card, span))
    return sorted(told_after, key=lambda c: -c.score), sorted(about, key=lambda c: -c.score)


def _situations(
    card: CaseCard, wording: Wording, spans: list[Citation], avoid: set[int], standing: list[float] | None = None
) -> list[_Cand]:
    """Failing a shared difficulty, spans that tell a situation like the description's (not a lesson drawn)."""
    story = card.story
    if not story:
        return []
    out = []
    for s in story.sentences:
        if s.start in avoid or s.role == "感悟" or is_slogan(s.text) or _ASKS.search(s.text) or wording.score(s.text) < MIN_RARE:
            continue
        span = _quote(card, s, wording.pattern(s.text), "背景")
        if span and (w := wording.score(span)) >= MIN_RARE:
            out.append(_Cand(w * (1.0 + _inside(s.start, s.end, spans, standing)), s, card, span))
    out.sort(key=lambda c: -c.score)
    return out


def _quote(card: CaseCard, s: Sentence, must, role: str, *, measure: bool = False) -> str | None:
    """A span of ``s`` that reads on its own and names what it speaks of; a measure's span says what was done
    (long enough, particular, concrete), a difficulty's states a difficulty, the description's words in it
    when it can."""
    model = get_role_model()

    def score(x: str) -> float:
        p = float(model.probabilities(x)[ROLES.index(role)])
        return p + 0.5 * hm.concreteness(x) if measure else p

    for span in excerpts(s.text, REASON_QUOTE_CHARS, must, score, to_the_end=not measure):
        if not hm.clear(span):
            continue
        # a short whole sentence surely telling what was done is enough ("对业主车辆,我们实行阶梯式收费")
        least = 12 if s.prob("做法") >= 0.8 and span == s.text[slice(*tidy(s.text))] else 14
        if measure and (len(_CJK.findall(span)) < least or hm.concreteness(span) < 0 or hm.finding_out(span) or _NAMES_ONLY.search(span)):
            continue
        if role == "问题" and not (hm.TROUBLE.search(span) or model.probabilities(span)[ROLES.index("问题")] >= 0.4):
            continue
        if hm.specificity(card, span) < hm.SPECIFIC / 2:
            continue
        return span
    return None


def _pick(cands: list[_Cand], close: Closeness, role: str, *, measure: bool = False) -> tuple[str, Sentence] | None:
    """The best candidate by fused evidence: word score and meaning (each rescaled over the candidates), weighed by
    how surely its sentence has ``role`` (and, for a measure, how much it tells of what was done)."""
    if not cands:
        return None
    words = _unit([c.score for c in cands])
    meaning = _unit([close(_meant(c)) for c in cands])

    def fused(x) -> float:
        c, w, m = x
        base = (0.5 * w + 0.5 * m) * (0.2 + c.sentence.prob(role))
        return base * (1 + 0.25 * _detail(c.span or c.sentence.text)) if measure else base

    best = max(zip(cands, words, meaning), key=fused)[0]
    return (best.span or best.sentence.text), best.sentence


def _meant(c: _Cand) -> str:
    """What a candidate's meaning is judged on: a difficulty's whole sentence (its context), a measure's span."""
    return c.sentence.text if c.sentence.role == "问题" or c.span is None else c.span


def _detail(text: str) -> int:
    """How much a measure tells of what was done: its figures and named things (at most 3)."""
    return min(3, len(hm.QUANTITY.findall(text)) + len(re.findall(r'"[^"]{2,14}"|“[^”]{2,14}”|《[^》]{2,20}》', text)))


def _unit(xs: list[float]) -> list[float]:
    lo, hi = min(xs), max(xs)
    return [(x - lo) / (hi - lo) if hi > lo else 1.0 for x in xs]


def reason_candidates(
    card: CaseCard,
    description: str,
    spans: list[Citation],
    shared: Iterable[str] = (),
    per_kind: int = EMBED_PER_CASE,
    standing: list[float] | None = None,
) -> list[str]:
    """The spans a reason for ``card`` may quote as the shared difficulty, the likeliest few (to embed in one batch;
    the measure is chosen by its words and its tie to the difficulty)."""
    taxonomy = load_taxonomy()
    wording = Wording(description, card, [t for t in shared if taxonomy.tag(t).kind])
    return [_meant(c) for c in _difficulties(card, wording, spans, standing)[:per_kind]]


def explain(
    card: CaseCard,
    description: str,
    shared: list[str],
    spans: list[Citation],
    idf: dict[str, float] | None = None,
    close: Closeness | None = None,
    standing: list[float] | None = None,
) -> Reason:
    """Why ``card`` is similar to ``description``, in one or two sentences a person would write.

    The shared situation: the kind of community when the description names it
    (动迁安置, 无产证 …), its size when the description speaks of size, and the
    difficulty quoted from the sentence of the script that states it; then the
    measure worth borrowing, quoted from a sentence that says what was done,
    with the method's name where the script names one.  Every claim keeps the
    span it rests on.  ``standing``: how well each of ``spans`` (the case's matching passages, best first)
    matched, relative to the best; a difficulty told in a passage that matched better counts more.
    """
    who = place(card, town=False)
    close = close or Closeness(description)
    close.ensure(reason_candidates(card, description, spans, shared, standing=standing))
    taxonomy = load_taxonomy()
    kinds = [p for t in shared if (p := taxonomy.tag(t).phrase(card.community_type))]
    wording = Wording(description, card, [t for t in shared if taxonomy.tag(t).kind])
    what = f"同为{'、'.join(kinds[:2])}" if kinds else ""
    situation_cite = None
    size = community_size(card) if _SCALE.search(description) else None
    if size:
        what = f"{what}（{size[0]}）" if what else f"规模相近（{size[0]}）"
        situation_cite = size[1]
    diffs = _difficulties(card, wording, spans, standing)
    trouble = _pick(diffs[:EMBED_PER_CASE], close, "问题")
    lead = f"{who}{what}，" if what else who
    near = trouble[1] if trouble else None
    told_after, about = _measures(card, wording, spans, near)
    if told_after:
        borrow: tuple[str, Sentence] | None = (told_after[0].span or told_after[0].sentence.text, told_after[0].sentence)
    else:
        pool = about[:EMBED_PER_CASE]
        close.ensure([c.span or c.sentence.text for c in pool])
        borrow = _pick(pool, close, "做法", measure=True)
    if trouble:
        situation_cite = card.story.cite(trouble[1]) if card.story else situation_cite
        text = f"{lead}也遇到过相似的情况：“{trouble[0]}”。"
    else:  # a description of an aim, not a difficulty ("想搞点文旅…"): the sentence telling a like situation
        avoid = {borrow[1].start} if borrow else set()
        close.ensure([c.span or c.sentence.text for c in _situations(card, wording, spans, avoid, standing)[:EMBED_PER_CASE]])
        told = _pick(_situations(card, wording, spans, avoid, standing)[:EMBED_PER_CASE], close, "背景")
        if told:
            situation_cite = card.story.cite(told[1]) if card.story else situation_cite
            text = f"{lead}讲稿里也写到了相似的情况：“{told[0]}”。"
        elif borrow:  # the measure itself shows what the two share
            text = f"{lead}，" if what else who
        else:
            text = f"{lead}讲稿讲到的情况与你描述的相近。"
    name = None
    if borrow:
        name = next((m.name for m in card.methods if m.key in borrow[0]), None)
        text += f"值得借鉴的是他们的做法：“{borrow[0]}”。"
        text = text.replace("，，", "，")
    measure_cite = card.story.cite(borrow[1]) if borrow and card.story else None
    return Reason(text, situation_cite, measure_cite, name or (borrow[0] if borrow else None))


def _rescale(values: dict[str, float]) -> dict[str, float]:
    hi, lo = max(values.values()), min(values.values())
    if hi <= lo:
        return {k: 0.0 for k in values}
    return {k: (v - lo) / (hi - lo) for k, v in values.items()}


# ---------------------------------------------------------------------------
# evaluation


@dataclass
class SimilarReport:
    rows: list[dict]

    def rate(self, kinds: set[str] | None = None, k: int = 3) -> tuple[int, int]:
        rows = [r for r in self.rows if kinds is None or r["kind"] in kinds]
        return sum(1 for r in rows if r["gold_rank"] and r["gold_rank"] <= k), len(rows)

    def lines(self) -> list[str]:
        out = []
        for label, kinds in (("“相似案例”题", {"similar"}), ("全部可回答题", None)):
            for k in (1, 3):
                hit, n = self.rate(kinds, k)
                out.append(f"{label}：正确案例在前 {k} 名 {hit}/{n} = {hit / n:.1%}" if n else f"{label}：无")
        misses = [r for r in self.rows if r["kind"] == "similar" and not (r["gold_rank"] and r["gold_rank"] <= 3)]
        for r in misses:
            out.append(f"  未进前 3：{r['id']}（正确：{r['gold_author']}，排名 {r['gold_rank']}；前 3：{'、'.join(r['top'])}）")
        return out


def evaluate(finder: SimilarFinder, items: Iterable[dict]) -> SimilarReport:
    """Rank of the gold author's case for every answerable question with ``gold_author``.

    ``items`` as :func:`assistant.evaluation.read_questions` reads a question file.
    """
    rows = []
    for item in items:
        if not item.get("gold_author") or item.get("answerable") is False:
            continue
        total = finder._score(check_question(item["question"], finder.searcher.max_question_chars))[0]["total"]
        authors = [finder.cards[c].author for c in sorted(total, key=lambda c: -total[c])]
        gold = item["gold_author"]
        rank = authors.index(gold) + 1 if gold in authors else None
        rows.append({"id": item.get("id"), "kind": item.get("kind", ""), "gold_author": gold, "gold_rank": rank, "top": authors[:3]})
    return SimilarReport(rows)


def render(results: list[SimilarCase]) -> str:
    """Ranked cases as readable text (CLI)."""
    out = []
    for r in results:
        c = r.card
        out.append(f"[{r.rank}] {r.score:.3f}  《{c.title}》  [{c.case_id}]")
        out.append(f"    {c.author_line}  ·  {c.community_type}  ·  标签：{'、'.join(c.tags)}")
        out.append(f"    为什么相似：{r.why}")
        for p in r.passages:
            cit = p.citation
            out.append(f"    - {cit.section or '（开头）'}")
            out.append("      " + " ".join(cit.quote.split()))
        out.append("")
    return "\n".join(out)
