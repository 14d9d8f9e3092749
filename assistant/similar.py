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
Each result carries the matching passages (cited) and why it matched.

Example::

    >>> from assistant.retrieval import get_searcher
    >>> from assistant.similar import SimilarFinder
    >>> finder = SimilarFinder(get_searcher())
    >>> res = finder.find("我们小区是动迁安置房，老人把凳子搬到楼道里聊天，屡清屡放", k=3)
    >>> res[0].card.author
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from assistant.cards import CaseCard, cards_for, tag_idf
from assistant.citations import Citation, cite
from assistant.errors import InputError
from assistant.lexical import tokenize
from assistant.retrieval import HybridSearcher, check_question
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
class SimilarCase:
    rank: int
    score: float
    card: CaseCard
    shared_tags: list[str]
    passages: list[MatchedPassage]
    parts: dict[str, float]

    @property
    def why(self) -> str:
        """One line, in Chinese, saying why this case matched."""
        bits = []
        if self.shared_tags:
            bits.append(f"共同话题：{'、'.join(self.shared_tags)}")
        terms = []
        for p in self.passages:
            terms += [t for t in p.terms if t not in terms]
        if terms:
            bits.append(f"问题描述相近（{'、'.join(terms[:6])}）")
        elif self.passages:
            bits.append("问题描述语义相近")
        return "；".join(bits)

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
            out.append(SimilarCase(rank, scores["total"][cid], card, shared, passages, parts))
        return out

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
            out.append(f"    - {cit.section or '（开头）'}（第 {cit.start}–{cit.end} 字）")
            out.append("      " + " ".join(cit.quote.split()))
        out.append("")
    return "\n".join(out)
