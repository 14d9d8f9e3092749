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

import re
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from assistant.cards import CaseCard, Story, cards_for, lead_clause, tag_idf
from assistant.citations import Citation, cite, place
from assistant.errors import AssistantError, InputError
from assistant.lexical import tokenize
from assistant.retrieval import HybridSearcher, check_question
from assistant.roles import get_role_model
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
            reason = explain(card, description, shared, [p.citation for p in passages], self.idf, close)
            out.append(SimilarCase(rank, scores["total"][cid], card, shared, passages, parts, reason))
        return out

    def _closeness(self, description: str, order: list[str], per_case: dict) -> Closeness:
        """Meaning-closeness to the description of the sentences a reason may quote as the shared
        difficulty (those of the matching passages read at all as 问题), in one embedding batch."""
        wanted = _bigrams(description)
        texts: list[str] = []
        for cid in order:
            story = self.cards[cid].story
            spans = [self.searcher.index.passages[i] for i, _ in per_case.get(cid, [])[:MAX_PASSAGES]]
            if story:
                cands = [
                    s.text
                    for s in story.sentences
                    if _is_difficulty(s) and _shared(s.text, wanted) and any(s.start < p.end and p.start < s.end for p in spans)
                ]
                # the few sharing most words: embedding costs ~40 ms a sentence on two cores
                texts += sorted(cands, key=lambda t: -_shared(t, wanted))[:EMBED_PER_CASE]
        return Closeness.embedded(description, texts, getattr(self.searcher, "embedder", None))

    def _score(self, description: str):
        s = self.searcher
        fused = s.fused(description).scores
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

# tags that say what kind of community it is, and how a person would name such a community of each type
KIND_PHRASES: dict[str, dict[str, str]] = {
    "动迁安置": {"居民区": "动迁安置小区", "村": "动迁安置的村", "街区": "动迁安置社区"},
    "大型居住社区": {"居民区": "大型居住社区", "村": "大型农民集中居住区", "街区": "大型居住社区"},
    "无产证": {"居民区": "无产证小区", "村": "无产证房屋集中的村", "街区": "无产证房屋集中的街区"},
    "老旧小区改造": {"居民区": "老旧小区", "村": "老旧房屋集中的村", "街区": "老旧小区集中的街区"},
    "商户/街区": {"居民区": "沿街商铺多的社区", "村": "沿街商铺多的村", "街区": "沿街商铺集中的街区"},
    "景区/游客": {"居民区": "紧挨景区的社区", "村": "有景区的村", "街区": "紧挨景区的街区"},
    "乡村振兴/文旅": {"居民区": "发展文旅的社区", "村": "发展文旅的村", "街区": "发展文旅的街区"},
}
# how a description names its own type of community
_TYPE_WORDS = {"居民区": re.compile(r"小区|居民区|社区|楼"), "村": re.compile(r"村"), "街区": re.compile(r"街区|商业街|沿街|街面")}
_TYPE_PHRASES = {"居民区": "居民小区", "村": "村", "街区": "街区"}
# the size of a community as its script states it: "总户数784户", "常住人口3600人左右"
_HOUSEHOLDS = re.compile(r"(?<![\d、.])(\d{3,6})\s*(?:余|多)?户")
_PEOPLE = re.compile(r"(?:常住|户籍|实住|居民|人口)[^，,。；;]{0,8}?(?<![\d、.])(\d+(?:\.\d+)?万?)\s*(?:余|多)?人")
# a figure about something else than the community as it is: a plan, a building site, the whole town
_NOT_SIZE = re.compile(r"规划|计划|在建|导入|目标|签约|全镇|全区|全市|全街道|镇域")
ECHO_CHARS = 36
EMBED_PER_CASE = 5  # the words of the script quoted in a reason
NAME_CHARS = 30
_CLAUSE = re.compile(r"[，,；;：:]")


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

    def __init__(self, description: str, sims: dict[str, float] | None = None) -> None:
        self.wanted = _bigrams(description)
        self.sims = sims or {}

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

    @classmethod
    def embedded(cls, description: str, texts: list[str], embedder) -> "Closeness":
        texts = list(dict.fromkeys(t for t in texts if t.strip()))
        if embedder is None or not texts:
            return cls(description)
        try:
            q = np.asarray(embedder.embed_query(description), dtype=np.float32)
            d = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        except (AssistantError, RuntimeError, ValueError, OSError):
            return cls(description)  # a reason without meaning-closeness still reads right
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        q /= max(float(np.linalg.norm(q)), 1e-12)
        return cls(description, {t: float(x) for t, x in zip(texts, d @ q)})


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def _shared(a: str, b: set[str]) -> int:
    return len(_bigrams(a) & b)


def _inside(start: int, end: int, spans: list[Citation]) -> bool:
    return any(start < p.end and p.start < end for p in spans)


def _clip(text: str, n: int) -> str | None:
    """``text`` cut at a clause boundary within ``n`` characters, quote marks paired; None when it cannot be."""
    text = text.strip().rstrip("。:：;；,，")
    if len(text) > n:
        cuts = [m.start() for m in _CLAUSE.finditer(text) if 4 <= m.start() <= n]
        if not cuts:
            return None
        text = text[: cuts[-1]]
    if '""' in text:
        return None
    while text.count('"') % 2:
        text = text[: text.rindex('"')].rstrip("。:：;；,，、")
    return text if len(text) >= 4 else None


def _echo(sentence: str, wanted: set[str], n: int = ECHO_CHARS) -> str:
    """The clauses of ``sentence`` (at most ``n`` characters) that share most words with the description."""
    t = sentence.strip().rstrip("。！？!?；;，,")
    bounds = [0] + [m.end() for m in _CLAUSE.finditer(t)] + [len(t)]
    best, score = "", -1
    for i in range(len(bounds) - 1):
        for j in range(i + 1, len(bounds)):
            seg = t[bounds[i] : bounds[j]].rstrip("，,；;：:").strip()
            if len(seg) > n:
                break
            if seg.count('"') % 2:
                continue
            sc = _shared(seg, wanted) * 10 + len(seg) // 4
            if sc > score:
                best, score = seg, sc
    return best or _clip(t, n) or t[:n]


# a thing a measure names in quotes: "路灯编号管理", “板凳课堂”
_NAMED_THING = re.compile(r'"[\u4e00-\u9fffA-Za-z0-9+]{4,12}"|“[\u4e00-\u9fffA-Za-z0-9+]{4,12}”')
_CJK = re.compile(r"[\u4e00-\u9fff]")
# "针对…的问题" frames a measure; the difficulty is what follows
_FRAMING = re.compile(r"^(?:针对|面对|为了?解决|为)")


def _is_difficulty(s) -> bool:
    """A sentence that may state a difficulty: read as 问题 with some probability."""
    return s.prob("问题") >= 0.2


def _situation(card: CaseCard, wanted: set[str], spans: list[Citation], close: Closeness) -> tuple[str, Citation] | None:
    """The sentence of the matching passages that states the shared difficulty, and the words of it to quote.

    Like retrieval, two kinds of evidence are fused: the words it shares with the description and its
    closeness in meaning (each rescaled to [0, 1] over the candidates); weighed by how surely it reads as 问题.
    """
    story = card.story
    if not story:
        return None
    cands = [s for s in story.sentences if _inside(s.start, s.end, spans) and _shared(s.text, wanted) and _is_difficulty(s)]
    if not cands:
        return None
    words = _unit([close.words(s.text) for s in cands])
    meaning = _unit([close(s.text) for s in cands])
    scores = [(0.5 * w + 0.5 * m) * (0.1 + s.prob("问题")) for s, w, m in zip(cands, words, meaning)]
    best = cands[max(range(len(cands)), key=lambda i: scores[i])]
    return _FRAMING.sub("", _echo(best.text, wanted)), story.cite(best)


def _alike(card: CaseCard, wanted: set[str], spans: list[Citation]) -> tuple[str, Citation] | None:
    """The sentence of the matching passages sharing most words with the description (any role)."""
    story = card.story
    cands = [s for s in story.sentences if _inside(s.start, s.end, spans)] if story else []
    if not story or not cands:
        return None
    best = max(cands, key=lambda s: (_shared(s.text, wanted), -s.start))
    if _shared(best.text, wanted) < 2:
        return None
    return _echo(best.text, wanted), story.cite(best)


def _unit(xs: list[float]) -> list[float]:
    lo, hi = min(xs), max(xs)
    return [(x - lo) / (hi - lo) if hi > lo else 1.0 for x in xs]


def _reads_as_measure(name: str) -> bool:
    return get_role_model().role(name) == "做法"


def _sentence_measures(story: Story, close: Closeness, spans: list[Citation]) -> list[tuple[float, str, Citation]]:
    """The sentences of the matching passages read as 做法, named by the thing they name in quotes
    ("路灯编号管理") or by their action clauses when those fit a short phrase."""
    out: list[tuple[float, str, Citation]] = []
    for s in story.sentences:
        if s.role != "做法" or not _inside(s.start, s.end, spans) or s.text.rstrip().endswith((":", "：")):
            continue
        shared = float(close.shared(s.text))
        named = _NAMED_THING.search(s.text)
        if named and _reads_as_measure(named.group(0).strip('"“”')):
            out.append((shared + 1, named.group(0), story.cite(s)))
        clause = lead_clause(s.text)
        if len(clause) <= NAME_CHARS and len(_CJK.findall(clause)) >= 6 and _reads_as_measure(clause):
            out.append((shared - 1, clause, story.cite(s)))
    return out


def _measure_to_borrow(card: CaseCard, close: Closeness, spans: list[Citation]) -> tuple[str, Citation] | None:
    """The measure worth borrowing: among the named methods, measures and measure headings told in the
    matching passages, the one whose words are closest to the description; failing those, the card's
    weightiest measure.  A measure's name must itself read as a 做法 and fit in a short phrase."""
    cands: list[tuple[float, str, Citation]] = []
    for m in card.methods:
        if _inside(m.definition.start, m.definition.end, spans) or any(m.key in p.quote for p in spans):
            cands.append((close.shared(m.definition.quote) + 1, m.name, m.definition))
    for me in card.measures:
        name = _label(me.label)
        if name and _inside(me.citation.start, me.citation.end, spans) and _reads_as_measure(name):
            bonus = 2 if me.named_by_heading else 0
            cands.append((close.shared(me.citation.quote + me.label) + bonus, name, me.citation))
    if card.story is not None:
        cands += _sentence_measures(card.story, close, spans)
    if cands:
        _, best, c = max(cands, key=lambda x: x[0])
        return best, c
    for me in sorted(card.measures, key=lambda m: -m.weight):
        name = _label(me.label)
        if name and _reads_as_measure(name):
            return name, me.citation
    return None


def _label(label: str) -> str | None:
    """A measure's label as a name: the part before a colon ("提升服务效能:现在物业…"), clipped at a clause."""
    head = re.split(r"[:：]", label, maxsplit=1)[0]
    return _clip(head if len(head) >= 4 else label, NAME_CHARS)


def explain(
    card: CaseCard,
    description: str,
    shared: list[str],
    spans: list[Citation],
    idf: dict[str, float] | None = None,
    close: Closeness | None = None,
) -> Reason:
    """Why ``card`` is similar to ``description``, in one or two sentences a person would write.

    The shared situation: the kind of community (a shared tag such as 动迁安置,
    else the type the description names), its size as the script states it,
    and the difficulty (the words of the matching passage that states it,
    else the shared topic tags); then the measure worth borrowing (a named
    method, a measure or a measure heading from the matching passages).  Every
    claim keeps the span it rests on.
    """
    who = place(card, town=False)
    # the situation is told before the question ("…有没有社区是怎么做的？"): match on that
    told = [x for x in re.split(r"(?<=[。！？!?])", description) if x.strip() and not re.search(r"[？?]\s*$", x)]
    wanted = _bigrams("".join(told) or description)
    kinds = [KIND_PHRASES[t][card.community_type] for t in shared if t in KIND_PHRASES]
    size = community_size(card)
    if kinds:
        what = f"同样是{'、'.join(kinds[:2])}"
    elif _TYPE_WORDS[card.community_type].search(description):
        what = f"同样是{_TYPE_PHRASES[card.community_type]}"
    else:
        what = ""
    situation_cite = None
    if size:
        what += f"（{size[0]}）"
        situation_cite = size[1]
    close = close or Closeness(description)
    echo = _situation(card, wanted, spans, close) or _situation(card, _bigrams(description), spans, close)
    topics = sorted((t for t in shared if t not in KIND_PHRASES), key=lambda t: -(idf or {}).get(t, 0.0))
    if echo:
        trouble = f"也碰到过“{echo[0]}”的情况"
        situation_cite = echo[1]
    elif topics:
        trouble = f"也遇到过{'、'.join(t.split('/')[0] for t in topics[:2])}方面的难题"
    elif (told_alike := _alike(card, _bigrams(description), spans)) is not None:
        trouble = f"讲稿里写到“{told_alike[0]}”"
        situation_cite = told_alike[1]
    else:
        trouble = "讲稿讲的情况与你描述的相近"
    text = f"{who}{what}，{trouble}。" if what.startswith("同样") else f"{who}{what}{trouble}。"
    borrow = _measure_to_borrow(card, close, spans)
    if borrow:
        text += f"值得借鉴的做法：{borrow[0]}。"
    return Reason(text, situation_cite, borrow[1] if borrow else None, borrow[0] if borrow else None)


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
