"""Citations: verbatim spans of a case, and where a case comes from.

Every quote the assistant shows (an answer's sentence, a card's outcome, a
handout's source, a similar case's passage) is a :class:`Citation` with
``case.text[start:end] == quote``, so it can always be opened in context.

Two shapes of one class:

- a card's span (:func:`cite`): ``case_id, section, quote, start, end``,
  the quote trimmed of list markers and the section read from the case's
  headings;
- an answer's numbered citation (:func:`numbered`): the same span untrimmed,
  plus its number ``[n]``, the case title and the author line; its JSON
  (``assistant ask --json``) leads with ``n, case_id, case_title, author``.

:func:`place` names a community the way every surface writes it
(``中山街道蓝天二村居民区``; villages and 街区 keep their own name).

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.citations import cite, numbered, place
    >>> case = load_corpus("corpus")[0]
    >>> c = cite(case, 200, 260)
    >>> case.text[c.start:c.end] == c.quote, c.section
    >>> numbered(1, case, 200, 260, section="一、……").to_dict()["n"]
    1
    >>> place(case), place(case, town=False)
    ('中山街道蓝天二村居民区', '蓝天二村居民区')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from assistant.corpus import Case, Section


@dataclass(frozen=True)
class Citation:
    """A verbatim span of a case: ``case.text[start:end] == quote``.

    ``n``, ``case_title`` and ``author`` are set for an answer's numbered
    citations only (:func:`numbered`); a card's span leaves them ``None``.
    """

    case_id: str
    section: str
    quote: str
    start: int
    end: int
    n: int | None = None
    case_title: str | None = None
    author: str | None = None  # with role and community: ``沈东（中山街道蓝天二村居民区党总支书记）``

    def to_dict(self) -> dict:
        span = {"case_id": self.case_id, "section": self.section, "quote": self.quote, "start": self.start, "end": self.end}
        if self.n is None:
            return span
        return {"n": self.n, "case_id": self.case_id, "case_title": self.case_title, "author": self.author} | {
            k: span[k] for k in ("section", "quote", "start", "end")
        }


def cite(case: Case, start: int, end: int) -> Citation:
    """A card's span: list markers and whitespace trimmed (offsets follow), section from the headings."""
    while start < end and case.text[start] in " -\n":
        start += 1
    while end > start and case.text[end - 1] in " \n":
        end -= 1
    return Citation(case.id, section_label(case, start), case.text[start:end], start, end)


def numbered(n: int, case: Case, start: int, end: int, *, section: str) -> Citation:
    """Citation ``[n]`` of an answer: the exact span, the passage's heading path, title and author line."""
    return Citation(case.id, section, case.text[start:end], start, end, n, case.title, case.author_line)


def section_label(case: Case, pos: int) -> str:
    """Heading path of the innermost section containing offset ``pos``."""
    best: Section | None = None
    for s in case.sections:
        if s.start <= pos <= s.end and (best is None or s.level >= best.level):
            best = s
    return " > ".join(best.path) if best else ""


class _Located(Protocol):
    @property
    def town(self) -> str | None: ...
    @property
    def community(self) -> str: ...
    @property
    def community_type(self) -> str: ...


def place(where: _Located, *, town: bool = True) -> str:
    """A community as the surfaces write it: ``中山街道蓝天二村居民区`` (a Case or a CaseCard).

    A 居民区's name is stored without its type (``蓝天二村``) and gets it back
    here; villages (``长溇村``) and 街区 carry it in their name already.
    """
    suffix = "居民区" if where.community_type == "居民区" else ""
    return f"{(where.town or '') if town else ''}{where.community}{suffix}"
