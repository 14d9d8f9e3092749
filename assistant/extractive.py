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
from typing import Sequence

from assistant.chunking import Passage, split_sentences
from assistant.citations import Citation, numbered, place
from assistant.corpus import ORDINAL, Case
from assistant.coverage import asks_money, money_said, short_of_money
from assistant.lexical import tokenize
from assistant.retrieval import Hit, is_lookup
from assistant.roles import RoleModel, get_role_model

Spans = Sequence[tuple[str, int, int]]  # (case id, start, end) of quotes shown earlier in a conversation
MAX_CASES = 3  # communities (blocks) in an answer
FIRST_BLOCK_CHARS = 280  # the measure of the first community, at most (unless one sentence is longer)
BLOCK_CHARS = 160  # the measure of a further community
MIN_BLOCK_CHARS = 90  # a shorter measure may take in the neighbouring passage of its section
# A block reads on to at least this many characters whatever the next sentences are: one
# sentence is too little to act on, and the script's next sentence often holds the measure
# (first block holds evidence: dev 0.725 -> 0.762, coverage tune 0.476 -> 0.524, follow-ups
# tune 0.478 -> 0.522; 120 / 200: 0.762 / 0.750 on dev).
MIN_MEASURE_CHARS = 160
WINDOW_MAX_ASIDE = 0.6  # a block grows over sentences read as 问题/背景/感悟 below this (the measure goes on)
NEW_PARAGRAPH_LEX = 0.1  # ... and into another paragraph only when the sentence shares this much of the question
ANCHOR_MAX_CHARS = 300  # a longer sentence (a list of honours, a run-on paragraph) leads a block only if nothing else can
# A shorter "sentence" of one clause is a name or an inline heading ("二陆家风堂(平复苑6号楼道)。",
# "健全"服务监督"体系。"), not a measure; one of two clauses may be ("最终经征询,同意使用维修资金。").
MIN_ANCHOR_CHARS = 20
ANCHOR_MAX_PROBLEM = 0.5  # a block is built around a sentence read as 问题/背景 below this (how-to questions)
ANCHORS = 3  # sentences of a case tried as a block's anchor
# A block shorter than MIN_BLOCK_CHARS (its anchor could not read on: the section ends or the
# next sentence opens another item) gives way to the case's next anchor that scores this share
# of the best and makes a fuller block: one bare sentence ("镇党委指导…组建红色自管会。") tells
# a reader less than the measure it announces, told by the next anchor ("赋予自管会…每季度给物业
# 公司打分"). Tune halves, first blocks (of 132): 0.8 loses the one whose gold is such a lead-in, 0.9 +1.
THIN_SHARE = 0.9
CASE_BREADTH = 3  # passages of a case that count for its rank among the communities (case_order)
OTHER_CASE_SHARE = 0.7  # a further community is shown when its best sentence scores this share of the best
RESULT_MAX_CHARS = 150
RESULT_MIN_MEASURE_SHARE = 0.1  # IDF share of a result's words the measure holds, outside the measure's passages
RESULT_REACH = 600  # a result this close after the measure may share the measure's words instead of the question's
RESULT_INDENT, RESULT_LABEL = "   ", "成效："
# A sentence's score counts its passage's retrieval score this many times (against its own
# words, its passage's words and its role, below): the block is built in the passage retrieval
# ranks first, which the link routes point at the measure, unless another passage of the
# case says much more about the question.  1.0 (round 1) let a sentence's role and words
# move the block off retrieval's best passage, most often to a worse one.  First block holds
# evidence on the tune halves (eval/blocks_eval.py; dev odd / coverage / follow-ups, of
# 40 / 42 / 23) for 1 / 2 / 3 / 5: 31 / 34 / 34 / 34, 23 / 22 / 22 / 20, 15 / 17 / 18 / 18.
PASSAGE_WEIGHT = 3.0
FOLLOW_LIFT = 0.6  # a passage right after a hit enters with this share of its score
FOLLOW_WEIGHT = 1.0
NEAR_CHARS = 600  # a follow-up also reads this far on from what the conversation quoted
SHOWN_PENALTY = 0.5  # a sentence the conversation already quoted
# A follow-up whose best sentence lies in the last answer's first quote, states a measure there
# (:meth:`Extractor.can_anchor`) and outscores every sentence not quoted yet by this ratio
# (the penalty aside) is answered by that part of the earlier quote again, said so in a notice
# ("后来商户怎么愿意配合的？" after 泰晤士's 最美商户 block); below it the answer moves on. 1.3: where moving
# on found the evidence the ratio was at most 1.29 (session 13's sets); blind round 26, eval/followups.md.
STILL_ANSWERS = 1.3
BACK_SHARE = 0.9  # an anchor before the anchor (its passage or the one before) scoring this share opens the block (window)
# Each sentence gains ROLE_WEIGHT x (p(做法) + p(成效) - p(问题) - p(背景) - p(感悟)) from
# the role model (assistant/roles.py), so a "how do I" answer leads with what was
# done rather than with the script's account of the difficulty, which the
# question echoes.  It replaces two hand-written word lists (measure / problem
# words, weight 0.6 each).  Dev set (eval/roles_eval.py): the top sentence lies
# in an evidence passage for 0.713 of the answerable questions (word lists
# 0.650, no role signal 0.588, roles from a model that never saw the case
# 0.662); ROLE_WEIGHT 0.5/1.5/2 give 0.688/0.688/0.625, and a blind reading
# of the lead sentences finds half as many that only restate the problem
# (eval/README.md, "回答质量").  Not applied to look-ups: facts often sit in 背景.
ROLE_WEIGHT = 1.0
# A question about money (:func:`assistant.coverage.asks_money`): a sentence saying where money was found gains
# this much (half for a sum only), and half again when it names the shortage the question names (资金压力).
# It picks the sentence a community's block is built around, never which communities answer (Sentence.standing):
# as a plain score it brought in a lift's 国债 subsidy under a question on a 积分超市's prizes.
MONEY_WEIGHT = 1.5


class CorpusStats:
    """Jieba-token statistics of a passage list, computed on first use (thread-safe)."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self._lock = threading.Lock()
        self._df: Counter | None = None
        self._tokens: list[frozenset[str]] = []
        self._position: dict[str, int] = {}
        self._by_case: dict[str, list[Passage]] = {}

    def _stats(self) -> Counter:
        if self._df is None:
            with self._lock:
                if self._df is None:
                    self._tokens = [frozenset(tokenize(p.index_text)) for p in self.passages]
                    self._position = {p.id: i for i, p in enumerate(self.passages)}
                    by_case: dict[str, list[Passage]] = {}
                    for p in self.passages:
                        by_case.setdefault(p.case_id, []).append(p)
                    self._by_case = by_case
                    self._df = Counter(t for ts in self._tokens for t in ts)
        return self._df

    def passages_of(self, case_id: str) -> list[Passage]:
        """The passages of one case, in script order."""
        self._stats()
        return self._by_case.get(case_id, [])

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

    def weighted_share(self, tokens: set[str] | frozenset[str], found: set[str] | frozenset[str]) -> float:
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
    aspect: float = 0.0  # the part of ``score`` owed to what is asked (money): it picks a community's sentence only

    @property
    def standing(self) -> float:
        """The score that ranks the communities (without ``aspect``: money said elsewhere brings in no case)."""
        return self.score - self.aspect


class Extractor:
    """Scores, picks and composes the quoted sentences of an extractive answer."""

    def __init__(self, stats: CorpusStats, roles: RoleModel | None = None) -> None:
        self.stats = stats
        self._roles = roles
        self._actionability: dict[str, float] = {}  # sentence -> score: the same corpus sentences recur across questions
        self._role_probs: dict[str, dict[str, float]] = {}
        self._token_cache: dict[str, frozenset[str]] = {}

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

    def candidates(self, question: str, hits: list[Hit], shown: Spans = ()) -> list[Sentence]:
        """Scored sentences of the hits and of the passage right after each of the top four.

        ``shown`` are the spans an earlier answer of the conversation quoted
        (a follow-up's): their passages and the ones after them join the pool
        (the follow-up asks about that place, often what came next there),
        and the sentences the last answer quoted from the community it opened
        with lose ``SHOWN_PENALTY``, so the answer moves on instead of
        repeating itself.  (A further community was quoted in a few lines; a
        follow-up may well lead with it: "他要是一直不签呢" after the lift
        answer is 西林塔's 律师释法, its second block.)

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
        fact = is_lookup(question)
        role_weight = 0.0 if fact else ROLE_WEIGHT
        money = asks_money(question)
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
        cases = {h.case.id: h.case for h in hits}
        for case_id, start, _ in shown:
            if case_id not in cases:
                continue
            for p in self.stats.passages_of(case_id):
                if p.id not in seen and (p.start <= start < p.end or 0 < p.start - start <= NEAR_CHARS):
                    seen.add(p.id)
                    pool.append(Hit(0, FOLLOW_LIFT * top, p, cases[case_id], {}))
        opened = shown[0][0] if shown else None  # the community the last answer opened with
        out: list[Sentence] = []
        for h in pool:
            p = h.passage
            text = h.case.text
            plex = self.stats.weighted_share(q_tokens, self.stats.passage_tokens(p))
            for s, e in sentence_spans(text, p):
                sentence = text[s:e]
                digit = bool(re.search(r"\d", sentence))
                if len(sentence) < 12 or sentence.endswith((":", "：")) or (
                    sentence.endswith(("？", "?")) and not (fact and digit)
                ):
                    # fragments, rhetorical questions and lead-ins to a list answer nothing (a question that
                    # states figures first does answer a look-up: "以一部电梯20万元为例,政府补贴30%(6万),剩下14万从哪里支出?")
                    continue
                lex = self.stats.weighted_share(q_tokens, self.tokens(sentence))
                score = PASSAGE_WEIGHT * h.score / top + 2.0 * lex + 1.0 * plex + 0.2 * digit
                score += role_weight * self.actionability(sentence) if role_weight else 0.0
                # (money said of the matter: in the case found first, or beside a word of the question)
                said_of = money and (h.case.id == hits[0].case.id or lex > 0)
                aspect = MONEY_WEIGHT * (money_said(sentence) / 2 + 0.5 * short_of_money(sentence)) if said_of else 0.0
                score += aspect
                if h.case.id == opened and _touches(opened, s, e, shown):
                    score -= SHOWN_PENALTY
                out.append(Sentence(h, s, e, sentence, score, lex, aspect))
        for c in out:  # the lift from an echoing sentence up to 500 characters before
            before = [o.lex for o in out if o.hit.case.id == c.hit.case.id and 0 < c.start - o.start <= 500]
            c.score += FOLLOW_WEIGHT * max(before, default=0.0)
        return out

    def tokens(self, sentence: str) -> frozenset[str]:
        """Jieba tokens of a sentence (cached: the corpus's sentences recur across questions)."""
        got = self._token_cache.get(sentence)
        if got is None:
            got = frozenset(tokenize(sentence))
            if len(self._token_cache) > 100_000:
                self._token_cache.clear()
            self._token_cache[sentence] = got
        return got

    def roles_of(self, sentence: str) -> dict[str, float]:
        """Role probabilities of a sentence (cached with its actionability)."""
        got = self._role_probs.get(sentence)
        if got is None:
            got = dict(zip(self.roles.classes, (float(x) for x in self.roles.probabilities(sentence))))
            if len(self._role_probs) > 100_000:
                self._role_probs.clear()
            self._role_probs[sentence] = got
        return got

    # -- blocks ----------------------------------------------------------------

    def blocks(self, question: str, hits: list[Hit], shown: Spans = (), aspect: Sequence[str] = ()) -> list[Block]:
        """One block per community, best first (at most ``MAX_CASES``).

        The communities come in retrieval order (a case's best passage plus a
        quarter of its others: :func:`case_order`), which picks the community
        that answers better than the single best-scoring sentence does
        (first block holds gold evidence, dev 0.725 -> 0.750, coverage tune
        half 0.405 -> 0.500).  Within a community the block is built around
        its best sentence (:meth:`candidates`): the contiguous sentences of
        that passage that state the measure (:meth:`window`), and a result
        with a number when the case reports one on this topic (:meth:`result`).
        A further community is shown when its best sentence scores at least
        ``OTHER_CASE_SHARE`` of the best one.

        A follow-up's first block does not say again what the conversation
        has quoted (``shown``).  When the community that answers best is the
        one the last answer opened with and its block would be quoted whole
        again, the follow-up's ``aspect`` (the words that name what it asks
        about, :meth:`assistant.topic.TopicFinder.focal`: "谈不拢谁出面？" ->
        出面) decides: a sentence of that community naming the aspect leads
        a block read on from there (:meth:`_focused`), the part of the
        earlier quote that answers the follow-up; otherwise the community's
        other anchors that still score ``OTHER_CASE_SHARE`` of the best are
        tried, and failing those the next community leads ("他要是一直不签呢"
        after the lift answer: 西林塔's 律师释法, not 蓝天二村's 签约仪式 again).
        """
        cands = self.candidates(question, hits, shown)
        if not cands:
            return []
        fact = is_lookup(question)
        ranked = sorted(cands, key=lambda c: -c.score)
        options: dict[str, list[Sentence]] = {}  # anchors a block may be built around, best first
        for c in ranked:
            if self.can_anchor(c.text, fact):
                options.setdefault(c.hit.case.id, []).append(c)
        for c in ranked:
            options.setdefault(c.hit.case.id, [c])  # a case that only states the problem, or at length
        top = max(c.standing for o in options.values() for c in o)
        q_tokens = set(tokenize(question))
        out: list[Block] = []
        repeat: str | None = None  # the community whose block would only be said again
        for case_id in [*case_order(hits), None]:
            last_resort = case_id is None
            if last_resort:  # no other community answers: the earlier block after all
                if out or repeat is None:
                    break
                case_id = repeat
            elif case_id not in options or (out and max(c.standing for c in options[case_id]) < OTHER_CASE_SHARE * top):
                continue
            budget = FIRST_BLOCK_CHARS if not out else BLOCK_CHARS
            again = not out and bool(shown) and shown[0][0] == case_id and not last_resort
            if again:
                chosen = self._moved_on(case_id, options[case_id], ranked, q_tokens, fact, budget, shown, aspect)
                if chosen is None:
                    repeat = case_id
                    continue
            else:
                chosen = self._anchored(options[case_id], q_tokens, fact, budget)
            if chosen is None:
                continue
            anchor, pieces = chosen
            has_result = any(self._reports(anchor.hit.case.text[a:b]) for a, b, _ in pieces)
            result = None if fact or has_result else self.result(anchor, cands, q_tokens, pieces)
            if result is not None and again and _quoted(case_id, [result], shown):
                result = None  # nor its result
            heading = summary_heading(anchor.hit.passage.section)
            pieces = _after_heading(anchor.hit.case.text, pieces, heading)
            out.append(Block(anchor.hit.case, pieces, result, heading, anchor.score))
            if len(out) == MAX_CASES:
                break
        return out

    def _anchored(
        self, anchors: list[Sentence], q_tokens: set[str], fact: bool, budget: int
    ) -> tuple[Sentence, list[Piece]] | None:
        """The block around a case's best anchor, or its next best if that one leans on a
        sentence the block cannot take in (scoring whole windows instead did worse), or if
        it is one bare sentence and the next scores nearly as well (``THIN_SHARE``)."""
        tried: list[tuple[Sentence, list[Piece]]] = []
        thin: tuple[Sentence, list[Piece]] | None = None  # the first block that reads well but is too short
        for anchor in anchors[:ANCHORS]:
            if thin is not None and anchor.score < THIN_SHARE * anchors[0].score:
                break
            pieces = self.window(anchor, q_tokens, fact, budget, peers=anchors)
            if not pieces:
                continue
            tried.append((anchor, pieces))
            if dangling_opener(anchor.hit.case.text[pieces[0][0] : pieces[0][1]]) != 0:
                if pieces[-1][1] - pieces[0][0] >= MIN_BLOCK_CHARS:
                    return tried[-1]
                thin = thin or tried[-1]
        return thin or (tried[0] if tried else None)

    def _moved_on(
        self, case_id: str, anchors: list[Sentence], ranked: list[Sentence], q_tokens: set[str], fact: bool,
        budget: int, shown: Spans, aspect: Sequence[str],
    ) -> tuple[Sentence, list[Piece]] | None:
        """A follow-up's block of the community the last answer opened with, other than that
        answer's block (see :meth:`blocks`); None when the community has nothing else to say."""
        held = self._still_answers(case_id, ranked, q_tokens, fact, budget, shown)
        if held is not None:
            return held
        dangling: tuple[Sentence, list[Piece]] | None = None
        focus_tried = False
        for anchor in anchors:
            if anchor.score < OTHER_CASE_SHARE * anchors[0].score:
                break
            pieces = self.window(anchor, q_tokens, fact, budget)
            if not pieces:
                continue
            if not _quoted(case_id, pieces, shown):
                if dangling_opener(anchor.hit.case.text[pieces[0][0] : pieces[0][1]]) != 0:
                    return anchor, pieces
                dangling = dangling or (anchor, pieces)
            elif not focus_tried:  # the first block quoted again: the part of it that answers, if any
                focus_tried = True
                focused = self._focused(case_id, ranked, q_tokens, fact, budget, shown, aspect)
                if focused is not None:
                    return focused
        return dangling

    def _still_answers(
        self, case_id: str, ranked: list[Sentence], q_tokens: set[str], fact: bool, budget: int, shown: Spans,
    ) -> tuple[Sentence, list[Piece]] | None:
        """The block around the community's best sentence inside what the conversation quoted, when
        that sentence states a measure and, its ``SHOWN_PENALTY`` aside, outscores every sentence not
        quoted yet by ``STILL_ANSWERS``: the earlier quote answers the follow-up, and a weaker passage
        would not ("他们后来是怎么肯配合的？" after 泰晤士's 商户自律联盟 block). An event the earlier
        block reported ("…签约仪式正式举行") states no measure and is never said again."""
        def inside(c: Sentence) -> bool:  # the sentences that lost SHOWN_PENALTY (:meth:`candidates`)
            return c.hit.case.id == case_id and _touches(case_id, c.start, c.end, shown)

        earlier = next((c for c in ranked if inside(c)), None)
        fresh = next((c for c in ranked if not inside(c)), None)
        if earlier is None or not self.can_anchor(earlier.text, fact):
            return None
        if fresh is not None and earlier.score + SHOWN_PENALTY < STILL_ANSWERS * fresh.score:
            return None
        pieces = self.window(earlier, q_tokens, fact, budget)
        return (earlier, pieces) if pieces else None

    def _focused(
        self, case_id: str, ranked: list[Sentence], q_tokens: set[str], fact: bool, budget: int,
        shown: Spans, aspect: Sequence[str],
    ) -> tuple[Sentence, list[Piece]] | None:
        """The block that opens at the community's best sentence naming the follow-up's ``aspect``
        and reads on from there (not back), when it is not a span the conversation quoted
        already; if reading on only gives the earlier quote again, that sentence alone."""
        focus = next((c for c in ranked if c.hit.case.id == case_id and any(w in c.text for w in aspect)
                      and (fact or self._states(c.text))), None)
        if focus is None:
            return None
        pieces = self.window(focus, q_tokens, fact, budget, back=False)
        if pieces and not _restates(case_id, pieces, shown):
            return focus, pieces
        pieces = [(focus.start, focus.end, focus.hit.passage)]
        return None if _restates(case_id, pieces, shown) else (focus, pieces)

    def can_anchor(self, sentence: str, fact: bool) -> bool:
        """A block may be built around ``sentence``: it states a measure (or, for a look-up, a fact).

        Not a name or an inline heading (one clause under ``MIN_ANCHOR_CHARS``), not a
        run-on paragraph (over ``ANCHOR_MAX_CHARS``); for a how-to question
        not the problem or its background (``ANCHOR_MAX_PROBLEM``) and not a
        result that reads more as 成效 than as 做法: an answer built around
        "截至目前,3个停车场的智能道闸系统全部完成安装" reports what came of
        the measure and leaves out the measure itself (the blind reading's
        "results without the how").
        """
        if len(sentence) > ANCHOR_MAX_CHARS or (len(sentence) < MIN_ANCHOR_CHARS and not _CLAUSE.search(sentence)):
            return False
        if fact:
            return True
        r = self.roles_of(sentence)
        return r["问题"] + r["背景"] < ANCHOR_MAX_PROBLEM and r["做法"] >= r["成效"]

    def _states(self, sentence: str) -> bool:
        """The sentence is not read as the problem or its background (see :meth:`can_anchor`)."""
        r = self.roles_of(sentence)
        return r["问题"] + r["背景"] < ANCHOR_MAX_PROBLEM

    def window(
        self, anchor: Sentence, q_tokens: set[str], fact: bool, budget: int, *, back: bool = True,
        peers: Sequence[Sentence] = (),
    ) -> list[Piece]:
        """The measure: contiguous sentences around ``anchor`` in script order, as citable pieces.

        Starts from the anchor sentence and grows within its passage: back first to
        the earliest of ``peers`` (the case's other anchors) before it that scores
        ``BACK_SHARE`` of the anchor (the measure begins there: "…联合…3位村党总支书记组成
        "乡梦合伙人"…" two sentences before the anchor), then forwards (at any rate to
        ``MIN_MEASURE_CHARS`` from the anchor) and then backwards, over
        sentences that are not clearly an aside (the
        role model reads 问题, 背景 and 感悟 together below
        ``WINDOW_MAX_ASIDE``; for a look-up: sentences sharing the question's
        words), into another paragraph only for a sentence on the question
        (``NEW_PARAGRAPH_LEX``), up to ``budget`` characters, and never forwards into the
        next item of an enumeration ("二是…""第三步:""(二)…") unless that item is on the
        question too; forwards it may run on into the
        next passage of the section, or of the next section when that is the first item of a
        list the passage announces in the same run of text (:func:`opens_list`: a lead-in
        "…群租整治"四步法"。" is not left without its "第一步:…"), and a short window may take in the
        passage before, as may any window where one of ``peers`` (the case's other anchors) lies there
        scoring ``BACK_SHARE`` of the anchor: the measure began before the index's cut.  Then the edges are made to
        read on their own: a dangling opener ("为此,""通过这些措施,") is cut
        when the rest still reads, otherwise the sentence it points back to is
        taken in (or the sentence dropped); a lead-in ending with a colon or an
        inline heading is not left hanging at the end.  Pieces are split at line breaks and
        passage boundaries, so each piece lies in one paragraph of one passage
        (an answer quotes a sentence the index cut as one: :func:`running`).
        With ``back=False`` the block opens at the anchor (a follow-up's part of
        an earlier quote: :meth:`_focused`), unless its opening dangles.
        """
        case = anchor.hit.case
        text = case.text
        passages = self.stats.passages
        i = self.stats.position(anchor.hit.passage)
        group = [anchor.hit.passage]
        if i is not None:
            section = anchor.hit.passage.section
            for j in (i - 1, i + 1):
                if 0 <= j < len(passages) and passages[j].case_id == case.id and passages[j].section == section:
                    group.insert(0 if j < i else len(group), passages[j])  # never across a heading
            j = i + 1
            if j < len(passages) and passages[j].case_id == case.id and opens_list(text, anchor.hit.passage, passages[j]):
                group.append(passages[j])  # ... unless it is the first item of a list the passage announces
        spans = [(s, e, p) for p in group for s, e in sentence_spans(text, p)]
        k = next((n for n, (s, e, _) in enumerate(spans) if s <= anchor.start < e), None)
        if k is None:
            return [(anchor.start, anchor.end, anchor.hit.passage)]
        home = anchor.hit.passage.id
        lo = hi = k
        # the measure may begin in the passage before, where a sentence nearly as good as the anchor
        # states it (the index cut "…推出"1+1伙伴卡",让52名年轻党员与老年楼组长结对" from how the pairs work)
        near = {c.start for c in peers if c is not anchor and c.score >= BACK_SHARE * anchor.score}
        reach = min((n for n, (s, _, p) in enumerate(spans) if n < k and p.id != home and s in near), default=k)

        def size(a: int, b: int) -> int:
            return spans[b][1] - spans[a][0]

        def fits(a: int, b: int, n: int) -> bool:
            inside = spans[n][2].id == home or size(lo, hi) < MIN_BLOCK_CHARS or n > k or n >= reach
            return inside and size(a, b) <= budget

        def useful(n: int) -> bool:
            sentence = text[spans[n][0] : spans[n][1]]
            lex = self.stats.weighted_share(q_tokens, self.tokens(sentence))
            if fact:
                return lex >= 0.2
            a, b = sorted((n, k))
            if "\n" in text[spans[a][1] : spans[b][0]] and lex < NEW_PARAGRAPH_LEX:
                return False  # a new paragraph is a new point unless it is on the question too
            r = self.roles_of(sentence)
            return r["问题"] + r["背景"] + r["感悟"] < WINDOW_MAX_ASIDE

        def next_item(n: int) -> bool:
            """Sentence ``n`` opens another item of the script ("第三重挑战:""二是…""三级响应(复杂矛盾):")
            off the question, not the next step of a list the block already reads ("一是…;二是…")."""
            sentence = text[spans[n][0] : spans[n][1]]
            numbered, label = _NEW_ITEM.match(sentence), _LABEL.match(sentence)
            if not (numbered or label) or self.stats.weighted_share(q_tokens, self.tokens(sentence)) >= NEW_PARAGRAPH_LEX:
                return False
            if numbered:
                item = item_number(sentence)
                if item and item[0] == 1:
                    return False  # the first item of a list the block leads into ("…即三问、三聚、三会和三制。一是…")
                read = text[spans[lo][0] : spans[n][0]]
                return not item or not any(m in read for m in item[1])
            # a labelled point goes on a list of labelled points the block reads ("职能部门:…;居委会:…")
            return not _LABEL_IN.search(text, spans[lo][0], spans[n][0])

        def back_ok(n: int) -> bool:
            return (
                fits(n, hi, n) and useful(n) and not _asks(text, spans[n])
                and not _new_item_after(text[spans[n][0] : spans[n][1]], text[spans[n + 1][0] : spans[n + 1][1]])
            )

        # where a nearly as good anchor comes before the anchor, the measure begins there: read back to it
        # first, so that reading on does not spend the budget it needs
        first = min((n for n, (s, _, _) in enumerate(spans) if n < k and s in near), default=k)
        while back and lo > first and back_ok(lo - 1):
            lo -= 1
        # read on while the measure goes on, and at any rate to MIN_MEASURE_CHARS from the anchor, but not
        # into the next item
        while (
            hi + 1 < len(spans) and fits(lo, hi + 1, hi + 1) and not next_item(hi + 1)
            and (useful(hi + 1) or size(k, hi) < MIN_MEASURE_CHARS)
        ):
            hi += 1
        # ... and back while the measure began earlier, but not back out of the item the block opens with
        while back and lo - 1 >= 0 and back_ok(lo - 1):
            lo -= 1
        start = spans[lo][0]
        # the opening must read on its own
        for _ in range(3):
            opener = dangling_opener(text[start : spans[lo][1]])
            if opener is None:
                break
            if opener and lo <= k:
                start += opener  # cut "为此," and read on
                break
            if lo - 1 >= 0 and size(lo - 1, hi) <= budget + 80:
                lo -= 1  # take in what it points back to
                start = spans[lo][0]
            elif lo < hi:
                lo += 1
                start = spans[lo][0]
            else:
                break
        # a list marker ("2、""一是""第三步:") is the script's numbering, not the reader's
        m = _ITEM_MARKER.match(text, start, spans[lo][1])
        if m and spans[lo][1] - m.end() >= 10:
            start = m.end()
        # a lead-in to a list ("措施如下:") or an inline heading ("二陆法治堂(平复苑49号楼道)。") must not end the block:
        # read on to what it announces while that fits, else drop it (and any announcement before it); once
        # dropping, never read on again (two announcements in a row at the budget's edge swung back and forth)
        grow = True
        while hi > lo and _announces(text[spans[hi][0] : spans[hi][1]].strip()):
            grow = grow and hi + 1 < len(spans) and size(lo, hi + 1) <= budget + 80
            hi += 1 if grow else -1
        return _pieces(text, start, spans[lo : hi + 1])

    def _reports(self, text: str) -> bool:
        """The text reports a result with a number."""
        return bool(_DIGIT.search(text)) and any(
            self.roles_of(text[a:b])["成效"] >= 0.35 for a, b in split_sentences(text) if b - a >= 12
        )

    def result(self, anchor: Sentence, cands: list[Sentence], q_tokens: set[str], measure: list[Piece]) -> Piece | None:
        """A sentence of the same case that reports a number on this topic (None if it has none).

        Looked for among the case's retrieved sentences and the rest of the
        measure's section.  It must carry a digit and read as a result
        (p(成效) >= 0.4), and be on the topic: it shares the question's words
        (IDF share >= 0.12), or it follows the measure closely (within
        ``RESULT_REACH`` characters) and shares the measure's words (>= 0.3).
        Outside the measure's passages it must share some of the measure's words
        (``RESULT_MIN_MEASURE_SHARE``): a case's result on another matter that only shares a
        scene word with the question ("沿街商铺占道经营怎么管": "沿街商铺3个停车场的智能道闸")
        is not this measure's result.
        """
        case = anchor.hit.case
        text = case.text
        lo, hi = measure[0][0], measure[-1][1]
        m_tokens = set().union(*(self.tokens(text[a:b]) for a, b, _ in measure))
        measured = {p.id for _, _, p in measure}
        pool: dict[int, Piece] = {}
        for c in cands:
            if c.hit.case.id == case.id:
                pool[c.start] = (c.start, c.end, c.hit.passage)
        for p in self.stats.passages_of(case.id):
            if p.section == anchor.hit.passage.section or 0 <= p.start - hi <= RESULT_REACH:
                for s, e in sentence_spans(text, p):
                    pool.setdefault(s, (s, e, p))
        best: tuple[float, Piece] | None = None
        for s, e, p in pool.values():
            sentence = text[s:e]
            if lo <= s < hi or not _DIGIT.search(sentence) or not 12 <= len(sentence) <= RESULT_MAX_CHARS:
                continue
            cut = dangling_opener(sentence)
            if cut == 0:
                continue  # points back to something the reader has not seen
            r = self.roles_of(sentence)
            if r["成效"] < 0.4:
                continue
            tokens = self.tokens(sentence)
            lex_q = self.stats.weighted_share(q_tokens, tokens)
            near = 0 <= s - hi <= RESULT_REACH
            lex_m = self.stats.weighted_share(tokens, m_tokens)
            if lex_q < 0.12 and (lex_m < 0.3 or not near):
                continue
            if p.id not in measured and lex_m < RESULT_MIN_MEASURE_SHARE:
                continue  # another matter of the case that shares a scene word with the question
            lex_m = lex_m if near else 0.0
            score = r["成效"] + lex_q + 0.5 * lex_m + 0.3 * near
            if best is None or score > best[0]:
                best = (score, (s + (cut or 0), e, p))
        return best[1] if best else None

    def compose(
        self, question: str, hits: list[Hit], shown: Spans = (), aspect: Sequence[str] = ()
    ) -> tuple[str, list[Citation]]:
        """The answer as blocks, one per community, under one lead line; returns (text, citations).

        Shape (plain text; ``assistant.ui.render.answer_message`` reads it back)::

            案例库中有 2 个社区（村）的做法可供参考：蓝天二村居民区“拆除私装地锁,增加车位利用效率”；……。以下为讲稿原文摘录，方括号内为出处编号。
            1. 蓝天二村居民区（中山街道 · 沈东）：联合中山城管、……进行了拆除。[1]
               成效：通过联合行动,共拆除地锁146把,……[2]
            2. ……
        """
        return compose_blocks(self.blocks(question, hits, shown, aspect), fact=is_lookup(question))

    def context(self, question: str, hits: list[Hit], n: int) -> list[Hit]:
        """The passages an LLM answers from: per community in block order, each community's in script order.

        First the passages the blocks quote (the communities the extractive
        answer would show, in its order), then the other retrieved passages,
        best first, up to ``n``; then grouped by community (the blocks' first)
        and put in script order within each, so the model reads each
        community's account as the script tells it.
        """
        blocks = self.blocks(question, hits)
        by_id = {h.passage.id: h for h in hits}
        chosen: dict[str, Hit] = {}
        for b in blocks:
            for _, _, p in b.measure + ([b.result] if b.result else []):
                if p.id not in chosen and len(chosen) < n:
                    chosen[p.id] = by_id.get(p.id) or Hit(0, 0.0, p, b.case, {})
        for h in hits:
            if h.passage.id not in chosen and len(chosen) < n:
                chosen[h.passage.id] = h
        order = [b.case.id for b in blocks]
        order += [c for c in case_order(hits) if c not in order]
        rank = {c: i for i, c in enumerate(order)}
        return sorted(chosen.values(), key=lambda h: (rank.get(h.case.id, len(rank)), h.passage.start))


Piece = tuple[int, int, Passage]  # a quoted span of a case (start, end) and the passage holding it


@dataclass
class Block:
    """One community's part of an answer: its measure (contiguous pieces) and, optionally, a result."""

    case: Case
    measure: list[Piece]
    result: Piece | None
    heading: str  # the author's own summary of the section ("" when it has none worth quoting)
    score: float

    @property
    def text(self) -> str:
        parts = [self.case.text[s:e] for s, e, _ in self.measure]
        if self.result:
            parts.append(self.case.text[self.result[0] : self.result[1]])
        return "".join(parts)

    @property
    def who(self) -> str:
        """``蓝天二村居民区（中山街道 · 沈东）``."""
        where = " · ".join(x for x in (self.case.town, self.case.author) if x)
        return f"{place(self.case, town=False)}（{where}）"


# How the blocks read back from an answer's text (the web UI and the evaluation use these).
BLOCK_LINE = re.compile(r"^(\d+)\. ([^：\[\]\n]{2,60}?)（([^（）\n]*)）：")
RESULT_LINE = re.compile(r"^\s*" + RESULT_LABEL)


def compose_blocks(blocks: list[Block], *, fact: bool = False) -> tuple[str, list[Citation]]:
    """The text and numbered citations of an answer made of ``blocks`` (see :meth:`Extractor.compose`).

    A block's measure is cited piece by piece, except where the index cut a sentence or followed an
    inline heading (:func:`running`): there a citation mark reads as a break in the sentence.  The first
    citation lies in an evidence passage for 177 → 180 of 237 tune questions, 166 → 167 of 239 test ones
    (eval/blocks_eval.py; first blocks unchanged); blind rounds 24 / 24b in eval/answers.md, round 9.
    """
    if not blocks:
        return "", []
    names = [f"{place(b.case, town=False)}“{b.heading}”" if b.heading else place(b.case, town=False) for b in blocks]
    what = "讲稿提到了相关情况" if fact else "做法可供参考"
    lines = [f"案例库中有 {len(blocks)} 个社区（村）的{what}：{'；'.join(names)}。以下为讲稿原文摘录，方括号内为出处编号。"]
    citations: list[Citation] = []

    def cite(piece: Piece, case: Case) -> str:
        s, e, p = piece
        n = len(citations) + 1
        citations.append(numbered(n, case, s, e, section=p.section_label))
        return f"{case.text[s:e]}[{n}]"

    for i, b in enumerate(blocks, 1):
        lines.append(f"{i}. {b.who}：" + "".join(cite(piece, b.case) for piece in running(b.case.text, b.measure)))
        if b.result:
            lines.append(f"{RESULT_INDENT}{RESULT_LABEL}" + cite(b.result, b.case))
    return "\n".join(lines), citations


# ---------------------------------------------------------------------------
# helpers


_CN_DIGITS = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨"
_ITEM_NUMBER = re.compile(
    r"([一二三四五六七八九十])是|第([一二三四五六七八九十])|[(（]([一二三四五六七八九十])[)）]|[(（](\d{1,2})[)）]|(\d{1,2})(?:[、．]|\.(?!\d))|([①②③④⑤⑥⑦⑧⑨])"
)


def item_number(sentence: str) -> tuple[int, tuple[str, ...]] | None:
    """The number of the list item ``sentence`` opens and the markers the item before it carries.

    None when it opens no numbered item.

    >>> item_number("三是在11月通过多格合一集中清理。"), item_number("(2)成立议事小组。"), item_number("一是摸底。")
    ((3, ('二是',)), (2, ('(1)', '（1）')), (1, ()))
    """
    m = _ITEM_NUMBER.match(sentence)
    if not m:
        return None
    kind = next(i for i, g in enumerate(m.groups()) if g)
    g = m.group(kind + 1)
    number = _CN_DIGITS.index(g) + 1 if g in _CN_DIGITS else _CIRCLED.index(g) + 1 if g in _CIRCLED else int(g)
    if number < 2:
        return number, ()
    if kind < 3:
        prev = _CN_DIGITS[number - 2]
        return number, ((f"{prev}是",), (f"第{prev}",), (f"({prev})", f"（{prev}）"))[kind]
    if kind == 5:
        return number, (_CIRCLED[number - 2],)
    prev = str(number - 1)
    return number, ((f"({prev})", f"（{prev}）"), (f"{prev}、", f"{prev}．", f"{prev}."))[kind - 3]


def next_in_case(passages: list[Passage], i: int) -> int | None:
    """Position of the passage right after passage ``i`` when it belongs to the same case.

    Scripts state a problem and then what was done about it, so the passage
    after a match is worth a look.  (``HybridSearcher._follow`` in
    retrieval.py walks the same neighbour; it can call this once it lives
    below the answer level.)
    """
    j = i + 1
    return j if j < len(passages) and passages[j].case_id == passages[i].case_id else None


def sentence_spans(text: str, p: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage in case-text offsets, also cut at line breaks, trimmed.

    The scripts use the same straight quote to open and close ("三制"即…), so
    the sentence splitter hands an opening quote after 。 or ; to the sentence
    before; a sentence with an odd number of quotes that ends in one gives it back.
    """
    out: list[tuple[int, int]] = []
    for s, e in split_sentences(p.text, p.start):
        pos = s
        for line in text[s:e].split("\n"):
            a, b = _trim(text, pos, pos + len(line))
            if b > a:
                out.append((a, b))
            pos += len(line) + 1
    for n in range(len(out) - 1):
        (a, b), (c, d) = out[n], out[n + 1]
        if b == c and b - a > 1 and text[b - 1] == '"' and text[a:b].count('"') % 2 == 1:
            out[n], out[n + 1] = (a, b - 1), (b - 1, d)
    return out


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in "-•·*"):
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


_DIGIT = re.compile(r"\d")
_CLAUSE = re.compile(r"[,，;；]")  # a short sentence of two clauses states something ("最终经征询,同意使用维修资金。")
_ITEM_MARKER = re.compile(
    r"(?:\d{1,2}[、．]|\d{1,2}\.(?!\d)|[(（]\d{1,2}[)）]|[①②③④⑤⑥⑦⑧⑨]|[一二三四五六七八九十]是|第[一二三四五六七八九十]+(?:步|是)?[,，、:：])\s*"
)
# The start of another item of an enumeration ("二是…", "第三重挑战:…", "(二)…", "3、…") or
# another labelled point inside a paragraph ("三级响应(复杂矛盾):…"; not a speaker: "居民说:"…").
_NEW_ITEM = re.compile(
    r"(?:[一二三四五六七八九十]+是|第[一二三四五六七八九十\d]+[^,，。；;:：]{0,6}[:：,，]|[(（][一二三四五六七八九十\d]+[)）]"
    r"|\d{1,2}[、．]|\d{1,2}\.(?!\d)|[①②③④⑤⑥⑦⑧⑨])"
)
_LABEL = re.compile(r"[^,，。；;:：“”\"]{2,16}(?<!\d)[:：](?![“\"‘'])")
_LABEL_IN = re.compile(r"(?:^|(?<=[;；。:：\n]))\s*[^,，。；;:：“”\"\n]{2,16}(?<!\d)[:：](?![“\"‘'])", re.M)
# Openers that point back to what came before.  Cut off when the rest reads on
# its own ("为此,通过邀请律师…" -> "通过邀请律师…"); a clause like
# "通过这些措施," is cut too, unless what follows cannot stand alone ("使…").
_OPENER = re.compile(
    # discourse markers, with or without a comma
    r"^(?:(?:例如|比如|譬如|举例来说|为此|对此|因此|所以|于是|因而|从而|由此|同时|与此同时|此外|另外|除此之外|除此以外"
    r"|另一方面|一方面|其次|再次|然后|接着|随后|之后|其后|最后|最终|后来|而且|并且|但是|不过|然而|可见|总之"
    r"|总的来说|综上|这样一来|就这样|如此一来|在此基础上|在此过程中|在这个过程中)[,，:：]?"
    # clauses that refer back, up to their comma
    r"|(?:这样|对此情况|针对(?:这|此|上述|以上|该)[^,，。:：]{0,10}|通过(?:这|此|上述|以上|该)[^,，。:：]{0,10}"
    r"|为了?(?:解决|破解|化解|应对|改变)(?:这|此|上述|以上|该)[^,，。:：]{0,8}"
    r"|经过(?:这|此|上述|以上|大家的|各方的|多方的|多次)?[^,，。:：]{0,8}(?:努力|协调|沟通|调解|商议|协商)"
    r"|(?:了解|掌握|摸清|得知|知道|发现)[^,，。:：]{0,8}后|在(?:这|此|上述|以上)[^,，。:：]{0,8}(?:下|中|后|上|里)"
    r"|基于(?:此|这)[^,，。:：]{0,6})[,，:：])\s*"
)
# A sentence that starts like this leans on the one before it.
_LEANS_BACK = re.compile(r"^(?:这|那|此|该|其|上述|以上|他们|她们|它们|他|她|它|使|让|令|也|还|又|都|就|才|便|并|而|且|及|以及|则|即|但)")


def dangling_opener(sentence: str) -> int | None:
    """How the start of a quoted sentence leans on what came before it.

    None: it does not.  A positive number: the length of an opener
    ("为此,") whose removal leaves a sentence that reads on its own.  0: it
    leans back and cannot be cut (a pronoun, or an opener whose rest would not
    read), so the sentence before it must be quoted too, or this one left out.

    >>> dangling_opener("为此,通过邀请律师等专业人士开展法理解释。"), dangling_opener("通过这些措施,使小区飞线大为减少。")
    (3, 0)
    """
    m = _OPENER.match(sentence)
    if m:
        rest = sentence[m.end() :]
        cut = bool(re.search(r"[,，:：]\s*$", m.group(0)))  # "最终确定了…" without its marker reads worse
        return m.end() if cut and len(rest) >= 10 and not _LEANS_BACK.match(rest) and not _OPENER.match(rest) else 0
    return 0 if _LEANS_BACK.match(sentence) and not sentence.startswith(("其中", "该村", "该社区", "该小区")) else None


def case_order(hits: list[Hit]) -> list[str]:
    """Case ids of the hits, best first: a case's best passage plus a quarter of its ``CASE_BREADTH`` best
    passages' scores (a case whose many weak passages the case prior of retrieval brought in does
    not outrank the case of the best passage by their number: the second question of eval/followups.jsonl
    f040, on 失业, led with 金地艺境's five passages on 楼组长 over 民益's three on 失业人群)."""
    scores: dict[str, list[float]] = {}
    for h in hits:
        scores.setdefault(h.case.id, []).append(h.score)
    total = {c: max(v) + 0.25 * sum(sorted(v, reverse=True)[:CASE_BREADTH]) for c, v in scores.items()}
    return sorted(total, key=lambda c: -total[c])


_HEADING_MARKER = re.compile(
    r"^(?:[一二三四五六七八九十]+[、是]|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、.．]|[①②③④⑤⑥⑦⑧⑨]"
    rf"|{ORDINAL}(?=[:：])[:：]?|第[一二三四五六七八九十]+(?:步|层|个关键词(?:是)?)?[,，、:：]?|【|】)\s*"
)
_GENERIC_HEADING = re.compile(
    r"^(?:主要|具体|我们的|工作|典型)?(?:做法|举措|措施|经验|成效|体会|启示|思考|背景|概况|基本情况|情况|案例|结语|引言|前言|开场)"
    r"|概况|背景|难点|困境|现状|痛点|难在|之困|困局|基本情况|为什么|治理难题|面临的"
)


def summary_heading(section: tuple[str, ...], limit: int = 20) -> str:
    """The deepest heading of a section path that summarises what was done, in the author's words ("" if none).

    List markers ("一是""(二)""第三步:") are dropped; headings that only
    name a part of the script ("主要做法""经验成效") or a difficulty
    ("社区概况""面临的问题") do not summarise a measure.  A long heading is
    cut at its first clause.
    """
    for title in reversed(section):
        t = title
        for _ in range(2):
            t = _HEADING_MARKER.sub("", t).strip()
        t = t.rstrip("。.;；,，:：")
        if len(t) < 4 or _GENERIC_HEADING.search(t):
            continue
        if len(t) > limit:
            m = re.search(r"[,，:：;；—]", t)
            if m and 6 <= m.start() <= limit:
                t = t[: m.start()]
            elif len(t) > limit + 10:
                continue
        return t
    return ""


def _after_heading(text: str, pieces: list[Piece], heading: str) -> list[Piece]:
    """The measure without its opening clause when that is the heading the lead line already quotes
    ("拆除私装地锁,增加车位利用效率。通过前期…" starts at "通过前期…")."""
    s, e, p = pieces[0]
    if not heading or not text.startswith(heading, s):
        return pieces
    m = re.compile(r"[。:：!！;；]\s*").search(text, s + len(heading), e)
    if not m or m.start() - s - len(heading) > 2:
        return pieces
    if e - m.end() >= 10:
        return [(m.end(), e, p)] + pieces[1:]
    return pieces[1:] if len(pieces) > 1 else pieces


def _new_item_after(before: str, sentence: str) -> bool:
    """``sentence`` opens an item of a list or a labelled point ("三级响应(复杂矛盾):…") that
    ``before`` is not the previous item of ("二是…" before "三是…", "职能部门:…" before "居委会:…")."""
    if _LABEL.match(sentence):
        return not _LABEL.match(before)
    if not _NEW_ITEM.match(sentence):
        return False
    item = item_number(sentence)
    if item and item[0] == 1:
        return False  # the first item reads on from the lead-in that announces the list
    return not item or not before.startswith(item[1])


def opens_list(text: str, p: Passage, after: Passage) -> bool:
    """``after`` is the first item of a list that passage ``p`` leads into, told in one run of text:
    another section whose label opens its first sentence ("…探索出的群租整治"四步法"。" then
    "第一步:数据建档…"), with nothing but a line break between them (no heading line)."""
    if after.section == p.section or after.start < p.end or text[p.end : after.start].strip():
        return False
    item = item_number(after.text)
    return item is not None and item[0] == 1


def _touches(case_id: str, start: int, end: int, shown: Spans) -> bool:
    """``case_id``'s text at ``start:end`` overlaps a span the conversation has quoted."""
    return any(c == case_id and a < end and start < b for c, a, b in shown)


def _quoted(case_id: str, pieces: list[Piece], shown: Spans) -> bool:
    """Every piece lies within a span the conversation has quoted."""
    return bool(shown) and all(any(c == case_id and a <= s and e <= b for c, a, b in shown) for s, e, _ in pieces)


def _restates(case_id: str, pieces: list[Piece], shown: Spans) -> bool:
    """The pieces quote again what the conversation quoted, from where that quote began."""
    return _quoted(case_id, pieces, shown) and any(c == case_id and a == pieces[0][0] for c, a, _ in shown)


def _asks(text: str, span: tuple[int, int, Passage]) -> bool:
    return text[span[0] : span[1]].rstrip().endswith(("？", "?"))


def running(text: str, pieces: list[Piece]) -> list[Piece]:
    """A block's pieces, with a passage seam that is no place for a citation mark closed: where the
    index cut a sentence at a clause (``…(村党总支、党员议事会);"`` | ``3"即…``) or right after an inline
    heading (one short clause: ``实行奖励机制。`` | ``对遵守丧事简办公约的居民…``), the pieces on either side, of one paragraph
    of one section, are quoted as one.  Elsewhere a seam stays a citation mark at a sentence end: readers
    checking a claim want it there (blind round 24).  A merged piece keeps its first passage."""
    out: list[Piece] = []
    for s, e, p in pieces:
        if out and _seam_inside(text, out[-1], s) and out[-1][2].section == p.section:
            out[-1] = (out[-1][0], e, out[-1][2])
        else:
            out.append((s, e, p))
    return out


def _announces(sentence: str) -> bool:
    """The sentence announces what follows: a lead-in ending with a colon, or an inline heading (one short clause,
    not a labelled point such as "物业:执行迁移、后期养护。")."""
    if sentence.endswith((":", "：")):
        return True
    return _inline_heading(sentence) and not re.search("[:：]", sentence)


def _inline_heading(sentence: str) -> bool:
    """One short clause ("二陆家风堂(平复苑6号楼道)。", "健全"服务监督"体系。"): a name or a heading, not a statement."""
    return 0 < len(sentence) < MIN_ANCHOR_CHARS and not _CLAUSE.search(sentence)


def _seam_inside(text: str, before: Piece, start: int) -> bool:
    """The seam between ``before`` and a piece at ``start`` lies in a sentence, or after an inline heading."""
    gap = text[before[1] : start]
    if before[1] > start or gap.strip() or "\n" in gap:
        return False  # not contiguous in one paragraph
    tail = text[before[0] : before[1]].rstrip()
    if not _SENTENCE_END.search(tail):
        return True
    spans = split_sentences(tail)
    last = tail[spans[-1][0] : spans[-1][1]].strip() if spans else ""
    return _inline_heading(last)


_SENTENCE_END = re.compile(r"[。！？!?…][”’\"'）)」』]*$")


def _pieces(text: str, start: int, spans: list[tuple[int, int, Passage]]) -> list[Piece]:
    """Contiguous spans merged into one piece per paragraph and passage (the first starting at ``start``)."""
    out: list[Piece] = []
    for n, (s, e, p) in enumerate(spans):
        s = start if n == 0 else s
        if out and out[-1][2].id == p.id and "\n" not in text[out[-1][1] : s]:
            out[-1] = (out[-1][0], e, p)
        else:
            out.append((s, e, p))
    return out
