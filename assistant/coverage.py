"""Coverage: do the scripts address what a question is about?  有 / 部分 / 没有.

prototype 2
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass

from assistant.chunking import Passage, split_sentences
from assistant.corpus import Case
from assistant.lexical import _init, tokenize
from assistant.retrieval import Hit
from assistant.roles import RoleModel, get_role_model
from assistant.taxonomy import load_taxonomy

FULL, PARTIAL, NONE = "full", "partial", "none"

_CLOSED = ("r", "m", "q", "d", "p", "c", "u", "y", "e", "o", "f", "t", "z", "x", "w", "k", "h", "s")
QUESTION_WORDS = frozenset(
    "怎么 怎样 怎么样 怎么办 如何 什么 哪 哪里 哪儿 哪些 谁 吗 呢 吧 能 能否 可以 可否 要 要不要 该 应该 应当 需要 "
    "办 做 搞 弄 干 有 没有 有没有 是 是否 会 想 给 让 找 来 去 怎么弄 怎么搞 咋 咋办 好 多少 几".split()
)
# nouns that frame a request rather than name a topic ("有什么办法""有没有……的例子")
FRAME_WORDS = frozenset(
    "办法 法子 路子 招 高招 妙招 招数 门道 讲究 思路 方法 做法 经验 建议 对策 措施 途径 例子 案例 先例 "
    "情况 问题 事情 事 东西 地方 方面 时候 作用 效果".split()
)
GENERIC_FREQ = 10_000
COMMON_SHARE = 0.6
WORD_RE = re.compile(r"[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*")
_QWORD = re.compile(r"怎么|怎样|如何|咋|哪|谁|什么|是否|能否|能不能|要不要|有没有|多少|几|吗|呢")
_PUNCT = "，,。；;：:、（(）)“”\"！!？?"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _in_list(sent: str, a: int, b: int) -> bool:
    """The mention is an item of an enumeration or a parenthesis: 、-separated or inside （）."""
    left = max(sent.rfind(ch, 0, a) for ch in _PUNCT)
    rights = [i for i in (sent.find(ch, b) for ch in _PUNCT) if i >= 0]
    right = min(rights, default=len(sent))
    lch = sent[left] if left >= 0 else ""
    rch = sent[right] if right < len(sent) else ""
    return lch in "、（(" or rch in "、）)"


@dataclass(frozen=True)
class Concept:
    text: str
    weight: float
    asked: bool
    noun: bool
    action: bool = False  # a verb after the question word ("怎么入手", "从哪入手"): how, not what
    common: bool = False
    heading: bool = False
    count: int = 0  # non-list sentences mentioning it in the best case of the hits
    listed: bool = False  # mentioned in the hits only as a list item
    measure: bool = False  # a non-list mention in a sentence read as 做法/成效
    corpus: bool = False  # anywhere in the corpus
    where: str = ""


@dataclass(frozen=True)
class Coverage:
    level: str
    concepts: tuple[Concept, ...] = ()
    uncovered: tuple[str, ...] = ()
    off_domain: bool = False

    @property
    def focal(self) -> list[str]:
        return [c.text for c in self.concepts if not c.common]


class CoverageJudge:
    def __init__(self, passages: list[Passage], cases: dict[str, Case], roles: RoleModel | None = None) -> None:
        self.passages = passages
        self.cases = cases
        self._roles = roles
        self._lock = threading.Lock()
        self._ready = False
        self._spread: dict[str, int] = {}
        self._position = {p.id: i for i, p in enumerate(passages)}
        self._sections: dict = {}
        self._case_sents: dict = {}

    @property
    def roles(self) -> RoleModel:
        if self._roles is None:
            self._roles = get_role_model()
        return self._roles

    def _prepare(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            import jieba.posseg as pseg

            tok = _init()
            self._tok = tok
            self._pos = pseg.POSTokenizer(tok)
            self._total = tok.total
            self._texts = [_norm(c.text) for c in self.cases.values()]
            self._corpus = "\n".join(self._texts)
            meta = set()
            for c in self.cases.values():
                for v in (c.town, c.community, c.author, c.instructor):
                    if v:
                        meta.add(_norm(v))
            self._meta = meta
            self._taxonomy = load_taxonomy()
            self._ready = True

    # -- concepts ------------------------------------------------------------

    def spread(self, word: str) -> int:
        got = self._spread.get(word)
        if got is None:
            got = self._spread[word] = sum(1 for t in self._texts if word in t)
        return got

    def frequency(self, word: str) -> int:
        return int(self._tok.FREQ.get(word) or 0)

    def specificity(self, word: str) -> float:
        return math.log10(self._total / (self.frequency(word) + 1))

    def alternatives(self, word: str) -> list[tuple[str, ...]]:
        """Ways the text may name ``word``: itself, its taxonomy synonyms, or its parts together."""
        out: list[tuple[str, ...]] = [(word,)]
        for t in self._taxonomy.tags:
            if word == t.name or word in t.synonyms:
                out += [(s,) for s in (t.name, *t.synonyms) if "/" not in s]
        if len(word) >= 3 and not word.isascii():
            parts = [t for t in dict.fromkeys(tokenize(word)) if t != word and len(t) >= 2]
            parts = [t for t in parts if not any(t != o and t in o for o in parts)]
            if parts:
                out.append(tuple(parts))
        return list(dict.fromkeys(out))

    def concepts(self, question: str) -> list[Concept]:
        self._prepare()
        text = _norm(question)
        asking = _asking_clauses(text)
        found: list[Concept] = []
        seen: set[str] = set()

        qpos = [m.start() for m in _QWORD.finditer(text)]

        def add(w: str, start: int, weight: float, noun: bool) -> None:
            seen.add(w)
            clause = next(((a, b) for a, b in asking if start >= a and start + len(w) <= b), None)
            asked = clause is not None
            action = bool(clause) and not noun and any(clause[0] <= q < start for q in qpos)
            found.append(Concept(w, weight, asked, noun, action=action))

        for m in WORD_RE.finditer(text):
            if len(m.group(0)) >= 2 and m.group(0) not in seen:
                add(m.group(0), m.start(), self.specificity(m.group(0)), True)
        masked = WORD_RE.sub(lambda m: " " * len(m.group(0)), text)
        pos = 0
        for pair in self._pos.cut(masked):
            w, flag = pair.word, pair.flag
            start = masked.find(w, pos)
            if start >= 0:
                pos = start + len(w)
            if len(w) < 2 or not any(ch.isalnum() for ch in w) or w in seen:
                continue
            if flag.startswith(_CLOSED) or w in QUESTION_WORDS or w in FRAME_WORDS or w in self._meta:
                continue
            freq = self.frequency(w)
            if freq >= GENERIC_FREQ:
                continue
            if flag.startswith("a") and flag != "an":
                continue
            noun = flag.startswith("n") or flag in ("vn", "an", "eng", "j", "nz")
            if not freq and not noun:
                continue  # an unknown word the tagger does not read as a noun: a segmentation artefact (想办, 要放)
            add(w, start, self.specificity(w), noun)
        return found

    # -- support -------------------------------------------------------------

    def _sentences(self, hits: list[Hit], top: int) -> list[tuple[Hit, str, str]]:
        """(hit, raw sentence, normalised sentence) of the top hits and of the passage after each."""
        out = []
        seen: set[tuple[str, int]] = set()
        pool: list[Hit] = list(hits[:top])
        for h in hits[:top]:
            i = self._position.get(h.passage.id)
            if i is not None and i + 1 < len(self.passages) and self.passages[i + 1].case_id == h.case.id:
                pool.append(Hit(0, 0.0, self.passages[i + 1], h.case, {}))
        for h in pool:
            p = h.passage
            for s, e in split_sentences(p.text, p.start):
                if (p.case_id, s) in seen:
                    continue
                seen.add((p.case_id, s))
                raw = h.case.text[s:e]
                out.append((h, raw, _norm(raw)))
        return out

    def support(self, c: Concept, hits: list[Hit], sentences, top: int) -> Concept:
        if self.spread(c.text) >= COMMON_SHARE * len(self._texts):
            return _replace(c, common=True, corpus=True, where="corpus-wide")
        alts = self.alternatives(c.text)
        heads = [(h, _norm(" ".join((h.case.title, *h.passage.section)))) for h in hits[:top]]
        heading = next((h for h, t in heads if any(all(w in t for w in alt) for alt in alts)), None)
        per_case: dict[str, int] = {}
        listed = False
        measure = False
        for h, raw, sent in sentences:
            alt = next((alt for alt in alts if all(w in sent for w in alt)), None)
            if alt is None:
                continue
            spans = [m.span() for m in re.finditer(re.escape(alt[-1]), sent)]
            if spans and all(_in_list(sent, a, b) for a, b in spans):
                listed = True
                continue
            per_case[h.case.id] = per_case.get(h.case.id, 0) + 1
            if not measure and self.roles.role(raw) in ("做法", "成效"):
                measure = True
        count = max(per_case.values(), default=0)
        corpus = bool(count or listed or heading) or any(all(w in self._corpus for w in alt) for alt in alts)
        where = f"heading {heading.passage.section_label or heading.case.title}" if heading else ""
        return _replace(c, heading=heading is not None, count=count, listed=listed and not count,
                        measure=measure, corpus=corpus, where=where)

    def features(self, question: str, hits: list[Hit], top: int = 5) -> list[Concept]:
        self._prepare()
        sentences = self._sentences(hits, top)
        return [self.support(c, hits, sentences, top) for c in self.concepts(question)]

    def windows(self, concepts: list[Concept], hits: list[Hit], top: int = 5) -> list[tuple[str, frozenset[int]]]:
        """For each top hit: (case id, the concepts mentioned, not as a list item, in it, its headings or the next passage)."""
        out = []
        alts = [self.alternatives(c.text) for c in concepts]
        for h in hits[:top]:
            i = self._position.get(h.passage.id)
            ps = [h.passage]
            if i is not None and i + 1 < len(self.passages) and self.passages[i + 1].case_id == h.case.id:
                ps.append(self.passages[i + 1])
            found = set()
            head = _norm(" ".join((h.case.title, *h.passage.section)))
            for k, a in enumerate(alts):
                if any(all(w in head for w in alt) for alt in a):
                    found.add(k)
            for p in ps:
                for s, e in split_sentences(p.text, p.start):
                    sent = _norm(h.case.text[s:e])
                    for k, a in enumerate(alts):
                        if k in found:
                            continue
                        alt = next((alt for alt in a if all(w in sent for w in alt)), None)
                        if alt is None:
                            continue
                        spans = [m.span() for m in re.finditer(re.escape(alt[-1]), sent)]
                        if spans and all(_in_list(sent, x, y) for x, y in spans):
                            continue
                        found.add(k)
            out.append((h.case.id, frozenset(found)))
        return out

    def section_sentences(self, h: Hit) -> list[str]:
        """Normalised sentences of the section a hit's passage lies in (the deepest heading over it)."""
        p = h.passage
        key = (p.case_id, p.section)
        got = self._sections.get(key)
        if got is None:
            span = (p.start, p.end)
            for s in h.case.sections:
                if s.path == p.section and s.start <= p.start < s.end:
                    span = (s.start, s.end)
            text = h.case.text
            got = [_norm(text[a:b]) for par in h.case.paragraphs if span[0] <= par.start < span[1]
                   for a, b in split_sentences(text[par.start:par.end], par.start)]
            self._sections[key] = got
        return got

    def section_counts(self, concepts: list[Concept], hits: list[Hit], top: int = 5) -> list[int]:
        alts = [self.alternatives(c.text) for c in concepts]
        best = [0] * len(concepts)
        for h in hits[:top]:
            sents = self.section_sentences(h)
            for k, a in enumerate(alts):
                n = 0
                for sent in sents:
                    alt = next((alt for alt in a if all(w in sent for w in alt)), None)
                    if alt is None:
                        continue
                    spans = [m.span() for m in re.finditer(re.escape(alt[-1]), sent)]
                    if spans and all(_in_list(sent, x, y) for x, y in spans):
                        continue
                    n += 1
                best[k] = max(best[k], n)
        return best

    def case_sentences(self, case: Case) -> list[str]:
        got = self._case_sents.get(case.id)
        if got is None:
            text = case.text
            got = [_norm(text[a:b]) for par in case.paragraphs for a, b in split_sentences(text[par.start:par.end], par.start)]
            self._case_sents[case.id] = got
        return got

    def case_counts(self, concepts: list[Concept], hits: list[Hit], top: int = 5) -> list[int]:
        alts = [self.alternatives(c.text) for c in concepts]
        best = [0] * len(concepts)
        for cid in dict.fromkeys(h.case.id for h in hits[:top]):
            sents = self.case_sentences(self.cases[cid])
            for k, a in enumerate(alts):
                n = 0
                for sent in sents:
                    alt = next((alt for alt in a if all(w in sent for w in alt)), None)
                    if alt is None:
                        continue
                    spans = [m.span() for m in re.finditer(re.escape(alt[-1]), sent)]
                    if spans and all(_in_list(sent, x, y) for x, y in spans):
                        continue
                    n += 1
                best[k] = max(best[k], n)
        return best

    def judge(self, question: str, hits: list[Hit], top: int = 5) -> Coverage:
        return decide(self.features(question, hits, top))


def _replace(c: Concept, **kw) -> Concept:
    from dataclasses import replace

    return replace(c, **kw)


def _asking_clauses(text: str) -> list[tuple[int, int]]:
    """Clauses that ask: those holding a question word, else the last clause before each question mark."""
    out = []
    for m in re.finditer(r"[^？?]+(?:[？?]+|$)", text):
        seg = m.group(0)
        parts = [(p.start(), p.end()) for p in re.finditer(r"[^，,。！!；;：:]+", seg) if p.group(0).strip("？? ")]
        if not re.search(r"[？?]", seg) and out:
            continue  # text after the last question mark describes, it does not ask
        asking = [(a, b) for a, b in parts if _QWORD.search(seg[a:b])]
        for a, b in asking or parts[-1:]:
            out.append((m.start() + a, m.start() + b))
    return out


def discussed(c: Concept) -> bool:
    return c.common or c.heading or c.count >= 2 or (c.count == 1 and c.measure)


def decide(concepts: list[Concept]) -> Coverage:
    focal = [c for c in concepts if not c.common]
    if not focal:
        return Coverage(FULL, tuple(concepts))
    asked = [c for c in focal if c.asked]
    head = max(asked or focal, key=lambda c: c.weight)
    unsupported = [c for c in focal if not discussed(c)]
    if not discussed(head):
        return Coverage(NONE, tuple(concepts), tuple(c.text for c in unsupported))
    missing = [c for c in unsupported if c.asked]
    if missing:
        return Coverage(PARTIAL, tuple(concepts), tuple(c.text for c in missing))
    return Coverage(FULL, tuple(concepts))
