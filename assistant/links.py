"""Question–passage links: short questions a practitioner asks, each tied to the passage that answers it.

Users describe their *problem* ("一楼死活不签字，加装电梯推不动怎么办"); the
passage that helps describes the *measure* ("成立三人小组…律师释法…").  A link
bridges the two: retrieval searches the link questions as routes of their own
(:mod:`assistant.stores.base`, ``link_*``) and a hit lifts the passage it
points to (MaxKB calls these 关联问题).

Links are data, one JSON object a line, in the corpus folder::

    corpus/links.jsonl        written from the bundled scripts' passages (source "bundled")
    corpus/links-added.jsonl  written here: by `assistant add` with an LLM (source "llm")
                              and by users in the web UI or `assistant links add` (source "user")

Every ``links*.jsonl`` file of the folder is read.  A line::

    {"id": "3f2a1c9d", "case_id": "sj2025-03", "anchor": "对外来车辆收费从每日5元提至40元",
     "question": "外面的车老来小区占车位，收费怎么调？", "source": "bundled",
     "passage_start": 1508, "user": "wangli", "created_at": "2026-01-05T09:30:00+08:00"}

The ``anchor`` (15–40 characters, verbatim in the case text once spaces are
ignored and NFKC applied, and found there exactly once) ties the link to
whatever passage holds it after any re-chunking or parser change;
``passage_start`` is only a hint.  ``user`` and ``created_at`` say who linked
it and when (``user`` is 匿名 without a login).

Example::

    >>> from assistant.links import load_links, resolve
    >>> links = load_links(settings.corpus_dir)                 # doctest: +SKIP
    >>> resolved, unresolved = resolve(links, cases, passages)  # doctest: +SKIP
    >>> resolved[0].passage                                     # position in ``passages``
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from assistant.chunking import Passage
from assistant.corpus import Case
from assistant.errors import InputError
from assistant.fsutil import atomic_write

BUNDLED_FILE = "links.jsonl"  # shipped with the corpus
ADDED_FILE = "links-added.jsonl"  # links written by this installation (LLM, users)
LINKS_GLOB = "links*.jsonl"
SOURCES = ("bundled", "llm", "user")
ANONYMOUS = "匿名"

ANCHOR_MIN, ANCHOR_MAX = 15, 40  # normalised characters
QUESTION_MIN, QUESTION_MAX = 4, 80  # characters of a link question
MAX_PER_PASSAGE = 4  # links an LLM may write for one passage

_WS = re.compile(r"\s+")


class LinkError(InputError):
    """A link cannot be added, removed or read; the message says why, in Chinese."""


def normalise(text: str) -> str:
    """NFKC, whitespace removed: how anchors are matched (as ``assistant.evaluation`` matches evidence)."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def clean_question(question: object) -> str:
    """A link question with its whitespace collapsed, or LinkError saying what is wrong with it."""
    if not isinstance(question, str):
        raise LinkError("关联问题必须是文字。")
    q = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question).split())
    if not q:
        raise LinkError("关联问题是空的：请写下要关联的问题。")
    if len(q) < QUESTION_MIN:
        raise LinkError(f"关联问题太短（{len(q)} 字），请至少写 {QUESTION_MIN} 个字。")
    if len(q) > QUESTION_MAX:
        raise LinkError(f"关联问题太长（{len(q)} 字），请精简到 {QUESTION_MAX} 字以内。")
    return q


PARAPHRASE_SHARE = 0.9  # of the links, the share whose nearest link of another script is less alike than a paraphrase
UNASKED_SHARE = 0.25  # ... and the share less alike than a question no link asks (see assistant.coverage)
MIN_LINKS_FOR_LEVEL = 20  # fewer links (or scripts) say nothing about how alike two different questions get


def paraphrase_level(vectors: object, case_ids: Sequence[str], share: float = PARAPHRASE_SHARE) -> float:
    """How alike (cosine) a question must be to a link question to ask the same thing, in this index's model.

    Links of different scripts ask different things (each script answers its own), yet the model scores
    many of them close: each link's nearest link of *another* script shows how alike two different
    questions get. The level is the ``PARAPHRASE_SHARE`` quantile of those: a question closer to a link
    than nine in ten links are to any other script's is that link's question. Computed at build time from
    the link vectors, so it follows the model and the links; 0 (no level) with too few links or scripts.
    With ``share=UNASKED_SHARE`` (the lower quartile): as alike as three in four links get to another
    script's — a question less alike than that to every link asks nothing a link asks.
    """
    return link_levels(vectors, case_ids, (share,))[0]


def link_levels(vectors: object, case_ids: Sequence[str], shares: Sequence[float]) -> tuple[float, ...]:
    """:func:`paraphrase_level` at each of ``shares``, the links' nearest other-script similarities computed once."""
    import numpy as np

    v = np.asarray(vectors, dtype=np.float32)
    groups = np.asarray(list(case_ids))
    if len(v) < MIN_LINKS_FOR_LEVEL or len(set(groups.tolist())) < 2:
        return tuple(0.0 for _ in shares)
    nearest = np.empty(len(v), dtype=np.float32)
    for lo in range(0, len(v), 512):  # blocks: a large library stays small in memory
        sims = v[lo : lo + 512] @ v.T
        sims[groups[lo : lo + 512, None] == groups[None, :]] = -1.0
        nearest[lo : lo + 512] = sims.max(axis=1)
    return tuple(round(float(np.quantile(nearest, share)), 4) for share in shares)


def link_id(case_id: str, anchor: str, question: str) -> str:
    """A short stable id from what the link says (not where the passage happens to start)."""
    raw = f"{case_id}\n{normalise(anchor)}\n{normalise(question)}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Link:
    case_id: str
    anchor: str
    question: str
    source: str = "bundled"
    passage_start: int | None = None  # where the passage started when the link was written (a hint)
    user: str | None = None
    created_at: str | None = None
    id: str = ""
    file: str = field(default="", compare=False)  # the links file it was read from

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", link_id(self.case_id, self.anchor, self.question))

    def to_dict(self) -> dict:
        d: dict = {"id": self.id, "case_id": self.case_id, "anchor": self.anchor, "question": self.question,
                   "source": self.source}
        if self.passage_start is not None:
            d["passage_start"] = self.passage_start
        if self.user is not None:
            d["user"] = self.user
        if self.created_at is not None:
            d["created_at"] = self.created_at
        return d

    @classmethod
    def from_dict(cls, d: dict, file: str = "") -> "Link":
        start = d.get("passage_start")
        return cls(
            case_id=str(d["case_id"]), anchor=str(d["anchor"]), question=str(d["question"]),
            source=str(d.get("source") or "bundled"), passage_start=int(start) if start is not None else None,
            user=d.get("user"), created_at=d.get("created_at"), id=str(d.get("id") or ""), file=file,
        )


# ---------------------------------------------------------------------------
# files


def link_files(corpus_dir: Path) -> list[Path]:
    """The links files of a corpus folder, in name order."""
    return sorted(p for p in Path(corpus_dir).glob(LINKS_GLOB) if p.is_file())


def links_digests(corpus_dir: Path) -> dict[str, str]:
    """File name -> sha256 of every links file (the index manifest keeps them to notice a change)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in link_files(corpus_dir)}


def read_file(path: Path) -> list[Link]:
    """The links of one file; LinkError naming the line when one cannot be read."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LinkError(f"关联问题文件 {path} 无法读取（{exc}）。") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            link = Link.from_dict(json.loads(line), path.name)
        except (ValueError, KeyError, TypeError) as exc:
            raise LinkError(f"关联问题文件 {path} 第 {n} 行无法读取（{type(exc).__name__}：{exc}），请修复或删除这一行。") from None
        out.append(link)
    return out


def load_links(corpus_dir: Path) -> list[Link]:
    """Every link of every links file in ``corpus_dir`` (none when there is no file)."""
    return [link for path in link_files(corpus_dir) for link in read_file(path)]


_lock = threading.Lock()


@contextlib.contextmanager
def locked(corpus_dir: Path) -> Iterator[None]:
    """Serialise changes to the links files (threads of this process and other processes)."""
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    # the lock file lives in the temporary folder, so the corpus folder holds only documents and links
    key = hashlib.sha1(str(corpus_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    with _lock, open(Path(tempfile.gettempdir()) / f"jiceng-links-{key}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(path: Path, links: Iterable[Link]) -> None:
    atomic_write(path, "".join(json.dumps(link.to_dict(), ensure_ascii=False) + "\n" for link in links))


def append_links(corpus_dir: Path, new: Sequence[Link]) -> None:
    """Add ``new`` to the installation's links file in one atomic write (call under :func:`locked`)."""
    path = Path(corpus_dir) / ADDED_FILE
    old = read_file(path) if path.is_file() else []
    _write(path, [*old, *new])


def remove_link(corpus_dir: Path, link_id_: str) -> Link:
    """Take the link ``link_id_`` out of the file that holds it (call under :func:`locked`)."""
    wanted = (link_id_ or "").strip()
    for path in link_files(corpus_dir):
        links = read_file(path)
        gone = [link for link in links if link.id == wanted]
        if gone:
            _write(path, [link for link in links if link.id != wanted])
            return gone[0]
    raise LinkError(f"没有编号为 {wanted or '（空）'} 的关联问题。可用 assistant links list 查看编号。")


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------
# anchors


class CaseText:
    """A case's text as anchors are matched: normalised, with the way back to raw offsets."""

    def __init__(self, case: Case) -> None:
        self.case = case
        pieces: list[str] = []
        where: list[int] = []
        for i, ch in enumerate(case.text):
            norm = unicodedata.normalize("NFKC", ch)
            for c in norm:
                if not c.isspace():
                    pieces.append(c)
                    where.append(i)
        self.norm = "".join(pieces)
        self.where = where

    def count(self, anchor: str) -> int:
        a = normalise(anchor)
        return self.norm.count(a) if a else 0

    def find(self, anchor: str) -> tuple[int, int] | None:
        """Raw ``(start, end)`` of the anchor's only occurrence (None: absent or not unique)."""
        a = normalise(anchor)
        if not a:
            return None
        at = self.norm.find(a)
        if at < 0 or self.norm.find(a, at + 1) >= 0:
            return None
        return self.where[at], self.where[at + len(a) - 1] + 1

    def raw_to_norm(self, start: int, end: int) -> tuple[int, int]:
        """Normalised ``(start, end)`` covering the raw span."""
        import bisect

        return bisect.bisect_left(self.where, start), bisect.bisect_left(self.where, end)


def holding_passage(span: tuple[int, int], case_id: str, passages: Sequence[Passage], positions: Sequence[int]) -> int | None:
    """Position of the passage of ``case_id`` that holds most of ``span`` (None: only headings hold it)."""
    s, e = span
    best, best_overlap = None, 0
    for pos in positions:
        p = passages[pos]
        overlap = min(e, p.end) - max(s, p.start)
        if overlap > best_overlap:
            best, best_overlap = pos, overlap
    return best


def make_anchor(text: CaseText, start: int, end: int) -> str | None:
    """A verbatim span of ``text.case.text[start:end]``, 15–40 normalised characters, unique in the case.

    Tries sentence starts first (a measure sentence reads best as an anchor),
    then every position; None when the passage has no unique span that long.
    """
    raw = text.case.text
    ns, ne = text.raw_to_norm(start, end)
    if ne - ns < ANCHOR_MIN:
        return None
    starts = [ns] + [i + 1 for i in range(ns, ne - 1) if text.norm[i] in "。！？；;!?"]
    firsts = set(starts)
    candidates = starts + [i for i in range(ns, ne) if i not in firsts]
    for i in candidates:
        for length in (24, 30, ANCHOR_MAX, 20, ANCHOR_MIN):
            j = min(i + length, ne)
            if j - i < ANCHOR_MIN:
                continue
            piece = text.norm[i:j]
            if text.norm.count(piece) == 1:
                return raw[text.where[i] : text.where[j - 1] + 1]
    return None


# ---------------------------------------------------------------------------
# resolving links to passages


@dataclass(frozen=True)
class ResolvedLink:
    link: Link
    passage: int  # position in the passages the links were resolved against


def case_positions(passages: Sequence[Passage]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        out.setdefault(p.case_id, []).append(i)
    return out


def resolve(
    links: Sequence[Link], cases: Iterable[Case], passages: Sequence[Passage]
) -> tuple[list[ResolvedLink], list[Link]]:
    """Each link with the passage that holds its anchor, and the links that cannot be placed
    (case gone, anchor no longer in the text or no longer unique, anchor only in a heading).

    A question linked twice to one passage is kept once (the first link).
    """
    by_case = {c.id: c for c in cases}
    positions = case_positions(passages)
    texts: dict[str, CaseText] = {}
    resolved: list[ResolvedLink] = []
    unresolved: list[Link] = []
    seen: set[tuple[str, int]] = set()
    for link in links:
        case = by_case.get(link.case_id)
        if case is None:
            unresolved.append(link)
            continue
        text = texts.get(case.id) or texts.setdefault(case.id, CaseText(case))
        span = text.find(link.anchor)
        pos = holding_passage(span, case.id, passages, positions.get(case.id, [])) if span else None
        if pos is None:
            unresolved.append(link)
            continue
        key = (normalise(link.question), pos)
        if key in seen:
            continue
        seen.add(key)
        resolved.append(ResolvedLink(link, pos))
    return resolved, unresolved


# ---------------------------------------------------------------------------
# a new link, checked


def new_link(
    case: Case,
    passages: Sequence[Passage],
    question: object,
    *,
    start: int | None = None,
    end: int | None = None,
    anchor: str | None = None,
    source: str = "user",
    user: str | None = None,
    existing: Sequence[Link] = (),
) -> tuple[Link, int]:
    """A link of ``question`` to the passage ``start``–``end`` of ``case`` (or to the passage holding
    ``anchor``), with the passage's position; LinkError with a Chinese message when it cannot be made."""
    if source not in SOURCES:
        raise ValueError(f"source {source!r} must be one of {SOURCES}")
    q = clean_question(question)
    positions = case_positions(passages).get(case.id, [])
    text = CaseText(case)
    if anchor is not None:
        a = anchor.strip()
        n = len(normalise(a))
        if not ANCHOR_MIN <= n <= ANCHOR_MAX:
            raise LinkError(f"锚点原文应为 {ANCHOR_MIN}–{ANCHOR_MAX} 个字（现为 {n} 个）。")
        found = text.count(a)
        if found == 0:
            raise LinkError(f"在案例 {case.id} 的原文中找不到锚点“{a}”。")
        if found > 1:
            raise LinkError(f"锚点“{a}”在案例 {case.id} 中出现了 {found} 次，请选一段只出现一次的原文。")
        span = text.find(a)
        assert span is not None
        pos = holding_passage(span, case.id, passages, positions)
        if pos is None:
            raise LinkError(f"锚点“{a}”在标题中，不在正文段落里，请选正文中的原文。")
    else:
        pos = next((i for i in positions if passages[i].start == start and passages[i].end == end), None)
        if pos is None:
            raise LinkError("所选段落不在这个案例中（案例库可能刚更新过），请重新选择段落。")
        a_ = make_anchor(text, passages[pos].start, passages[pos].end)
        if a_ is None:
            raise LinkError("这个段落太短，无法可靠地关联，请选择相邻的段落。")
        a = a_
    q_norm = normalise(q)
    same = [link for link in existing if link.case_id == case.id and normalise(link.question) == q_norm]
    for other in same:
        span = text.find(other.anchor)
        if span and holding_passage(span, case.id, passages, positions) == pos:
            raise LinkError(f"这个问题已经关联到这个段落了（编号 {other.id}），无需重复添加。")
    link = Link(case.id, a, q, source=source, passage_start=passages[pos].start,
                user=(user or ANONYMOUS) if source == "user" else user, created_at=now())
    if any(other.id == link.id for other in existing):
        raise LinkError(f"这个问题已经关联到这个段落了（编号 {link.id}），无需重复添加。")
    return link, pos
