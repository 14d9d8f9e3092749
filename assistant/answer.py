"""Cited answers: extractive by default, through the LLM when one is configured.

Extractive mode quotes whole sentences of the retrieved passages, chosen for
relevance and non-redundancy and grouped by case, so every citation is exact
by construction: ``case.text[c.start:c.end] == c.quote``.  LLM mode gives the
model the same passages as numbered, fenced data; its reply is then checked
sentence by sentence (citation numbers that do not exist are removed, claims
their passages do not support are marked).  When retrieval is weak the answer
says so and lists the nearest cases instead.  Every LLM failure falls back to
the extractive answer with a notice.

Example::

    >>> from assistant.answer import ask, Conversation
    >>> chat = Conversation()
    >>> a = ask("小区停车位不够，外来车辆多怎么办？", conversation=chat)
    >>> print(a.answer); a.citations[0].quote
    >>> b = ask("那收费标准怎么定？", conversation=chat)   # a follow-up
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from assistant.chunking import Passage, split_sentences
from assistant.config import Settings, get_settings
from assistant.lexical import tokenize, tokenize_chars
from assistant.retrieval import HybridSearcher, Hit, check_question, get_searcher
from assistant.roles import RoleModel, get_role_model

REFUSAL = "案例库中没有找到直接相关的做法"
UNSUPPORTED_MARK = "〔未找到依据〕"

CANDIDATE_HITS = 8  # passages whose sentences may be quoted
LLM_PASSAGES = 6  # passages given to the LLM
MIN_CHARS, TARGET_CHARS, MAX_CHARS = 150, 330, 500  # extractive answer length (quotes)
MAX_CASES = 3
CASE_DISCOUNT = 0.85  # per sentence already quoted from the same case

# --- refusal ---------------------------------------------------------------
# Confidence that the corpus covers the question, from two signals that fail
# differently: the best dense cosine among the retrieved passages (e5 puts
# every Chinese text pair at 0.8-0.95, so only the margin matters) and the
# share of the question's IDF mass (jieba tokens) found in the top passages
# (a question about 个税/高考/护照 leaves its key words uncovered or
# out of the vocabulary).  Calibrated on eval/dev.jsonl (README, "回答质量"):
# the 8 unanswerable questions have top cosine 0.838-0.877 and coverage
# 0.15-0.31; the 80 answerable ones have cosine >= 0.886 or coverage >= 0.5.
# The line sits between the two groups: a 0.01 cosine is worth 0.1 coverage.
DENSE_FLOOR = 0.87
CONFIDENCE_THRESHOLD = 0.035  # midway between the lowest answerable (0.117) and highest unanswerable (-0.044)
COVERAGE_FLOOR = 0.35

# --- support check of LLM sentences ----------------------------------------
# lex: IDF-weighted share of a sentence's jieba tokens found in its cited
# passages; emb: cosine between the sentence (as a query) and the passage.
# Calibration (`python eval/answer_eval.py`, 80 dev questions): a sentence of
# the top passage, or a terse version of it, checked against that passage
# has lex 0.98-1.0 (p10) and cosine 0.88-0.95; a sentence from another
# case's passage on the same question has lex 0.00/0.06/0.22 (p10/p50/p90)
# and cosine 0.85-0.90, i.e. the cosine alone cannot separate them but lex
# can.  lex >= 0.5 is support; between 0.3 and 0.5 the cosine must agree
# (>= 0.88, the p10 of true support).  Result: 100% of supported claims
# accepted, 5% of same-topic claims from elsewhere accepted.
SUPPORT_LEX = 0.5
SUPPORT_LEX_LOW = 0.3
SUPPORT_EMB = 0.88

# --- sentence choice (see Answerer.candidates) -------------------------------
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
_FOLLOW_UP = re.compile(
    r"^(那|那么|这|这个|这些|那个|那些|它|他们|她们|其中|还有|另外|此外|同时|然后|以及|上面|刚才|前面|如果|要是|具体)"
    r"|(呢|吗|么)[？?]?$"
)
_MARKER = re.compile(r"[\[【［]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】］]")
_LLM_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*(?:\s*[\[【［]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】］])*")
_FENCE = re.compile(r"<<<|>>>")


@dataclass(frozen=True)
class Citation:
    n: int
    case_id: str
    case_title: str
    author: str  # with role and community: ``沈东（中山街道蓝天二村居民区党总支书记）``
    section: str
    quote: str
    start: int
    end: int

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "case_id": self.case_id,
            "case_title": self.case_title,
            "author": self.author,
            "section": self.section,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass
class Answer:
    question: str
    answered: bool
    mode: str  # "extractive" | "llm"
    answer: str
    citations: list[Citation] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # not part of the JSON shape: what was searched, how sure retrieval was
    search_question: str = ""
    confidence: float = 0.0
    hits: list[Hit] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "mode": self.mode,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "notices": list(self.notices),
        }


@dataclass
class Turn:
    question: str
    standalone: str
    answer: str


@dataclass
class Conversation:
    """Earlier turns of one user's conversation (follow-ups use them)."""

    turns: list[Turn] = field(default_factory=list)
    max_turns: int = 6

    def add(self, answer: Answer) -> None:
        self.turns.append(Turn(answer.question, answer.search_question or answer.question, answer.answer))
        del self.turns[: -self.max_turns]

    def history_text(self, turns: int = 3, answer_chars: int = 200) -> str:
        lines = []
        for t in self.turns[-turns:]:
            lines.append(f"用户：{_defang(t.question)}")
            lines.append(f"助手：{_defang(t.answer[:answer_chars])}")
        return "\n".join(lines)


@dataclass
class _Sentence:
    hit: Hit
    start: int  # offsets into the case text
    end: int
    text: str
    score: float = 0.0
    lex: float = 0.0  # share of the question's IDF mass in this sentence


# ---------------------------------------------------------------------------


class Answerer:
    """Answers questions over one searcher; cheap to build, statistics computed on first use."""

    def __init__(
        self, searcher: HybridSearcher, settings: Settings | None = None, roles: RoleModel | None = None
    ) -> None:
        self.searcher = searcher
        self.settings = settings or get_settings()
        self._roles = roles
        self._actionability: dict[str, float] = {}  # sentence -> score: the same corpus sentences recur across questions
        self._lock = threading.Lock()
        self._df: Counter | None = None
        self._tokens: list[frozenset[str]] = []
        self._position: dict[str, int] = {}

    # -- corpus statistics ---------------------------------------------------

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

    def _stats(self) -> None:
        if self._df is not None:
            return
        with self._lock:
            if self._df is None:
                passages = self.searcher.index.passages
                self._tokens = [frozenset(tokenize(p.index_text)) for p in passages]
                self._position = {p.id: i for i, p in enumerate(passages)}
                self._df = Counter(t for ts in self._tokens for t in ts)

    def idf(self, token: str) -> float:
        self._stats()
        assert self._df is not None, "_stats() fills it"
        n = len(self._tokens)
        return math.log((n + 1) / (self._df.get(token, 0) + 0.5))

    def _passage_tokens(self, p: Passage) -> frozenset[str]:
        self._stats()
        i = self._position.get(p.id)
        return self._tokens[i] if i is not None else frozenset(tokenize(p.index_text))

    def _weighted_share(self, tokens: set[str], found: set[str] | frozenset[str]) -> float:
        total = sum(self.idf(t) for t in tokens)
        return sum(self.idf(t) for t in tokens if t in found) / total if total else 0.0

    # -- confidence ----------------------------------------------------------

    def confidence(self, question: str, hits: list[Hit]) -> float:
        """> 0 when the cases cover the question (see the constants above)."""
        if not hits:
            return -1.0
        dense = max((h.parts.get("dense", 0.0) for h in hits), default=0.0)
        top = set().union(*(self._passage_tokens(h.passage) for h in hits[:3]))
        coverage = self._weighted_share(set(tokenize(question)), top)
        return (dense - DENSE_FLOOR) * 10 + (coverage - COVERAGE_FLOOR)

    # -- follow-ups ----------------------------------------------------------

    def key_terms(self, text: str, n: int = 6) -> list[str]:
        """The question's most distinctive corpus words (highest IDF among known words)."""
        self._stats()
        assert self._df is not None, "_stats() fills it"
        seen: list[str] = []
        for t in tokenize(text):
            if t not in seen and self._df.get(t) and len(t) >= 2:
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

    def carry_terms(self, question: str, conversation: Conversation | None) -> str:
        """Extractive follow-up: add the previous question's key terms to a short or anaphoric question."""
        if not conversation or not conversation.turns or not is_follow_up(question):
            return question
        previous = conversation.turns[-1].standalone
        terms = [t for t in self.key_terms(previous, 4) if t not in question]
        return f"{question}（{' '.join(terms)}）" if terms else question

    # -- extractive ----------------------------------------------------------

    def candidates(self, question: str, hits: list[Hit]) -> list[_Sentence]:
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
        passages = self.searcher.index.passages
        for h in hits[:4]:
            self._stats()
            i = self._position.get(h.passage.id)
            if i is not None and i + 1 < len(passages):
                nxt = passages[i + 1]
                if nxt.case_id == h.passage.case_id and nxt.id not in seen:
                    seen.add(nxt.id)
                    pool.append(Hit(0, FOLLOW_LIFT * h.score, nxt, h.case, {}))
        out: list[_Sentence] = []
        for h in pool:
            p = h.passage
            text = h.case.text
            plex = self._weighted_share(q_tokens, self._passage_tokens(p))
            for s, e in _sentence_spans(text, p):
                sentence = text[s:e]
                if len(sentence) < 12 or sentence.endswith(("？", "?", ":", "：")):
                    continue  # fragments, rhetorical questions and lead-ins to a list answer nothing
                lex = self._weighted_share(q_tokens, set(tokenize(sentence)))
                score = h.score / top + 2.0 * lex + 1.0 * plex + 0.2 * bool(re.search(r"\d", sentence))
                score += role_weight * self.actionability(sentence) if role_weight else 0.0
                out.append(_Sentence(h, s, e, sentence, score, lex))
        for c in out:  # the lift from an echoing sentence up to 500 characters before
            before = [o.lex for o in out if o.hit.case.id == c.hit.case.id and 0 < c.start - o.start <= 500]
            c.score += FOLLOW_WEIGHT * max(before, default=0.0)
        return out

    def extractive(self, question: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
        """Compose an answer of verbatim sentences grouped by case; returns (text, citations)."""
        cands = sorted(self.candidates(question, hits), key=lambda c: -c.score)
        if not cands:
            return "", []
        best = cands[0].score
        chosen: list[_Sentence] = []
        total = 0
        cases: list[str] = []
        pool = list(cands)
        while pool and total < TARGET_CHARS:
            # each sentence already taken from a case discounts that case's others,
            # so a second community that answers nearly as well gets its say
            per = Counter(c.hit.case.id for c in chosen)
            c = max(pool, key=lambda x: x.score * CASE_DISCOUNT ** per[x.hit.case.id])
            pool.remove(c)
            if total >= MIN_CHARS and c.score < 0.55 * best:
                break
            if total + len(c.text) > MAX_CHARS:
                continue
            if c.hit.case.id not in cases and len(cases) == MAX_CASES:
                continue
            if any(_overlap(c, o) for o in chosen):
                continue
            chosen.append(c)
            total += len(c.text)
            if c.hit.case.id not in cases:
                cases.append(c.hit.case.id)
        fact = is_fact_question(question)
        groups = [[c for c in chosen if c.hit.case.id == cid] for cid in cases]
        label = "的情况" if fact else "的做法"
        lines = [
            f"案例库中有 {len(groups)} 个社区（村）的讲稿涉及这个问题，以下均为讲稿原文摘录（方括号内为出处编号）："
            if len(groups) > 1
            else "案例库中有一篇讲稿涉及这个问题，以下为讲稿原文摘录（方括号内为出处编号）："
        ]
        citations: list[Citation] = []
        for group in groups:
            parts = []
            for c in group:
                citations.append(_citation(len(citations) + 1, c.hit, c.start, c.end))
                parts.append(f"{c.text}[{len(citations)}]")
            lines.append(f"{_place(group[0].hit)}{label}：" + "".join(parts))
        return "\n".join(lines), citations

    def refusal(self, hits: list[Hit]) -> tuple[str, list[Citation]]:
        nearest: list[Hit] = []
        for h in hits:
            if h.case.id not in {n.case.id for n in nearest}:
                nearest.append(h)
            if len(nearest) == 3:
                break
        lines = [f"{REFUSAL}。以下是内容最接近的几个案例，可供参考："]
        citations = []
        for i, h in enumerate(nearest, 1):
            citations.append(_citation(i, h, h.passage.start, h.passage.end))
            lines.append(f"{i}.《{h.case.title}》——{h.case.author_line} [{i}]")
        return "\n".join(lines), citations

    # -- LLM -----------------------------------------------------------------

    def _passage_vector(self, p: Passage) -> np.ndarray | None:
        self._stats()
        i = self._position.get(p.id)
        if i is None:
            return None
        return self.searcher.index.vector(i)  # None from an index that cannot give it back: lexical check only

    def support(self, sentence: str, passages: list[Passage]) -> tuple[float, float]:
        """(lexical share, best cosine) of ``sentence`` against ``passages``."""
        claim = _MARKER.sub("", sentence)
        tokens = set(tokenize(claim))
        found = set().union(*(set(tokenize(p.text)) for p in passages)) if passages else set()
        lex = self._weighted_share(tokens, found) if tokens else 1.0
        emb = 0.0
        vectors = [v for v in (self._passage_vector(p) for p in passages) if v is not None]
        if vectors and lex < SUPPORT_LEX:  # only the borderline cases pay for an embedding
            q = np.asarray(self.searcher.embedder.embed_query(claim), dtype=np.float32)
            emb = float(max(v @ q for v in vectors))
        return lex, emb

    def supported(self, sentence: str, passages: list[Passage]) -> bool:
        lex, emb = self.support(sentence, passages)
        return lex >= SUPPORT_LEX or (lex >= SUPPORT_LEX_LOW and emb >= SUPPORT_EMB)

    def check_llm_answer(self, reply: str, hits: list[Hit]) -> tuple[str, list[Citation], list[str]]:
        """Renumber valid citations, drop nonexistent ones, mark unsupported sentences."""
        notices: list[str] = []
        dropped: set[int] = set()
        numbering: dict[int, int] = {}  # prompt number -> answer number
        out: list[str] = []
        unsupported = 0
        for raw in _LLM_SENTENCE.findall(reply.strip()):
            sentence = raw.strip()
            if not sentence:
                continue
            cited = [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\s*[,，、]\s*", m.group(1))]
            valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(hits)]
            dropped.update(n for n in cited if not 1 <= n <= len(hits))
            body = _MARKER.sub("", sentence).rstrip()
            for n in valid:
                numbering.setdefault(n, len(numbering) + 1)
            markers = "".join(f"[{numbering[n]}]" for n in valid)
            # a lead-in ("可以参考以下做法。") claims nothing; a number or a longer statement does
            substantive = REFUSAL not in body and (
                len(set(tokenize(body))) >= 5 or bool(valid) or bool(re.search(r"\d", body))
            )
            # an uncited sentence (a summary, a lead-in) may stand if some passage supports it
            ok = self.supported(body, [hits[n - 1].passage for n in (valid or range(1, len(hits) + 1))])
            if substantive and not ok:
                unsupported += 1
                out.append(f"{body}{markers}{UNSUPPORTED_MARK}")
            else:
                out.append(f"{body}{markers}")
        if dropped:
            notices.append(f"回答引用了不存在的段落编号 {sorted(dropped)}，已删除这些编号。")
        if unsupported:
            notices.append(f"有 {unsupported} 句话在所引段落中找不到依据，已标注{UNSUPPORTED_MARK}，请谨慎参考。")
        by_new = sorted(numbering.items(), key=lambda kv: kv[1])
        citations = [_citation(new, hits[old - 1], hits[old - 1].passage.start, hits[old - 1].passage.end) for old, new in by_new]
        return _join(out), citations, notices

    def llm_messages(self, question: str, hits: list[Hit]) -> list[tuple[str, str]]:
        from assistant.llm import render_prompt

        blocks = []
        for i, h in enumerate(hits, 1):
            where = h.passage.section_label or "开头"
            blocks.append(
                f"[{i}] 来源：《{h.case.title}》，{h.case.author_line}，{where}\n"
                f"<<<段落{i}开始>>>\n{_defang(h.passage.text)}\n<<<段落{i}结束>>>"
            )
        return [
            ("system", render_prompt("answer_system", self.settings)),
            ("user", render_prompt("answer_user", self.settings, question=_defang(question), passages="\n\n".join(blocks))),
        ]

    def condense(self, question: str, conversation: Conversation, timeout: float) -> str:
        from assistant.llm import complete, render_prompt

        prompt = render_prompt(
            "condense", self.settings, history=conversation.history_text(), question=_defang(question)
        )
        reply = complete([("user", prompt)], self.settings, timeout=timeout)
        line = next((x.strip() for x in reply.strip().splitlines() if x.strip()), "")
        return line[: self.searcher.max_question_chars] or question

    # -- the entry point -----------------------------------------------------

    def ask(
        self,
        question: str,
        conversation: Conversation | None = None,
        *,
        use_llm: bool | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer ``question`` (continuing ``conversation`` when given) and record the turn."""
        from assistant.llm import LLMError, llm_configured, warm_up

        question = check_question(question, self.searcher.max_question_chars)
        want_llm = llm_configured(self.settings) if use_llm is None else use_llm
        notices: list[str] = []
        if want_llm:
            warm_up()
        deadline = time.monotonic() + self.settings.llm_timeout
        standalone = self.carry_terms(question, conversation)
        if want_llm and conversation and conversation.turns:
            try:
                standalone = self.condense(question, conversation, timeout=self.settings.llm_timeout)
            except LLMError as exc:
                notices.append(f"大模型改写追问失败（{exc}），已改用关键词延续上一轮问题。")
                want_llm = False
        if standalone != question:
            notices.append(f"结合上一轮对话，按“{standalone}”检索。")
        hits = self.searcher.search(standalone, CANDIDATE_HITS)
        confidence = self.confidence(standalone, hits)
        answer = Answer(question, True, "extractive", "", [], notices, standalone, confidence, hits)
        if confidence < CONFIDENCE_THRESHOLD:
            answer.answered = False
            answer.answer, answer.citations = self.refusal(hits)
        elif want_llm:
            try:
                reply = _complete_answer(self, standalone, hits[:LLM_PASSAGES], deadline, on_token)
            except LLMError as exc:
                notices.append(f"大模型暂不可用：{exc} 以下改为直接摘录讲稿原文作答。")
            else:
                answer.mode = "llm"
                if REFUSAL in reply and not _MARKER.search(reply):
                    answer.answered = False
                    answer.answer, answer.citations = self.refusal(hits)
                else:
                    answer.answer, answer.citations, extra = self.check_llm_answer(reply, hits[:LLM_PASSAGES])
                    notices.extend(extra)
        if not answer.answer:
            answer.answer, answer.citations = self.extractive(standalone, hits)
        if conversation is not None:
            conversation.add(answer)
        return answer


def _complete_answer(answerer: Answerer, question: str, hits: list[Hit], deadline: float, on_token) -> str:
    from assistant.llm import LLMError, complete

    remaining = deadline - time.monotonic()
    if remaining <= 0.5:
        raise LLMError("大模型在时限内没有答完（超时）。", "timeout")
    return complete(answerer.llm_messages(question, hits), answerer.settings, on_token, timeout=remaining)


# ---------------------------------------------------------------------------
# helpers


def is_follow_up(question: str) -> bool:
    """Short or anaphoric questions lean on the previous turn ("那资金从哪里来？")."""
    return len(question) <= 14 or bool(_FOLLOW_UP.search(question.strip()))


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


def _sentence_spans(text: str, p: Passage) -> list[tuple[int, int]]:
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


def _overlap(a: _Sentence, b: _Sentence) -> bool:
    """Redundant: the same span, or most character bigrams shared."""
    if a.hit.case.id == b.hit.case.id and a.start < b.end and b.start < a.end:
        return True
    x = {g for g in tokenize_chars(a.text) if len(g) == 2}
    y = {g for g in tokenize_chars(b.text) if len(g) == 2}
    return bool(x and y) and len(x & y) / min(len(x), len(y)) > 0.6


def _place(hit: Hit) -> str:
    c = hit.case
    return f"{c.community}{'居民区' if c.community_type == '居民区' else ''}"


def _citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    case = hit.case
    return Citation(
        n=n,
        case_id=case.id,
        case_title=case.title,
        author=case.author_line,
        section=hit.passage.section_label,
        quote=case.text[start:end],
        start=start,
        end=end,
    )


def _defang(text: str) -> str:
    """Data must not be able to close its own fence: ``<<<``/``>>>`` become look-alikes."""
    return _FENCE.sub(lambda m: "‹‹‹" if m.group(0) == "<<<" else "›››", text)


def _join(sentences: list[str]) -> str:
    out = ""
    for s in sentences:
        if out and out[-1].isascii() and out[-1].isalnum() and s[:1].isascii() and s[:1].isalnum():
            out += " "
        out += s
    return out


_answerers: dict[int, Answerer] = {}
_answerers_lock = threading.Lock()


def get_answerer(settings: Settings | None = None) -> Answerer:
    """A process-wide answerer over the process-wide searcher for these settings."""
    settings = settings or get_settings()
    searcher = get_searcher(settings)
    with _answerers_lock:
        key = id(searcher)
        if key not in _answerers or _answerers[key].settings != settings:
            _answerers[key] = Answerer(searcher, settings)
        return _answerers[key]


def ask(
    question: str,
    settings: Settings | None = None,
    *,
    conversation: Conversation | None = None,
    use_llm: bool | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """Answer one question (see :meth:`Answerer.ask`)."""
    return get_answerer(settings).ask(question, conversation, use_llm=use_llm, on_token=on_token)
