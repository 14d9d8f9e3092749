"""The extractive answer: verbatim sentences of the retrieved passages, grouped by community.

:class:`Extractor` scores every sentence of the hits (and of the passage
right after each of the top four) for relevance to the question, then picks
sentences for relevance and non-redundancy, a few communities at most, and
composes them under one lead-in line, each followed by its citation number.
Every citation is exact by construction: ``case.text[c.start:c.end] == c.quote``.

:class:`CorpusStats` holds the term statistics of the searcher's passages
(IDF of jieba tokens), shared with the refusal and the support check of
:mod:`assistant.grounding`.

Example::

    >>> from assistant.retrieval import get_searcher
    >>> from assistant.extractive import CorpusStats, Extractor
    >>> searcher = get_searcher()
    >>> extractor = Extractor(CorpusStats(searcher.index.passages))
    >>> question = "小区停车位不够，外来车辆多怎么办？"
    >>> text, citations = extractor.compose(question, searcher.search(question, 8))
    >>> print(text); citations[0].quote
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from assistant.chunking import Passage, split_sentences
from assistant.citations import Citation, numbered, place
from assistant.lexical import tokenize, tokenize_chars
from assistant.retrieval import Hit
from assistant.roles import RoleModel, get_role_model

MIN_CHARS, TARGET_CHARS, MAX_CHARS = 150, 330, 500  # extractive answer length (quotes)
MAX_CASES = 3
CASE_DISCOUNT = 0.85  # per sentence already quoted from the same case
FOLLOW_LIFT = 0.6  # a passage right after a hit enters with this share of its score
FOLLOW_WEIGHT = 1.0
# Each sentence gains ROLE_WEIGHT x (p(做法) + p(成效) - p(问题) - p(背景) - p(感悟)) from
# the role model (assistant/roles.py), so a "how do I" answer leads with what was
# done rather than with the script's account of the difficulty, which the
# question echoes.  It replaces two hand-written word lists (measure / problem
# words, weight 0.6 each).  Dev set (eval/roles_eval.py): the top sentence lies
# in an evidence passage for 0.713 of the answerable questions (word lists
# 0.650, no role signal 0.588, roles from a model that never saw the case
# 0.662); ROLE_WEIGHT 0.5/1.5/2 give 0.688/0.688/0.625, and a blind reading
# of the lead sentences finds half as many that only restate the problem
# (README, "回答质量").  Not applied to look-ups: facts often sit in 背景.
ROLE_WEIGHT = 1.0
_FACT_QUESTION = re.compile(r"多少|几[个次部辆年名人户位家把条]|哪一年|什么时候|哪年|是谁|多大|多长|多久|哪些人")
_HOW = re.compile(r"怎么|怎样|如何|咋|办法")

T = TypeVar("T")


class CorpusStats:
    """Jieba-token statistics of a passage list, computed on first use (thread-safe)."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self._lock = threading.Lock()
        self._df: Counter | None = None
        self._tokens: list[frozenset[str]] = []
        self._position: dict[str, int] = {}

    def _stats(self) -> Counter:
        if self._df is None:
            with self._lock:
                if self._df is None:
                    self._tokens = [frozenset(tokenize(p.index_text)) for p in self.passages]
                    self._position = {p.id: i for i, p in enumerate(self.passages)}
                    self._df = Counter(t for ts in self._tokens for t in ts)
        return self._df

    def position(self, p: Passage) -> int | None:
        """Position of ``p`` in the passage list (None for a passage from elsewhere)."""
        self._stats()
        return self._position.get(p.id)

    def idf(self, token: str) -> float:
        df = self._stats()
        n = len(self._tokens)
        return math.log((n + 1) / (df.get(token, 0) + 0.5))

    def passage_tokens(self, p: Passage) -> frozenset[str]:
        i = self.position(p)
        return self._tokens[i] if i is not None else frozenset(tokenize(p.index_text))

    def weighted_share(self, tokens: set[str], found: set[str] | frozenset[str]) -> float:
        """Share of the IDF mass of ``tokens`` that ``found`` holds."""
        total = sum(self.idf(t) for t in tokens)
        return sum(self.idf(t) for t in tokens if t in found) / total if total else 0.0

    def key_terms(self, text: str, n: int = 6) -> list[str]:
        """The text's most distinctive corpus words (highest IDF among known words)."""
        df = self._stats()
        seen: list[str] = []
        for t in tokenize(text):
            if t not in seen and df.get(t) and len(t) >= 2:
                seen.append(t)
        # drop sub-words of a kept longer word
        ranked = sorted(seen, key=lambda t: -self.idf(t) * min(len(t), 4))
        out: list[str] = []
        for t in ranked:
            if not any(t in o for o in out):
                out.append(t)
            if len(out) == n:
                break
        return out


@dataclass
class Sentence:
    """A candidate sentence of a hit's case (offsets into the case text)."""

    hit: Hit
    start: int
    end: int
    text: str
    score: float = 0.0
    lex: float = 0.0  # share of the question's IDF mass in this sentence


class Extractor:
    """Scores, picks and composes the quoted sentences of an extractive answer."""

    def __init__(self, stats: CorpusStats, roles: RoleModel | None = None) -> None:
        self.stats = stats
        self._roles = roles
        self._actionability: dict[str, float] = {}  # sentence -> score: the same corpus sentences recur across questions

    @property
    def roles(self) -> RoleModel:
        if self._roles is None:
            self._roles = get_role_model()
        return self._roles

    def actionability(self, sentence: str) -> float:
        """p(做法) + p(成效) - p(问题) - p(背景) - p(感悟), in [-1, 1] (cached per sentence)."""
        got = self._actionability.get(sentence)
        if got is None:
            p = dict(zip(self.roles.classes, self.roles.probabilities(sentence)))
            got = float(p["做法"] + p["成效"] - p["问题"] - p["背景"] - p["感悟"])
            if len(self._actionability) > 100_000:
                self._actionability.clear()
            self._actionability[sentence] = got
        return got

    def candidates(self, question: str, hits: list[Hit]) -> list[Sentence]:
        """Scored sentences of the hits and of the passage right after each of the top four.

        Users describe their problem; scripts describe the problem and then
        what was done.  So the sentences a question echoes lift the ones that
        follow them (``follow``), and sentences that state measures or results
        gain while background, difficulties and reflections lose (the role
        model, ``ROLE_WEIGHT``).  Weights: the best of a
        small grid on eval/dev.jsonl, all round numbers; sentence embeddings
        were tried and did not help (e5 rates every sentence on the topic
        alike), at a cost of ~60 ms a sentence.
        """
        q_tokens = set(tokenize(question))
        role_weight = 0.0 if is_fact_question(question) else ROLE_WEIGHT
        top = hits[0].score if hits and hits[0].score > 0 else 1.0
        pool = list(hits)
        seen = {h.passage.id for h in hits}
        passages = self.stats.passages
        for h in hits[:4]:
            i = self.stats.position(h.passage)
            j = next_in_case(passages, i) if i is not None else None
            if j is not None and passages[j].id not in seen:
                seen.add(passages[j].id)
                pool.append(Hit(0, FOLLOW_LIFT * h.score, passages[j], h.case, {}))
        out: list[Sentence] = []
        for h in pool:
            p = h.passage
            text = h.case.text
            plex = self.stats.weighted_share(q_tokens, self.stats.passage_tokens(p))
            for s, e in sentence_spans(text, p):
                sentence = text[s:e]
                if len(sentence) < 12 or sentence.endswith(("？", "?", ":", "：")):
                    continue  # fragments, rhetorical questions and lead-ins to a list answer nothing
                lex = self.stats.weighted_share(q_tokens, set(tokenize(sentence)))
                score = h.score / top + 2.0 * lex + 1.0 * plex + 0.2 * bool(re.search(r"\d", sentence))
                score += role_weight * self.actionability(sentence) if role_weight else 0.0
                out.append(Sentence(h, s, e, sentence, score, lex))
        for c in out:  # the lift from an echoing sentence up to 500 characters before
            before = [o.lex for o in out if o.hit.case.id == c.hit.case.id and 0 < c.start - o.start <= 500]
            c.score += FOLLOW_WEIGHT * max(before, default=0.0)
        return out

    def select(self, question: str, hits: list[Hit]) -> list[Sentence]:
        """The sentences to quote: best first, a second community's say when it answers nearly as well."""
        cands = sorted(self.candidates(question, hits), key=lambda c: -c.score)
        if not cands:
            return []
        best = cands[0].score
        chosen: list[Sentence] = []
        taken: Counter[str] = Counter()  # sentences taken per case
        total = 0
        pool = list(cands)
        while pool and total < TARGET_CHARS:
            c = pick_discounted(pool, lambda x: x.score, lambda x: x.hit.case.id, taken, CASE_DISCOUNT)
            pool.remove(c)
            if total >= MIN_CHARS and c.score < 0.55 * best:
                break
            if total + len(c.text) > MAX_CHARS:
                continue
            if c.hit.case.id not in taken and len(taken) == MAX_CASES:
                continue
            if any(_overlap(c, o) for o in chosen):
                continue
            chosen.append(c)
            total += len(c.text)
            taken[c.hit.case.id] += 1
        return chosen

    def compose(self, question: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
        """An answer of verbatim sentences grouped by case, one line per community; returns (text, citations)."""
        chosen = self.select(question, hits)
        if not chosen:
            return "", []
        cases = list(dict.fromkeys(c.hit.case.id for c in chosen))  # in order of first choice
        groups = [[c for c in chosen if c.hit.case.id == cid] for cid in cases]
        label = "的情况" if is_fact_question(question) else "的做法"
        lines = [
            f"案例库中有 {len(groups)} 个社区（村）的讲稿涉及这个问题，以下均为讲稿原文摘录（方括号内为出处编号）："
            if len(groups) > 1
            else "案例库中有一篇讲稿涉及这个问题，以下为讲稿原文摘录（方括号内为出处编号）："
        ]
        citations: list[Citation] = []
        for group in groups:
            parts = []
            for c in group:
                n = len(citations) + 1
                citations.append(numbered(n, c.hit.case, c.start, c.end, section=c.hit.passage.section_label))
                parts.append(f"{c.text}[{n}]")
            lines.append(f"{place(group[0].hit.case, town=False)}{label}：" + "".join(parts))
        return "\n".join(lines), citations


# ---------------------------------------------------------------------------
# helpers


def is_fact_question(question: str) -> bool:
    """A look-up ("多少辆""哪一年"), judged on the asking clauses only.

    The asking clause is the last clause before each question mark (and of
    any text after the last one): "商业街旁边几个公共停车场是免费的，……，怎么整治？" describes a
    situation with 几个 but asks how, so it is not a look-up.
    """
    clauses = []
    for segment in re.findall(r"[^？?]+(?:[？?]+|$)", question):
        parts = [p for p in re.split(r"[，,。！!；;：:]", segment) if p.strip()]
        if parts:
            clauses.append(parts[-1])
    return any(_FACT_QUESTION.search(c) and not _HOW.search(c) for c in clauses)


def next_in_case(passages: list[Passage], i: int) -> int | None:
    """Position of the passage right after passage ``i`` when it belongs to the same case.

    Scripts state a problem and then what was done about it, so the passage
    after a match is worth a look.  (``HybridSearcher._follow`` in
    retrieval.py walks the same neighbour; it can call this once it lives
    below the answer level.)
    """
    j = i + 1
    return j if j < len(passages) and passages[j].case_id == passages[i].case_id else None


def pick_discounted(
    pool: Iterable[T], score: Callable[[T], float], case_of: Callable[[T], str], taken: Counter[str], discount: float
) -> T:
    """The best item of ``pool`` once every item already taken from its case has discounted it by ``discount``.

    Another case moves up only when it answers nearly as well, so one case
    cannot crowd out the rest.  (``HybridSearcher._diversify`` in
    retrieval.py does the same with its own factor.)  Ties go to the earlier item.
    """
    return max(pool, key=lambda x: score(x) * discount ** taken[case_of(x)])


def sentence_spans(text: str, p: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage in case-text offsets, also cut at line breaks, trimmed."""
    out = []
    for s, e in split_sentences(p.text, p.start):
        pos = s
        for line in text[s:e].split("\n"):
            a, b = _trim(text, pos, pos + len(line))
            if b > a:
                out.append((a, b))
            pos += len(line) + 1
    return out


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in "-•·*"):
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _overlap(a: Sentence, b: Sentence) -> bool:
    """Redundant: the same span, or most character bigrams shared."""
    if a.hit.case.id == b.hit.case.id and a.start < b.end and b.start < a.end:
        return True
    x = {g for g in tokenize_chars(a.text) if len(g) == 2}
    y = {g for g in tokenize_chars(b.text) if len(g) == 2}
    return bool(x and y) and len(x & y) / min(len(x), len(y)) > 0.6
