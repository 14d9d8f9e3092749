"""Coverage: do the scripts address what a question is about?  有 / 部分 / 没有.

The judgement compares what the question is *about* with what the retrieved
passages *discuss*, so it holds for scripts added later (everything is read
from the live index at query time) and for wordings nobody tuned on:

1. **Focal concepts** of the question (:meth:`CoverageJudge.concepts`):
   its content words (jieba, with the corpus's user dictionary; English
   words such as Wi-Fi kept whole), minus question and request words
   (怎么, 有什么办法 …), everyday words (frequent in jieba's general-language
   dictionary), the names of the corpus's places and people, and words
   nearly every script uses (社区, 居民, 小区 …: they say nothing about
   whether *this* question is covered).  A verb after the question word
   ("怎么**组建**", "从哪**入手**") asks *how*, not *what*, and does not count.
   Each concept weighs by its specificity in general language (rarer words
   say more about what is asked).
2. **Support** of each concept (:meth:`CoverageJudge.support`): it, a
   synonym from ``assistant/data/taxonomy.json`` or, for a compound, its
   parts together in one sentence (积分兑换 → 积分 + 兑换) is *discussed*
   when it appears in a heading over a retrieved passage or in a sentence
   of a retrieved script that does not merely list it (an item between
   顿号 or in brackets: "残疾人、退役军人、社区矫正人员等" mentions
   矫正 only in passing); otherwise it is *passing* (listed, or in other
   scripts only) or *absent* (nowhere in the scripts).
3. **The judgement** (:func:`decide`): 没有 when nothing specific the
   question names is in the retrieved scripts (beyond a list item), when
   a short question's one noun is unknown to every script (低保, Wi-Fi),
   or when the question is off-domain: retrieval finds it far from every
   passage (:func:`assistant.grounding.confidence`), or it uses none of
   the scripts' vocabulary (a taxonomy term or a word of two scripts) and
   nothing in it is discussed (不在范围); 部分 when a concept of the asking
   clause is not discussed (named in the user's words: 费用分摊; "only
   mentioned in passing" when one sentence is all the scripts say about
   it); 有 otherwise.

Example::

    >>> from assistant.retrieval import get_searcher
    >>> from assistant.coverage import CoverageJudge
    >>> searcher = get_searcher()
    >>> judge = CoverageJudge(searcher.index.passages, searcher.index.cases)
    >>> q = "社区公共Wi-Fi老断，找谁修？"
    >>> judge.judge(q, searcher.search(q, 8)).level
    'none'
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from assistant.chunking import Passage, split_sentences
from assistant.corpus import Case
from assistant.lexical import load_tokenizer, tokenize
from assistant.retrieval import Hit
from assistant.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from assistant.taxonomy import Taxonomy

__all__ = ["FULL", "PARTIAL", "NONE", "Concept", "Coverage", "CoverageJudge", "decide"]

FULL, PARTIAL, NONE = "full", "partial", "none"
LEVEL_LABELS = {FULL: "有", PARTIAL: "部分", NONE: "没有"}

TOP_HITS = 5  # the retrieved passages (and their scripts) whose discussion counts
SHORT_QUESTION = 2  # a question of at most this many content words names exactly what it asks
GENERIC_FREQ = 10_000  # jieba dictionary frequency from which a word is everyday language (做, 钱, 管理 …)
COMMON_SHARE = 0.6  # a word in this share of the scripts is the corpus's own general vocabulary

# jieba POS classes that never name a topic: pronouns, numerals, measure words, adverbs,
# prepositions, conjunctions, particles, interjections, onomatopoeia, position, time and
# place words, punctuation, and set phrases and idioms (屡禁不止, 当回事: how, not what)
_CLOSED_POS = ("r", "m", "q", "d", "p", "c", "u", "y", "e", "o", "f", "t", "z", "x", "w", "k", "h", "s", "l", "i")
QUESTION_WORDS = frozenset(
    "怎么 怎样 怎么样 怎么办 如何 什么 哪 哪里 哪儿 哪些 谁 吗 呢 吧 能 能否 可以 可否 要 要不要 该 应该 应当 需要 "
    "办 做 搞 弄 干 有 没有 有没有 是 是否 会 想 给 让 找 来 去 怎么弄 怎么搞 咋 咋办 好 多少 几 才能 怎样才能 "
    "如何才能 能不能 可不可以 有何 请问 一下 并且 而且 但是 可是 然后 还是".split()
)
# nouns that frame a request rather than name a topic ("有什么办法", "有没有……的例子")
FRAME_WORDS = frozenset(
    "办法 法子 路子 招 高招 妙招 招数 门道 讲究 思路 方法 做法 经验 建议 对策 措施 途径 例子 案例 先例 "
    "情况 问题 事情 事 东西 地方 方面 时候 作用 效果 效果好".split()
)
_QWORD = re.compile(r"怎么|怎样|如何|咋|哪|谁|什么|是否|能否|能不能|要不要|有没有|多少|几|吗|呢")
_ASCII_WORD = re.compile(r"[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*")
_CLAUSE = re.compile(r"[^，,。！!；;：:、]+")
_PUNCT = "，,。；;：:、（(）)“”\"！!？?"
_NOUNISH = ("n", "vn", "an", "eng", "j")
LIST_ITEM_CHARS = 10  # an item of an enumeration is a short phrase ("社区矫正人员、"), not a clause
_NAME_POS = ("ns", "nsf")  # place names (上海, 松江) locate a question, they do not say what it is about


_pos_lock = threading.Lock()
_pos_tokenizer = None


def pos_tokenizer():
    """jieba's part-of-speech tagger over the shared tokenizer (built once: it reads the dictionary's tags)."""
    global _pos_tokenizer
    if _pos_tokenizer is None:
        with _pos_lock:
            if _pos_tokenizer is None:
                import jieba.posseg as pseg

                _pos_tokenizer = pseg.POSTokenizer(load_tokenizer())
    return _pos_tokenizer


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def in_passing(sentence: str, start: int, end: int) -> bool:
    """The words at ``sentence[start:end]`` are an item of a list (a short phrase between 、) or in brackets."""
    left = max(sentence.rfind(ch, 0, start) for ch in _PUNCT)
    rights = [i for i in (sentence.find(ch, end) for ch in _PUNCT) if i >= 0]
    right = min(rights, default=len(sentence))
    before = sentence[left] if left >= 0 else " "
    after = sentence[right] if right < len(sentence) else " "
    if before in "（(" or after in "）)":
        return True
    item = sentence[left + 1 : right]
    if before == "、" and "等" in item[end - left - 1 :]:  # the last item: "……、社区矫正人员等10类群体"
        item = item[: item.index("等", end - left - 1)]
    return (before == "、" or after == "、") and len(item) <= LIST_ITEM_CHARS


@dataclass(frozen=True)
class Concept:
    """One thing a question is about, in the user's words, and how the retrieved scripts treat it."""

    text: str
    weight: float  # specificity in general language (log10 of jieba's total / frequency)
    asked: bool  # in the clause that asks (the one holding the question word)
    noun: bool
    action: bool = False  # a verb after the question word: how, not what ("怎么组建")
    common: bool = False  # used by most scripts: says nothing about coverage
    support: str = "absent"  # discussed | mentioned (one sentence) | passing | absent
    where: str = ""  # the heading or sentence that discusses it (for explanations and tests)

    @property
    def focal(self) -> bool:
        return not self.common and not self.action

    @property
    def discussed(self) -> bool:
        return self.common or self.support == "discussed"

    @property
    def mentioned(self) -> bool:
        return self.discussed or self.support == "mentioned"

    def to_dict(self) -> dict:
        return {"text": self.text, "support": "discussed" if self.common else self.support, "asked": self.asked}


@dataclass(frozen=True)
class Coverage:
    """The judgement: ``level`` is full / partial / none; ``uncovered`` names what the scripts miss."""

    level: str
    concepts: tuple[Concept, ...] = ()
    uncovered: tuple[str, ...] = ()
    off_domain: bool = False
    covered: tuple[str, ...] = field(default=())
    briefly: tuple[str, ...] = field(default=())  # the part of ``uncovered`` the scripts mention once, in passing

    @property
    def focal(self) -> list[str]:
        """The question's focal concepts, in the user's words (what a content gap is recorded under)."""
        return [c.text for c in self.concepts if c.focal]

    @property
    def topics(self) -> list[str]:
        """The focal concepts the scripts do not discuss: what a content gap is grouped under."""
        return [c.text for c in self.concepts if c.focal and not c.discussed]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


class CoverageJudge:
    """Judges coverage over one index's passages and cases; statistics are computed on first use.

    Nothing is trained: a script added later takes part as soon as it is in the index.
    """

    def __init__(self, passages: list[Passage], cases: dict[str, Case], taxonomy: Taxonomy | None = None) -> None:
        self.passages = passages
        self.cases = cases
        self._taxonomy = taxonomy
        self._lock = threading.Lock()
        self._ready = False
        self._spread: dict[str, int] = {}
        self._sentences: dict[str, tuple[str, list[int]]] = {}
        self._alternatives: dict[str, list[tuple[str, ...]]] = {}
        self._examples: list[str] | None = None

    def _prepare(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            tok = load_tokenizer()
            self._freq = tok.FREQ
            self._total = tok.total
            self._pos = pos_tokenizer()
            self._texts = {cid: _norm(c.text) for cid, c in self.cases.items()}
            self._corpus = "\n".join(self._texts.values())
            names = set()
            for c in self.cases.values():
                for v in (c.town, c.community, c.author, c.instructor):
                    if v:
                        names.add(_norm(v))
            self._names = names
            self._tax = self._taxonomy or load_taxonomy()
            self._vocabulary = {_norm(w) for t in (*self._tax.tags, *self._tax.roles) for w in (t.name, *t.synonyms)}
            self._ready = True

    # -- the question's concepts ---------------------------------------------

    def spread(self, word: str) -> int:
        """In how many scripts ``word`` occurs."""
        got = self._spread.get(word)
        if got is None:
            got = sum(1 for t in self._texts.values() if word in t)
            if len(self._spread) > 50_000:
                self._spread.clear()
            self._spread[word] = got
        return got

    def specificity(self, word: str) -> float:
        return math.log10(self._total / (int(self._freq.get(word) or 0) + 1))

    def concepts(self, question: str) -> list[Concept]:
        """The question's content words with their weight, clause and part of speech (support not yet known)."""
        self._prepare()
        text = _norm(question)
        asking = _asking_clauses(text)
        qwords = [m.start() for m in _QWORD.finditer(text)]
        common_at = COMMON_SHARE * max(len(self._texts), 1)
        found: list[Concept] = []
        seen: set[str] = set()

        def add(word: str, start: int, noun: bool) -> None:
            seen.add(word)
            clause = next(((a, b) for a, b in asking if a <= start and start + len(word) <= b), None)
            action = clause is not None and not noun and any(clause[0] <= q < start for q in qwords)
            common = self.spread(word) >= common_at
            found.append(Concept(word, self.specificity(word), clause is not None, noun, action, common))

        for m in _ASCII_WORD.finditer(text):  # Wi-Fi, app, 5g: whole, never cut into letters
            if len(m.group(0)) >= 2 and m.group(0) not in seen:
                add(m.group(0), m.start(), True)
        masked = _ASCII_WORD.sub(lambda m: " " * len(m.group(0)), text)
        pos = 0
        for pair in self._pos.cut(masked):
            word, flag = pair.word, pair.flag
            start = masked.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            if len(word) < 2 or word in seen or not all(ch.isalnum() for ch in word):
                continue
            if flag.startswith(_CLOSED_POS) or flag in _NAME_POS or word in QUESTION_WORDS or word in FRAME_WORDS \
                    or word in self._names:
                continue
            freq = int(self._freq.get(word) or 0)
            if freq >= GENERIC_FREQ or (flag.startswith("a") and flag != "an"):
                continue
            noun = flag.startswith(_NOUNISH)
            if not freq and (not noun or _QWORD.search(word)):
                continue  # an unknown word the tagger does not read as a noun: a segmentation artefact (想办, 要放)
            add(word, start, noun)
        return found

    # -- what the scripts discuss --------------------------------------------

    def alternatives(self, word: str) -> list[tuple[str, ...]]:
        """Ways a script may name ``word``: itself, a taxonomy synonym, or its parts together in one sentence."""
        got = self._alternatives.get(word)
        if got is not None:
            return got
        out: list[tuple[str, ...]] = [(word,)]
        for t in self._tax.tags:
            if word == t.name or word in t.synonyms:
                out += [(_norm(s),) for s in (t.name, *t.synonyms) if "/" not in s]
        if len(word) >= 3 and not word.isascii():
            parts = [t for t in dict.fromkeys(tokenize(word)) if t != word and len(t) >= 2]
            parts = [t for t in parts if not any(t != o and t in o for o in parts)]
            if parts:
                out.append(tuple(parts))
            # a compound's head is its last word: 房产证 is named 产证 too (not 社区 for 智慧社区: too common)
            tail = word[-2:]
            if tail in parts and self.spread(tail) < COMMON_SHARE * max(len(self._texts), 1):
                out.append((tail,))
        got = list(dict.fromkeys(out))
        if len(self._alternatives) > 50_000:
            self._alternatives.clear()
        self._alternatives[word] = got
        return got

    def _case_sentences(self, case: Case) -> tuple[str, list[int]]:
        """The script's sentences (headings included), normalised and joined by newlines, with each sentence's start."""
        got = self._sentences.get(case.id)
        if got is None:
            text = case.text
            sentences = [
                _norm(text[a:b]).replace("\n", " ")
                for par in case.paragraphs
                for a, b in split_sentences(text[par.start : par.end], par.start)
            ]
            starts, pos = [], 0
            for s in sentences:
                starts.append(pos)
                pos += len(s) + 1
            got = ("\n".join(sentences), starts)
            self._sentences[case.id] = got
        return got

    def support(self, concept: Concept, hits: list[Hit]) -> Concept:
        """``concept`` with its support in the retrieved passages and the scripts they come from."""
        if concept.common:
            return replace(concept, support="discussed", where="（多数讲稿都谈到）")
        alts = self.alternatives(concept.text)
        for h in hits:
            heading = _norm(" ".join(h.passage.section))
            if any(all(w in heading for w in alt) for alt in alts):
                return replace(concept, support="discussed", where=h.passage.section_label)
        listed = False
        once = ""
        for case_id in dict.fromkeys(h.case.id for h in hits):
            joined, starts = self._case_sentences(self.cases[case_id])
            said: set[int] = set()
            for alt in alts:
                head = alt[-1]
                at = joined.find(head)
                while at >= 0:
                    i = bisect_right(starts, at) - 1
                    end = starts[i + 1] - 1 if i + 1 < len(starts) else len(joined)
                    sentence = joined[starts[i] : end]
                    if i not in said and all(w in sentence for w in alt[:-1]):
                        spans = [m.span() for m in re.finditer(re.escape(head), sentence)]
                        if all(in_passing(sentence, a, b) for a, b in spans):
                            listed = True
                        else:
                            said.add(i)
                            once = once or sentence[:80]
                            if len(said) >= 2:
                                return replace(concept, support="discussed", where=sentence[:80])
                    at = joined.find(head, end)
        if once:
            return replace(concept, support="mentioned", where=once)
        if listed or any(all(w in self._corpus for w in alt) for alt in alts):
            return replace(concept, support="passing")
        return replace(concept, support="absent")

    def example_questions(self, n: int = 3) -> list[str]:
        """Questions the scripts answer, from the topics most scripts share (they change as scripts are added)."""
        self._prepare()
        if self._examples is None:
            from assistant.taxonomy import case_tags

            counts: dict[str, int] = {}
            for case in self.cases.values():
                for tag in case_tags(case, self._tax):
                    counts[tag] = counts.get(tag, 0) + 1
            ranked = sorted(counts, key=lambda t: (-counts[t], t))
            self._examples = [f"{t.split('/')[0]}方面，其他社区（村）是怎么做的？" for t in ranked]
        return self._examples[:n]

    def governance_words(self, concepts: list[Concept]) -> bool:
        """Whether the question uses the scripts' vocabulary: a taxonomy term or a word of two scripts or more."""
        return any(c.common or self.spread(c.text) >= 2 or any(v in c.text for v in self._vocabulary) for c in concepts)

    def judge(self, question: str, hits: list[Hit], *, far: bool = False) -> Coverage:
        """Judge ``question`` against its retrieved ``hits`` (best first).

        ``far``: retrieval found the question far from every passage
        (:func:`assistant.grounding.confidence` below its threshold).
        """
        self._prepare()
        top = hits[:TOP_HITS]
        concepts = [self.support(c, top) for c in self.concepts(question)]
        return decide(concepts, far=far, off_vocabulary=not self.governance_words(concepts), question=question)


def decide(concepts: list[Concept], *, far: bool = False, off_vocabulary: bool = False, question: str = "") -> Coverage:
    """有 / 部分 / 没有 from the concepts' support (see the module docstring)."""
    concepts = list(concepts)
    focal = [c for c in concepts if c.focal]
    asked = [c for c in focal if c.asked] or focal
    known = tuple(c.text for c in concepts if c.mentioned)
    off_domain = off_vocabulary and (far or not any(c.discussed for c in focal))

    def verdict(level: str, missing: list[Concept] | None = None) -> Coverage:
        common = tuple(c.text for c in concepts if c.common)
        names = _names(question, list(missing or []), known, common) if level != FULL else []
        briefly = tuple(name for name, cs in names if all(c.support == "mentioned" for c in cs))
        covered = tuple(c.text for c in focal if c.mentioned)
        return Coverage(
            level, tuple(concepts), tuple(name for name, _ in names), off_domain and level == NONE, covered, briefly
        )

    if far or not focal and not any(c.common for c in concepts):
        return verdict(NONE, asked)  # far from every script, or nothing to go by
    if not focal:
        return verdict(FULL)  # only words most scripts discuss
    if off_vocabulary and not any(c.discussed for c in focal):
        return verdict(NONE, asked)  # off-domain: none of the scripts' vocabulary, a remark somewhere is no discussion
    if not any(c.mentioned for c in focal):
        return verdict(NONE, asked)  # nothing specific the question names is in the retrieved scripts
    if len(concepts) <= SHORT_QUESTION and any(c.support == "absent" and c.noun for c in asked):
        return verdict(NONE, [c for c in asked if c.support == "absent"])  # the one thing asked is unknown to them
    missing = [c for c in asked if not c.discussed and c.noun]  # a thing asked about, not how it is (不够, 没用)
    return verdict(PARTIAL if missing else FULL, missing)


def _texts(concepts: list[Concept], discussed: bool) -> tuple[str, ...]:
    return tuple(c.text for c in concepts if c.mentioned == discussed)


def _names(
    question: str, missing: list[Concept], known: tuple[str, ...] = (), common: tuple[str, ...] = ()
) -> list[tuple[str, list[Concept]]]:
    """The undiscussed concepts in the user's words: each clause's missing concepts with the content
    words around and between them ("加梯费用怎么分摊" → 费用分摊: 加梯 is discussed, 怎么 asks), and
    the noun that heads their phrase ("儿童游乐设施": 设施 on the right, discussed or not)."""
    text = _norm(question)
    out: list[tuple[str, list[Concept]]] = []
    clauses = [m.span() for m in _CLAUSE.finditer(text)]
    by_clause: dict[tuple[int, int], list[tuple[int, Concept]]] = {}
    for c in missing:
        at = text.find(c.text)
        span = next((s for s in clauses if s[0] <= at < s[1]), None) if at >= 0 else None
        if span is None:
            out.append((c.text, [c]))
        else:
            by_clause.setdefault(span, []).append((at, c))
    cutter = pos_tokenizer()
    for (lo, hi), found in sorted(by_clause.items()):
        pieces, pos = [], lo
        for pair in cutter.cut(text[lo:hi]):
            pieces.append((pos, pos + len(pair.word), pair.word, pair.flag))
            pos += len(pair.word)

        def content(w: str, flag: str) -> bool:
            return (
                len(w) >= 2 and any(ch.isalnum() for ch in w) and not _QWORD.search(w) and w not in QUESTION_WORDS
                and w not in FRAME_WORDS and not flag.startswith(_CLOSED_POS)
                and int(load_tokenizer().FREQ.get(w) or 1) < GENERIC_FREQ
                and not any(k in w or w in k for k in known)
            )

        def noun(w: str, flag: str, modifier: bool) -> bool:
            return (
                flag.startswith(_NOUNISH) and flag not in _NAME_POS and w not in FRAME_WORDS
                and int(load_tokenizer().FREQ.get(w) or 1) < GENERIC_FREQ and w not in common
            )

        inside = [i for i, (a, b, _, _) in enumerate(pieces) if any(a < at + len(c.text) and b > at for at, c in found)]
        if not inside:
            out += [(c.text, [c]) for _, c in found]
            continue
        i, j = inside[0], inside[-1]
        while i > 0 and content(*pieces[i - 1][2:]) and j - i < 3:
            i -= 1
        while j + 1 < len(pieces) and (content(*pieces[j + 1][2:]) or noun(*pieces[j + 1][2:], False)) and j - i < 3:
            j += 1
        kept = [k for k in range(i, j + 1) if k in inside or content(*pieces[k][2:]) or noun(*pieces[k][2:], False)]
        if kept == list(range(i, j + 1)):
            name = question_span(question, text, (pieces[i][0], pieces[j][1]))
        else:
            name = "".join(question_span(question, text, pieces[k][:2]) for k in kept)
        name = name.strip("，,。？?！! ")
        if name and not any(name in o or o in name for o, _ in out):
            out.append((name, [c for _, c in found]))
    return out


def question_span(question: str, normalised: str, span: tuple[int, int]) -> str:
    """The user's own characters for a span of the normalised question (NFKC keeps CJK offsets)."""
    a, b = span
    if len(question) == len(normalised):
        return question[a:b].strip()
    return normalised[a:b].strip()


def _asking_clauses(text: str) -> list[tuple[int, int]]:
    """Clauses that ask: those holding a question word, else the last clause before each question mark."""
    out: list[tuple[int, int]] = []
    for m in re.finditer(r"[^？?]+(?:[？?]+|$)", text):
        seg = m.group(0)
        if not re.search(r"[？?]", seg) and out:
            continue  # text after the last question mark describes, it does not ask
        parts = [(p.start(), p.end()) for p in re.finditer(r"[^，,。！!；;：:]+", seg) if p.group(0).strip("？? ")]
        asking = [(a, b) for a, b in parts if _QWORD.search(seg[a:b])]
        for a, b in asking or parts[-1:]:
            out.append((m.start() + a, m.start() + b))
    return out
