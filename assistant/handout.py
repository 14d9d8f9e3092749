"""Trainer discussion prompts, grounded in cited sentences, exported as Markdown or .docx.

Four kinds of question, from the templates in ``prompts/discussion_*.md``:
情境研讨 (put the learner in the case's situation), 对比分析 (two communities
that handled the same problem differently), 角色扮演 (the parties of a dispute
and their positions), 反思迁移 (what made it work, would it transfer).

The material is chosen by meaning (:mod:`assistant.handout_material`): the
community's own problems, its measures, its results and lessons, and for a
role-play the parties' own stances.  A handout on a topic draws on every
community that speaks of it, in turn, and only on what they say about it.
A handout is meant to be handed out as it is:

- every question quotes a short span (at most ``QUOTE_CHARS`` characters) of
  a sentence, made of whole clauses that read on their own
  (:func:`assistant.quoting.excerpt`), and cites the whole sentence, listed
  under 资料来源 as 《title》 author · section;
- no sentence is quoted twice in one handout, and no two questions ask about
  the same conflict (one paragraph, or most particular words shared);
- every role-play party is backed by a sentence in which it is the subject or
  the speaker and states its situation or position; a party that is gone from
  the story (业委会集体辞职) is not cast;
- 对比分析 compares a measure with a measure on the same problem;
- a template variant is used only where it fits: the kind of community (村,
  居民区, 街区) and the kind of problem (诉求, 组织, 资金, 习惯, 规模), see
  :func:`load_templates`; when no variant fits, the handout has fewer
  questions rather than one that does not fit;
- no two questions ask the same thing: the pairwise overlap of their own
  words (character bigrams, quotes left out) stays below ``MAX_OVERLAP``, and
  no two come from one template variant, share an ``@问`` mark ("先找哪些人谈"
  and "先去找哪些人" are one ask) or open their ask with the same clause
  (:func:`same_ask`);
- "先试点、再推广" is asked of a standing arrangement only (a mechanism, a
  rule, a team, a platform, a regular activity: :func:`standing`), never of a
  one-off act or an internal restructuring;
- a quote keeps the short label its sentence opens with ("生活方式碰撞:…");
- which kinds the material could not give is told to the trainer
  (``Handout.trainer_note``: the UI and the CLI show it), not printed in the
  handout the class gets;
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
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

from assistant import handout_material as hm
from assistant.cards import CaseCard, Sentence, get_card, tag_idf
from assistant.citations import Citation, place
from assistant.errors import AssistantError, InputError, storage_error
from assistant.fsutil import atomic_write
from assistant.handout_material import Stance, party_pattern
from assistant.quoting import (
    QUOTE_CHARS,
    concludes,
    elided,
    elisions,
    excerpt,
    excerpts,
    is_slogan,
    locate,
    pos_cut,
    quote_faults,
    reads_alone,
    tidy,
)
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
MAX_OVERLAP = 0.35  # two questions whose own words overlap more than this ask the same thing (distinct templates: < 0.1)
MIN_PARTIES, MAX_PARTIES = 2, 3
PARTY_QUOTE_CHARS = 50  # a role-play lists several parties, each with its own quote
MAX_SUBJECTS = 4  # a topic handout draws on at most this many communities
POOL = 3  # a handout's questions are chosen from up to this many times as many drafts
MAX_POOL = 18
CORE_SHARE = 0.2  # a part of a case's script naming its main matter in this share of its sentences is about it
RETRIES = 4  # a template turned down by a check is tried again on up to this many further sentences
PER_KIND = 2  # no kind asked more than twice in one handout (three times only to reach MIN_CLASS questions)
MIN_CLASS = 4  # the questions one class session needs
# drafts are written the scarcest kind first: a role-play needs a scene and parties speaking of it, a comparison
# a partner; the others find material in most scripts
DRAFT_ORDER = ("角色扮演", "对比分析", "情境研讨", "反思迁移")
PROPOSAL_CHARS = 16  # a measure put to a role-play says what is proposed
MEASURE_CHARS = 16  # a quoted measure says what was done, not only its name
MIN_TIED = 3  # a kind of community's measures (results) tied to its problems that suffice to leave the others out
KIND_TIE = 1  # particular character bigrams a measure shares with the problems of its kind of community
# how a question names the people, the meeting and the learner's own place, by the kind of community
PEOPLE = {"居民区": "居民", "村": "村民", "街区": "商户和居民"}
MEETING = {"居民区": "居民议事会", "村": "村民代表会议", "街区": "街区议事会"}
# the learner's own community: the learners are village and neighbourhood secretaries, so a 街区 case is carried
# over to "your community", not to a 街区 of their own
OWN = {"居民区": "你所在的小区", "村": "你所在的村", "街区": "你所在的社区"}
OWN_ANY = "你所在的社区"  # a comparison of two kinds of community
_CITE = re.compile(r"\[(\d+)\]")
_QUOTED = re.compile(r"“[^”]*”(?:\[\d+\])?")
_FIGURE = re.compile(r"\d|百分之")


# ---------------------------------------------------------------------------
# the handout


@dataclass
class Question:
    kind: str
    text: str
    sources: list[int]  # numbers into Handout.sources
    quotes: list[str] = field(default_factory=list)  # the spans quoted in the text, verbatim
    parties: list[tuple[str, int]] = field(default_factory=list)  # role-play party as named, number of its stance
    on: tuple[str, ...] = ()  # a comparison: the tags (problems) the two measures are compared on
    template: str = ""  # the template variant it was written from ("" for the LLM's)
    asks: frozenset[str] = frozenset()  # what it asks (the variant's ``@问`` marks)

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
    # for the trainer only (the UI and the CLI show it; the handout the class gets does not carry it): which kinds
    # of question the material could not give, and why
    trainer_note: str | None = None

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
            "trainer_note": self.trainer_note,
        }


def source_line(c: Citation, card: CaseCard) -> str:
    """A source as a trainer reads it: 《title》 author · section."""
    return f"《{card.title}》 {card.author_line} · {c.section or '开头'}"


# ---------------------------------------------------------------------------
# templates


@dataclass(frozen=True)
class Template:
    """A template variant and where it fits: ``fits`` maps a feature to the values it fits
    (社区类型 → 村/居民区/街区, 难题 → 诉求/组织/资金/习惯/规模); an empty map fits everywhere."""

    text: str
    fits: dict[str, frozenset[str]] = field(default_factory=dict)
    asks: frozenset[str] = frozenset()  # what the variant asks (``@问 找人``): two questions asking one thing repeat

    def format_map(self, values) -> str:
        return self.text.format_map(values)


_FITS = re.compile(r"^@适用\s*(.+)$", re.M)
_ASKS_MARK = re.compile(r"^@问\s*(.+)$", re.M)


def load_templates(prompts_dir: Path = PROMPTS_DIR) -> dict[str, list[Template]]:
    """Kind -> template variants (a file's variants are separated by a line ``---``).

    A variant may start with a line ``@适用 难题=诉求；社区类型=居民区、街区``: it is
    used only for a situation with those features."""
    out = {}
    for kind, name in _TEMPLATE_FILES.items():
        path = prompts_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise InputError(f"缺少讨论题模板 {path}，请检查 prompts/ 目录。") from None
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        variants = []
        for v in re.split(r"^---\s*$", text, flags=re.M):
            fits: dict[str, frozenset[str]] = {}
            for m in _FITS.finditer(v):
                for part in re.split(r"[；;]", m.group(1)):
                    if "=" in part:
                        key, values = (x.strip() for x in part.split("=", 1))
                        fits[key] = frozenset(x.strip() for x in re.split(r"[、,，]", values) if x.strip())
            asks = frozenset(x.strip() for m in _ASKS_MARK.finditer(v) for x in re.split(r"[、,，]", m.group(1)) if x.strip())
            body = _ASKS_MARK.sub("", _FITS.sub("", v)).strip()
            if body:
                variants.append(Template(body, fits, asks))
        out[kind] = variants
    return out


# ---------------------------------------------------------------------------
# quotes: short spans of cited sentences, each sentence used once


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


_SCORES: dict[tuple[int, str, str, float], float] = {}


def _span_score(model, text: str, role: str, bonus: float) -> float:
    """How surely a span reads as ``role`` (plus ``bonus`` for a concrete one), computed once per span and model
    (a handout weighs the same spans many times while it pairs measures)."""
    key = (id(model), text, role, bonus)
    if key not in _SCORES:
        if len(_SCORES) > 200_000:
            _SCORES.clear()
        _SCORES[key] = float(model.probabilities(text)[ROLES.index(role)]) + bonus * hm.concreteness(text)
    return _SCORES[key]


def _party_opens(span: str) -> bool:
    """A span opening on a party as its subject ("一楼业主不同意(…)"): a statement of its own."""
    subs = hm.subjects(span)
    if not subs or subs[0].clause != 0 or subs[0].at > 4:
        return False
    after = span[subs[0].at + len(subs[0].word) :]
    return "的" not in re.split(r"[，,；;]", after)[0][:6]  # "居民众筹的休闲长廊…": the party modifies a thing


def _candidates(sentence: str, limit: int, must: re.Pattern | None = None, score: Callable[[str], float] | None = None) -> list[str]:
    """The spans of a sentence to quote, best first (:func:`assistant.quoting.excerpts`); when none reaches the turn
    the sentence takes at its end ("…·····但是维修资金的使用规定是法定的,无法突破"), its opening and that turn with
    the middle left out come first (:func:`assistant.quoting.elisions`): cut before its turn, the sentence says the
    opposite of what it means."""
    got = excerpts(sentence, limit, must, score)
    end = tidy(sentence)[1]
    if any((at := locate(x, sentence)) and at[1] >= end for x in got):
        return got
    cut = [x for x in elisions(sentence, limit) if must is None or must.search(x)]
    return cut + got


class _Sources:
    """Numbers cited sentences in order of first use, and quotes each sentence at most once."""

    def __init__(self, cards: dict[str, CaseCard]) -> None:
        self.cards = cards
        self.items: list[tuple[Citation, CaseCard]] = []
        self.quoted_spans: set[tuple[str, int, int]] = set()
        self.quoted_text: set[str] = set()
        self.elsewhere: set[str] = set()  # spans other handouts of the course quote
        self.avoid = False

    def number(self, c: Citation) -> int:
        for i, (d, _) in enumerate(self.items, 1):
            if (d.case_id, d.start, d.end) == (c.case_id, c.start, c.end):
                return i
        self.items.append((c, self.cards[c.case_id]))
        return len(self.items)

    def free(self, c: Citation) -> bool:
        return (c.case_id, c.start, c.end) not in self.quoted_spans and not self._avoided(c)

    def _avoided(self, c: Citation) -> bool:
        """A sentence whose quote another handout of the course uses already (see ``build_handout``)."""
        return self.avoid and any(t in _norm(c.quote) for t in self.elsewhere)

    def quote(
        self,
        c: Citation,
        must: re.Pattern | None = None,
        limit: int = QUOTE_CHARS,
        role: str | None = None,
        span: str | None = None,
    ) -> tuple[str, str, int] | None:
        """``(“span”[n], span, n)``, or None when this sentence has been quoted already or has no span that
        reads on its own (holding ``must``)."""
        if not self.free(c):
            return None
        if _AFTER_EVENT.match(c.quote.strip().lstrip("\"“")):
            return None  # "经过多方劝说后,居民…愿意撤销投诉": any part of it follows an event the class was not told
        if span is None:
            model = get_role_model() if role else None
            # a measure or a result told concretely (a figure, a named thing) reads best
            bonus = 0.3 if role in ("做法", "成效") else 0.0
            score = (lambda x: _span_score(model, x, role, bonus)) if model and role else None
            # the best span that reads on its own where it starts and ends (a sentence with none is not quoted)
            passing = [
                x
                for x in _candidates(c.quote, limit, must, score)
                if hm.clear(x) and not quote_faults(x, c.quote, _party_opens) and not quote_flaw(x)
                and not drops_label(x, c.quote)
                and not (role == "问题" and concludes(x))  # "…尤为重要": what the speaker thinks matters, no difficulty
            ]
            if role == "做法":
                # a measure is quoted with what it was for when a span holding that reads on its own
                passing.sort(key=lambda x: dropped_purpose(x, c.quote))
            span = passing[0] if passing else None
            if span is None or (must is not None and not must.search(span)):
                return None
            if role == "成效" and not elided(span, c.quote):
                span = _to_the_figure(span, c.quote, must)
        elif quote_faults(span, c.quote, _party_opens) or quote_flaw(span) or drops_label(span, c.quote):
            return None
        if _norm(span) in self.quoted_text:
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
# the material of one community, for one handout


class _Material:
    """A community's problems, measures, outcomes, lessons and stances within the handout's scope (computed once)."""

    def __init__(self, card: CaseCard, tag: Tag | None) -> None:
        self.card, self.tag = card, tag
        self.keep = hm.scope(card, tag)
        self._cache: dict[str, list] = {}
        # a kind of community (动迁安置): its problems are where the script names the kind; what it did about them,
        # who took part and what came of it are told elsewhere in the script, tied to those problems by their words
        self.kind = bool(tag and tag.kind and tag.name in card.tag_counts)
        self.acts = (lambda s: True) if self.kind else self.keep

    def _get(self, name: str, make: Callable[[], list]) -> list:
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    @property
    def problems(self) -> list[Sentence]:
        return self._get("problems", lambda: hm.problem_sentences(self.card, self.keep, self.tag))

    @property
    def measures(self) -> list[Sentence]:
        return self._get(
            "measures", lambda: self._core_first(self._tied(hm.measure_sentences(self.card, self.acts, None if self.kind else self.tag)))
        )

    def _core_first(self, sents: list[Sentence]) -> list[Sentence]:
        """For a handout on the case: the measures on what the case is about first (its main tag when its title
        names it: 黄桥村's 宅基地 平移归并, not its 积分制 or its parking), those in a paragraph naming it too."""
        if self.tag is not None or not self.card.tags or self.card.story is None:
            return sents
        main = load_taxonomy().tag(self.card.tags[0])
        if not hm.mentions(main, self.card.title):
            return sents
        named: dict[int, int] = {}
        size: dict[int, int] = {}
        for s in self.card.story.sentences:
            size[s.part] = size.get(s.part, 0) + 1
            named[s.part] = named.get(s.part, 0) + hm.mentions(main, s.text)
        # the parts of the script that keep to it (黄桥村's 严守红线, 尊重意愿, 分期推进; not its 管理服务 after the move)
        core = {p for p in size if named.get(p, 0) >= CORE_SHARE * size[p]}
        # a sentence on another of the case's matters (黄桥村's 停车难, 积分制) comes after those on its main one
        others = [load_taxonomy().tag(t) for t in self.card.tags[1:]]
        return sorted(
            sents,
            key=lambda s: (not hm.mentions(main, s.text), s.part not in core, any(t.count(s.text) for t in others)),
        )

    @property
    def outcomes(self) -> list[Sentence]:
        return self._get("outcomes", lambda: self._tied(hm.outcome_sentences(self.card, self.acts, None if self.kind else self.tag)))

    def _tied(self, sents: list[Sentence]) -> list[Sentence]:
        """For a kind of community: those sharing particular words with its problems first, the most tied first."""
        if not self.kind:
            return sents
        words: set[str] = set()
        for p in self.problems:
            words |= hm.bigrams(p.text) - self.common
        tie = {s.start: len(hm.bigrams(s.text) & words) for s in sents}
        tied = sorted((s for s in sents if tie[s.start] >= KIND_TIE), key=lambda s: -tie[s.start])
        # what the community did on other matters (平复苑's 新就业群体 驿站 in a 动迁安置 handout) is not on the topic:
        # left out when enough measures and results are tied to its problems
        if len(tied) >= MIN_TIED:
            return tied
        return tied + [s for s in sents if tie[s.start] < KIND_TIE]

    @property
    def lessons(self) -> list[Sentence]:
        return self._get("lessons", lambda: hm.lesson_sentences(self.card, self.keep, self.tag))

    @property
    def stances(self) -> list[Stance]:
        return self._get("stances", lambda: hm.stances(self.card, self.acts))

    @property
    def common(self) -> set[str]:
        return self._get("common", lambda: [hm.common_bigrams(self.card)])[0]

    @property
    def own_words(self) -> set[str]:
        """Words no other script uses and this one uses in few sentences: the marks of one event ("冻结")."""
        return self._get("own_words", lambda: [_own_words_of(self.card)])[0]

    def measures_on(self, tag: Tag | None) -> list[Sentence]:
        """Measures about ``tag`` (all of them for a kind the community is, or without a tag)."""
        if tag is None or (tag.kind and tag.name in self.card.tag_counts) or hm.all_about(self.card, tag):
            about = [s for s in self.measures if hm.mentions(tag, s.text)]
            return about + [s for s in self.measures if s not in about]
        # about the topic, not naming it in passing: its paragraph keeps to it, or its heading names it
        story = self.card.story
        assert story is not None
        named: dict[int, int] = {}
        for s in story.sentences:
            named[s.par] = named.get(s.par, 0) + tag.count(s.text)
        strong = hm.strong_pattern(tag)
        return [
            s
            for s in self.measures
            if strong.search(s.text)
            and (named.get(s.par, 0) >= 2 or any(hm.mentions(tag, h) for h in s.block if not h.startswith("¶")))
        ]

    def cite(self, s: Sentence) -> Citation:
        assert self.card.story is not None
        return self.card.story.cite(s)


# ---------------------------------------------------------------------------
# questions that do not repeat each other


def _own_words_of(card: CaseCard, share: float = 0.04) -> set[str]:
    """The words of ``card``'s script that no other script uses, in at most ``share`` of its sentences."""
    r, story = card.rarity, card.story
    if r is None or story is None:
        return set()
    counts: dict[str, int] = {}
    for s in story.sentences:
        for w in r.words(s.text):
            if r.df.get(w, 0) <= 1:
                counts[w] = counts.get(w, 0) + 1
    n = max(1, len(story.sentences))
    return {w for w, k in counts.items() if k / n <= share}


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
    anchors: list[tuple[str, Sentence, str]] = field(default_factory=list)  # (case, sentence, problem/measure/outcome)
    cases: set[str] = field(default_factory=set)


def _no(what: str) -> str:
    raise _Missing(what)


class _Writer:
    """Fills the templates from the material of the handout's communities, never quoting a sentence twice and
    never asking twice about one conflict."""

    def __init__(self, cards: dict[str, CaseCard], subjects: list[CaseCard], tag: Tag | None, src: _Sources) -> None:
        self.cards, self.tag, self.src = cards, tag, src
        self.subjects = subjects
        # the tag each community is read for: the handout's topic, or a related one (加装电梯 ~ 电梯更新)
        self.topic_of: dict[str, Tag] = {}
        if tag is not None:
            taxonomy = load_taxonomy()
            for c in subjects:
                self.topic_of[c.case_id] = tag if tag.name in c.tag_counts else next(
                    (taxonomy.tag(r) for r in tag.related if r in c.tag_counts), tag
                )
        self.material: dict[tuple[str, str], _Material] = {}
        self.anchors: list[tuple[str, Sentence, str]] = []  # (case id, sentence, what it is) a question is about
        self.casts: list[frozenset[str]] = []
        self.pairs: set[tuple[str, str]] = set()  # compared communities
        self.turns: dict[str, int] = {}  # questions led by each community
        self._partners_of: dict[str, list] = {}
        self.memo: dict = {}  # material of the other communities, computed once per handout
        self.skip: set[tuple[str, int]] = set()  # (case id, sentence start) a redrafted template leaves aside
        self.model = get_role_model()
        self.idf = tag_idf(cards)

    def tag_of(self, card: CaseCard) -> Tag | None:
        return self.topic_of.get(card.case_id, self.tag)

    def mat(self, card: CaseCard) -> _Material:
        tag = self.tag_of(card)
        key = (card.case_id, tag.name if tag else "")
        if key not in self.material:
            self.material[key] = _Material(card, tag)
        return self.material[key]

    def topic_words(self, card: CaseCard, tag: Tag | None = None) -> re.Pattern | None:
        """The topic's words, which a quote must hold when the community's script is not all about the topic."""
        t = tag or self.tag_of(card)
        if t is None or (t.kind and t.name in card.tag_counts) or hm.all_about(card, t):
            return None
        return t.pattern

    def off_topic(self, quotes: list[str]) -> bool:
        """Whether a topic handout's question quotes nothing on its topic (nor on a related matter)."""
        if self.tag is None or self.tag.kind:
            return False
        tags = [self.tag, *self.topic_of.values()]
        if any(t.count(x) for t in tags for x in quotes):
            return False
        words = self.topic_nouns()
        return not (words and any(words.search(x) for x in quotes))

    def topic_nouns(self) -> re.Pattern | None:
        """The particular nouns of the topic's names ("电梯" of 加装电梯 and 电梯更新; not "群体" of 新就业群体, a word
        most scripts say): a quote naming one speaks of the topic."""
        if "topic_nouns" not in self.memo:
            generic = generic_bigrams(self.cards)
            names = {w for t in [self.tag, *self.topic_of.values()] if t is not None for x in (t.name, *t.synonyms) for w in x.split("/")}
            nouns = {w for x in names for w, flag in pos_cut(x) if len(w) >= 2 and flag[:1] == "n" and not hm.bigrams(w) <= generic}
            self.memo["topic_nouns"] = re.compile("|".join(sorted(map(re.escape, nouns), key=len, reverse=True))) if nouns else None
        return self.memo["topic_nouns"]

    # -- anchors: one question per conflict

    def new_conflict(self, card: CaseCard, s: Sentence, draft: _Draft, what: str = "problem") -> bool:
        """Whether ``s`` is about something no question has asked about yet: not the same sentence, not the same
        particular words, and for two problems not the same paragraph nor a word only this script uses for one
        event (维修基金 "冻结" told in three parts of the script is one conflict)."""
        m = self.mat(card)
        common = m.common
        for cid, t, was in self.anchors + draft.anchors:
            if cid != card.case_id:
                continue
            story = {what, was} <= {"problem", "outcome"} and "problem" in {what, was}
            if t.start == s.start or hm.same_conflict(s, t, common, by_paragraph=story):
                return False
            if story and card.rarity and card.rarity.words(s.text) & card.rarity.words(t.text) & m.own_words:
                return False
        return True

    def take(
        self,
        card: CaseCard,
        sents: list[Sentence],
        draft: _Draft,
        *,
        must: re.Pattern | None = None,
        role: str | None = None,
        anchor: str | None = None,
        fits: Callable[[Sentence], bool] | None = None,
        limit: int = QUOTE_CHARS,
        min_chars: int = 0,
        particular: bool = False,
    ) -> str:
        m = self.mat(card)
        for s in sents:
            if fits and not fits(s):
                continue
            if (card.case_id, s.start) in self.skip:
                continue
            if anchor and not self.new_conflict(card, s, draft, anchor):
                continue
            snap = self.src.snapshot()
            got = self.src.quote(m.cite(s), must, limit, role)
            if got and (
                len(got[1]) < min_chars
                or (particular and hm.specificity(card, got[1]) < hm.SPECIFIC)
                or (anchor == "problem" and (_GIVES_AWAY.search(got[1]) or _ACTS.match(got[1])))  # names the way out, or is a step
                or (anchor == "measure" and _ACHIEVED.search(got[1]))  # a step told with what it achieved
                or (anchor == "outcome" and not names_work(got[1]))  # a bare figure: which work produced it?
                or (anchor == "measure" and meeting_without_matter(got[1], s.text))  # a meeting, but on what?
            ):
                self.src.restore(snap)
                got = None
            if got:
                text, span, n = got
                draft.quotes.append(span)
                draft.numbers.append(n)
                draft.cases.add(card.case_id)
                if anchor:
                    draft.anchors.append((card.case_id, s, anchor))
                return text
        raise _Missing("quote")

    def gloss(self, text: str, draft: _Draft) -> str:
        """``text`` with each coined term its quotes use unexplained (:func:`coined`) glossed from the sentence of the
        script that says what it is, right after the quote: ``“…”[n]（文中“四议共答”指：“居民提议—…决议”[m]）``.
        A term the script never explains stays as it is (the question is then turned down by
        :func:`unexplained_terms`)."""
        done: set[str] = set()
        for span, n in zip(draft.quotes, draft.numbers):
            c, card = self.src.items[n - 1]
            notes = []
            for term, at in quoted_terms(span):
                if term in done or not coined(term, card) or explained(term, at, span):
                    continue
                got = gloss_of(term, card)
                if got is None:
                    continue
                s, what = got
                cite = card.story.cite(s) if card.story else None
                if cite is None:
                    continue
                same = (cite.case_id, cite.start, cite.end) == (c.case_id, c.start, c.end)
                if not same and not self.src.free(cite):
                    continue
                if not same:
                    self.src.quoted_spans.add((cite.case_id, cite.start, cite.end))
                notes.append(f"“{term}”指：“{what}”[{self.src.number(cite)}]")
                done.add(term)
            title = untitled_document(span)
            found = document_gloss(title, card) if title and title not in done else None
            if found is not None and title is not None:
                s, full = found
                cite = card.story.cite(s) if card.story else None
                if cite is not None and ((cite.case_id, cite.start, cite.end) == (c.case_id, c.start, c.end) or self.src.free(cite)):
                    self.src.quoted_spans.add((cite.case_id, cite.start, cite.end))
                    notes.append(f"《{title}》指：“《{full}》”[{self.src.number(cite)}]")
                    done.add(title)
            if notes:
                quoted = f"“{span}”[{n}]"
                text = text.replace(quoted, quoted + "（文中" + "；".join(notes) + "）", 1)
        return text

    def take_span(self, card: CaseCard, s: Sentence, span: str, draft: _Draft) -> str:
        got = self.src.quote(self.mat(card).cite(s), span=span)
        if not got:
            raise _Missing("quote")
        text, span, n = got
        draft.quotes.append(span)
        draft.numbers.append(n)
        draft.cases.add(card.case_id)
        return text

    # -- role-plays: a scene and the parties with a stance on it

    def scene(
        self, card: CaseCard, draft: _Draft, proposal: bool, parties: int = MIN_PARTIES, must=None
    ) -> tuple[Sentence, list[Stance]]:
        """The problem (or, for ``proposal``, a concrete measure) a role-play is about, and its cast of at least
        ``parties``: the scene whose parties have the most to say about it; a cast differs from an earlier one."""
        m = self.mat(card)
        pool = [s for s in m.measures if hm.concreteness(s.text) > 0 and not hm.narrated(s.text)] if proposal else m.problems
        used = {st for cast in self.casts for st in cast}
        best: tuple[float, Sentence, list[Stance]] | None = None
        for s in pool[:30]:
            if not self.src.free(m.cite(s)) or not self.new_conflict(card, s, draft, "measure" if proposal else "problem"):
                continue
            span = next(iter(x for x in _candidates(s.text, QUOTE_CHARS, must) if proposal or not concludes(x)), None)
            if not span or (must is not None and not must.search(span)) or (proposal and len(span) < PROPOSAL_CHARS):
                continue
            busy = {x.start for _, x, _ in self.anchors + draft.anchors}
            cast = hm.cast(card, s, m.stances, used=busy, limit=MAX_PARTIES)
            # a party's situation is not a conflict an earlier question asked about
            cast = [st for st in cast if self.src.free(m.cite(st.sentence)) and self.new_conflict(card, st.sentence, _Draft())]
            # a party cast has a position of its own on this scene (see class_faults)
            cast = [st for st in cast if _speaks_to(st, span, card, alone=parties == 1)]
            cast = cast[: MAX_PARTIES if parties > 1 else 1]
            if len(cast) < parties:
                continue
            names = frozenset(st.label for st in cast)
            if names in self.casts or (names <= used and len(names) <= 2 and self.casts):
                continue
            score = sum(hm.closeness(s, st.sentence, m.common) for st in cast) + 0.5 * len(cast)
            if best is None or score > best[0]:
                best = (score, s, cast)
        if best is None:
            raise _Missing("scene")
        return best[1], best[2]

    def roles(self, card: CaseCard, cast: list[Stance], draft: _Draft, parties: int = MIN_PARTIES) -> list[tuple[str, str]]:
        """``(parties, “quote”[n])`` per quoted sentence: parties that speak in one sentence share its quote
        ("一楼业主不同意(…),二楼业主也反对(…)")."""
        groups: dict[int, list[Stance]] = {}
        for st in cast:
            groups.setdefault(st.sentence.start, []).append(st)
        out = []
        for sts in groups.values():
            s = sts[0].sentence
            span = sts[0].quote
            if len(sts) > 1:
                words = [st.word for st in sts]
                first = min(st.clause for st in sts)
                joint = excerpt(s.text, QUOTE_CHARS, score=lambda x: sum(w in x for w in words), starts_at=[first], only_from=first)
                if joint and not all(w in joint for w in words):
                    joint = None
                if joint is None:
                    sts = sts[:1]
                else:
                    span = joint
            sub = _Draft()
            try:
                text = self.take_span(card, s, span, sub)
            except _Missing:
                continue
            draft.quotes += sub.quotes
            draft.numbers += sub.numbers
            draft.parties += [(st.label, sub.numbers[0]) for st in sts]
            out.append(("、".join(st.label for st in sts), text))
        if len(draft.parties) < parties:
            raise _Missing("roles")
        self.casts.append(frozenset(name for name, _ in draft.parties))
        return out

    # -- the comparison: a measure against a measure on the same problem

    def partners(self, card: CaseCard, limit: int = 4) -> list[tuple[CaseCard, Tag, Tag, Tag | None]]:
        """Other communities that took measures on the same problem, not compared yet in this handout (see
        :meth:`_partners`)."""
        if card.case_id not in self._partners_of:
            self._partners_of[card.case_id] = self._partners(card, limit + 2)
        pairs = self.pairs
        return [p for p in self._partners_of[card.case_id] if (card.case_id, p[0].case_id) not in pairs and (p[0].case_id, card.case_id) not in pairs][:limit]

    def _partners(self, card: CaseCard, limit: int = 4) -> list[tuple[CaseCard, Tag, Tag, Tag | None]]:
        """Other communities that took measures on the same problem, not compared yet in this handout, the
        likeliest first: ``(partner, the problem's tag here, its tag there, the kind of community the two
        share)``.  The tags differ when the partner speaks of a related matter (加装电梯 here, 电梯更新 there)."""
        taxonomy = load_taxonomy()
        mine = self.tag_of(card)
        # a case handout compares on what the case is about: its main tags
        topics = [mine] if mine else [taxonomy.tag(t) for t in card.tags[:2]]
        out: list[tuple[CaseCard, Tag, Tag, Tag | None]] = []
        for topic in topics:
            for other in hm.partners(self.cards, card, topic, self.memo):
                if any(o is other for o, *_ in out):
                    continue
                theirs = topic if topic.name in other.tag_counts or hm.topic_cases({other.case_id: other}, topic) else next(
                    (taxonomy.tag(r) for r in topic.related if r in other.tag_counts), topic
                )
                self.topic_of.setdefault(other.case_id, theirs)
                options: list[tuple[Tag, Tag, Tag | None]]
                if topic.kind:  # 动迁安置: compare on a problem both such communities share
                    options = [(p, p, topic) for p in hm.shared_problems(card, other, self.idf, exclude=[topic.name])[:6]]
                else:
                    options = [(topic, theirs, None)]
                # a kind of community: each problem the two share and both took measures on is a comparison to try
                # (the measures of the first may not make a pair)
                for problem, there, kind in options:
                    if self.mat(card).measures_on(problem) and self.mat(other).measures_on(there):
                        out.append((other, problem, there, kind))
                        if not topic.kind:
                            break
                if len(out) >= limit:
                    return out[:limit]
        return out

    def measure_pair(
        self, card: CaseCard, other: CaseCard, problems: tuple[Tag, Tag], draft: _Draft
    ) -> tuple[str, str]:
        """A measure of each community on the same part of the problem: the pair whose paragraphs share the most
        particular words (what they address), each quotable, holding the problem's words, not asked about yet."""
        ma, mb = self.mat(card), self.mat(other)
        must_a, must_b = self.topic_words(card, problems[0]), self.topic_words(other, problems[1])
        must_a = hm.strong_pattern(problems[0]) if must_a is not None else None
        must_b = hm.strong_pattern(problems[1]) if must_b is not None else None
        common = ma.common | mb.common
        xs = [s for s in ma.measures_on(problems[0])[:12] if self.src.free(ma.cite(s)) and self.new_conflict(card, s, draft, "measure")]
        ys = [s for s in mb.measures_on(problems[1])[:12] if self.src.free(mb.cite(s)) and self.new_conflict(other, s, draft, "measure")]
        pars_a = {s.start: hm.bigrams(_paragraph(card, s)) - common for s in xs}
        pars_b = {s.start: hm.bigrams(_paragraph(other, s)) - common for s in ys}

        def alike(a: Sentence, b: Sentence) -> float:
            ga, gb = pars_a[a.start], pars_b[b.start]
            same = len(ga & gb) / len(ga | gb) if ga and gb else 0.0
            return same + 0.05 * (hm.concreteness(a.text) + hm.concreteness(b.text))

        pairs = sorted(((alike(a, b), i, j, a, b) for i, a in enumerate(xs) for j, b in enumerate(ys)), key=lambda x: (-x[0], x[1] + x[2]))
        for _, _, _, a, b in pairs[:40]:
            snap = self.src.snapshot()
            sub = _Draft()
            try:
                got = (
                    self.take(card, [a], sub, must=must_a, role="做法", anchor="measure", min_chars=MEASURE_CHARS),
                    self.take(other, [b], sub, must=must_b, role="做法", anchor="measure", min_chars=MEASURE_CHARS),
                )
            except _Missing:
                self.src.restore(snap)
                continue
            if (
                not same_thing(sub.quotes[0], card, sub.quotes[1], other, problems, generic_bigrams(self.cards))
                or not all(any(t.count(measure_core(x)) for t in problems) for x in sub.quotes)  # each a measure on the problem
                or _groups(sub.quotes[0]) != _groups(sub.quotes[1])  # for the same people
                or dropped_scene(sub.quotes[0], a.text) or dropped_scene(sub.quotes[1], b.text)  # what each was taken on
            ):
                self.src.restore(snap)  # two measures on different sides of the problem: not comparable
                continue
            draft.quotes += sub.quotes
            draft.numbers += sub.numbers
            draft.anchors += sub.anchors
            draft.cases |= sub.cases
            return got
        raise _Missing("pair")

    def method_of(self, card: CaseCard, problem: Tag | None):
        """The case's named method that is a measure on ``problem``: sentences naming it read as 做法, about the
        problem, the one telling most concretely what it does first."""
        story = card.story
        for m in sorted(card.methods, key=lambda m: -m.mentions):
            if not story:
                break
            naming = [s for s in story.sentences if m.key in s.text and s.role == "做法" and self.mat(card).keep(s)]
            naming = [s for s in naming if problem is None or hm.mentions(problem, s.text)]
            naming = [s for s in naming if hm.concreteness(s.text) >= 0 and s.prob("做法") >= 0.5 and not hm.is_plan(s.text)]
            naming.sort(key=lambda s: (-hm.concreteness(s.text), -s.prob("做法")))
            if naming and self.model.role(m.key) != "问题":
                return m, naming
        return None

    # -- filling one template

    def values(self, kind: str, template: Template, card: CaseCard, draft: _Draft, partner=None) -> _Filler:
        m = self.mat(card)
        ctype = card.community_type
        v: dict = {
            "place": place(card, town=False),
            "type": ctype,

            "meeting": MEETING[ctype],
            "own": OWN[ctype],
            "topic": _shown(self.tag_of(card) or self.tag) if self.tag else "",
        }
        want = template.fits.get("难题")

        def fits_problem(s: Sentence) -> bool:
            return not want or bool(hm.problem_kinds(s.text) & want)

        # the quoted span must show a difficulty (of the kind the prompt is about), and the topic
        trouble = re.compile("|".join(hm.PROBLEM_KINDS[k].pattern for k in sorted(want))) if want else hm.TROUBLE
        on = self.topic_words(card)
        def people() -> str:
            """Who would be upset at the meeting: the party the quoted problem is about, else the community's people."""
            last = next((x for _, x, what in reversed(draft.anchors) if what == "problem"), None)
            got = hm.owner(last.text) if last else None
            if got and last and _DISTURBS.search(last.text) and ctype != "村":
                return "居民"  # the party the story is about disturbs others: those upset at the meeting are the neighbours
            if got and last and hm.gone(last.text, got[1]):
                return PEOPLE[ctype]  # a party the story says is gone does not come to the meeting ("业委会…集体辞职")
            if got and got[0].name not in ("社区党组织", "居委会/村委会"):
                return hm.display_name(got[0], got[1], ctype)
            return PEOPLE[ctype]

        lazy: dict[str, Callable[[], str]] = {
            "people": people,
            "problem": lambda: self.take(
                card, m.problems, draft, must=_both(trouble, on), role="问题", anchor="problem", fits=fits_problem, particular=True
            ),
            "measure": lambda: self.take(
                card, m.measures, draft, must=on, role="做法", anchor="measure", min_chars=MEASURE_CHARS,
                fits=_measure_fits(template),
            ),
            "outcome": lambda: self.take(card, m.outcomes, draft, must=_both(hm.RESULT, on), role="成效", anchor="outcome"),
            "lesson": lambda: self.take(card, m.lessons, draft, role="感悟", must=hm.lesson_pattern(card, self.tag_of(card))),
        }
        if kind == "对比分析":
            if partner is None:
                raise _Missing("partner")
            other, problem, there, kinded = partner
            v["other_place"] = place(other, town=False)
            v["topic"] = _shown(problem) if problem == there else f"{_shown(problem)}、{_shown(there)}"
            both = kinded.phrase(ctype) if kinded else None
            v["same_kind"] = f"同为{both}，" if both and kinded and kinded.phrase(other.community_type) == both else ""
            if other.community_type != ctype:
                v["own"] = OWN_ANY
            pair: list[str] = []

            def paired(i: int) -> str:
                if not pair:
                    pair.extend(self.measure_pair(card, other, (problem, there), draft))
                return pair[i]

            lazy["measure"] = lambda: paired(0)
            lazy["other_measure"] = lambda: paired(1)
            lazy["dimensions"] = lambda: compare_dimensions(paired(0), paired(1))
            mine, theirs = self.method_of(card, problem), self.method_of(other, there)
            lazy["method"] = lambda: mine[0].name if mine else _no("method")
            lazy["other_method"] = lambda: theirs[0].name if theirs else _no("method")
            lazy["method_def"] = lambda: (
                self.take(
                    card, mine[1], draft, must=_both(re.compile(re.escape(mine[0].key)), self.topic_words(card, problem)), min_chars=MEASURE_CHARS
                )
                if mine
                else _no("method")
            )
            lazy["other_method_def"] = lambda: (
                self.take(
                    other, theirs[1], draft, must=_both(re.compile(re.escape(theirs[0].key)), self.topic_words(other, there)), min_chars=MEASURE_CHARS
                )
                if theirs
                else _no("method")
            )
            draft.cases.add(other.case_id)
        if kind == "角色扮演":
            chosen: list = []

            one = "{one_role}" in template.text
            proposal = "{proposal}" in template.text
            scene_must = on if proposal else _both(hm.TROUBLE, on)

            def staged() -> tuple[Sentence, list[Stance]]:
                if not chosen:
                    chosen.append(self.scene(card, draft, proposal, parties=1 if one else MIN_PARTIES, must=scene_must))
                return chosen[0]

            def scene_quote() -> str:
                s, _ = staged()
                if proposal:
                    return self.take(card, [s], draft, must=scene_must, role="做法", anchor="measure", min_chars=PROPOSAL_CHARS)
                return self.take(card, [s], draft, must=scene_must, role="问题", anchor="problem")

            def cast() -> list[tuple[str, str]]:
                if len(chosen) < 2:
                    chosen.append(self.roles(card, staged()[1], draft, 1 if one else MIN_PARTIES))
                return chosen[1]

            lazy["problem"] = scene_quote
            lazy["proposal"] = scene_quote
            lazy["roles"] = lambda: "；".join(f"{name}（{text}）" for name, text in cast())
            lazy["role_list"] = lambda: "、".join(name for name, _ in cast())
            lazy["role_count"] = lambda: "一二三四五六"[len(draft.parties) - 1] if cast() else ""
            lazy["one_role"] = lambda: "".join(f"{name}（{text}）" for name, text in cast()[:1])
        return _Filler(v, lazy)


class _Both:
    """Two patterns a span must both hold (``search`` answers only when both are found)."""

    def __init__(self, a: re.Pattern, b: re.Pattern) -> None:
        self.a, self.b = a, b

    def search(self, text: str):
        return self.a.search(text) and self.b.search(text)


def _both(a: re.Pattern, b: re.Pattern | None):
    return _Both(a, b) if b is not None else a


def _shown(tag: Tag | None) -> str:
    """A tag as a question names it: "人居环境/积分制" → "人居环境、积分制"."""
    return tag.name.replace("/", "、") if tag else ""


def _paragraph(card: CaseCard, s: Sentence) -> str:
    assert card.story is not None
    par = card.story.case.paragraphs[s.par]
    return card.story.case.text[par.start : par.end]


def _fits(template: Template, card: CaseCard) -> bool:
    types = template.fits.get("社区类型")
    return not types or card.community_type in types


def template_questions(
    cards: dict[str, CaseCard],
    subjects: list[CaseCard],
    tag: Tag | None,
    n: int,
    templates: dict[str, list[Template]],
    src: _Sources,
    kept: list[Question] | None = None,
    order: tuple[str, ...] = KINDS,
) -> list[Question]:
    """Up to ``n`` questions, the four kinds in turn (in ``order``: the kind whose material is scarcest first
    takes its pick); round r of a kind starts at its r-th variant and, for a
    topic, at the r-th community.

    A variant is skipped when it does not fit the community or its problem, when
    its material is missing or already quoted, when it would ask about a conflict
    an earlier question asked about, or when it would ask what an earlier question
    asks (``MAX_OVERLAP``); a kind with no usable variant left gives way to the
    next kind.  ``kept`` are questions already in the handout (the LLM's).
    """
    writer = _Writer(cards, subjects, tag, src)
    out: list[Question] = []
    before = list(kept or [])
    # a kind that runs out is not replaced by one kind asked over and over: by the i-th question, a kind standing
    # in for another has been asked at most once more than its turn
    def cap(i: int) -> int:
        return -(-(i + 1) // len(KINDS)) + 1

    # first with the sentences other handouts of the course quote left aside, then, if the material runs short,
    # with them (a thin topic: better a shared sentence than a missing question)
    for _ in range(2 if src.avoid else 1):
        for i in range(len(out), n):
            for shift in range(len(KINDS)):
                kind = order[(i + shift) % len(order)]
                if shift and sum(q.kind == kind for q in before + out) >= cap(len(before) + len(out)):
                    continue
                q = _one(writer, kind, i // len(KINDS), templates[kind], before + out, first=len(out), n=n)
                if q:
                    out.append(q)
                    break
        if len(out) >= n:
            break
        src.avoid = False
    return _in_turn(out)


def _in_turn(questions: list[Question]) -> list[Question]:
    """The questions in rounds of the four kinds (情境研讨, 对比分析, 角色扮演, 反思迁移), each kind in the
    order it was written: a handout reads the same whatever material ran short."""
    queues = {k: [q for q in questions if q.kind == k] for k in KINDS}
    out: list[Question] = []
    while any(queues.values()):
        for k in KINDS:
            if queues[k]:
                out.append(queues[k].pop(0))
    return out


def _one(
    writer: _Writer, kind: str, round_: int, variants: list[Template], asked: list[Question], first: int = 0, n: int = 8
) -> Question | None:
    # a topic handout's questions go round its communities in turn, starting the ``first``-th
    k = len(writer.subjects)
    subjects = [writer.subjects[(first + j) % k] for j in range(k)]
    if k > 2:  # a topic handout shows several communities: none leads more than its share of the questions
        share = max(2, -(-n // k))
        subjects = [c for c in subjects if writer.turns.get(c.case_id, 0) < share]
    # the preferred variant first (for any community), then the next: a prompt that fits matters more than whose turn
    partners = {c.case_id: writer.partners(c) if kind == "对比分析" else [None] for c in subjects}
    for j, card in ((j, c) for j in range(len(variants)) for c in subjects):
        for partner in partners[card.case_id]:
            template = variants[(round_ + j) % len(variants)]
            if not _fits(template, card):
                continue
            if any(template.text == x.template or template.asks & x.asks for x in asked):
                continue  # this variant asks what an earlier question asks
            # a draft a check turns down is written again from the next sentences: the first sentence of a kind
            # failing a check (a procedure with "最终" read as told after the fact) does not cost the material
            skipped: set[tuple[str, int]] = set()
            for _ in range(RETRIES):
                snap = writer.src.snapshot()
                state = (list(writer.anchors), list(writer.casts), set(writer.pairs))
                draft = _Draft()
                writer.skip = skipped
                try:
                    text = writer.gloss(template.format_map(writer.values(kind, template, card, draft, partner)), draft)
                except _Missing:
                    writer.src.restore(snap)
                    writer.anchors, writer.casts, writer.pairs = state
                    break
                finally:
                    writer.skip = set()
                on = tuple(t.name for t in partner[1:3] if t is not None) if kind == "对比分析" and partner else ()
                # a topic handout asks about the topic: a question quoting nothing on it is off the topic (a 加装电梯
                # handout asking about a night patrol told in the same script)
                off = writer.off_topic(draft.quotes)
                numbers = draft.numbers + [int(x) for x in _CITE.findall(text)]
                q = Question(kind, text, sorted(set(numbers)), draft.quotes, draft.parties, on, template.text, template.asks)
                if (
                    not draft.quotes
                    or off
                    or any(overlap(text, x.text) > MAX_OVERLAP or same_ask(q, x) for x in asked)
                    or any(same_scene(q, x, writer.src.items, generic_bigrams(writer.cards)) for x in asked)
                    or question_faults(q, writer.src.items, generic_bigrams(writer.cards))  # a draft a trainer would change
                ):
                    writer.src.restore(snap)
                    writer.anchors, writer.casts, writer.pairs = state
                    tried = {(cid, x.start) for cid, x, _ in draft.anchors}
                    if not tried or tried <= skipped:
                        break
                    skipped |= tried
                    continue
                writer.anchors += draft.anchors
                writer.turns[card.case_id] = writer.turns.get(card.case_id, 0) + 1
                if kind == "对比分析" and len(draft.cases) == 2:
                    a, b = sorted(draft.cases)
                    writer.pairs.add((a, b))
                return q
    return None


# ---------------------------------------------------------------------------
# questions that ask the same thing

_ASK_END = re.compile(r"[，,。？?；;！!]")


def ask_clause(text: str) -> str:
    """The first clause of what a question asks: the words after its last quote (its citation and the brackets
    closing around it left out), up to the first comma or stop; "" when it has none."""
    at = max(text.rfind("”"), 0)
    rest = re.sub(r"^(?:\[\d+\])*[）)]?[。，,；;：:]?", "", text[at + 1 :] if "”" in text else text)
    head = _ASK_END.split(rest, 1)[0]
    return re.sub(r"\s+", "", head)


def same_ask(a: Question, b: Question) -> bool:
    """Whether two questions of one handout ask the same thing: written from the same template variant, sharing
    an ``@问`` mark ("先找哪些人谈" and "先去找哪些人" are one ask), or opening their ask with the same clause."""
    if a.template and a.template == b.template:
        return True
    if a.asks & b.asks:
        return True
    fa, fb = ask_families(a.text), ask_families(b.text)
    if fa & fb:
        return True
    ca, cb = ask_clause(a.text), ask_clause(b.text)
    return len(ca) >= 4 and ca == cb


# what a question asks, whatever template family wrote it: "先摸清哪些情况、先找哪些人谈" (情境研讨) and "拆成三张清单，
# 再说说你会从哪一张入手" (another variant) both ask where to start and whom to see first
_ASK_FAMILY = {
    "起步": re.compile(r"先摸清|先找(?:哪些|谁)|先去找|找哪些人|找谁谈|从哪一?[张方个类边头](?:清单)?入手|从哪里入手"),
}


def ask_families(text: str) -> frozenset[str]:
    """The asks a question's own words (after its last quote) make, by family (:data:`_ASK_FAMILY`)."""
    at = text.rfind("”")
    rest = text[at + 1 :] if at >= 0 else text
    return frozenset(name for name, rx in _ASK_FAMILY.items() if rx.search(rest))


def ask_faults(questions: list[Question]) -> list[str]:
    """The pairs of a handout's questions that ask the same thing (:func:`same_ask`), in Chinese; [] when none."""
    return [
        f"第{i + 1}题和第{j + 1}题问的是同一件事"
        for i, a in enumerate(questions)
        for j, b in enumerate(questions)
        if i < j and same_ask(a, b)
    ]


# a measure that stands (a mechanism, a rule, a team, a platform, a regular activity): what can be piloted and
# spread; a one-off act (立即协调…包裹烟囱, 给出了专业建议) or an internal restructuring (将业委会分成南、北两个项目组)
# cannot
_STANDING = re.compile(
    r"机制|制度|办法|规则|规程|公约|章程|守则|细则|规范|队伍?|团队|小组|工作室|平台|驿站|站点|服务站|课堂|议事会|议事厅|例会|联席会"
    r"|常态|定期|每月|每周|每季度|每年|长效|轮值|积分|网格|清单|台账|热线|志愿服务"
)
_ONE_OFF = re.compile(r"立即|当场|现场|临时|一次性|连夜|及时|马上|给出了|建议|组建成功|签约|完工|梳理|盘点|排查|摸排")
_RESTRUCTURE = re.compile(r"分成|分为|划分为|拆分|合并|调整为|重组|架构|改选|换届")
# a procedure the law or the rules require (四议两公开 for a village's major matters): it is carried out everywhere,
# not piloted
_REQUIRED = re.compile(r"必须|法定|依法|程序|四议两公开|一事一议|民主决策|规定动作")
_PILOT = re.compile(r"先试点")


# a measure people live with, who may doubt it: it asks something of them or shares something out (a fee, a share,
# a lot, a place, a rule they must keep); a class, a service or an inventory of resources asks nothing of them
_BEARS_ON_PEOPLE = re.compile(
    r"分配|收费|收取|缴纳|缴费|出资|分摊|抓阄|名额|报名|选房|房型|补偿|保障金|押金|停车费|物业费|公约|规定|管理办法|管理制度"
    r"|禁止|不得|须|征询|表决|签订|协议"
)


def _measure_fits(template: Template) -> Callable[[Sentence], bool] | None:
    """Which measures a variant may quote (its ``@适用 做法=…``): 常设 a standing arrangement (see :func:`standing`),
    涉民 a measure people live with and may doubt (an internal inventory of resources is not)."""
    want = template.fits.get("做法", frozenset())
    if not want:
        return None

    def ok(s: Sentence) -> bool:
        if "常设" in want and not standing(s.text):
            return False
        if "涉民" in want and (not _BEARS_ON_PEOPLE.search(s.text) or _ONE_OFF.search(s.text)):
            return False
        return True

    return ok


def standing(span: str) -> bool:
    """Whether a quoted measure is a standing arrangement that a community could pilot and spread (see
    ``_STANDING``), not a one-off act nor an internal restructuring."""
    return (
        bool(_STANDING.search(span)) and not _ONE_OFF.search(span) and not _RESTRUCTURE.search(span)
        and not _REQUIRED.search(span) and not one_post(span)
    )


# one office holder taking a second post: "党总支书记沈东兼任业委会副主任" (one person, one committee of one estate)
_ONE_POST = re.compile(
    r"(?:书记|主任|社长|站长|经理|主席)[\u4e00-\u9fff]{0,4}(?:兼任|兼|出任|担任)[^，,。；;]{0,10}(?:主任|书记|委员|组长|主席|负责人)"
)
_MANY = re.compile(r"们|各|每|等|多名|若干|一批|全体|所有|[两二三四五六七八九十\d]+\s*(?:名|位|个)")


def one_post(span: str) -> bool:
    """Whether a measure is one office holder taking a second post: an estate has one such post, so "先试点、再推广"
    within it has nothing to pilot on or spread to."""
    m = _ONE_POST.search(span)
    return m is not None and not _MANY.search(m.group(0))


# a sentence opening on a short label ("生活方式碰撞:舒缓人情与…"): without it, what follows is abstract
_LABEL_HEAD = re.compile(r"^[\u4e00-\u9fff\"“”]{2,12}[:：]")
_NOT_LABEL = re.compile(r"^(?:比如|例如|譬如|举例|如|其中|主要|一是|二是|三是|四是|首先|其次|最后|同时)|(?:说|道|表示|指出|认为|强调|提到|问)[:：]$")


def drops_label(span: str, sentence: str) -> bool:
    """Whether a quote leaves out the short label its sentence opens with ("生活方式碰撞:")."""
    head = sentence.strip().lstrip("\"“")
    m = _LABEL_HEAD.match(head)
    if not m or _NOT_LABEL.search(m.group(0)):
        return False
    return not head.startswith(span.strip().lstrip("\"“")[: max(2, m.end())])


# ---------------------------------------------------------------------------
# a script's own coined terms ("四议共答", "两上两下", "议课堂"): explained from the script, or not used

# a term in quotation marks inside a quote
_TERM = re.compile(r"[\"“]([^\"“”，,。；;]{2,12})[\"”]")
# a scheme named by its numbers: "四议共答", "两上两下", "三个一", "1+7+X" (not a count of a plain noun: "三项服务清单",
# "五级人才梯队", "三驾马车", "三色清单")
_SCHEME = re.compile(
    r"\d\s*[+＋]|[+＋]\s*[\dA-Za-z]"
    r"|[二两三四五六七八九十](?![个项支类条种张套批级大色方重驾位名户家次年月日天座栋层部台辆万千百元米河池湖桥路街楼村组人岁周])[\u4e00-\u9fff]"
)
# a count of things ending on a numeral: "三个一"
_ENDS_COUNTED = re.compile(r"[一二两三四五六七八九十\d].*[一二两三四五六七八九十]$")
# what a script says a term of its own is: "…决议"的"四议共答"", ""小个专"(小微企业、个体工商户、专业市场)",
# ""三驾马车"——居民区党支部、居委会和物业公司", "开设"议课堂",在共商共议的自治平台上解决…"
_GLOSS_AFTER = (
    r"[\"”]\s*(?:[(（](?P<br>[^()（）]{4,40})[)）]|(?:——|—|是指|指的是|即)\s*(?P<dash>[^，,。；;()（）\"“”]{4,40})"
    # what each part of a scheme stands for, in brackets after its name: "红黄绿"三色问题清单标准(红色为"公家事",…)
    r"|[\u4e00-\u9fff]{1,10}[(（](?P<parts>[^()（）]{4,90}[为是指][^()（）]{4,90})[)）]"
    # its steps after it: "四步法",述"家常"-议"家事"-决"家务"-办"实事"
    r"|[,，:：]\s*(?P<steps>[^。；;，,]{2,12}(?:\s*[-—→－]\s*[^。；;，,\-—→－]{2,12}){2,}))"
)
_GLOSS_BEFORE = r"(?:[\"“](?P<chain>[^\"“”]{6,40})[\"”]|(?P<list>(?:[\u4e00-\u9fff]{2,10}、)+[\u4e00-\u9fff]{2,10}))\s*(?:这|的)\s*[\"“]"
# what the thing set up does, as a whole clause: the rest of the sentence (or up to a semicolon), never its first
# comma-clause of several ("在共商共议的自治平台上解决小区乱停车、文明养犬" of "…,推进垃圾分类…,完成…等事务")
_GLOSS_DOES = (
    r"(?:开设|打造|成立|建立|搭建|推出|创建|设立|组建)了?[\"“]{t}[\"”][，,]\s*"
    r"(?:(?P<does>[^。；;]{8,60}?)(?=[。；;]|$)|(?P<listed>[^。；;]{8,56}?等[\u4e00-\u9fff]{0,4})(?=[，,]))"
)
# a term introduced where it is quoted: "打造"平复暖心驿站"", "成立"青年议事厅""
_INTRODUCED = re.compile(r"(?:开设|打造|成立|建立|搭建|推出|创建|设立|组建|培育|命名为|称为|叫做|取名为?|制定|推行|实施|建起)了?$")
GLOSS_CHARS = 40  # a gloss is short: what the term stands for, not a second quote
SCHEME_GLOSS_CHARS = 90  # what each colour or number of a scheme stands for takes a clause per part


# a scheme named by its colours: ""红黄绿"三色清单", "三色预警" (a class reads "红绿灯", not what each colour holds)
_COLOURS = re.compile(r"[红橙黄绿青蓝紫]{2,}|[二两三四五六七八九十]色")
# a procedure named by its steps, put together as one name: "组团报名、分批建设", "先易后难、分类处置"
_STEPS_NAME = re.compile(r"^[\u4e00-\u9fff]{2,6}(?:、[\u4e00-\u9fff]{2,6})+$")
# what a script calls such a name when it gives it as its method
_METHOD_AFTER = r"[\"”]\s*(?:的)?\s*(?:模式|机制|方式|办法|做法|原则|思路|工作法|方法|流程|路径)"


def is_scheme(term: str) -> bool:
    """A name made of numbers and single characters ("四议共答", "两上两下", "1+7+X") or of colours ("红黄绿",
    "三色"): a class cannot read it."""
    return bool(_SCHEME.search(term) or _ENDS_COUNTED.search(term) or _COLOURS.search(term))


def named_method(term: str, card: CaseCard) -> bool:
    """Whether the script gives a name made of its steps ("组团报名、分批建设") as its method: "我们采用"组团报名、分批建设"
    模式".  The name says which steps, not how they are done (who groups with whom, in what order the batches
    go): a class asked to explain it to villagers cannot."""
    if not _STEPS_NAME.match(term) or card.story is None:
        return False
    pattern = re.compile(r"[\"“]" + re.escape(term) + _METHOD_AFTER)
    return any(pattern.search(s.text) for s in card.story.sentences if term in s.text)


def quoted_terms(span: str) -> list[tuple[str, int]]:
    """The terms a quote puts in quotation marks, with where each starts in the span."""
    return [(m.group(1), m.start()) for m in _TERM.finditer(span) if _CJK.search(m.group(1))]


_CJK = re.compile(r"[\u4e00-\u9fff]")
_GLOSSES: dict[tuple[str, str], tuple[Sentence, str] | None] = {}


def _gloss_in(text: str, term: str) -> str | None:
    """What ``text`` says ``term`` is (verbatim), or None."""
    t = re.escape(term)
    for pattern in (r"[\"“]" + t + _GLOSS_AFTER, _GLOSS_BEFORE + t + r"[\"”]", _GLOSS_DOES.replace("{t}", t)):
        m = re.search(pattern, text)
        if not m:
            continue
        got = next(g for g in m.groupdict().values() if g)
        got = got.strip(" ，,：:")
        if _FIGURE.search(got) and "、" not in got:
            continue  # "(占>50%)": a figure, not what the term is
        if m.groupdict().get("parts") and not is_scheme(term):
            continue  # a long note in brackets glosses a scheme's parts only
        groups = m.groupdict()
        # what a thing set up does is a whole statement: the rest of its sentence, or its list of tasks to the "等…"
        # that closes it; a name's parts in brackets after a scheme may take a clause each
        limit = SCHEME_GLOSS_CHARS if groups.get("parts") else QUOTE_CHARS if groups.get("does") or groups.get("listed") else GLOSS_CHARS
        if (groups.get("parts") or groups.get("does") or groups.get("listed")) and not reads_alone(got):
            continue  # a gloss of clauses is read out as a quote: whole, its marks paired
        if len(_CJK.findall(got)) >= 4 and len(got) <= limit:
            return got
    return None


def gloss_of(term: str, card: CaseCard) -> tuple[Sentence, str] | None:
    """The sentence of ``card``'s script that says what ``term`` is and what it says (verbatim), the first found;
    None when the script never says."""
    key = (card.case_id, term)
    if key not in _GLOSSES:
        found = None
        sentences = card.story.sentences if card.story else []
        for i, s in enumerate(sentences):
            if term in s.text:
                s = _through_bracket(s, sentences[i + 1 : i + 4], card)
                got = _gloss_in(s.text, term)
                if got:
                    found = (s, got)
                    break
        _GLOSSES[key] = found
    return _GLOSSES[key]


def _through_bracket(s: Sentence, after: list[Sentence], card: CaseCard) -> Sentence:
    """``s`` run on through the sentences after it of its paragraph up to where a bracket it opens closes: a note
    of a scheme's parts split at its semicolons ("…标准(红色为"公家事",…为主;" "黄色为…;" "…为主),对…") is one gloss."""
    depth = s.text.count("(") + s.text.count("（") - s.text.count(")") - s.text.count("）")
    if depth <= 0 or card.story is None:
        return s
    end = s
    for nxt in after:
        if nxt.par != s.par:
            break
        end = nxt
        depth += nxt.text.count("(") + nxt.text.count("（") - nxt.text.count(")") - nxt.text.count("）")
        if depth <= 0:
            text = card.story.case.text[s.start : end.end]
            return replace(s, end=end.end, text=text)
    return s


def _names_heading(term: str, card: CaseCard) -> bool:
    """Whether a heading of the script is the term itself ("4、"议课堂""): a programme of the script's own."""
    story = card.story
    if story is None:
        return False
    heads = {h for s in story.sentences for h in s.block if not h.startswith("¶")}
    return any(re.sub(r"[\s\"“”:：]", "", _HEAD_MARK.sub("", h)) == term for h in heads)


_HEAD_MARK = re.compile(r"^\s*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十\d]+[、.．]|第[一二三四五六七八九十]+[个步]?[，,、:：]?)")


SHARED_DF = 3  # a term this many scripts use is the field's own vocabulary ("两委", "三驾马车"), not a coinage


def coined(term: str, card: CaseCard) -> bool:
    """A term of the script's own a class does not know: a scheme named by its numbers, a programme the script
    heads a part with, or a name the script stops to define (it does so because a listener would not know it) —
    unless ``SHARED_DF`` scripts or more use it: then the secretaries in class know it."""
    if card.rarity is not None and card.rarity.df.get(term, 0) >= SHARED_DF:
        return False
    return is_scheme(term) or named_method(term, card) or _names_heading(term, card) or gloss_of(term, card) is not None


def explained(term: str, at: int, span: str) -> bool:
    """Whether the quote itself says what the term is: it defines it, or (for a name that is not a scheme of
    numbers, colours or steps) introduces it as something the community set up ("打造"平复暖心驿站"")."""
    if _gloss_in(span, term):
        return True
    return not is_scheme(term) and not _STEPS_NAME.match(term) and bool(_INTRODUCED.search(span[:at]))


def glossed(term: str, text: str, items: list[tuple[Citation, CaseCard]]) -> bool:
    """Whether a question's text explains ``term`` with a gloss quoted from a cited sentence that holds it
    (``（文中“T”指：“…”[m]）``, see :meth:`_Writer.gloss`)."""
    for m in re.finditer(r"“" + re.escape(term) + r"”指：“([^”]+)”\[(\d+)\]", text):
        k = int(m.group(2))
        if 1 <= k <= len(items) and m.group(1) in items[k - 1][0].quote and term in items[k - 1][0].quote:
            return True
    return False


def unexplained_terms(q: Question, items: list[tuple[Citation, CaseCard]]) -> list[str]:
    """The script's coined terms a question's quotes use that neither the quote nor a gloss in the question explains
    (round 10: "四议共答", "两上两下", "议课堂" left the class guessing)."""
    cited = [items[n - 1] for n in q.sources if 1 <= n <= len(items)]
    out: list[str] = []
    for span in q.quotes:
        card = next((card for c, card in cited if locate(span, c.quote)), None)
        if card is None:
            continue
        for term, at in quoted_terms(span):
            if term in out or not coined(term, card) or explained(term, at, span) or glossed(term, q.text, items):
                continue
            out.append(term)
    return out


# ---------------------------------------------------------------------------
# a quote on a work whose object it does not name ("确保防锈涂层、钢筋焊接等工艺达标": of which bridge?)

# words of building works: what they are done on must be said
_WORKS = re.compile(r"施工|工程|工艺|监工|修缮|维修(?!基金|资金)|改造|焊接|涂层|验收|开工|竣工|完工|工期|建材|质量")
# a heading naming a building work: "(四)危桥改造", "加装电梯", "雨污管网更新"
_WORK_HEAD = re.compile(r"改造|修缮|维修|工程|建设|加装|更新|安装|铺设|整修|翻新|改建|新建|施工|换新|换梯")
# a heading's list marker: "(四)", "4、", "一是", "第二,"
_HEADING_MARK = re.compile(
    r"^\s*(?:[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十\d]+[、.．]|[一二三四五六七八九十]是|第[一二三四五六七八九十]+[个步]?[，,、:：]?)\s*"
)


def heading_matter(heading: str, common: frozenset[str] | set[str]) -> tuple[str, set[str]] | None:
    """What a heading names when it is the name of a matter ("(四)危桥改造" → 危桥改造 and its particular words), not a
    step or a statement ("4、全程监督,确保实效"); None otherwise."""
    t = _HEADING_MARK.sub("", heading).strip()
    if re.search(r"[，,:：;；。？?!！]", t) or not 2 <= len(_CJK.findall(t)) <= 10:
        return None
    words = _noun_bigrams(t) - set(common) - _GENERIC_BIGRAMS - _party_bigrams()
    return (t, words) if words else None


def unnamed_work(span: str, card: CaseCard, c: Citation, generic: frozenset[str] | None = None) -> str | None:
    """The matter a quote on building works leaves unnamed, or None: the quote speaks of works ("工艺", "施工质量")
    under a heading naming a work and what it was done on ("(四)危桥改造") and names none of its words, so the class does not
    know what was being built (round 10: "业委会督导组:全程跟踪质量,确保防锈涂层、钢筋焊接等工艺达标")."""
    if not _WORKS.search(span) or card.story is None:
        return None
    s = hm._sentence_at(card, c)
    if s is None:
        return None
    common = generic if generic is not None else hm.common_bigrams(card)
    for heading in reversed([h for h in s.block if not h.startswith("¶") and _WORK_HEAD.search(h)]):
        got = heading_matter(heading, common)
        if got:
            name, words = got
            return None if hm.bigrams(span) & words else name
    return None


# ---------------------------------------------------------------------------
# a slogan told as a measure: "通过"社区合伙人"等机制,引入专业社会力量,提升服务品质和可持续性"

# the hollow words of a programme's slogan: means named by their kind, aims named by their abstract good
_HOLLOW = re.compile(
    r"可持续性?|品质|质效|效能|活力|资源共享|协作|协同|联动|多元力量|社会力量|各方力量|多方力量|合力|共建共治|服务能级|获得感|幸福感"
    r"|凝聚力|向心力|等机制|等方式|等形式|等途径|平台|赋能|长效|常态化|精细化|专业化|规范化|品牌"
)
# who or what concretely: a named institution
_INSTITUTION = re.compile(r"大学|学院|法庭|派出所|医院|学校|公司|银行|工作站|研究所|事务所|律所")
HOLLOW_MIN = 3  # distinct hollow words that make a quote a slogan when nothing concrete stands beside them


def hollow(span: str) -> bool:
    """A quote made of a slogan's words (at least ``HOLLOW_MIN`` distinct ones: "等机制", "社会力量", "品质",
    "可持续性") with no figure and no named institution: it says that something was done, not what, and cannot be
    the evidence of a measure or a result a class discusses (round 10, 民益)."""
    if _FIGURE.search(span) or _INSTITUTION.search(span):
        return False
    return len(set(_HOLLOW.findall(span))) >= HOLLOW_MIN


# ---------------------------------------------------------------------------
# two measures that work together are not offered as a choice

# a comparison that asks the class to take one measure and leave the other
_CHOICE = re.compile(r"只能借鉴一个|选哪一个|二选一|只能选一")


def _section_does(card: CaseCard, c: Citation, words: set[str]) -> bool:
    """Whether the part of the script a measure is told in (its heading, or its paragraph) tells of something with
    ``words`` too, besides the measure itself."""
    s = hm._sentence_at(card, c)
    if s is None or card.story is None or not words:
        return False
    return any(
        x.block == s.block and x.start != s.start and hm.bigrams(x.text) & words
        for x in card.story.sentences
    )


def complementary(a: str, card_a: CaseCard, ca: Citation, b: str, card_b: CaseCard, cb: Citation) -> bool:
    """Whether two compared measures work together rather than stand in for each other: the part of one script that
    tells its measure also does what only the other measure does (第三街区's 适"新"课堂 has its 老骑手 teaching newcomers
    and, as its first strand, lessons by the authorities — what 高科技街区's 交通委 普法 is), so a class asked to pick
    one is asked to drop half of what the script did."""
    own_a = _noun_bigrams(measure_core(a))
    own_b = _noun_bigrams(measure_core(b))
    shared = own_a & own_b
    plain = _GENERIC_BIGRAMS | _party_bigrams()
    only_a = own_a - shared - plain - hm.common_bigrams(card_b)
    only_b = own_b - shared - plain - hm.common_bigrams(card_a)
    return _section_does(card_a, ca, only_b) or _section_does(card_b, cb, only_a)


# ---------------------------------------------------------------------------
# choosing the questions: drafts checked one by one, the best that pass


def question_faults(q: Question, items: list[tuple[Citation, CaseCard]], generic: frozenset[str] | None = None) -> list[str]:
    """Why a drafted question could not be handed out as it is, in Chinese; [] when it can.

    Every quote starts and ends where the script's statement does and reads on
    its own (:func:`assistant.quoting.quote_faults`: no opening that follows on
    from the sentence before, no cut half-clause, no misspelling, no slogan);
    every role-play party is backed by a sentence in which that party is the
    subject or the speaker; a comparison sets two communities side by side."""
    out: list[str] = []
    cited = [items[n - 1] for n in q.sources if 1 <= n <= len(items)]
    for span in q.quotes:
        sentence = next((c.quote for c, _ in cited if locate(span, c.quote)), None)
        if sentence is None:
            out.append(f"引文“{span[:12]}…”不在所引原句中")
            continue
        out += [f"{why}：“{span[:12]}…”" for why in quote_faults(span, sentence, _party_opens)]
        if drops_label(span, sentence):
            out.append(f"引文删掉了句首的标签：“{span[:12]}…”")
    for party, n in q.parties:
        if not 1 <= n <= len(items):
            out.append(f"角色“{party}”没有原文依据")
            continue
        c, card = items[n - 1]
        at = c.start
        if not any(st.label == party and not st.absent for st in hm.stances(card, lambda s: s.start == at)):
            out.append(f"角色“{party}”的原文不是该方自己的处境或立场")
            continue
        # the quote read for the party opens on the party (its subject or speaker), not on the speaker's summary
        # ("一段时间里,我们小区面临着…诸多难题,居民们怨言颇多" is the speaker's, not the residents')
        spans = [x for x in q.quotes if f"{party}（“{x}”" in q.text or f"“{x}”[{n}]" in q.text]
        for x in spans:
            first = hm.subjects(x)[:1]
            if not first or not _names(party, first[0], card, x) or _SPEAKER_OPENS.match(x):
                out.append(f"角色“{party}”的引文不以该方开头：“{x[:12]}…”")
    if q.kind == "情境研讨" and q.quotes and _VAGUE.search(q.quotes[0]) and not _FIGURE.search(q.quotes[0]):
        out.append(f"情境空泛：“{q.quotes[0][:12]}…”")
    if q.kind == "情境研讨" and q.quotes and hm.finding_out(q.quotes[0]) and re.search(r"找出|发现|症结|原因在于|根源", q.quotes[0]):
        out.append(f"情境已说出了调研结论：“{q.quotes[0][:12]}…”")  # "党总支深入调研,找出…根本症结在于…"
    if q.kind == "情境研讨" and q.quotes and hm.narrated(q.quotes[0]):
        out.append(f"情境是已经解决的结果：“{q.quotes[0][:12]}…”")  # "首届业委会得以成立" asked as a difficulty
    for x, _ in scenes_of(q, items):
        if concludes(x):
            out.append(f"难题是讲者对什么重要的判断，不是遇到的难题：“{x[:12]}…”")
    if q.kind == "角色扮演" and len(q.parties) < 1:
        out.append("角色扮演没有角色")
    if q.kind == "对比分析":
        by_case: dict[str, tuple[str, CaseCard]] = {}
        for span in q.quotes:
            got = next(((c, card) for c, card in cited if locate(span, c.quote)), None)
            if got:
                by_case.setdefault(got[0].case_id, (span, got[1]))
        if len(by_case) != 2:
            out.append("对比分析不是两个社区")
        else:
            (a, ca), (b, cb) = by_case.values()
            if not same_thing(a, ca, b, cb, generic=generic):
                out.append("对比的两个做法不是同一件事")
            elif _CHOICE.search(_QUOTED.sub("", q.text)):
                cites = {}
                for span in (a, b):
                    got = next(((c, card) for c, card in cited if locate(span, c.quote)), None)
                    if got:
                        cites[span] = got[0]
                if len(cites) == 2 and complementary(a, ca, cites[a], b, cb, cites[b]):
                    out.append("对比的两个做法是相互补充的，不宜让学员二选一")
    out += [f"引文里的“{t}”是讲稿自己的说法，题中没有解释" for t in unexplained_terms(q, items)]
    for span in q.quotes:
        title = untitled_document(span)
        if title and not document_glossed(title, q.text, items):
            out.append(f"引文里的《{title}》没说是什么文件、规定了什么：“{span[:12]}…”")
        listed = unlisted_list(span) if _AS_OUTCOME.search(_lead_in(q, span)) else None
        if listed:
            out.append(f"成效里的“{listed}”没说列了哪些东西：“{span[:12]}…”")
        sentence = next((c.quote for c, _ in cited if locate(span, c.quote)), None)
        steps = dropped_steps(span, sentence) if sentence else None
        if steps:
            out.append(f"引文删掉了句中列出的步骤（{steps}）：“{span[:12]}…”")
    for span in q.quotes:
        got = next(((c, card) for c, card in cited if locate(span, c.quote)), None)
        matter = unnamed_work(span, got[1], got[0], generic) if got else None
        if matter:
            out.append(f"引文讲工程，却没说是哪项工程（{matter}）：“{span[:12]}…”")
    return out + class_faults(q, cited)


# a title that names only a kind of document: "《管理办法》", "《实施细则》", "《居民公约》" (of what?)
_DOC_TITLE = re.compile(r"《([^《》]{2,30})》")
_DOC_KIND = re.compile(r"(?:管理|实施|暂行|试行|工作|议事|自治|服务|考核|评比|奖惩|具体)*(?:办法|规定|条例|公约|章程|细则|制度|方案|守则|协议|规则|规约|须知|准则|标准|流程|意见|通知)$")
# what a quote says the document sets out: "《…》规定/明确了…", "按照《…》中关于…的规定"
_SETS_OUT = re.compile(r"^(?:中|里)?(?:关于|对)|^(?:规定|明确|约定|要求|列明|写明|提出)")


def untitled_document(span: str) -> str | None:
    """The title of a document a quote names without saying what it is about, or None: a title that is only a
    kind of document ("《管理办法》": of what, setting out what?) where the quote does not go on to say what it sets
    out ("…《管理办法》规定…").  A title naming its matter ("《小区停车管理办法》") says it."""
    for m in _DOC_TITLE.finditer(span):
        title = m.group(1).strip()
        kind = _DOC_KIND.search(title)
        if kind is None or len(_CJK.findall(title[: kind.start()])) >= 2:
            continue
        if _SETS_OUT.search(span[m.end() :]):
            continue
        return title
    return None


def document_gloss(title: str, card: CaseCard) -> tuple[Sentence, str] | None:
    """The sentence of ``card``'s script that gives a document's full title, the short one (``title``: "管理办法")
    with what it is about ("《湖畔天地小区机动车停车管理办法》"), and that full title; None when the script never does."""
    for s in card.story.sentences if card.story else []:
        for m in _DOC_TITLE.finditer(s.text):
            full = m.group(1).strip()
            if full != title and full.endswith(title) and len(_CJK.findall(full[: -len(title)])) >= 2:
                return s, full
    return None


def document_glossed(title: str, text: str, items: list[tuple[Citation, CaseCard]]) -> bool:
    """Whether a question's text gives a short document title its full title, quoted from a cited sentence
    (``（文中《管理办法》指：“《…停车管理办法》”[m]）``, see :meth:`_Writer.gloss`)."""
    for m in re.finditer("《" + re.escape(title) + r"》指：“《([^》]+)》”\[(\d+)\]", text):
        k = int(m.group(2))
        if 1 <= k <= len(items) and f"《{m.group(1)}》" in items[k - 1][0].quote and m.group(1).endswith(title):
            return True
    return False


# a list counted by its items: "47项资源清单", "102项公共服务项目清单", "三张清单"
_COUNTED_LIST = re.compile(r"(?:\d+|[两二三四五六七八九十百]+)\s*[项张份类条个][\u4e00-\u9fff]{0,8}?(?:清单|目录|菜单|台账)")
# what the list holds, said before its count: "阵地、人才、团队等47项", "资源、需求、项目"三张清单"
_KINDS_BEFORE = re.compile(r"[\u4e00-\u9fff]{1,8}(?:、[\u4e00-\u9fff\"“”]{1,8})+[\"”]?\s*(?:等|共|这|的)?\s*$")


def unlisted_list(span: str) -> str | None:
    """A counted list a quote names without what is on it ("共享47项资源清单": which resources?), or None.  Asked
    as a result, it tells the class how long a list is, not what changed (:func:`question_faults`).  A quote
    that says its kinds ("梳理整合阵地、人才、团队等47项资源清单") or its items after it ("…清单:…", "…清单(…)") is fine."""
    for m in _COUNTED_LIST.finditer(span):
        if _KINDS_BEFORE.search(span[: m.start()]) or re.match(r"\s*[\"”]?\s*[:：(（]", span[m.end() :]):
            continue
        return m.group(0)
    return None


# a chain of steps a sentence lists: "居民提议—多方商议—党组织审议—业主大会决议", "述家常-议家事-决家务"
_STEP_CHAIN = re.compile(r"[^\s，,。；;:：“”\"()（）—\-→－]{2,12}(?:\s*(?:—+|－|-|→)\s*[^\s，,。；;:：“”\"()（）—\-→－]{2,12}){2,}")


def dropped_steps(span: str, sentence: str) -> str | None:
    """The steps a quote leaves out of its sentence, or None: the sentence lists a scheme's steps ("居民提议—多方商议—
    党组织审议—业主大会决议"的"四议共答"工作方式) and the quote takes the clause after them ("居委会、业委会…共同沟通,
    "民事民决"推动方案落地"), so the class reads the scheme at work without what it is."""
    m = _STEP_CHAIN.search(sentence)
    if m is None or m.group(0) in span or not span.strip():
        return None
    return m.group(0)


def same_thing(
    a: str, card_a: CaseCard, b: str, card_b: CaseCard, problems: tuple[Tag | None, ...] = (), generic: frozenset[str] | None = None
) -> bool:
    """Whether two quoted measures act on the same thing: their nouns share a particular word (two characters
    not said throughout either script: "积分", "课堂", "网格员", "车位"), not only the parties ("居委会、业委会…"),
    a word any measure carries ("问题", "工作") or the name of the problem they are compared on (``problems``; a
    method either script names, such as 积分制 or 10分钟课堂, still counts).  "邀请区交通委开展交通普法" and
    "成立青年议事厅" are two measures of one topic, not two ways of doing one thing.  ``generic``: the words most
    scripts say (:func:`generic_bigrams`); without it, the words either script says throughout."""
    named = {g for c in (card_a, card_b) for m in c.methods for g in hm.bigrams(m.key)}
    common = set(generic) - named if generic is not None else (hm.common_bigrams(card_a) | hm.common_bigrams(card_b)) - named
    common |= _party_bigrams() | _GENERIC_BIGRAMS
    for t in problems:
        if t is not None:
            common |= {g for w in (t.name, *t.synonyms) for part in w.split("/") for g in hm.bigrams(part)} - named
    return bool((_noun_bigrams(measure_core(a)) & _noun_bigrams(measure_core(b))) - common)


# what a measure goes by, not what it does: "根据"议课堂"建议开设法治问诊" is a legal clinic, not a 课堂
_GOES_BY = re.compile(r"(?:根据|依据|按照|遵照|参照)[^，,。；;]{0,24}?(?:建议|要求|意见|方案|精神|规定|办法|文件)")


def measure_core(text: str) -> str:
    """A measure without the phrase naming what it goes by (see ``_GOES_BY``)."""
    return _GOES_BY.sub("", text)


# ---------------------------------------------------------------------------
# class-ready: what a trainer reading a question out would stop at (blind readings, rounds 3-5)

# a quote opening on an event the class was not told: "收到问题清单后,", "首期名额满员后,", "经过多方劝说后,"
_AFTER_EVENT = re.compile(r"^[^，,。；;：:“”\"]{1,16}?(?:(?<![年月日天周以之])后|(?<![年月日天周])(?:之后|以后))[，,]")  # not "16年以后,"
# a quote opening on what the speaker said before: "主要是我们一些老年人…", "后续…", "同时…"
_GOES_ON = re.compile(r"^(?:[^，,：:]{0,4}举例[:：]|例如|比如|主要是|主要在于|后续|随后|此后|之后|同时|其中|另外|此外|再者|而且|并且|于是|因此|所以|然后|接着|这|那|其|此)")
# words pointing back to what the speaker told before: "业委会后续通过增加停车位项目,达到780个"
_BACK = re.compile(r"后续|上述|前述|如前所述|前面提到|该项")
# "后续" after a clause of the quote's own that told what came first ("楼道住户组成了加梯工作小组,与居委会工作人员一起
# 开始了后续的意见征询…") follows on from the quote itself, not from an untold event
_BACK_LATER = re.compile(r"^(?![^，,。；;]*后续)[^，,。；;]{6,}[，,](?!.*(?:上述|前述|如前所述|前面提到|该项))")
# "我了解到": which speaker? (a community's "我们" is its own voice)
_I = re.compile(r"(?<!自)我(?![们国区市镇村])")
# a role with its bearer in the sentence before: "以邻居知心人的身份,发现、协调…"
_WHOSE_ROLE = re.compile(r"^以[^，,。]{1,12}身份")
# a matter without its noun: "进度秒现:对于需要一定时间处理的,定期在群内通报…" (which matters?)
_HEADLESS = re.compile(r"^(?:[^，,。：:]{1,12}[:：])?(?:对于|对|凡是?|针对)[^，,。：:]{1,14}的[，,]")
# a result whose cause is a bare "…化" told before: "透明化极大缓解了居民焦虑" (what was made transparent?)
_WHAT_DID = re.compile(r"^[\u4e00-\u9fff]{1,4}化(?:极大|有效|明显|大大|进一步)?(?:地)?(?:缓解|提升|提高|增强|促进|减少|降低|改善|激发)")
# a party that disturbs its neighbours: "商户…排烟系统噪音扰民", "居民投诉…"
_DISTURBS = re.compile(r"扰民|投诉|影响(?:周边|附近)?(?:居民|住户)|居民无法休息")
# a category label cut from a list: "邻里互助型(如…)"
_LABEL = re.compile(r"^[\u4e00-\u9fff]{2,8}(?:型|类|式)[(（:：]")
# praise of one person or thanks: "换梯成功,离不开一位关键人物"
_OWES = re.compile(r"离不开|关键人物")
# a scene that already names the way out: "改革的核心在于减量"
# a result quoted with the work that produced it ("通过网格化管理…下降43%", "组建…召开6场议事会"), not a bare figure
# ("12345物业投诉工单量下降43%": the class cannot tell what "类似工作" means)
_WORK = re.compile(
    r"通过|经过|借助|依托|凭借|开展|推行|推动|建立|建成|组建|成立|实施|打造|搭建|引入|引进|设立|落实|开通|安装|加装|改造|划出|划定"
    r"|召开|举办|组织|签订|制定|修订|出台|发动|动员|协调|整治|清理|上门|走访|调解|协商|议事|联动|共建|招募|培育|带动|运用|采用|启用"
    r"|完成|工程|分期|分批"
)


# a result told as a measured change ("工单量下降43%", "满意度提升至98%"): it needs the work it came from
_CHANGE = re.compile(r"受惠|受益|惠及|下降|减少|降低|降至|提升|提高|上升|增长|增加|增至|达到|[\d%％]\s*(?:以上|左右)?$|百分之|%|％|率")


def names_work(span: str) -> bool:
    """Whether a quoted result says what work produced it (:data:`_WORK`), or is itself the work done ("515户村民
    告别了散居旧宅,搬入了…新居"); a measured change alone ("12345物业投诉工单量下降43%") does not."""
    return bool(_WORK.search(span)) or not _CHANGE.search(span)


_GIVES_AWAY = re.compile(r"根源在于|原因在于|症结在于|根源是|根本原因|核心在于|关键在于|关键是|根本在于|重点在于|出路在于|必须|应当|亟需|亟待|需要(?:我们)?(?:建立|推动|加强)")
# a scene that is the community acting on the problem: "为切实解决商户"充电难"问题,街区党支部又进行了深入调研"
_ACTS = re.compile(r"^(?:为了?|为切实|针对|面对)[^，,。]{2,24}[，,][^，,。]{0,6}(?:党支部|党总支|党委|居委会?|村委会?|我们|社区|街区|两委)")
# a measure quoted with what it achieved: "…解决清单问题,提升治理能力,使网格管理更规范"
_ACHIEVED = re.compile(
    r"使[^，,。；;]{0,14}更|进一步(?:加强|提升|提高|增强)|提升了?[^，,。；;]{0,8}(?:能力|水平|意识|素养)|有效(?:提升|提高|促进)"
)
_BRACKETS = ("()", "（）", "《》", "“”", "【】")
# a quote announcing several things: "组建三支自治队伍:一是…" (with the first only, the others are missing)
_ANNOUNCED = re.compile(r"[两二三四五六七八九]\s*(?:支|个|项|类|条|种|方面|步)[^，,。]{0,10}[:：]")
# where a template quotes a lesson, and a lesson that only announces there are lessons ("我们也发现了一些共性的规律")
_AS_LESSON = re.compile(r"(?:体会是|的经验)[：:（(]?$")
_EMPTY_LESSON = re.compile(r"发现了一些|共性的?规律|几点(?:体会|启示|思考|经验)|如下|以下几")
# where a template quotes a result
_AS_OUTCOME = re.compile(r"(?:成效之一是|结果是)[：:]?$")
# a result told by its size only, with nothing that changed: "小区发生了翻天覆地的变化"
_PRAISE_ONLY = re.compile(r"翻天覆地|天翻地覆|焕然一新|大变样|面貌一新|显著(?:的)?(?:变化|成效|提升|改善)|明显(?:的)?(?:变化|成效|改善)|(?:巨大|很大|极大)的?(?:变化|成效)")
# a quote that carries notes in brackets inside its clauses reads with difficulty: "从2017年下午四点(1300辆)难停到…(超过2000辆)"
_NOTE = re.compile(r"[(（][^()（）]{1,20}[)）]")
# a sequence quoted up to its first step: "先抓报名顺序号确定选地批次" without "再抓具体宅基地号"
_FIRST_STEP = re.compile(r"先|首先|第一次|一是")
_NEXT_STEP = re.compile(r"^[^。]{0,30}?(?:再|然后|其次|第二次|二是|随后)")
# the turn the sentence takes after the quoted scene: "…一楼业主不同意…,但是维修资金的使用规定是法定的,无法突破"
_TURN = re.compile(r"^[^。；;]{0,80}?(?:[，,]|·+|…+)(?:但是?|可是|然而|不过)")


# a scene told in abstract nouns only: "舒缓人情与快节奏低关注度之间的摩擦…持续对撞", "…成为社区矛盾的痛点"
_ABSTRACT = re.compile(r"之间的(?:摩擦|矛盾|冲突|张力|落差|鸿沟)|碰撞|对撞|交织|双重挤压|痛点|困境")
# a scene that lists kinds of problems, not one: "诉求主要集中在停车管理难、商户扰民、设施设备破损等老大难问题"
_KINDS_LIST = re.compile(r"(?:集中在|主要包括|主要有|涉及)[^。；;]{2,40}等[^，,。；;]{0,8}问题")
# what money is for: a scene about money that says what it was to pay for ("维修基金被冻结" alone does not)
_PURPOSE = re.compile(r"用于|用来|改造|加装|更新|建设|修缮|维修|购置|安装|电梯|桥|道路|屋顶|管道|充电|停车|绿化|设施")
_FUND = re.compile(r"维修(?:基金|资金)")
# a payment asked of people or a fund: a deposit, a contribution (what it secures or pays for must be said: "每户2万元
# 保障金由村委会保管" does not say what the 保障金 secures); a price ("10元/天的低价停车费") says what it is for
_PAYMENT = re.compile(r"维修(?:基金|资金)|保障金|保证金|押金|基金|缴纳|交纳|出资")
_MONEY_WORDS = re.compile(r"维修(?:基金|资金)|保障金|保证金|押金|基金|资金|停车费|物业费|费用?")
_PAID_FOR = re.compile(r"用于|用来|用作|作为[^，,。]{1,12}(?:的|之)|以便|以确保|确保|专款专用|为了|为[^，,。]{1,12}(?:提供|支付)")


def payment_without_purpose(span: str) -> bool:
    """Whether a quote tells of a payment (a fund, a deposit, an amount of money) without what it is for."""
    if not _PAYMENT.search(span):
        return False
    rest = _MONEY_WORDS.sub("", span)
    return not (_PAID_FOR.search(rest) or _PURPOSE.search(rest))


def scene_flaw(span: str, asks: frozenset[str] = frozenset()) -> str | None:
    """Why a quoted scene gives the class no situation to act in, or None: it is told in abstract nouns only (no
    party, no figure), it lists kinds of problems instead of one, or it is a money difficulty that does not say what
    the money is for."""
    if _KINDS_LIST.search(span):
        return "情境只列了几类问题，不是一件具体的事"
    if _ABSTRACT.search(span) and not _FIGURE.search(span) and not hm.subjects(span) and not hm._party_regex().search(span):
        return "情境只有抽象的说法，没有具体的人或事"
    if "出资方案" in asks and not _PURPOSE.search(_FUND.sub("", span)):
        return "资金难题没说钱要用来做什么"
    if payment_without_purpose(span):
        return "情境讲到交钱或资金，却没说钱用来做什么"
    if _FROZEN.search(span) and not _WHY.search(span):
        return "情境说资金被冻结或停用，却没说为什么"
    return None


# money or a thing stopped ("维修基金被冻结"): the class must know why to act on it
_FROZEN = re.compile(r"冻结|停用|封存|无法(?:使用|动用|支取)")
_WHY = re.compile(r"因为|由于|因[^，,。]{1,12}(?:而|被)|导致|原因|所以|以致|致使|随之|[^，,。]{2,}后[，,]")


# an event that marks a start or a promise: a ceremony, a signing, a launch, an unveiling
_CEREMONY = re.compile(r"仪式|签约|签字|揭牌|授牌|挂牌|启动会|启动大会|开工|奠基|开幕|成立大会|动员大会|誓师")
_DATE = re.compile(r"\d{2,4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]")


# a number that names a place, not an amount: "325号楼", "3栋", "二期"
_ADDRESS = re.compile(r"\d+\s*(?:号楼?|栋|幢|弄|期|室)")


def ceremony_only(span: str) -> bool:
    """Whether a quoted result is only the date of a ceremony, a signing or a launch ("2021年6月10日,…加装电梯签约仪式
    正式举行"): it marks a start, not what came of the work; a figure beyond the date (what was built, how many
    signed) makes it a result."""
    if not _CEREMONY.search(span) or not _DATE.search(span):
        return False
    return not _FIGURE.search(_ADDRESS.sub("", _DATE.sub("", span)))


def concrete_result(span: str) -> bool:
    """Whether a quoted result says what changed: a figure or a counted thing (:data:`hm.RESULT`), or a change told
    without only praising its size ("发生了翻天覆地的变化" says that something changed, not what)."""
    if _FIGURE.search(span):
        return True
    return not _PRAISE_ONLY.search(span)


def cut_before(span: str, sentence: str, scene: bool = True) -> str | None:
    """What a quote leaves out that it needs, or None: the later steps of a sequence it quotes the first of
    ("先抓报名顺序号…" without "再抓具体宅基地号"), or the turn its sentence takes after it ("…但是维修资金的使用规定是
    法定的,无法突破")."""
    at = locate(span, sentence)
    if not at:
        return None
    rest = sentence[at[1]:]
    first = _FIRST_STEP.search(span)
    if first and _NEXT_STEP.search(rest) and not re.search(r"再|然后|其次|第二次|二是|随后", span[first.end():]):
        return "引文只有第一步，后面的步骤被截掉了"
    if scene and _TURN.match(rest):
        return "引文删掉了后面的转折"
    if later_figure(span, rest):
        return "引文截在中途，句子后面还有同一件事后来的数字"
    if not scene and later_result(span, rest):
        return "引文截在中途，句子后面还有这件事的结果"
    if summed_up_after(rest):
        return "引文截在列举中，后面总结它的话被截掉了"
    head = sentence.strip().lstrip("\"“")
    label = _LABEL_HEAD.match(head)
    if (label and not _NOT_LABEL.search(label.group(0)) and span.strip().lstrip("\"“").startswith(label.group(0))
            and len(re.sub(r"[。；;，,！!？?\"”\s]", "", rest)) > 4):
        return "引文是小标题加半句话"
    return None


# a figure and what it counts: "600余个", "1165个", "515户"
_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:余|多)?\s*(万?(?:个|户|辆|人|名|部|间|处|套|栋|平方米|元)|%)")


# a clause telling what the work came to, with its figure: "建成了现在有246个车位的停车场", "累计调解纠纷80余起"
_RESULT_VERB = re.compile(
    r"建成|建起|完成|实现|达到|新增|增加|减少|下降|降低|提升|提高|增至|降至|累计|共计|惠及|覆盖|化解|解决了|签约|投入使用|投用"
)


def later_result(span: str, rest: str) -> bool:
    """Whether the sentence goes on, after a quoted measure, to a clause with what the work came to and a figure the
    quote does not give ("促成新建了…停车场…,本来5车道乱停…" stops before "…经过前后10个多月的…沟通协商,建成了现在有246个
    车位的停车场": the effort and the result the question turns on)."""
    def counted(text: str) -> bool:
        return any(
            _RESULT_VERB.search(m.group(0)) and _FIGURE.search(_DATES.sub("", m.group(0)))
            for m in re.finditer(r"[^，,；;。！？!?]+", text)
        )

    # a quote that already tells a result with its figure may leave the sentence's further results out ("完成了"两河五池"
    # 水域环境综合治理、95%景观花园更新" of a list of works done)
    return counted(rest) and not counted(span)


# figures that are dates only do not count as a result's figure
_DATES = re.compile(r"\d{4}\s*年(?:\d{1,2}\s*月)?(?:\d{1,2}\s*日)?|\d{1,2}\s*月(?:\d{1,2}\s*日)?")
# a measure told as a start only: "民益社区自2017年起正式探索"社区网格"管理" (when, and the topic, but no act)
_STARTED = re.compile(
    r"^[^，,。；;]{0,12}?(?:自|从|于)?\s*(?:\d{4}\s*年|近年|近几年|今年|去年)[^，,。；;]{0,4}?(?:起|开始|以来|初|底)?"
    r"[^，,。；;]{0,8}?(?:探索|尝试|着手|开始|启动|试点|试行|酝酿)(?P<topic>[^，,。；;]{0,16})[。]?$"
)
# what a start may still say it did: "开始推行每月一次的楼组长例会" names an act
_ACT_AFTER = re.compile(r"推行|建立|组建|成立|设立|开设|召开|实行|实施|划分|配备|招募|安装|改造|建设|引入|制定|开展")


# the clause of a measure that says who else took part: "前任业委会两位成员共同参与"
_TOOK_PART = re.compile(r"(?:共同|一同|一起|全程)?(?:参与|参加|加入|列席)")
WHO_CLAUSE_CHARS = 24  # the who-took-part clause a quote may not stop before is one short clause


def dropped_who(span: str, sentence: str) -> bool:
    """Whether a quoted measure stops just before its sentence's closing clause naming who else took part ("组建了
    业委会换届前期筹备工作组,由居委会指定专人负责跟进" without ",前任业委会两位成员共同参与"): who is in it is part
    of the measure a class would copy."""
    at = sentence.find(span.strip())
    if at < 0 or not span.strip():
        return False
    rest = sentence[at + len(span.strip()) :].lstrip("，, ")
    clause = re.split(r"[，,。；;！!？?]", rest, maxsplit=1)[0]
    return 0 < len(clause) <= WHO_CLAUSE_CHARS and bool(_TOOK_PART.search(clause))


def started_only(span: str) -> bool:
    """Whether a quoted measure says only since when something was tried, and on what ("民益社区自2017年起正式探索
    "社区网格"管理"): no act a class could copy or find where it goes wrong."""
    m = _STARTED.match(span.strip().lstrip("\"“"))
    return m is not None and not _ACT_AFTER.search(m.group("topic"))


# the purpose a measure was taken for, opening its sentence: "为了确保首期项目的公平性,我们采用…模式"
_PURPOSE_HEAD = re.compile(r"^(?:为了|为)(?![此何])[^，,。；;]{3,24}[，,]")
# a question that asks the class to explain or justify a measure to the people it affects
_EXPLAINS = re.compile(r"解释|说明理由|说服|讲清|为什么要")


def dropped_purpose(span: str, sentence: str) -> bool:
    """Whether a quoted measure leaves out the purpose clause its sentence opens with ("我们采用"组团报名、分批建设"模式"
    without "为了确保首期项目的公平性"): asked to explain the measure, the class is not told what it was for.  A purpose
    that is a slogan ("为进一步贯彻落实…") is no loss."""
    head = sentence.strip().lstrip("\"“")
    m = _PURPOSE_HEAD.match(head)
    body = span.strip().lstrip("\"“")
    if m is None or body.startswith(m.group(0)[:4]):
        return False
    dropped = head[: max(head.find(body), m.end())]
    return not (is_slogan(dropped) or hollow(dropped))
# the speaker sums up a list just quoted: "…——这些都不是靠硬推,而是…", "…,以上这些做法…"
_SUMS_UP = re.compile(r"^[^。！？!?]{0,60}?(?:——|—|[，,；;])\s*(?:这些|这都|这一切|以上|凡此种种|这几[个项条点])")


def summed_up_after(rest: str) -> bool:
    """Whether the sentence goes on, after the quote, to sum up what the quote lists ("用"红黄绿"三色清单分级处理问题,
    街事好商量平台协商解决矛盾" stops before "…——这些都不是靠硬推,而是通过机制设计调动各方主动性": the lesson)."""
    return bool(_SUMS_UP.match(rest))


def later_figure(span: str, rest: str) -> bool:
    """Whether the sentence goes on, after the quote, to a figure of the same thing as the quote's last one (the
    quote stops at "开辟了600余个" when the sentence reaches 780个 and 1165个)."""
    counts = list(_COUNT.finditer(span))
    if not counts:
        return False
    unit = counts[-1].group(2)
    return any(m.group(2) == unit for m in _COUNT.finditer(rest))
# where a template quotes a measure, and where a scene (a problem)
_AS_MEASURE = re.compile(r"(?:做法(?:之一)?是|这一步|一项做法)[：（(]?$")
_AS_SCENE = re.compile(r"(?:情况是|难题是|提到|经历)[：:]?$|的情况（$")
# the groups a measure may be for: two measures for different people are not two ways of doing one thing
# (村民's 积分 against 志愿者's 积分)
_FOR_GROUPS = {
    "志愿者": "志愿者", "老人": "老人", "老年": "老人", "儿童": "儿童", "青少年": "青少年", "学生": "学生", "骑手": "骑手",
    "小哥": "骑手", "快递员": "骑手", "外卖员": "骑手", "商户": "商户", "商家": "商户", "店主": "商户", "残疾": "残疾人",
    "退役军人": "退役军人", "妇女": "妇女", "青年": "青年",
}
_FOR_GROUP = re.compile("|".join(sorted(_FOR_GROUPS, key=len, reverse=True)))
_GROUP_BIGRAMS = frozenset(g for w in _FOR_GROUPS for g in hm.bigrams(w))
# a prioritising question needs several things to put in order: "停车管理难、商户扰民、设施设备破损"; a chain of
# causes is one thing ("由于…业主意见分散,共识难以形成,导致业委会连续两届换届出现缺位")
_PRIORITY = re.compile(r"先抓哪一块")
_CAUSAL = re.compile(r"导致|致使|造成|以致|从而|随着|由于|因为")
# a list of parts: "本地动迁居民、自购房新上海人、外来务工流动"新市民"", "一是…二是…", "一方面…另一方面…", "…；…"
_LISTS = re.compile(r"(?:[^、，,。；;]{1,16}、){2,}|一是|一方面|[；;]|[一二两三四五六七八九]\s*(?:类|个方面|块|分)")


def several_parts(span: str) -> bool:
    """Whether a quote lists several problems or parts a class could put in order (not one problem with its causes:
    "小区无地下停车位,且随着…车辆每年以约100辆的速度增长,停车压力与日俱增" is one)."""
    return bool(_LISTS.search(span)) and not _CAUSAL.search(span)


def about_party(scene: str, sub: "hm.Subject") -> bool:
    """Whether a role-play's background speaks of the party cast (its word, or the same party as a subject: named as
    an object, "挤占业主资源", it is not): the low fee that draws outside cars is not about the 地下车库产权车主 the
    student plays."""
    if sub.word in scene:
        return True
    return any(other.party == sub.party for other in hm.subjects(scene))
# a category of a list quoted in the middle: "孵化活力绽放型(如舞蹈队、合唱团…)"
_LIST_LABEL = re.compile(r"[\u4e00-\u9fff]{2,8}(?:型|类)[(（]如")
# a measure told by its name only: "打造"益课堂"特色品牌", "以"板凳课堂"为沟通平台和治理抓手"
_NAME_ONLY = re.compile(r"(?:品牌|抓手|载体|平台|阵地|名片)[\"”]?$")
# a measure that is a verb and a name only: "推行"轮值机制"", "我们牵头建立了"七心桥区域党建联盟""
_NAMED_ONLY = re.compile(r"(?:^|[:：])[^，,:：]{0,8}(?:推行|打造|建立了?|成立了?|设立了?|开设了?|实施|启动了?)[\"“][^\"”]{2,14}[\"”]$")


# the matter a measure was taken on, set at the head of its sentence: "在打造无烟老年活动室时,…"
_SCENE_FRAME = re.compile(r"^(?:在|针对|面对|为了?)[^，,。；;]{2,24}(?:时|中|期间|过程中|上|问题|情况)?[，,]")


_MEETING_END = re.compile(r"(?:议事会|会议|座谈会|协商会|恳谈会|听证会|联席会|评议会)(?:等)?[。，,；;]?$")
_MATTER = re.compile(r"^[，,]?\s*(?:围绕|就|针对|对|商议|商讨|讨论|研究|议定|表决|审议|协商)")


def meeting_without_matter(span: str, sentence: str) -> bool:
    """Whether a quoted measure ends on a meeting and leaves out what the sentence says it was about ("召开6场专题
    议事会" without ",围绕修缮方案、资金来源等展开头脑风暴": the class cannot tell what was to be decided)."""
    span = span.strip().rstrip("。")
    if not _MEETING_END.search(span):
        return False
    at = sentence.find(span)
    return at >= 0 and bool(_MATTER.match(sentence[at + len(span) :]))


def dropped_scene(span: str, sentence: str) -> bool:
    """Whether a quoted measure leaves out the frame at the head of its sentence that says what it was taken on
    (compared without it, "微领袖宣导课堂成员" loses that it was about smoking in the activity room)."""
    head = sentence.strip().lstrip("\"“")
    m = _SCENE_FRAME.match(head)
    return m is not None and span.strip() not in head[: m.end()] and not head.startswith(span.strip()[:6])


def _to_the_figure(span: str, sentence: str, must: re.Pattern | None = None) -> str:
    """A result quoted up to its last clause with a figure, when that still reads on its own: the clauses after it
    tell another matter the class was not told about ("…10名正式委员中有6名为中共党员,别墅区经业主大会通过,由居委会
    代为履职": which 别墅区?)."""
    ends = [m.end() for m in re.finditer(r"[^，,；;]+", span) if hm.RESULT.search(m.group(0))]
    if not ends or ends[-1] >= len(span.rstrip("。；;，, ")):
        return span
    cut = span[: ends[-1]]
    if (must is not None and not must.search(cut)) or not hm.clear(cut) or quote_faults(cut, sentence, _party_opens):
        return span
    if quote_flaw(cut) or drops_label(cut, sentence):
        return span
    return cut


def _unbalanced(span: str) -> bool:
    return span.count('"') % 2 == 1 or any(span.count(pair[0]) != span.count(pair[1]) for pair in _BRACKETS)


def quote_flaw(span: str) -> str | None:
    """Why a quote cannot be read out in class as it stands, beyond :func:`assistant.quoting.quote_faults`, or
    None: it opens on an event or a remark the class was not told ("收到问题清单后,", "主要是…", "同时…"),
    points back ("后续", "上述"), says "我" (which speaker?), is a category label cut from a list ("…型(如"),
    has unpaired brackets, or praises one person ("离不开一位关键人物")."""
    text = span.strip().lstrip("\"“")
    if _AFTER_EVENT.match(text):
        return "引文从前文的事情接起"
    if _GOES_ON.match(text):
        return "引文承接上文开头"
    if _BACK.search(text) and not _BACK_LATER.match(text):
        return "引文指向前文"
    if _I.search(text):
        return "引文里的“我”不知是谁"
    if _WHOSE_ROLE.match(text):
        return "引文没说是谁"
    if _HEADLESS.match(text) or _WHAT_DID.match(text):
        return "引文没说是什么事"
    if _LABEL.match(text) or _LIST_LABEL.search(text):
        return "引文是列举中的类别名"
    if _unbalanced(span):
        return "引文括号或引号不成对"
    if _OWES.search(text):
        return "引文是对个人的称赞"
    if _ANNOUNCED.search(text) and re.search(r"一是|第一", text) and not re.search(r"二是|第二", text):
        return "引文只列了第一项"
    return None


def _lead_in(q: Question, span: str) -> str:
    at = q.text.find(f"“{span}”")
    return q.text[max(0, at - 12) : at] if at >= 0 else ""


def _groups(text: str) -> set[str]:
    return {_FOR_GROUPS[m.group(0)] for m in _FOR_GROUP.finditer(text)}


# the people whose co-operation a comparison may weigh: a party both measures name (the riders both trainings
# serve), never one they leave out ("商户和居民的配合程度" of two trainings for riders)
_WHOSE_PART = re.compile(r"(?:和|及|与|、)([^，,。？?、和及与]{1,8}?)的配合程度|从([^，,。？?、和及与]{1,8}?)的配合程度")
NEUTRAL_DIMENSIONS = "各自的做法、适用条件和代价三方面"


def compare_dimensions(a: str, b: str) -> str:
    """What a comparison of two measures weighs them on: the manpower, the money and the co-operation of the people
    both measures serve (a group both name: 骑手, 老人 …); when they name none in common, a neutral frame."""
    both = sorted(_groups(a) & _groups(b))
    if both:
        return f"投入的人力、资金和{both[0]}的配合程度三方面"
    return NEUTRAL_DIMENSIONS


def unfit_dimension(q: Question) -> str | None:
    """A comparison weighing its measures on the co-operation of people neither quoted measure names, or None."""
    if q.kind != "对比分析":
        return None
    own = _QUOTED.sub("", q.text)
    for m in _WHOSE_PART.finditer(own):
        who = m.group(1) or m.group(2)
        names = [w for w in re.split(r"和|及|与|、", who) if w]
        for w in names:
            key = _FOR_GROUPS.get(w, w)
            if not any(w in x or key in _groups(x) for x in q.quotes):
                return w
    return None


def related(a: str, b: str, card: CaseCard, people: bool = True) -> bool:
    """Whether two quotes of one script speak of one matter: a particular noun both name (not a party, not a word
    every measure carries, not one the script says throughout) or a matter of the taxonomy both mention.  Without
    ``people``, the people or the bodies both name (小哥, 骑手, 老人, 业委会 …) are no such noun or matter either: a
    lesson for riders does not tell what was done about riders' parking."""
    common = hm.common_bigrams(card) | _party_bigrams() | _GENERIC_BIGRAMS
    if not people:
        common = common | _GROUP_BIGRAMS
    if (_noun_bigrams(a) & _noun_bigrams(b)) - common:
        return True

    def names(t: Tag, x: str) -> bool:
        return any(
            people or not (_FOR_GROUP.search(m.group(0)) or hm.bigrams(m.group(0)) <= _party_bigrams()) for m in t.pattern.finditer(x)
        )

    return any(names(t, a) and names(t, b) for t in load_taxonomy().tags if not t.kind)


def _speaks_to(st: Stance, scene: str, card: CaseCard, alone: bool = False) -> bool:
    """Whether a stance can back a role-play party on ``scene``: the party's own position in its own clause, on
    the scene's matter; played alone, its quote names no second party."""
    x = st.quote
    at = x.find(st.word)
    if not hm.own_position(x, st.word, at):
        return False
    if alone and len({sub.word for sub in hm.subjects(x)}) > 1:
        return False
    return related(x, scene, card)


def class_faults(q: Question, cited: list[tuple[Citation, CaseCard]]) -> list[str]:
    """What a trainer would change before handing the question out (the readers' reasons of rounds 3-5), in
    Chinese; [] when nothing:

    - a quote that opens on an untold event or remark, points back, says "我", is a label or has unpaired brackets
      (:func:`quote_flaw`);
    - a scene that already names the way out ("改革的核心在于减量"); a measure quoted with what it achieved;
    - a role-play party whose quote gives it no position of its own in its own clause (a state the speaker
      ascribes to it, a concession), whose quote names a second party it could be confused with, or whose
      situation has nothing to do with the scene it is cast in;
    - a comparison whose measures do not both speak of the problem compared on, or serve different people;
    - a prioritising question on a quote that names one thing only."""
    out: list[str] = []
    for span in q.quotes:
        why = quote_flaw(span)
        if why:
            out.append(f"{why}：“{span[:12]}…”")
        lead = _lead_in(q, span)
        if _AS_SCENE.search(lead) and _GIVES_AWAY.search(span):
            out.append(f"情境已说出了解决思路：“{span[:12]}…”")
        if _AS_SCENE.search(lead) and _ACTS.match(span):
            out.append(f"情境是社区的做法，不是难题：“{span[:12]}…”")
        if _AS_SCENE.search(lead):
            flaw = scene_flaw(span, q.asks)
            if flaw:
                out.append(f"{flaw}：“{span[:12]}…”")
        if _AS_LESSON.search(lead) and _EMPTY_LESSON.search(span):
            out.append(f"体会没有内容，只说有体会：“{span[:12]}…”")
        if _AS_OUTCOME.search(lead) and not concrete_result(span):
            out.append(f"成效没有数字或具体变化：“{span[:12]}…”")
        if _AS_OUTCOME.search(lead) and ceremony_only(span):
            out.append(f"成效只是某天举行的仪式或启动，没有实际结果：“{span[:12]}…”")
        if not _AS_LESSON.search(lead) and hollow(span):
            out.append(f"引文是口号式的表述，没有具体做了什么：“{span[:12]}…”")
        if len(_NOTE.findall(span)) >= 2:
            out.append(f"引文夹着括号注释，读起来费劲：“{span[:12]}…”")
        sentence = next((c.quote for c, _ in cited if locate(span, c.quote)), None)
        cut = cut_before(span, sentence, scene=bool(_AS_SCENE.search(lead))) if sentence else None
        if cut:
            out.append(f"{cut}：“{span[:12]}…”")
        if _AS_MEASURE.search(lead) and _ACHIEVED.search(span):
            out.append(f"做法里混着成效：“{span[:12]}…”")
        if _AS_MEASURE.search(lead) and _NAMED_ONLY.search(span.rstrip("。；;，, ")):
            out.append(f"做法只有名称，没说做了什么：“{span[:12]}…”")
        if _AS_MEASURE.search(lead) and sentence and dropped_who(span, sentence):
            out.append(f"做法在说明谁一同参与之前截断：“{span[:12]}…”")
        if _AS_MEASURE.search(lead) and payment_without_purpose(span):
            out.append(f"做法讲到交钱或资金，却没说钱用来做什么：“{span[:12]}…”")
        if _AS_MEASURE.search(lead) and started_only(span):
            out.append(f"做法只说了从何时开始探索，没说做了什么：“{span[:12]}…”")
        if _AS_MEASURE.search(lead) and sentence and _EXPLAINS.search(_QUOTED.sub("", q.text)) and dropped_purpose(span, sentence):
            out.append(f"要学员解释的做法删掉了句首说明目的的话：“{span[:12]}…”")
    if q.kind == "角色扮演" and q.parties:
        voiced = {n for _, n in q.parties}
        scene = [x for x in q.quotes if not any(f"“{x}”[{n}]" in q.text for n in voiced)]
        for party, n in q.parties:
            spans = [x for x in q.quotes if f"“{x}”[{n}]" in q.text]
            card = next((card for c, card in cited if any(locate(x, c.quote) for x in spans)), None)
            for x in spans:
                subs = [sub for sub in hm.subjects(x) if card is not None and _names(party, sub, card, x)]
                if not subs or not hm.own_position(x, subs[0].word, subs[0].at):
                    out.append(f"角色“{party}”的引文没有该方自己的立场：“{x[:12]}…”")
                elif len({sub.word for sub in hm.subjects(x)}) > 1 and len(q.parties) == 1:
                    out.append(f"角色“{party}”的引文里有两方，不知演谁：“{x[:12]}…”")
                if card is not None and scene and not any(related(x, y, card) for y in scene):
                    out.append(f"角色“{party}”的处境与背景不是一件事：“{x[:12]}…”")
                if subs and not hm.own_concern(x, subs[0].word, subs[0].at):
                    out.append(f"角色“{party}”的引文只写了该方的毛病，没有该方自己的立场或顾虑：“{x[:12]}…”")
                if subs and scene and not any(about_party(y, subs[0]) for y in scene):
                    out.append(f"角色“{party}”的背景讲的不是该方：“{scene[0][:12]}…”")
    if q.kind == "对比分析" and len(q.quotes) >= 2:
        a, b = q.quotes[:2]
        tags = [load_taxonomy().tag(t) for t in q.on]
        if tags and not all(any(t.count(measure_core(x)) for t in tags) for x in (a, b)):
            out.append("对比的做法没有都讲到所比的问题")
        if _groups(a) != _groups(b):
            out.append("对比的两个做法面向不同的人")
    if q.kind == "对比分析":
        for span in q.quotes:
            sentence = next((c.quote for c, _ in cited if locate(span, c.quote)), None)
            if sentence and dropped_scene(span, sentence):
                out.append(f"对比的做法删掉了它针对的事：“{span[:12]}…”")
    unfit = unfit_dimension(q)
    if unfit:
        out.append(f"对比的维度与两个做法不相干：两个做法都没讲到“{unfit}”")
    if q.kind == "对比分析" and any(_NAME_ONLY.search(x.rstrip("。；;，, ")) for x in q.quotes):
        out.append("对比的做法只有名称，没说做了什么")
    if _PILOT.search(q.text):
        measured = [x for x in q.quotes if _AS_MEASURE.search(_lead_in(q, x))]
        if not measured or not all(standing(x) for x in measured):
            out.append("“先试点、再推广”只适合常设的做法（机制、制度、队伍、平台、定期活动），所引做法不是")
    if _PRIORITY.search(q.text) and q.quotes and not several_parts(q.quotes[0]):
        out.append("排序题的引文只讲了一件事")
    return out


_GENERIC_OF: dict[tuple[str, ...], frozenset[str]] = {}
GENERIC_SHARE = 0.5  # a word in more than this share of the scripts says nothing particular


def generic_bigrams(cards: dict[str, CaseCard]) -> frozenset[str]:
    """Character bigrams more than ``GENERIC_SHARE`` of the scripts use (居民, 社区, 开展 …), computed once."""
    key = tuple(sorted(cards))
    if key not in _GENERIC_OF:
        df: dict[str, int] = {}
        texts = [c.story.case.text for c in cards.values() if c.story]
        for t in texts:
            for g in _chunk_bigrams(t):
                df[g] = df.get(g, 0) + 1
        _GENERIC_OF[key] = frozenset(g for g, k in df.items() if k > GENERIC_SHARE * max(1, len(texts)))
    return _GENERIC_OF[key]


def _chunk_bigrams(text: str) -> set[str]:
    """Character bigrams within runs of text (never across punctuation: "居委会、业委会" has no "会业")."""
    return {g for run in re.split(r"[^\u4e00-\u9fffA-Za-z0-9]+", text) for g in hm.bigrams(run)}


# nouns every measure may carry: they say nothing of what it is about
_GENERIC_NOUNS = (
    "问题 工作 情况 方面 过程 任务 方式 方法 机制 活动 服务 项目 意识 作用 力量 资源 平台 制度 措施 举措 需求 诉求 意见 "
    "矛盾 难题 成员 人员 代表 群众 大家 基础 阶段 环节 目标 效果 成效 水平 能力 氛围 形式 内容 渠道 体系 模式 经验 "
    "期间 时间 日常 实际 重点 核心 关键 特色 品牌 治理 管理 建设 发展 推进 开展 组织 工作室"
).split()
_GENERIC_BIGRAMS = frozenset(g for w in _GENERIC_NOUNS for g in hm.bigrams(w))


def _noun_bigrams(text: str) -> set[str]:
    """Character bigrams inside the nouns of a span ("停车位" → 停车, 车位), never across two words."""
    return {g for w, flag in pos_cut(text) if len(w) >= 2 and (flag[:1] == "n" or flag == "vn") for g in hm.bigrams(w)}


@lru_cache(maxsize=1)
def _party_bigrams() -> frozenset[str]:
    words = {w for r in load_taxonomy().roles for w in (r.name, *r.synonyms) if w}
    words |= {"党支部", "党总支", "党组织", "居民区", "街区", "社区", "小区", "村民代表", "居民代表", "志愿者", "党员"}
    return frozenset(g for w in words for part in w.split("/") for g in hm.bigrams(part))


# a situation told in general terms: nothing a learner could picture or start from ("社区矛盾复杂多样",
# "问题的复杂性源于多重因素叠加", "矛盾激化的深层原因在于公平感缺失", "整村平移是一项庞大复杂的系统工程")
_VAGUE = re.compile(
    r"复杂性|复杂多样|纷繁复杂|错综复杂|多重因素|多种因素|深层原因|根本原因|深层次|期望值|众口难调|系统工程|历史遗留问题[多较]"
    r"|难度[大较]|压力倍增|日益凸显|日益突出|不断提高|持续攀升|新形势|新的?要求|新的?挑战|短板|瓶颈|有待(?:提升|提高|加强|完善)"
)


# a quote opening on the speaker's side (after a time phrase at most): the speaker tells it, not the party
_SPEAKER_OPENS = re.compile(r"^(?:[^，,。]{0,8}[，,])?(?:我们|我|社区|居委会|村委会|党支部|党总支|街区党支部|街道|村两委|两委)")


def _names(party: str, sub: "hm.Subject", card: CaseCard, text: str) -> bool:
    """Whether a sentence's subject is the cast party (as the handout names it, or its group: "地下车库产权车主")."""
    names = {hm.display_name(sub.party, sub.word, card.community_type), hm.group_label(text, sub.at, sub.word), sub.word}
    return any(party == x or party.endswith(x) or x.endswith(party) for x in names)


def _story_words(q: Question, items: list[tuple[Citation, CaseCard]]) -> set[str]:
    """The particular words of what a question quotes (its story), without what every script says."""
    words: set[str] = set()
    for n in q.sources:
        if 1 <= n <= len(items):
            c, card = items[n - 1]
            words |= hm.bigrams(c.quote) - hm.common_bigrams(card)
    return words


SAME_STORY = 0.3  # two questions whose quoted sentences share this share of particular words tell one story


_NAMED_TERM = re.compile(r"[\"“]([^\"“”]{2,12})[\"”]")


def named_terms(q: Question) -> set[str]:
    """The names a question's quotes put in quotation marks ("红黄绿", "小哥课堂"): a method, a programme."""
    return {m.group(1) for x in q.quotes for m in _NAMED_TERM.finditer(x)}


def choose(
    drafts: list[Question],
    items: list[tuple[Citation, CaseCard]],
    n: int,
    generic: frozenset[str] | None = None,
    topic: bool = False,
) -> list[Question]:
    """Up to ``n`` questions from the drafts (best first, as written): only those without faults
    (:func:`question_faults`); first one of each kind, then the next best, no kind more than ``PER_KIND`` times,
    no two on one story (their quoted sentences sharing most particular words)."""
    ok = [q for q in drafts if not question_faults(q, items, generic)]
    words = {id(q): _story_words(q, items) for q in ok}

    rarity = next((card.rarity for _, card in items if card.rarity is not None), None)
    tags = load_taxonomy().tags

    def particular(q: Question) -> set[str]:
        """The names a question quotes that belong to one story: not a matter of the taxonomy ("积分制"), not the
        field's shared vocabulary."""
        return {
            t for t in named_terms(q)
            if not any(t in w.split("/") for tag in tags for w in (tag.name, *tag.synonyms))
            and not (rarity is not None and rarity.df.get(t, 0) >= SHARED_DF)
        }

    def same_story(q: Question, chosen: list[Question]) -> bool:
        a = words[id(q)]
        for x in chosen:
            b = words[id(x)]
            if a and b and len(a & b) / min(len(a), len(b)) >= SAME_STORY:
                return True
            if named_terms(q) & named_terms(x):
                return True  # one named method asked twice ("红黄绿"三色清单 and the "红黄绿"问题处理机制)
            if any(t in y for t in particular(q) for y in x.quotes) or any(t in y for t in particular(x) for y in q.quotes):
                return True  # and named once in quotation marks, once without ("老骑手" 带教 and a lesson on 老骑手带教新人)
        return False

    def lead(q: Question) -> str:
        return items[q.sources[0] - 1][0].case_id if q.sources else ""

    def one_situation_each(q: Question, chosen: list[Question]) -> bool:
        """A topic handout asks one community's situation once: a second scenario of one community tells its
        story again (三湘四季's 业委会 that could not be formed, from two sides).  Any handout sets one scene once
        (:func:`same_scene`)."""
        if any(same_scene(q, x, items, generic) for x in chosen):
            return False
        return not topic or q.kind != "情境研讨" or all(x.kind != "情境研讨" or lead(x) != lead(q) for x in chosen)

    def asked(q: Question, chosen: list[Question]) -> bool:
        return any(same_ask(q, x) or gives_away(q, x, items) or gives_away(x, q, items) for x in chosen)

    chosen: list[Question] = []
    for kind in DRAFT_ORDER:  # the scarcest kinds first: a scene that would clash with them has stand-ins, they do not
        q = next(
            (q for q in ok if q.kind == kind and not same_story(q, chosen) and one_situation_each(q, chosen) and not asked(q, chosen)),
            None,
        )
        if q is not None and len(chosen) < n:
            chosen.append(q)
    for per_kind in (PER_KIND, PER_KIND + 1):  # a third of one kind only when a class would get fewer than MIN_CLASS
        if per_kind > PER_KIND and len(chosen) >= min(n, MIN_CLASS):
            break
        for q in ok:
            if len(chosen) >= (n if per_kind == PER_KIND else min(n, MIN_CLASS)):
                break
            if q in chosen or sum(x.kind == q.kind for x in chosen) >= per_kind or same_story(q, chosen):
                continue
            if not one_situation_each(q, chosen) or asked(q, chosen):
                continue
            chosen.append(q)
    order = {id(q): i for i, q in enumerate(drafts)}
    return _in_turn(sorted(chosen, key=lambda q: order[id(q)]))


# ---------------------------------------------------------------------------
# building the handout


def _leads(q: Question, items: list[tuple[Citation, CaseCard]]) -> list[tuple[str, str, CaseCard]]:
    """Each quote of a question with what the template quotes it as (scene, measure, outcome, other) and its case."""
    cited = [items[n - 1] for n in q.sources if 1 <= n <= len(items)]
    out = []
    for span in q.quotes:
        card = next((card for c, card in cited if locate(span, c.quote)), None)
        if card is None:
            continue
        lead = _lead_in(q, span)
        what = "scene" if _AS_SCENE.search(lead) else "outcome" if _AS_OUTCOME.search(lead) else "measure" if _AS_MEASURE.search(lead) else ""
        out.append((span, what, card))
    return out


# a scene the class is asked to meet without knowing what was done
_UNTOLD = re.compile(r"不知道后来|不知道.{0,6}怎么做|刚到.{1,20}担任书记")


def scenes_of(q: Question, items: list[tuple[Citation, CaseCard]]) -> list[tuple[str, CaseCard]]:
    """The quotes a question sets as the difficulty the class is put in (``情况是：``, ``难题是：``), with their case."""
    return [(x, card) for x, what, card in _leads(q, items) if what == "scene"]


def same_scene(a: Question, b: Question, items: list[tuple[Citation, CaseCard]], generic: frozenset[str] | None = None) -> bool:
    """Whether two questions put the class in one community's difficulty twice: both set a problem of the same
    community as their scene in the same sentence, or in two sentences about one thing (a particular noun both
    name: "车辆乱停乱放…消防安全隐患" and "车辆堵塞消防通道…" are one parking scene told twice).  Bigram overlap does not
    see it: a script's own problem words are the words it says throughout."""
    return any(
        x == y or (ca.case_id == cb.case_id and bool(_scene_nouns(x, generic) & _scene_nouns(y, generic)))
        for x, ca in scenes_of(a, items)
        for y, cb in scenes_of(b, items)
    )


def _scene_nouns(text: str, generic: frozenset[str] | None) -> set[str]:
    """The things a scene is about: its nouns (two characters or more) that are neither a party (居民, 业委会) nor
    a word most scripts or most measures say (小区, 现象, 问题)."""
    common = set(generic or ()) | _party_bigrams() | _GENERIC_BIGRAMS
    return {w for w, flag in pos_cut(text) if len(w) >= 2 and flag[:1] == "n" and not hm.bigrams(w) <= common}


def gives_away(scene: Question, other: Question, items: list[tuple[Citation, CaseCard]]) -> bool:
    """Whether ``other`` tells what was done about (or came of) the situation ``scene`` puts the class in: a measure
    or a result of the same community on the same matter ("缺乏配套的充电桩…" and "累计安装80组充电桩"), so that
    one handout cannot ask the first "without knowing what was done later"."""
    if not _UNTOLD.search(scene.text):
        return False
    scenes = [(x, card) for x, what, card in _leads(scene, items) if what == "scene"]
    answers = [(y, card) for y, what, card in _leads(other, items) if what in ("measure", "outcome")]
    return any(a.case_id == b.case_id and related(x, y, a, people=False) for x, a in scenes for y, b in answers)


def build_handout(
    cards: dict[str, CaseCard],
    *,
    case_id: str | None = None,
    topic: str | None = None,
    n: int = 6,
    templates: dict[str, list[Template]] | None = None,
    settings=None,
) -> Handout:
    """Discussion questions for one case (``case_id``) or a topic tag (``topic``): up to ``n``, fewer when the
    material runs out (a question that does not fit is never padded in).

    With an LLM configured in ``settings`` the questions are written by it from
    the same numbered material and checked; on any failure the template
    questions are used and ``Handout.notice`` says why (in Chinese)."""
    if bool(case_id) == bool(topic):
        raise InputError("请指定一个案例（--case 编号）或一个话题（--topic 标签），二者选一。")
    if not 1 <= n <= 20:
        raise InputError(f"题目数量 n（{n}）应在 1 到 20 之间。")
    taxonomy = load_taxonomy()
    tag: Tag | None = None
    if case_id:
        subjects = [get_card(cards, case_id)]
    else:
        assert topic is not None, "exactly one of case_id and topic is given (checked above)"
        tag = taxonomy.tag(resolve_tag(topic.strip()))
        subjects = [c for c in hm.topic_cases(cards, tag) if tag.name in c.tag_counts][:MAX_SUBJECTS]
        if not subjects:
            raise InputError(f"没有案例带有标签“{tag.name}”。")
        if len(subjects) < 2:  # one community only: the related matter's communities too (加装电梯 ~ 电梯更新)
            for r in tag.related:
                rel = taxonomy.tag(r)
                subjects += [c for c in hm.topic_cases(cards, rel) if rel.name in c.tag_counts and c not in subjects]
            subjects = subjects[:MAX_SUBJECTS]
    card = subjects[0]
    templates = templates or load_templates(Path(settings.prompts_dir) if settings else PROMPTS_DIR)
    src = _Sources(cards)
    if tag is not None:
        # a course on a topic often hands out the communities' own handouts too: this one asks about other
        # sentences, so they complement each other
        for subject in subjects:
            own = _Sources(cards)
            drafts = template_questions(cards, [subject], None, _pool(n), templates, own, order=DRAFT_ORDER)
            for q in choose(drafts, own.items, n, generic_bigrams(cards)):
                src.elsewhere.update(_norm(x) for x in q.quotes)
        src.avoid = True
    notice = None
    questions: list[Question] | None = None
    if settings is not None and _llm_configured(settings):
        try:
            other = _first_partner(cards, card, tag)
            questions, notice = llm_questions(card, other, tag.name if tag else (card.tags[0] if card.tags else "基层治理"), n, src, settings)
        except AssistantError as exc:
            notice = f"大模型出题失败（{exc}），以下为按案例结构生成的模板题。"
    if questions is None:
        drafts = template_questions(cards, subjects, tag, _pool(n), templates, src, order=DRAFT_ORDER)
        questions = choose(drafts, src.items, n, generic_bigrams(cards), topic=tag is not None)
        if tag is not None and len(questions) < min(n, MIN_CLASS):
            # a thin topic: rather the sentences the communities' own handouts ask about too than no class
            again = _Sources(cards)
            drafts = template_questions(cards, subjects, tag, _pool(n), templates, again, order=DRAFT_ORDER)
            more = choose(drafts, again.items, n, generic_bigrams(cards), topic=True)
            if len(more) > len(questions):
                questions, src = more, again
    elif len(questions) < n:
        more = template_questions(cards, subjects, tag, _pool(n - len(questions)), templates, src, kept=questions)
        questions += choose(more, src.items, n - len(questions), generic_bigrams(cards), topic=tag is not None)
    if not questions:
        what = f"话题“{tag.name}”" if tag else f"《{card.title}》"
        raise InputError(
            f"{what}的讲稿原文不足以写出可直接发给学员的讨论题（引文须单独读得懂、角色须有自己的原话立场、对比须是同一件事），"
            f"请换一个{'话题' if tag else '案例'}。"
        )
    title = f"培训讨论题：《{card.title}》" if case_id else f"培训讨论题：{tag.name if tag else ''}"
    if tag is not None:  # a topic handout asks about the topic itself first, the related matter after
        questions = sorted(questions, key=lambda q: not on_topic(q, tag))
    h = Handout(title, [], questions, src.items, notice)
    h = _prune_sources(h)
    used = list(dict.fromkeys(c.case_id for c, _ in h.sources))
    h.case_ids = used or [card.case_id]
    h.summary = _summary(cards, card, used, tag, h.questions)
    h.summary.append(f"题中引号内为讲稿原文节选，方括号编号对应文末“资料来源”中的完整原句（共 {len(h.sources)} 条）。")
    notes = [_missing_note(h.questions, n)]
    if tag is not None:
        h.title = f"培训讨论题：{topic_name(cards, used, tag, h.questions)}"
        notes.insert(0, widened_note(cards, used, tag, h.questions))
    h.trainer_note = "".join(x for x in notes if x) or None
    return h


# why a kind may be missing: its material in the scripts was not good enough to hand out as it is
_WHY_MISSING = {
    "情境研讨": "讲稿里没有可单独读懂的具体难题",
    "对比分析": "其他讲稿里没有针对同一问题、面向同一人群的做法可比",
    "角色扮演": "讲稿里没有某一方就此事亲口表明的立场",
    "反思迁移": "讲稿里没有可单独读懂的成效或体会",
}


def _missing_note(questions: list[Question], n: int) -> str | None:
    """One line for the trainer when the handout has fewer questions than asked and lacks a kind: which, and why."""
    if len(questions) >= n or not questions:
        return None
    missing = [k for k in KINDS if all(q.kind != k for q in questions)]
    if not missing:
        return None
    return (
        "本讲义未出" + "、".join(f"【{k}】" for k in missing) + "题（" + "；".join(_WHY_MISSING[k] for k in missing)
        + "），题目宁少勿凑。"
    )


def _pool(n: int) -> int:
    """How many drafts to write for ``n`` questions."""
    return min(MAX_POOL, max(n, POOL * n))


def _first_partner(cards: dict[str, CaseCard], card: CaseCard, tag: Tag | None) -> CaseCard:
    taxonomy = load_taxonomy()
    for t in [tag] if tag else [taxonomy.tag(x) for x in card.tags]:
        got = hm.partners(cards, card, t) if t else []
        if got:
            return got[0]
    others = [c for c in cards.values() if c.case_id != card.case_id]
    if not others:
        raise InputError("案例库里只有一个案例，无法生成对比分析题。")
    return others[0]


def on_topic(q: Question, tag: Tag) -> bool:
    """Whether a question of a topic handout is on the topic itself: one of its quotes names it."""
    return any(hm.mentions(tag, x) for x in q.quotes)


def _widened(cards: dict[str, CaseCard], used: list[str], tag: Tag, questions: list[Question] | None) -> tuple[list[str], list[int]]:
    """The related matters a thin topic's handout was widened to (加装电梯 ~ 电梯更新) and the questions on them."""
    cases = [cards[c] for c in used if c in cards]
    related = [r for r in tag.related if any(r in c.tag_counts and tag.name not in c.tag_counts for c in cases)]
    off = [i for i, q in enumerate(questions or [], 1) if not on_topic(q, tag)]
    return (related, off) if related and off else ([], [])


def topic_name(cards: dict[str, CaseCard], used: list[str], tag: Tag, questions: list[Question] | None) -> str:
    """What a topic handout covers, for its title and head: the topic, and the related matter when some questions
    are on it ("加装电梯与电梯更新"), so that no question is off the title."""
    related, _ = _widened(cards, used, tag, questions)
    return "与".join([tag.name, *related])


def widened_note(cards: dict[str, CaseCard], used: list[str], tag: Tag, questions: list[Question] | None) -> str | None:
    """For the trainer only (not the class): why some questions are on a related matter."""
    related, off = _widened(cards, used, tag, questions)
    if not off:
        return None
    return f"讲稿中讲到{tag.name}的内容较少，{_numbers(off)}取自讲{'、'.join(related)}的案例，供参照。"


def _numbers(ns: list[int]) -> str:
    return "、".join(f"第{n}题" for n in ns)


def _summary(
    cards: dict[str, CaseCard], card: CaseCard, used: list[str], tag: Tag | None, questions: list[Question] | None = None
) -> list[str]:
    """The handout's head: what it is about and, for a topic, which questions are on a related matter instead (only
    what the handout does: no comparison is promised that no question asks)."""
    lines = []
    if tag:
        cases = [cards[c] for c in used] or [card]
        lines.append(f"话题：{topic_name(cards, used, tag, questions)}")
        lines.append("涉及案例：" + "；".join(f"《{c.title}》（{place(c)}，{c.author}）" for c in cases))
        return lines
    lines.append(f"案例：《{card.title}》")
    lines.append(f"讲述人：{card.author_line}" + (f"；指导老师：{card.instructor}" if card.instructor else ""))
    lines.append(f"社区类型：{card.community_type}；话题标签：{'、'.join(card.tags) or '（无）'}")
    others = [cards[c] for c in used if c != card.case_id]
    if others:
        lines.append("对照案例（对比分析题）：" + "；".join(f"《{c.title}》（{place(c)}）" for c in others))
    return lines


# ---------------------------------------------------------------------------
# material as citations (the LLM's numbered material)


def problems(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    """The community's problems that a question may quote, best first."""
    m = _Material(card, tag)
    return [m.cite(s) for s in m.problems]


def measures(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    m = _Material(card, tag)
    return [m.cite(s) for s in m.measures]


def outcomes(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    m = _Material(card, tag)
    return [m.cite(s) for s in m.outcomes]


def lessons(card: CaseCard, tag: Tag | None = None) -> list[Citation]:
    m = _Material(card, tag)
    return [m.cite(s) for s in m.lessons]


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
    if card.story:  # the parties' own words, for a role-play
        cites += [card.story.cite(st.sentence) for st in hm.stances(card, lambda s: True) if not st.absent][:3]
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
        Question(
            q.kind, renum(q.text), sorted(new[k] for k in q.sources if k in new), q.quotes, [(p, new.get(k, k)) for p, k in q.parties], q.on,
            q.template, q.asks,
        )
        for q in h.questions
    ]
    h.sources = [h.sources[old - 1] for old in order]
    return h


# ---------------------------------------------------------------------------
# rendering and writing


def _basis(q: Question) -> str:
    return "".join(f"[{n}]" for n in q.sources)


def shown_sentence(text: str) -> str:
    """A source sentence as the handout prints it: on one line, without a closing quotation mark left over from the
    script's paragraph ("…协商资金分摊比例等工作。\"" — the reader saw "一个多出来的引号")."""
    out = " ".join(text.split())
    if out.count('"') % 2 == 1 and out.endswith('"'):
        out = out[:-1].rstrip()
    if out.count("”") > out.count("“") and out.endswith("”"):
        out = out[:-1].rstrip()
    return out


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
        lines += [f"**[{i}]** {source_line(c, card)}", "", f"> {shown_sentence(c.quote)}", ""]
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
        quote.add_run(shown_sentence(c.quote))
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
    "Template",
    "build_handout",
    "load_templates",
    "max_overlap",
    "new_document",
    "overlap",
    "party_pattern",
    "source_line",
    "template_questions",
    "to_docx_bytes",
    "to_markdown",
    "write_handout",
]
