"""Adding, listing and removing question–passage links, and writing them with an LLM.

:mod:`assistant.links` is the data (files, anchors, resolution); this module
changes it and brings the index along:

- :func:`add_link` ties a question to a passage (the web UI after a 👎,
  ``assistant links add``): the link is checked against the corpus as the
  next build will see it, appended to ``corpus/links-added.jsonl`` with who
  and when, and the index is updated like ``assistant add`` does it (only
  the new question is embedded; the new version is published atomically, a
  running UI switches to it without a restart).  A bad link (unknown case or
  passage, anchor not found, empty or over-long question, a duplicate) is
  refused with a Chinese message and changes nothing.
- :func:`remove_link` takes a link out of whichever file holds it and updates the index.
- :func:`list_links` says where each link points now.
- :func:`write_links` asks the configured LLM for questions that the measure
  passages of new scripts answer (``prompts/link_questions.md``), checks every
  line of the reply (passage number, verbatim anchor, question length, at
  most :data:`~assistant.links.MAX_PER_PASSAGE` per passage, no duplicates)
  and stores the good ones (source "llm"); ``assistant add`` calls it before
  building.  Without an LLM, or when it fails, scripts are added without links.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.linker import add_link
    >>> report = add_link(get_settings(), "sj2025-03", "外面的车老来小区占车位怎么办？",
    ...                   start=1508, end=1702, user="wangli")                      # doctest: +SKIP
    >>> report.link.id, report.build.n_links                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from assistant import corpus as corpus_mod
from assistant.chunking import Passage, chunk_cases, split_sentences
from assistant.config import Settings
from assistant.corpus import Case, CorpusError
from assistant.errors import InputError
from assistant.links import (
    ANCHOR_MAX,
    ANCHOR_MIN,
    MAX_PER_PASSAGE,
    QUESTION_MAX,
    QUESTION_MIN,
    SOURCES,
    CaseText,
    Link,
    LinkError,
    append_links,
    case_positions,
    clean_question,
    holding_passage,
    load_links,
    locked,
    make_anchor,
    new_link,
    normalise,
    now,
    resolve,
)
from assistant.links import remove_link as remove_from_files

if TYPE_CHECKING:
    from assistant.indexing import BuildReport

log = logging.getLogger(__name__)

MEASURE_SHARE = 0.4  # a passage whose characters are at least this much 做法/成效 gets links from the LLM
# On the bundled corpus this picks 405 of 653 passages; the writers of corpus/links.jsonl, reading
# every passage, linked 391: precision 0.87, recall 0.91 against their choice (0.3: 0.85/0.97; 0.5: 0.89/0.83).
LLM_BATCH = 8  # measure passages per LLM call (a reply of ~25 lines stays well inside the timeout)


@dataclass
class LinkReport:
    link: Link
    build: BuildReport | None = None


def _corpus(settings: Settings) -> tuple[dict[str, Case], list[Passage]]:
    """The cases and passages the next build will see."""
    try:
        cases = corpus_mod.load_corpus(settings.corpus_dir)
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    return {c.id: c for c in cases}, chunk_cases(cases)


def _case(cases: dict[str, Case], case_id: str) -> Case:
    case = cases.get((case_id or "").strip())
    if case is None:
        raise LinkError(f"没有编号为 {case_id or '（空）'} 的案例。可用的编号：{'、'.join(cases)}")
    return case


def add_link(
    settings: Settings,
    case_id: str,
    question: object,
    *,
    start: int | None = None,
    end: int | None = None,
    anchor: str | None = None,
    source: str = "user",
    user: str | None = None,
    embedder=None,
    progress: Callable[[int, int], None] | None = None,
) -> LinkReport:
    """Link ``question`` to the passage ``start``–``end`` (or the one holding ``anchor``) of a case,
    then update the index.  LinkError, and nothing changed, when the link cannot be made."""
    from assistant.indexing import build_index

    if anchor is None and (start is None or end is None):
        raise LinkError("请选择要关联的段落。")
    with locked(settings.corpus_dir):
        cases, passages = _corpus(settings)
        case = _case(cases, case_id)
        link, _ = new_link(
            case, passages, question, start=start, end=end, anchor=anchor, source=source, user=user,
            existing=load_links(settings.corpus_dir),
        )
        append_links(settings.corpus_dir, [link])
        build = build_index(settings, embedder, progress=progress)
    return LinkReport(link, build)


def remove_link(settings: Settings, link_id: str, *, embedder=None, progress=None) -> LinkReport:
    """Take a link out of its file and update the index (LinkError when there is no such link)."""
    from assistant.indexing import build_index

    with locked(settings.corpus_dir):
        link = remove_from_files(settings.corpus_dir, link_id)
        build = build_index(settings, embedder, progress=progress)
    return LinkReport(link, build)


@dataclass
class Listed:
    link: Link
    passage: Passage | None  # where it points in the corpus as it is now (None: anchor not found)
    section: str = ""

    def to_dict(self) -> dict:
        d = self.link.to_dict()
        d["file"] = self.link.file
        d["passage"] = (
            {"start": self.passage.start, "end": self.passage.end, "section": self.section, "text": self.passage.text}
            if self.passage else None
        )
        return d


def list_links(settings: Settings, source: str | None = None) -> list[Listed]:
    """Every link (of one source), with the passage it points to now."""
    if source is not None and source not in SOURCES:
        raise InputError(f"来源（{source}）只能是 {'、'.join(SOURCES)} 之一。")
    links = [link for link in load_links(settings.corpus_dir) if source is None or link.source == source]
    if not links:
        return []
    cases, passages = _corpus(settings)
    resolved, _ = resolve(links, cases.values(), passages)
    at = {id(r.link): r.passage for r in resolved}
    out = []
    for link in links:
        pos = at.get(id(link))
        p = passages[pos] if pos is not None else None
        out.append(Listed(link, p, p.section_label if p else ""))
    return out


# ---------------------------------------------------------------------------
# links written by an LLM for new scripts


@dataclass
class WrittenLinks:
    """What :func:`write_links` stored, and why some or all are missing."""

    links: list[Link] = field(default_factory=list)
    rejected: int = 0  # reply lines that failed a check
    notice: str | None = None  # for the user, when the LLM could not be used


def measure_passages(passages: Sequence[Passage]) -> list[Passage]:
    """The passages whose sentences the role model reads mostly as measures or results."""
    from assistant.roles import ROLES, get_role_model

    model = get_role_model()
    wanted = [ROLES.index("做法"), ROLES.index("成效")]
    out = []
    for p in passages:
        total = measure = 0.0
        for line in p.text.split("\n"):
            for a, b in split_sentences(line):
                if line[a:b].strip():
                    probs = model.probabilities(line[a:b])
                    total += b - a
                    measure += (b - a) * float(probs[wanted].sum())
        if total and measure / total >= MEASURE_SHARE and len(normalise(p.text)) >= ANCHOR_MIN:
            out.append(p)
    return out


_LINE = re.compile(r"^\s*[\[【(（]?\s*(\d+)\s*[\]】)）]?\s*[|｜]\s*(.+?)\s*[|｜]\s*(.+?)\s*$")


def parse_reply(
    reply: str, case: Case, batch: Sequence[Passage], all_passages: Sequence[Passage], existing: Sequence[Link],
) -> tuple[list[Link], int]:
    """The links of an LLM reply that pass every check, and how many lines did not.

    A line is ``编号|原文摘录|问题``.  Checks: the number names a passage of the
    batch; the excerpt is verbatim in that passage (spaces and full/half width
    aside) — a question whose excerpt the model made up is dropped, since it
    may be about something else — and is used as the anchor when it is
    15–40 characters and unique in the case, else an anchor is taken from the
    passage; the question is 4–80 characters; at most MAX_PER_PASSAGE per
    passage; no question twice for one passage (nor one already linked).
    """
    text = CaseText(case)
    positions = case_positions(all_passages).get(case.id, [])
    index_of = {(all_passages[i].start, all_passages[i].end): i for i in positions}
    known: dict[int, set[str]] = {}  # questions already linked to each passage
    for link in existing:
        if link.case_id == case.id:
            span = text.find(link.anchor)
            pos = holding_passage(span, case.id, all_passages, positions) if span else None
            if pos is not None:
                known.setdefault(pos, set()).add(normalise(link.question))
    written: dict[int, int] = {}  # links of this reply per passage
    out: list[Link] = []
    rejected = 0
    for line in reply.splitlines():
        if "|" not in line and "｜" not in line:
            continue
        m = _LINE.match(line)
        if not m:
            rejected += 1
            continue
        n, excerpt, question = int(m.group(1)), m.group(2).strip().strip("“”\"'「」"), m.group(3)
        p = batch[n - 1] if 1 <= n <= len(batch) else None
        pos = index_of.get((p.start, p.end)) if p else None
        try:
            q = clean_question(question)
        except LinkError:
            q = ""
        ex = normalise(excerpt)
        if p is None or pos is None or not q or not ex or ex not in text.norm[slice(*text.raw_to_norm(p.start, p.end))]:
            rejected += 1
            continue
        if normalise(q) in known.get(pos, set()) or written.get(pos, 0) >= MAX_PER_PASSAGE:
            rejected += 1
            continue
        anchor: str | None = excerpt if ANCHOR_MIN <= len(ex) <= ANCHOR_MAX else None
        if anchor is not None:
            span = text.find(anchor)  # None when not unique in the case
            if span is None or holding_passage(span, case.id, all_passages, positions) != pos:
                anchor = None
        anchor = anchor or make_anchor(text, p.start, p.end)
        if anchor is None:
            rejected += 1
            continue
        known.setdefault(pos, set()).add(normalise(q))
        written[pos] = written.get(pos, 0) + 1
        out.append(Link(case.id, anchor, q, source="llm", passage_start=p.start, created_at=now()))
    return out, rejected


def _batch_text(batch: Sequence[Passage]) -> str:
    from assistant.grounding import defang

    return "\n\n".join(f"[{n}] {defang(p.text)}" for n, p in enumerate(batch, 1))


def write_links(cases: Sequence[Case], settings: Settings) -> WrittenLinks:
    """Ask the LLM for link questions for the measure passages of ``cases`` and store the good ones.

    Never raises for an LLM problem: the notice says what happened and the
    scripts are indexed without (some of) their links.
    """
    from assistant.llm import LLMError, complete, llm_configured, render_prompt

    result = WrittenLinks()
    if not llm_configured(settings) or not cases:
        return result
    with locked(settings.corpus_dir):
        existing = load_links(settings.corpus_dir)
        for case in cases:
            passages = chunk_cases([case])
            measures = measure_passages(passages)
            for start in range(0, len(measures), LLM_BATCH):
                batch = measures[start:start + LLM_BATCH]
                prompt = render_prompt(
                    "link_questions", settings, title=case.title, passages=_batch_text(batch),
                    per_passage=MAX_PER_PASSAGE, anchor_min=ANCHOR_MIN, anchor_max=ANCHOR_MAX,
                    question_min=QUESTION_MIN, question_max=QUESTION_MAX,
                )
                try:
                    reply = complete([("user", prompt)], settings)
                except LLMError as exc:
                    result.notice = f"大模型生成关联问题失败（{exc}）；讲稿已照常加入，可稍后再添加关联问题。"
                    break
                links, rejected = parse_reply(reply, case, batch, passages, [*existing, *result.links])
                result.links.extend(links)
                result.rejected += rejected
            if result.notice:
                break
        if result.links:
            append_links(settings.corpus_dir, result.links)
    if result.rejected and not result.links and not result.notice:
        result.notice = "大模型的回复不符合格式，未生成关联问题；讲稿已照常加入。"
    return result

