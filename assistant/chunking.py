"""Split cases into sentence-bounded passages that carry their provenance.

A passage never crosses a case or a section: its ``section`` is the heading
path above it, and ``case.text[start:end] == passage.text`` always holds, so
any passage can be quoted and highlighted in its case.

Headings and the case title are not part of the quoted text; they are added
to what the embedder and BM25 see (``Passage.index_text``), so that a
question about "停车" finds a passage under "化解停车难的路径探索" even
when the passage itself never says 停车.

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.chunking import chunk_cases
    >>> passages = chunk_cases(load_corpus("corpus"))
    >>> p = passages[0]
    >>> p.case_id, p.section, p.text[:10]
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from assistant.corpus import Case

CHUNKER_VERSION = "1"
MAX_CHARS = 240  # a passage is at most this long unless one sentence is longer
MIN_CHARS = 60  # a shorter tail is merged into the previous passage
HARD_MAX = 480  # a longer sentence is cut at clause boundaries

# A sentence ends at 。！？!? or ; (with any closing quotes/brackets after it).
_SENT_END = re.compile(r"[。！？!?；;…]+[\"”’')）】》]*")
_CLAUSE_END = re.compile(r"[，,：:、]")


@dataclass(frozen=True)
class Passage:
    case_id: str
    start: int
    end: int
    text: str
    section: tuple[str, ...]
    title: str

    @property
    def id(self) -> str:
        return f"{self.case_id}:{self.start}-{self.end}"

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)

    @property
    def index_text(self) -> str:
        """What retrieval sees: title and headings as context, then the passage."""
        head = " > ".join((self.title,) + self.section)
        return f"{head}\n{self.text}"

    @property
    def key(self) -> str:
        """Content key: equal keys mean an embedding can be reused."""
        return hashlib.sha1(self.index_text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["section"] = list(self.section)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Passage":
        return cls(
            case_id=d["case_id"],
            start=d["start"],
            end=d["end"],
            text=d["text"],
            section=tuple(d["section"]),
            title=d["title"],
        )


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) of one paragraph; cuts over-long ones at clauses."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_END.finditer(text):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > HARD_MAX:
            cut = _last_clause_end(text, s, s + MAX_CHARS)
            out.append((s, cut))
            s = cut
        if e > s:
            out.append((s, e))
    return [(s + offset, e + offset) for s, e in out if text[s:e].strip()]


def _last_clause_end(text: str, s: int, limit: int) -> int:
    best = None
    for m in _CLAUSE_END.finditer(text, s + MIN_CHARS, limit):
        best = m.end()
    return best or limit


def chunk_case(case: Case, max_chars: int = MAX_CHARS) -> list[Passage]:
    """Pack consecutive sentences of one section into passages of at most ``max_chars``."""
    passages: list[Passage] = []
    groups: list[tuple[tuple[str, ...], list[tuple[int, int]]]] = []
    for par in case.paragraphs:
        if par.heading_level:
            continue
        sents = split_sentences(case.text[par.start : par.end], par.start)
        if groups and groups[-1][0] == par.path:
            groups[-1][1].extend(sents)
        else:
            groups.append((par.path, sents))
    for path, sents in groups:
        spans: list[list[int]] = []
        for s, e in sents:
            if spans and e - spans[-1][0] <= max_chars:
                spans[-1][1] = e
            else:
                spans.append([s, e])
        if len(spans) > 1 and spans[-1][1] - spans[-1][0] < MIN_CHARS:
            if spans[-1][1] - spans[-2][0] <= max_chars + MIN_CHARS:
                tail = spans.pop()
                spans[-1][1] = tail[1]
        for s, e in spans:
            passages.append(Passage(case.id, s, e, case.text[s:e], path, case.title))
    return passages


def chunk_cases(cases: list[Case], max_chars: int = MAX_CHARS) -> list[Passage]:
    return [p for case in cases for p in chunk_case(case, max_chars)]
