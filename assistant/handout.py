"""Trainer discussion prompts, grounded in cited sentences, exported as Markdown or .docx.

Four kinds of question, from the templates in ``prompts/discussion_*.md``:
情境研讨 (put the learner in the case's situation), 对比分析 (two communities
that handled the same problem differently), 角色扮演 (the parties of a dispute
and their interests), 反思迁移 (what made it work, would it transfer).

The material is the case card read as a story (:mod:`assistant.cards`): the
community's own problem, its measures, its headline result, its lessons, and
for a role-play the sentences that talk about each party.  A handout is meant
to be handed out as it is:

- every question quotes a short span (at most ``QUOTE_CHARS`` characters) of a
  sentence and cites the whole sentence, listed under 资料来源 as
  《title》 author · section;
- no span is quoted twice in one handout;
- every role-play party is backed by a sentence that mentions that party;
- no two questions ask the same thing: the pairwise overlap of their own
  words (character bigrams, quotes left out) stays below ``MAX_OVERLAP``;
- nothing a trainer reads carries an internal id or a character offset (the
  JSON view, :meth:`Handout.to_dict`, keeps them for programs).

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.cards import build_cards
    >>> from assistant.handout import build_handout, write_handout
    >>> h = build_handout(build_cards(load_corpus("corpus")), case_id="sj2025-16", n=6)
    >>> h.questions[0].quotes
    >>> write_handout(h, "handout.docx")        # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from assistant.cards import CaseCard, Sentence, get_card
from assistant.citations import Citation, place
from assistant.errors import AssistantError, InputError, storage_error
from assistant.fsutil import atomic_write
from assistant.roles import ROLES, get_role_model
from assistant.taxonomy import Tag, load_taxonomy, resolve_tag

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
KINDS = ("情境研讨", "对比分析", "角色扮演", "反思迁移")
_TEMPLATE_FILES = {
    "情境研讨": "discussion_situation.md",
    "对比分析": "discussion_compare.md",
    "角色扮演": "discussion_roleplay.md",
    "反思迁移": "discussion_transfer.md",
}
QUOTE_CHARS = 60  # a quote inside a question is read aloud: at most this long
MAX_OVERLAP = 0.35  # two questions whose own words overlap more than this ask the same thing (distinct templates: < 0.1)
MIN_PARTIES, MAX_PARTIES = 2, 3
PARTY_QUOTE_CHARS = 40  # a role-play lists several parties, each with its own quote
# the kind of community a learner is asked to transfer a case to: one per COMMUNITY_TYPES
_CONTRAST_TYPE = {"居民区": "村", "村": "居民区", "街区": "居民区"}
_CITE = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"“[^”]*”(?:\[\d+\])?")
_CLAUSE_END = re.compile(r"[，,；;：:]")
# a clause that only sets the scene ("经过三个多月的努力") makes a weak opening for a quote
_FRAME = re.compile(r"^(?:为了?|面对|针对|经过|通过|随着|由于|在|从|根据|按照|结合|围绕|依托|同时|此外|另外|因此|于是)")
_DIRECTIVE = re.compile(r"习近平|总书记|党中央|二十大|重要(?:讲话|指示|论述)")
# a named thing or a figure makes a quote concrete: “亲情卡”, 《管理办法》, 11个车位
_NAMED = re.compile(r"[“\"《]|\d")
_PLAN = re.compile(r"下一步|今后|未来|将(?:继续|进一步|持续)|计划")
_COURTESY = re.compile(r"大家好|各位|很荣幸|向大家|汇报|我是")


# ---------------------------------------------------------------------------
# the handout


@dataclass
class Question:
    kind: str
    text: str
    sources: list[int]  # numbers into Handout.sources
    quotes: list[str] = field(default_factory=list)  # the spans quoted in the text, verbatim
    parties: list[tuple[str, int]] = field(default_factory=list)  # role-play party, number of the source about it

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "text": self.text,
            "sources": self.sources,
            "quotes": self.quotes,
            "parties": [{"party": p, "source": n} for p, n in self.parties],
        }


@dataclass
class Handout:
    title: str
    summary: list[str]  # lines
    questions: list[Question]
    sources: list[tuple[Citation, CaseCard]]
    notice: str | None = None  # e.g. why the template questions were used instead of the LLM's
    case_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "summary": self.summary,
            "questions": [q.to_dict() for q in self.questions],
            "sources": [
                dict(c.to_dict(), number=i, case_title=card.title, author=card.author)
                for i, (c, card) in enumerate(self.sources, 1)
            ],
            "notice": self.notice,
        }


def source_line(c: Citation, card: CaseCard) -> str:
    """A source as a trainer reads it: 《title》 author · section."""
    return f"《{card.title}》 {card.author_line} · {c.section or '开头'}"


# ---------------------------------------------------------------------------
# templates


def load_templates(prompts_dir: Path = PROMPTS_DIR) -> dict[str, list[str]]:
    """Kind -> template variants (a file's variants are separated by a line ``---``)."""
    out = {}
    for kind, name in _TEMPLATE_FILES.items():
        path = prompts_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise InputError(f"缺少讨论题模板 {path}，请检查 prompts/ 目录。") from None
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        out[kind] = [v.strip() for v in re.split(r"^---\s*$", text, flags=re.M) if v.strip()]
    return out


# ---------------------------------------------------------------------------
# quotes: short spans of cited sentences, each used once


def excerpt(text: str, must: re.Pattern | None = None, limit: int = QUOTE_CHARS, role: str | None = None) -> str:
    """A verbatim span of ``text`` of at most ``limit`` characters, made of whole clauses when possible.

    The span holds ``must`` (a party, a figure, the topic) when ``text`` does,
    reads most as ``role`` (问题 for a problem, 做法 for a measure …, by the
    sentence-role model), and prefers to start where an action or a state
    starts rather than with a scene-setting clause ("经过三个多月的努力，").
    """
    model = get_role_model() if role else None
    t = _balanced(text.strip().rstrip("。！？!?；;，,"))
    if len(t) <= limit:
        return t
    bounds = [0] + [m.end() for m in _CLAUSE_END.finditer(t)] + [len(t)]
    best, best_score = "", -1.0
    for i in range(len(bounds) - 1):
        for j in range(i + 1, len(bounds)):
            seg = t[bounds[i] : bounds[j]].rstrip("，,；;：:").strip()
            if len(seg) > limit:
                break
            seg = _balanced(seg)
            score: float = len(seg) + (1000 if must and must.search(seg) else 0) - (25 if _FRAME.match(seg) else 0)
            score += (5 if i == 0 else 0) + (15 if _NAMED.search(seg) else 0)
            if model and role:
                score += 40 * float(model.probabilities(seg)[ROLES.index(role)])
            if seg and score > best_score:
                best, best_score = seg, score
    if best and (not must or must.search(best) or not must.search(t)):
        return best
    # one clause longer than the limit: a window around what it must hold
    m = must.search(t) if must else None
    start = 0
    if m:  # from the start of the clause holding it, or from the match itself in a very long clause
        start = max((b for b in bounds if b <= m.start()), default=0)
        if m.end() - start > limit:
            start = m.start()
    window = t[start : start + limit]
    cut = max(window.rfind(x) for x in "、)）”\"")  # end on an item or a closing mark where possible
    if cut >= limit // 2 and (not m or start + cut >= m.end()):
        window = window[: cut + (0 if window[cut] == "、" else 1)]
    return _balanced(window.strip("，,；;：:、 "))


def _balanced(span: str) -> str:
    """The span cut before an unpaired straight quote mark: a quote must not open a quotation it does not close."""
    while span.count('"') % 2:
        span = span[: span.rindex('"')].rstrip("，,；;：:、 ")
    return span


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


class _Sources:
    """Numbers cited sentences in order of first use, and quotes each sentence at most once."""

    def __init__(self, cards: dict[str, CaseCard]) -> None:
        self.cards = cards
        self.items: list[tuple[Citation, CaseCard]] = []
        self.quoted_spans: set[tuple[str, int, int]] = set()
        self.quoted_text: set[str] = set()

    def number(self, c: Citation) -> int:
        for i, (d, _) in enumerate(self.items, 1):
            if (d.case_id, d.start, d.end) == (c.case_id, c.start, c.end):
                return i
        self.items.append((c, self.cards[c.case_id]))
        return len(self.items)

    def free(self, c: Citation) -> bool:
        return (c.case_id, c.start, c.end) not in self.quoted_spans

    def quote(
        self, c: Citation, must: re.Pattern | None = None, limit: int = QUOTE_CHARS, role: str | None = None
    ) -> tuple[str, str, int] | None:
        """``(“span”[n], span, n)``, or None when this sentence or span has been quoted already."""
        if not self.free(c):
            return None
        span = excerpt(c.quote, must, limit, role)
        if len(span) < 6 or _norm(span) in self.quoted_text:
            return None
        self.quoted_spans.add((c.case_id, c.start, c.end))
        self.quoted_text.add(_norm(span))
        n = self.number(c)
        return f"“{span}”[{n}]", span, n

    def snapshot(self) -> tuple:
        return (len(self.items), set(self.quoted_spans), set(self.quoted_text))

    def restore(self, snap: tuple) -> None:
        n, spans, texts = snap
        del self.items[n:]
        self.quoted_spans, self.quoted_text = spans, texts


# ---------------------------------------------------------------------------
# material from the cards, best first


def _mentions(tag: Tag | None, text: str) -> bool:
    return bool(tag and tag.count(text))


def _topic_first(cites: list[Citation], tag: Tag | None) -> list[Citation]:
    """Stable: the sentences that mention the topic first."""
    return sorted(cites, key=lambda c: not _mentions(tag, c.quote)) if tag else cites


def _sentences(card: CaseCard, keep: Callable[[Sentence], bool]) -> list[Sentence]:
    story = card.story
    return [s for s in story.sentences if keep(s) and not _DIRECTIVE.search(s.text)] if story else []


def problems(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    """The card's problem, then the other sentences read as 问题 (the situation parts first)."""
    out = list(card.problem)
    story = card.story
    if story:
        lead = set(story.situation_parts)
        more = _sentences(card, lambda s: s.role == "问题" and len(s.text) >= 16 and "？" not in s.text and "?" not in s.text)
        more.sort(key=lambda s: (s.part not in lead, -s.prob("问题")))
        out += [story.cite(s) for s in more]
    return _topic_first(_unique(out), tag)


def measures(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    """The card's measures, weightiest first, then the named methods' definitions."""
    out = [m.citation for m in sorted(card.measures, key=lambda m: -m.weight)]
    out += [m.definition for m in card.methods]
    return _topic_first(_unique(out), tag)


def outcomes(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    """The card's outcomes, the headline result first (where the script sums up, then the weightiest)."""
    return _topic_first([o.citation for o in sorted(card.outcomes, key=lambda o: (not o.headline, -o.weight))], tag)


def lessons(card: CaseCard) -> list[Citation]:
    """Sentences of the lessons part read as 感悟, the surest first."""
    if not card.lessons or not card.story:
        return []
    span = card.lessons.citation
    inside = _sentences(
        card, lambda s: span.start <= s.start < span.end and s.role == "感悟" and len(s.text) >= 14 and not _PLAN.search(s.text)
    )
    inside.sort(key=lambda s: -s.prob("感悟"))
    return [card.story.cite(s) for s in inside]


def party_pattern(party: Tag) -> re.Pattern:
    """A party's words as a mention of that party: "居民" but not "居民区", "村民" but not "村民委员会"."""
    words = sorted({w for w in (party.name, *party.synonyms) if w and "/" not in w}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(re.escape(w) for w in words) + ")(?![区委会])")


_STAKE_ROLES = ("问题", "做法", "成效")  # a party's stake shows in the dispute and its handling, not in the backdrop


def party_sentences(card: CaseCard, party: Tag, tag: Tag | None = None) -> list[Citation]:
    """Sentences that talk about ``party`` where it has a stake: the problem, a measure or a result,
    naming the party early (as who acts or is affected)."""
    story = card.story
    if not story:
        return []
    pat = party_pattern(party)

    def score(s: Sentence) -> float:
        hits = pat.findall(s.text)
        first = pat.search(s.text)
        early = 1.0 if first and first.start() < 15 else 0.0
        return len(hits) + early + s.prob("问题") + (1.0 if _mentions(tag, s.text) else 0.0)

    found = _sentences(card, lambda s: bool(pat.search(s.text)) and len(s.text) >= 12 and s.role in _STAKE_ROLES)
    found.sort(key=lambda s: (-score(s), s.start))
    return [story.cite(s) for s in found]


MIN_MENTIONS = 3  # a party named fewer times where it has a stake is not a party of the dispute


def parties(card: CaseCard, tag: Tag | None = None) -> list[Tag]:
    """The parties of the case's dispute, most present first: counted in the sentences where they have a stake
    (twice when about the topic, for a topic handout); the 社区党组织 is left out (the learner plays the secretary)."""
    story = card.story
    if not story:
        return []
    taxonomy = load_taxonomy()
    counts: dict[str, int] = {}
    for party in taxonomy.roles:
        if party.name == "社区党组织":
            continue
        pat = party_pattern(party)
        n = sum(
            len(pat.findall(s.text)) * (2 if _mentions(tag, s.text) else 1)
            for s in story.sentences
            if s.role in _STAKE_ROLES
        )
        if n >= MIN_MENTIONS:
            counts[party.name] = n
    order = sorted(counts, key=lambda k: -counts[k])
    return [next(r for r in taxonomy.roles if r.name == k) for k in order]


def _unique(cites: list[Citation]) -> list[Citation]:
    seen, out = set(), []
    for c in cites:
        if (c.case_id, c.start, c.end) not in seen:
            seen.add((c.case_id, c.start, c.end))
            out.append(c)
    return out


def _main_method(card: CaseCard):
    return max(card.methods, key=lambda m: m.mentions) if card.methods else None


def _method(card: CaseCard) -> str | None:
    m = _main_method(card)
    return m.name if m else None


def _definition(card: CaseCard) -> tuple[list[Citation], re.Pattern | None]:
    """The sentence of the main method's definition that names it, and the name to quote it with."""
    m = _main_method(card)
    if not m or not card.story:
        return [], None
    d = m.definition
    naming = [s for s in card.story.sentences if m.key in s.text and not _COURTESY.search(s.text)]
    # the definition's own sentence first, then any sentence naming the method as a measure
    naming.sort(key=lambda s: (not d.start <= s.start < d.end, s.role != "做法", s.start))
    return [card.story.cite(s) for s in naming[:2]], re.compile(re.escape(m.key))


def _labels_overlap(a: CaseCard, b: CaseCard) -> float:
    """How alike two communities' measures are (mean best bigram Jaccard of their measure labels)."""
    la, lb = [m.label for m in a.measures], [m.label for m in b.measures]
    if not la or not lb:
        return 0.0
    return sum(max(overlap(x, y) for y in lb) for x in la) / len(la)


def compare_partner(cards: dict[str, CaseCard], card: CaseCard, topic: str | None = None) -> tuple[CaseCard, str]:
    """Another community that faced the same problem and handled it differently.

    The problem is the topic, or for a case its main tag (the first of its
    tags another case shares).  Among the cases carrying it, the one that
    carries it most, whose problem reads most alike and whose measures least
    alike is chosen.  Returns the partner and the shared topic.
    """
    others = [c for c in cards.values() if c.case_id != card.case_id]
    if not others:
        raise InputError("案例库里只有一个案例，无法生成对比分析题。")
    if topic is None:
        topic = next((t for t in card.tags if any(t in o.tag_counts for o in others)), None)
    pool = [c for c in others if topic and topic in c.tag_counts] or others
    top = max((o.tag_counts.get(topic or "", 0) for o in pool), default=0) or 1
    problem_text = "".join(c.quote for c in card.problem)

    def score(other: CaseCard) -> float:
        alike = overlap(problem_text, "".join(c.quote for c in other.problem)) if problem_text else 0.0
        return other.tag_counts.get(topic or "", 0) / top + alike - 0.5 * _labels_overlap(card, other)

    return max(pool, key=score), topic or "基层治理"


# ---------------------------------------------------------------------------
# questions that do not repeat each other


def _own_words(text: str) -> str:
    """A question without its quotes and source numbers: what it asks."""
    return _CITE.sub("", _QUOTED.sub("", text))


def overlap(a: str, b: str) -> float:
    """Character-bigram Jaccard of two texts' own words (quotes and source numbers left out)."""
    ga, gb = (_bigrams(_own_words(x)) for x in (a, b))
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def max_overlap(questions: list[Question]) -> float:
    """The largest pairwise overlap between the questions of a handout (0 for fewer than two)."""
    return max(
        (overlap(a.text, b.text) for i, a in enumerate(questions) for b in questions[i + 1 :]),
        default=0.0,
    )


class _Missing(Exception):
    """A template needs material the case does not have (or has already quoted)."""


class _Filler(dict):
    """Template values; quotes are taken from the material only when a template uses them."""

    def __init__(self, values: dict, lazy: dict[str, Callable[[], str]]) -> None:
        super().__init__(values)
        self.lazy = lazy

    def __missing__(self, key: str) -> str:
        if key not in self.lazy:
            raise _Missing(key)
        self[key] = self.lazy[key]()
        return self[key]


@dataclass
class _Draft:
    quotes: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    parties: list[tuple[str, int]] = field(default_factory=list)


class _Writer:
    """Fills the templates from the material of a case and its partner, never quoting a sentence twice."""

    def __init__(self, card: CaseCard, other: CaseCard, topic: str, tag: Tag | None, src: _Sources) -> None:
        self.card, self.other, self.topic, self.tag, self.src = card, other, topic, tag, src
        self.cast: set[str] = set()  # parties already given a role
        try:  # the compare questions quote both communities on the shared topic
            self.compare_tag: Tag | None = tag or load_taxonomy().tag(topic)
        except InputError:
            self.compare_tag = None

    def take(
        self,
        cites: list[Citation],
        draft: _Draft,
        must: re.Pattern | None = None,
        limit: int = QUOTE_CHARS,
        role: str | None = None,
    ) -> str:
        for c in cites:
            got = self.src.quote(c, must, limit, role)
            if got:
                text, span, n = got
                draft.quotes.append(span)
                draft.numbers.append(n)
                return text
        raise _Missing("quote")

    def take_definition(self, card: CaseCard, draft: _Draft) -> str:
        cites, name = _definition(card)
        return self.take(cites, draft, name, role="做法")

    def roles(self, card: CaseCard, draft: _Draft) -> list[tuple[str, str]]:
        """Up to MAX_PARTIES parties not cast yet, each with a quote about it; at least MIN_PARTIES or _Missing."""
        got: list[tuple[str, str]] = []
        ranked = parties(card, self.tag)
        # the most present parties, and at least one not given a role yet: a second role-play is not the first again
        fresh = next((p for p in ranked if p.name not in self.cast), None)
        if fresh is not None and fresh not in ranked[: MAX_PARTIES - 1]:
            ranked = ranked[: MAX_PARTIES - 1] + [fresh] + [p for p in ranked[MAX_PARTIES - 1 :] if p is not fresh]
        for party in ranked:
            sub = _Draft()
            try:
                text = self.take(party_sentences(card, party, self.tag), sub, party_pattern(party), PARTY_QUOTE_CHARS)
            except _Missing:
                continue
            draft.quotes += sub.quotes
            draft.numbers += sub.numbers
            draft.parties.append((party.name, sub.numbers[0]))
            got.append((party.name, text))
            if len(got) >= MAX_PARTIES:
                break
        if len(got) < MIN_PARTIES or all(name in self.cast for name, _ in got):
            raise _Missing("roles")
        self.cast.update(n for n, _ in got)
        return got

    def values(self, kind: str, draft: _Draft, subject: CaseCard | None = None) -> _Filler:
        card, other, tag = subject or self.card, self.other, self.tag
        v: dict = {
            "place": place(card, town=False),
            "type": card.community_type,
            "other_type": other.community_type if other.community_type != card.community_type else _CONTRAST_TYPE[card.community_type],
            "topic": self.topic,
        }
        figure = re.compile(r"\d|百分之")
        lazy: dict[str, Callable[[], str]] = {
            "problem": lambda: self.take(problems(card, tag), draft, tag.pattern if tag else None, role="问题"),
            "measure": lambda: self.take(measures(card, tag), draft, tag.pattern if tag else None, role="做法"),
            "outcome": lambda: self.take(outcomes(card, tag), draft, figure, role="成效"),
            "lesson": lambda: self.take(lessons(card), draft, role="感悟"),
            "method": lambda: _method(card) or "这套做法",
        }
        if kind == "对比分析":
            ct = self.compare_tag
            v["other_place"] = place(other, town=False)
            v["other_type"] = other.community_type
            lazy["measure"] = lambda: self.take(measures(card, ct), draft, ct.pattern if ct else None, role="做法")
            lazy["other_measure"] = lambda: self.take(measures(other, ct), draft, ct.pattern if ct else None, role="做法")
            lazy["method"] = lambda: _method(card) or _no("method")
            lazy["other_method"] = lambda: _method(other) or _no("method")
            lazy["method_def"] = lambda: self.take_definition(card, draft)
            lazy["other_method_def"] = lambda: self.take_definition(other, draft)
        if kind == "角色扮演":
            cast: list[tuple[str, str]] = []

            def the_cast() -> list[tuple[str, str]]:
                if not cast:
                    cast.extend(self.roles(card, draft))
                return cast

            lazy["roles"] = lambda: "；".join(f"{name}（{text}）" for name, text in the_cast())
            lazy["role_list"] = lambda: "、".join(name for name, _ in the_cast())
            lazy["role_count"] = lambda: "一二三四五六"[len(the_cast()) - 1] if the_cast() else _no("roles")
        return _Filler(v, lazy)


def _no(what: str) -> str:
    raise _Missing(what)


def template_questions(
    card: CaseCard,
    other: CaseCard,
    topic: str,
    n: int,
    templates: dict[str, list[str]],
    src: _Sources,
    tag: Tag | None = None,
    kept: list[Question] | None = None,
) -> list[Question]:
    """``n`` questions, the four kinds in turn; round r of a kind starts at its r-th variant.

    A variant is skipped when its material is missing or already quoted, or
    when it would ask what an earlier question asks (``MAX_OVERLAP``); a kind
    with no usable variant left gives way to the next kind.  ``kept`` are
    questions already in the handout (the LLM's), checked against too.
    """
    writer = _Writer(card, other, topic, tag, src)
    out: list[Question] = []
    before = list(kept or [])
    for i in range(n):
        for shift in range(len(KINDS)):
            kind = KINDS[(i + shift) % len(KINDS)]
            q = _one(writer, kind, i // len(KINDS), templates[kind], before + out)
            if q:
                out.append(q)
                break
    return out


def _one(writer: _Writer, kind: str, round_: int, variants: list[str], asked: list[Question]) -> Question | None:
    subjects = [writer.card] + ([writer.other] if kind == "角色扮演" else [])
    for subject in subjects:
        for k in range(len(variants)):
            template = variants[(round_ + k) % len(variants)]
            snap, cast = writer.src.snapshot(), set(writer.cast)
            draft = _Draft()
            try:
                text = template.format_map(writer.values(kind, draft, subject))
            except _Missing:
                writer.src.restore(snap)
                writer.cast = cast
                continue
            if not draft.quotes or any(overlap(text, q.text) > MAX_OVERLAP for q in asked):
                writer.src.restore(snap)
                writer.cast = cast
                continue
            return Question(kind, text, sorted(set(draft.numbers)), draft.quotes, draft.parties)
    return None


# ---------------------------------------------------------------------------
# building the handout


def build_handout(
    cards: dict[str, CaseCard],
    *,
    case_id: str | None = None,
    topic: str | None = None,
    n: int = 6,
    templates: dict[str, list[str]] | None = None,
    settings=None,
) -> Handout:
    """Discussion questions for one case (``case_id``) or a topic tag (``topic``).

    With an LLM configured in ``settings`` the questions are written by it from
    the same numbered material and checked; on any failure the template
    questions are used and ``Handout.notice`` says why (in Chinese)."""
    if bool(case_id) == bool(topic):
        raise InputError("请指定一个案例（--case 编号）或一个话题（--topic 标签），二者选一。")
    if not 1 <= n <= 20:
        raise InputError(f"题目数量 n（{n}）应在 1 到 20 之间。")
    taxonomy = load_taxonomy()
    if case_id:
        card = get_card(cards, case_id)
        topic_name = None
    else:
        assert topic is not None, "exactly one of case_id and topic is given (checked above)"
        topic_name = resolve_tag(topic.strip())
        having = sorted((c for c in cards.values() if topic_name in c.tag_counts), key=lambda c: -c.tag_counts[topic_name])
        if not having:
            raise InputError(f"没有案例带有标签“{topic_name}”。")
        card = having[0]
    other, shared_topic = compare_partner(cards, card, topic_name)
    tag = taxonomy.tag(topic_name) if topic_name else None
    templates = templates or load_templates(Path(settings.prompts_dir) if settings else PROMPTS_DIR)
    src = _Sources(cards)
    notice = None
    questions: list[Question] | None = None
    if settings is not None and _llm_configured(settings):
        try:
            questions, notice = llm_questions(card, other, shared_topic, n, src, settings)
        except AssistantError as exc:
            notice = f"大模型出题失败（{exc}），以下为按案例结构生成的模板题。"
    if questions is None:
        questions = template_questions(card, other, shared_topic, n, templates, src, tag)
    elif len(questions) < n:
        questions += template_questions(card, other, shared_topic, n - len(questions), templates, src, tag, kept=questions)
    title = f"培训讨论题：《{card.title}》" if case_id else f"培训讨论题：{topic_name}"
    h = Handout(title, _summary(card, other, topic_name), questions, src.items, notice, case_ids=[card.case_id, other.case_id])
    h = _prune_sources(h)
    h.summary.append(f"题中引号内为讲稿原文节选，方括号编号对应文末“资料来源”中的完整原句（共 {len(h.sources)} 条）。")
    return h


def _summary(card: CaseCard, other: CaseCard, topic: str | None) -> list[str]:
    lines = []
    if topic:
        lines.append(f"话题：{topic}；主要案例：《{card.title}》（{place(card)}）；对照案例：《{other.title}》（{place(other)}）")
    else:
        lines.append(f"案例：《{card.title}》")
    lines.append(f"讲述人：{card.author_line}" + (f"；指导老师：{card.instructor}" if card.instructor else ""))
    lines.append(f"社区类型：{card.community_type}；话题标签：{'、'.join(card.tags) or '（无）'}")
    if card.methods:
        lines.append(f"提出的方法：{'、'.join(m.name for m in card.methods[:6])}")
    if not topic:
        lines.append(f"对照案例（对比分析题）：《{other.title}》（{place(other)}）")
    return lines


# ---------------------------------------------------------------------------
# LLM-written questions

_KIND_HELP = {
    "情境研讨": "把学员放进案例的处境：如果你是这里的书记，会怎么办",
    "对比分析": "比较两个社区处理同一问题的不同做法及其前提",
    "角色扮演": "列出争议中的各方角色及其利益，组织模拟协商",
    "反思迁移": "哪些条件促成了成效，换一个社区能否照搬、要怎么调整",
}
_QUOTED_TEXT = re.compile(r"[“\"]([^”\"]{6,})[”\"]")


def _llm_configured(settings) -> bool:
    from assistant.llm import llm_configured

    return llm_configured(settings)


def llm_material(card: CaseCard, other: CaseCard, src: _Sources) -> str:
    """Numbered sentences the LLM may use (the same numbers the source list will show)."""
    cites: list[Citation] = problems(card)[:2] + measures(card)[:4] + outcomes(card)[:2] + lessons(card)[:1]
    cites += problems(other)[:1] + measures(other)[:2]
    lines: list[str] = []
    for c in cites:
        n = src.number(c)
        if any(line.startswith(f"[{n}] ") for line in lines):
            continue
        card_ = src.cards[c.case_id]
        lines.append(f"[{n}] {place(card_)}（{card_.community_type}），{c.section or '开头'}：{' '.join(c.quote.split())}")
    return "\n".join(lines)


def llm_questions(card: CaseCard, other: CaseCard, topic: str, n: int, src: _Sources, settings) -> tuple[list[Question], str | None]:
    """Questions written by the LLM, each checked against the numbered material.

    A question must cite at least one given number; a quotation in it that is
    not found in the sources it cites is marked 【未核实】 (not hidden).
    Questions that cite nothing valid, or ask what an earlier one asks, are
    dropped; the caller tops up with template questions.  Raises LLMError on
    any call failure.
    """
    from assistant.llm import LLMError, complete, render_prompt

    material = llm_material(card, other, src)
    valid = {i for i in range(1, len(src.items) + 1)}
    kinds = "\n".join(f"- {k}：{_KIND_HELP[k]}" for k in KINDS)
    prompt = re.sub(r"<!--.*?-->", "", render_prompt("discussion_llm", settings, n=n, kinds=kinds, material=material), flags=re.S)
    reply = complete([("user", prompt.strip())], settings)
    out: list[Question] = []
    dropped = 0
    kind: str | None
    for line in reply.splitlines():
        line = line.strip().lstrip("-*0123456789.、） ").strip()
        if "|" not in line:
            continue
        kind, text = (x.strip() for x in line.split("|", 1))
        kind = next((k for k in KINDS if k in kind), None)
        nums = sorted({int(x) for x in _CITE.findall(text)} & valid)
        if not kind or not text or not nums or any(overlap(text, q.text) > MAX_OVERLAP for q in out):
            dropped += 1
            continue
        cited = "".join("".join(src.items[i - 1][0].quote.split()) for i in nums)
        quotes = []
        for q in _QUOTED_TEXT.findall(text):
            if "".join(q.split()).rstrip("…") not in cited:
                text = text.replace(q, q + "【未核实】", 1)
            else:
                quotes.append(q)
        out.append(Question(kind, text, nums, quotes))
        if len(out) >= n:
            break
    if not out:
        raise LLMError("大模型的回答里没有按格式给出带来源编号的题目。", "bad_reply")
    for q in out:  # the template questions that top up must not quote these sentences again
        for k in q.sources:
            c = src.items[k - 1][0]
            src.quoted_spans.add((c.case_id, c.start, c.end))
    notice = None
    if len(out) < n or dropped:
        notice = f"大模型给出的题目中有 {dropped} 道缺少有效来源编号或与前题重复，已舍弃，不足部分以模板题补齐。"
    return out, notice


def _prune_sources(h: Handout) -> Handout:
    """Keep only the sources the questions cite, numbered in order of use."""
    order: list[int] = []
    for text in h.summary + [q.text for q in h.questions]:
        for m in _CITE.finditer(text):
            k = int(m.group(1))
            if k not in order and 1 <= k <= len(h.sources):
                order.append(k)
    for q in h.questions:
        for k in q.sources:
            if k not in order:
                order.append(k)
    new = {old: i for i, old in enumerate(order, 1)}

    def renum(text: str) -> str:
        return _CITE.sub(lambda m: f"[{new.get(int(m.group(1)), m.group(1))}]", text)

    h.summary = [renum(s) for s in h.summary]
    h.questions = [
        Question(q.kind, renum(q.text), sorted(new[k] for k in q.sources if k in new), q.quotes, [(p, new.get(k, k)) for p, k in q.parties])
        for q in h.questions
    ]
    h.sources = [h.sources[old - 1] for old in order]
    return h


# ---------------------------------------------------------------------------
# rendering and writing


def _basis(q: Question) -> str:
    return "".join(f"[{n}]" for n in q.sources)


def to_markdown(h: Handout) -> str:
    """The handout as Markdown: quotes as block quotes (``> ``), sources as 《title》 author · section."""
    lines = [f"# {h.title}", ""]
    if h.notice:
        lines += [f"> {h.notice}", ""]
    lines += ["## 案例概要", ""] + [f"- {s}" for s in h.summary] + ["", "## 讨论题", ""]
    for i, q in enumerate(h.questions, 1):
        lines += [f"{i}. **【{q.kind}】** {q.text}（依据：{_basis(q)}）", ""]
    lines += ["## 资料来源", ""]
    for i, (c, card) in enumerate(h.sources, 1):
        lines += [f"**[{i}]** {source_line(c, card)}", "", f"> {' '.join(c.quote.split())}", ""]
    return "\n".join(lines).rstrip() + "\n"


CJK_FONT = "宋体"  # East Asian text; Word on Chinese systems has it, others substitute their CJK serif
LATIN_FONT = "Times New Roman"


def new_document(title: str):
    """An empty Word document as the handouts are set: A4, language zh-CN, a CJK font, page numbers."""
    from docx import Document
    from docx.shared import Cm

    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.language = "zh-CN"
    _chinese_defaults(doc)
    for section in doc.sections:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)
        _page_number_footer(section)
    return doc


def to_docx_bytes(h: Handout) -> bytes:
    """The handout as .docx: A4, language zh-CN, a CJK font, page numbers in the footer."""
    from docx.shared import Cm, Pt

    doc = new_document(h.title)
    doc.add_heading(h.title, level=0)
    if h.notice:
        doc.add_paragraph().add_run(h.notice).italic = True
    doc.add_heading("案例概要", level=1)
    for s in h.summary:
        doc.add_paragraph(s, style="List Bullet")
    doc.add_heading("讨论题", level=1)
    for q in h.questions:
        p = doc.add_paragraph(style="List Number")
        p.add_run(f"【{q.kind}】").bold = True
        p.add_run(f"{q.text}（依据：{_basis(q)}）")
    doc.add_heading("资料来源", level=1)
    for i, (c, card) in enumerate(h.sources, 1):
        head = doc.add_paragraph()
        head.add_run(f"[{i}] ").bold = True
        head.add_run(source_line(c, card))
        head.paragraph_format.space_after = Pt(2)
        quote = doc.add_paragraph(style="Quote")
        quote.add_run(" ".join(c.quote.split()))
        quote.paragraph_format.left_indent = Cm(0.8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _chinese_defaults(doc) -> None:
    """Document language zh-CN and a CJK font for East Asian text, in the defaults and every style."""
    from docx.oxml.ns import qn

    def set_rpr(rpr) -> None:
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, fonts)
        for theme in ("w:eastAsiaTheme", "w:asciiTheme", "w:hAnsiTheme"):
            fonts.attrib.pop(qn(theme), None)
        fonts.set(qn("w:eastAsia"), CJK_FONT)
        fonts.set(qn("w:ascii"), LATIN_FONT)
        fonts.set(qn("w:hAnsi"), LATIN_FONT)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:val"), "zh-CN")
        lang.set(qn("w:eastAsia"), "zh-CN")

    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = rpr_default.makeelement(qn("w:rPr"), {})
        rpr_default.append(rpr)
    set_rpr(rpr)
    # every style that names its own fonts (headings use the theme's): the CJK font, Chinese
    for fonts in list(styles.iter(qn("w:rFonts"))):
        set_rpr(fonts.getparent())


def _page_number_footer(section) -> None:
    """第 N 页 centred in the footer (a PAGE field, so Word numbers every page)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("第 ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        elif text == "1":
            el = run._r.makeelement(qn("w:t"), {})
            el.text = text
        else:
            el = run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
        run._r.append(el)
    p.add_run(" 页")


def write_handout(h: Handout, path: str | Path) -> Path:
    """Write ``.md`` or ``.docx`` atomically (:func:`assistant.fsutil.atomic_write`):
    on any failure no partial file is left behind."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".md", ".markdown", ".docx"):
        raise InputError(f"不支持的输出格式“{path.suffix or '（无扩展名）'}”：--out 请以 .md 或 .docx 结尾。")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"无法写入 {path}：目录 {parent} 不存在。")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"无法写入 {path}：没有写权限。")
    data = to_docx_bytes(h) if suffix == ".docx" else to_markdown(h).encode("utf-8")
    try:
        return atomic_write(path, data)
    except OSError as exc:  # a full disk, a read-only mount: one line naming the path and the fix
        raise storage_error(exc, path, fix="或用 --out 写到其他位置") from None


__all__ = [
    "KINDS",
    "MAX_OVERLAP",
    "QUOTE_CHARS",
    "Handout",
    "Question",
    "build_handout",
    "compare_partner",
    "excerpt",
    "load_templates",
    "max_overlap",
    "new_document",
    "overlap",
    "source_line",
    "template_questions",
    "to_docx_bytes",
    "to_markdown",
    "write_handout",
]
