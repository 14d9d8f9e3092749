"""Case cards computed from the case text: who, where, tags, problem, measures, methods, outcomes, lessons.

Nothing here is typed by hand per case.  Tags come from the curated taxonomy
(:mod:`assistant.taxonomy`); named methods are quoted names that look like a
working method ("三个一"工作法, "1+3+N", "奥园四制" …).

遇到的问题, 主要做法, 成效 and 启示 are read from the story the script tells
(:func:`read_story`): every body sentence gets its role probabilities from the
sentence-role model (:mod:`assistant.roles`: 背景/问题/做法/成效/感悟), and
every part of the script (the opening, each top-level section) the role its
sentences have on average, or the kind of part its heading names ("二、具体做法",
"三、工作成效", "四、实践感悟", :func:`heading_role`).  The problem comes from the
situation parts at the start; a measure is a sentence read as 做法 (labelled with its heading only
when the heading itself reads as a measure); an outcome is a sentence read as
成效 carrying a figure.  Among sentences with the role, those particular to
this script (rare words, :class:`Rarity`) are preferred over general ones.
遇到的问题 and 成效 are shown "fewer but surer": only readings sure enough by
thresholds set on scripts the role model had not seen.  The shipped model was
trained on the bundled scripts' sentences and reads them all surely, so these
two fields read a bundled script out of sample (``read_story(...,
held_out=True)``: each training sentence read by the model trained without its
case, :meth:`~assistant.roles.RoleModel.reading`), as a script added later is
read; the measures and the story the handouts quote keep the model's reading
(eval/cards_eval.md, round 6).
What each field is not — a lead-in, a general statement, a dated incident step,
an overview, the country's figures … — is said where each field is extracted;
``eval/cards_eval.md`` lists the kinds of error each rule answers.
A script added later gets its card from the same model, nothing retrained.
``eval/cards_eval.py`` scores the fields against ``eval/cards_gold.jsonl``.

Every extracted item carries a :class:`~assistant.citations.Citation` with
``case.text[start:end] == quote``.  Text views of the cards for the CLI are in
:mod:`assistant.card_text`.

Cards of the searcher's cases are computed once per set of case records
(:func:`cards_for`, keyed by a digest of the records it was given).

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.cards import build_cards, filter_cards
    >>> cards = build_cards(load_corpus("corpus"))
    >>> card = cards["sj2025-12"]
    >>> [m.name for m in card.methods][:2], card.tags[:3]
    >>> card.problem[0].quote, [m.label for m in card.measures][:3], card.outcomes[0].numbers
    >>> [c.case_id for c in filter_cards(cards, tag="车位", community_type="居民区")][:2]
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from assistant.chunking import Passage, chunk_case, split_sentences
from assistant.citations import Citation, cite
from assistant.corpus import COMMUNITY_TYPES, Case
from assistant.errors import InputError
from assistant.roles import ROLES, RoleModel, get_role_model
from assistant.taxonomy import Taxonomy, case_tags, load_taxonomy, resolve_tag

MAX_TAGS = 8


# ---------------------------------------------------------------------------
# the story: every body sentence with its role probabilities, in its part of the script
#
# A script tells its story in parts: the opening, then its top-level sections.
# Each part gets the role its sentences have on average (the sentence-role
# model of :mod:`assistant.roles`, weighted by length), with 背景 and 问题 read
# together as the situation.  The situation parts at the start of the script
# hold the problem; the parts after them hold the measures and the outcomes;
# a 感悟 part holds the lessons.  Headings say where a part starts; a heading
# names what its part is only with a word for a kind of part ("具体做法",
# "工作成效", "启示", "概况", :func:`heading_role`) — "三、基层治理见实效,实在
# 何方?" names none and is read by its sentences.

SITUATION, MEASURES, OUTCOMES, LESSONS = "situation", "measures", "outcomes", "lessons"
_PART_ROLE = {"背景": SITUATION, "问题": SITUATION, "做法": MEASURES, "成效": OUTCOMES, "感悟": LESSONS}
_I = {r: i for i, r in enumerate(ROLES)}


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    p: tuple[float, ...]  # role probabilities in ROLES order
    part: int  # index into Story.parts
    block: tuple[str, ...]  # heading path, or the paragraph for text outside any heading
    par: int  # paragraph index

    def prob(self, role: str) -> float:
        return self.p[_I[role]]

    @property
    def role(self) -> str:
        """The role read most probably."""
        return ROLES[max(range(len(ROLES)), key=lambda i: self.p[i])]


# A top-level heading that names what its part is ("二、具体做法", "三、工作成效", "三、启示与思考",
# "一、社区概况与治理挑战") says it better than the role model's reading of the sentences under it, which
# misreads a part whose sentences tell its measures as stories.  The first kind named wins, in this order
# ("四、实践感悟" is a lessons part; "二、"六大路径"破解治理难题" a measures part); a heading naming none
# ("二、组建红色业委会,红在哪里?") leaves the part to its sentences.
_HEADING_KINDS = (
    (LESSONS, re.compile(r"启示|感悟|体会|思考|结语|展望|愿景|总结")),
    (OUTCOMES, re.compile(r"成效|成果")),
    (MEASURES, re.compile(r"做法|举措|措施|对策|路径|实践|探索|之治|破解|巧破|破题")),
    (SITUATION, re.compile(r"背景|概况|基本情况|情况|现状|挑战|面临|之困|难在")),
)


def heading_role(title: str) -> str | None:
    """The part role a top-level heading names, if it names one; a heading that asks ("一、为什么"党建引领"是
    破解裉节的核心密码?") argues its point and is read by its sentences."""
    if _ASKS.search(title):
        return None
    for role, pattern in _HEADING_KINDS:
        if pattern.search(title):
            return role
    return None


@dataclass(frozen=True)
class Part:
    title: str  # "" for the opening
    start: int
    end: int
    role: str  # situation / measures / outcomes / lessons
    shares: dict[str, float]


@dataclass
class Story:
    case: Case
    sentences: list[Sentence]
    parts: list[Part]

    @property
    def situation_parts(self) -> list[int]:
        """The leading run of situation parts (the opening counts): where a script states its problem."""
        out = []
        for i, part in enumerate(self.parts):
            if part.role != SITUATION:
                break
            out.append(i)
        return out

    def cite(self, s: Sentence) -> Citation:
        return cite(self.case, s.start, s.end)

    def in_parts(self, parts: Iterable[int]) -> list[Sentence]:
        keep = set(parts)
        return [s for s in self.sentences if s.part in keep]


def read_story(case: Case, model: RoleModel | None = None, held_out: bool = False) -> Story:
    """The case's body sentences with role probabilities, and its parts with their roles.

    ``held_out``: a sentence the model was trained on is read by the model trained without its case
    (:meth:`RoleModel.reading`: what a script added later gets); any other sentence is read the same either way.
    """
    model = model or get_role_model()
    read = model.reading if held_out else model.probabilities
    top_level = min((s.level for s in case.sections), default=0)
    tops = sorted((s for s in case.sections if s.level == top_level), key=lambda s: s.start)
    bounds = [(("", 0))] + [(s.title, s.start) for s in tops]
    if len(bounds) > 1 and bounds[1][1] == 0:
        bounds = bounds[1:]
    starts = [b for _, b in bounds]
    sentences: list[Sentence] = []
    for i, par in enumerate(case.paragraphs):
        if par.heading_level:
            continue
        part = bisect.bisect_right(starts, par.start) - 1
        block = par.path or (f"¶{i}",)
        for a, b in split_sentences(case.text[par.start : par.end], par.start):
            c = cite(case, a, b)
            if not _CJK.search(c.quote):
                continue
            p = tuple(float(x) for x in read(c.quote))
            sentences.append(Sentence(c.start, c.end, c.quote, p, part, block, i))
    parts = []
    for k, (title, start) in enumerate(bounds):
        end = bounds[k + 1][1] if k + 1 < len(bounds) else len(case.text)
        acc = [0.0] * len(ROLES)
        n = 0
        for sent in sentences:
            if sent.part == k:
                n += sent.end - sent.start
                acc = [a + (sent.end - sent.start) * x for a, x in zip(acc, sent.p)]
        shares = {r: (a / n if n else 0.0) for r, a in zip(ROLES, acc)}
        merged: dict[str, float] = {}
        for r, x in shares.items():
            merged[_PART_ROLE[r]] = merged.get(_PART_ROLE[r], 0.0) + x
        role = max(merged, key=lambda r: merged[r]) if n else SITUATION
        role = heading_role(title) or role
        parts.append(Part(title, start, end, role, shares))
    return Story(case, sentences, parts)


# ---------------------------------------------------------------------------
# what a sentence is not: a quoted directive, a courtesy, a question, a lead-in, a plan

# a quoted directive or policy line is the speaker's frame, not the community's own problem
_DIRECTIVE = re.compile(
    r"习近平|总书记|党中央|中央.{0,8}会议|二十大|十[八九]大|重要(?:讲话|指示|论述)|(?:指出|强调)[:：,，\"“]"
)
_COURTESY = re.compile(r"大家好|各位(?:领导|老师|同志|学员|同仁)|很荣幸|向大家|汇报|我是.{0,24}(?:书记|主任)")
# a question frames what comes next; it does not state a problem or a measure
_ASKS = re.compile(r"[？?]|如何|怎样|怎么|为什么|为何|是否|是不是")
# ... but a question quoted as a topic ("围绕"如何推动…"展开讨论") or asked indirectly as a clause's object
# ("了解问题是否彻底解决") is part of a statement: the sentence asks only with a question mark outside quotes,
# or a clause that opens with a question word
_QUOTE_SPAN = re.compile(r'"[^"\n]*"|“[^”\n]*”|《[^》\n]*》|「[^」\n]*」')
_ASKS_CLAUSE = re.compile(r"(?:^|[，,；;：:。])\s*(?:如何|怎样|怎么|为什么|为何|是否|是不是)")


def asks(text: str) -> bool:
    """The sentence asks a question (rather than quoting one or reporting one indirectly)."""
    bare = _QUOTE_SPAN.sub("", text)
    return bool(re.search(r"[？?]", bare) or _ASKS_CLAUSE.search(bare))


# a plan is not a measure taken
_PLAN = re.compile(r"下一步|今后|未来|将(?:进一步|继续|持续)|计划|拟|预计|即将")
# list markers in front of an item: "一是", "(一)", "1、", "第二,", "①", "-"
_MARKER = re.compile(
    r"^(?:(?:[一二三四五六七八九十]+[、是]|第[一二三四五六七八九十]+(?:步|个|是)?[，,、:：]?|[(（][一二三四五六七八九十\d]+[)）]"
    r"|\d+[、.．]|[①-⑩]|-)\s*)+"
)
# a connective that opens a sentence says how it follows on, not what was done
_CONNECTIVE = re.compile(r"^(?:于是|因此|所以|同时|此外|另外|另一方面|一方面|首先|其次|再次|最后|然后|接着|在此基础上)[,，]?")
_CJK = re.compile(r"[\u4e00-\u9fff]")


# an aside in brackets: "(平复苑40号楼道)", "(所有权、资格权、使用权)"
_ASIDE = re.compile(r"[(（][^()（）]*[)）]")


def _content(text: str) -> str:
    """The sentence without its list marker."""
    return _MARKER.sub("", text.strip()).strip()


def _statement(s: Sentence, min_chars: int = 16, strict_asks: bool = False, colon_ok: bool = False) -> bool:
    """A sentence that states something of the community's own (not a question, a lead-in, a quotation of a directive).

    ``strict_asks``: any question word makes it a question ("这些是不是…的痛点和难点!"), as for a problem;
    a measure may quote a question as its topic or report one ("了解问题是否彻底解决").
    ``colon_ok``: a sentence ending in a colon may still state something: a measure whose parts follow
    ("打造"益课堂"特色品牌,包含四个维度:"); a problem's lead-in ("主要面临以下难题:") is not one.
    """
    body = _content(s.text)
    return (
        len(_CJK.findall(_ASIDE.sub("", body))) >= min_chars  # "二陆巾帼缘(平复苑40号楼道)。" is a name, not a statement
        and (colon_ok or not body.rstrip("\"”").endswith((":", "：")))
        and not (_ASKS.search(body) if strict_asks else asks(body))
        and not _DIRECTIVE.search(body)
        and not _COURTESY.search(body)
    )


class Rarity:
    """How much of a sentence is particular to one script rather than common to all of them.

    Words are jieba tokens; a word's rarity is its inverse document frequency
    over the scripts (a script is a document).  "邻里之间,常常因为抢车位而争吵不休"
    says more about one community than "社区治理问题的复杂性源于多重因素叠加":
    its words occur in few scripts.  Computed over the library's cases, so a
    script added later is weighed against all the others; nothing is trained.
    """

    def __init__(self, documents: Iterable[Iterable[str]]) -> None:
        """``documents``: per script, its sentences (each tokenized once and kept for :meth:`specificity`)."""
        from assistant.lexical import tokenize

        self._tokenize = tokenize
        self._words: dict[str, frozenset[str]] = {}
        self._spec: dict[str, float] = {}
        df: dict[str, int] = {}
        n = 0
        for sentences in documents:
            n += 1
            seen: set[str] = set()
            for text in sentences:
                seen |= self.words(text)
            for w in seen:
                df[w] = df.get(w, 0) + 1
        self.n, self.df = n, df

    @classmethod
    def of_stories(cls, stories: Iterable[Story]) -> "Rarity":
        return cls([s.text for s in story.sentences] for story in stories)

    def words(self, sentence: str) -> frozenset[str]:
        got = self._words.get(sentence)
        if got is None:
            got = self._words[sentence] = frozenset(w for w in self._tokenize(sentence) if len(w) > 1)
        return got

    def specificity(self, sentence: str) -> float:
        """Sum over the sentence's distinct words of their rarity above a common word's (0 for a lone script)."""
        got = self._spec.get(sentence)
        if got is None:
            got = self._spec[sentence] = sum(
                max(0.0, math.log((self.n + 1) / (self.df.get(w, 0) + 0.5)) - 1.0) for w in self.words(sentence)
            )
        return got


def _weight(p: float, specificity: float) -> float:
    """A sentence's weight for a field: how surely it has the role, times how particular it is."""
    return p * math.sqrt(1.0 + specificity)


# ---------------------------------------------------------------------------
# 遇到的问题

MAX_PROBLEMS = 2
# said of this community: we, here, the estate or the village, a figure, a count.  A sentence saying so is
# preferred (its weight times HERE_BONUS) over one that could be said of any community
# ("居民参与社区事务积极性不高…").
HERE_BONUS = 1.5
_HERE = re.compile(r"我们|我|咱|这里|小区|村里|全村|本村|\d|[一二三四五六七八九十两几]+(?:个|户|辆|名|位|次|年)")
# a lead-in announcing the problems to come ("我们小区主要突出表现在三方面") is not one of them
_LIST_LEAD = re.compile(r"表现在[一二三四五六七八九十几两\d]+(?:个)?方面|(?:以下|如下)(?:几|[一二三四五六七八九十两\d])")
# a statement about every community is general, not this community's situation
_EVERY = re.compile(r"每个(?:社区|小区|村|居民区)|任何(?:一个)?(?:社区|小区|村)|各地")
# what a trend brings to governance in general frames the problem; it does not say what went wrong here
_TREND = re.compile(r"(?:带来|产生)了?(?:诸多|巨大的?|许多|新的?)?(?:新?问题)?新?(?:挑战|课题|考验)|复杂性(?:源于|进一步|不断|日益)")
# a difficulty denied ("尽管…也没有阻挡…", "早已不是…的老路") is not a problem met
_DENIED = re.compile(r"没有阻挡|未能阻挡|挡不住|早已不是|不再是")
# the speaker's own feeling or view ("作为一名新上任的书记…,我却一度高兴不起来", "我感觉泰晤士的"复杂度"…",
# "我那会儿忙得脚不沾地") tells the speaker's story, not the community's difficulty; "我" alone is the speaker,
# "我们" the community ("因为我所管辖的3个小区都是无产证小区" states the estates' situation and stays)
_SPEAKER_STATE = re.compile(
    r"我(?!们)[^，,。；;:：]{0,6}(?:觉得|感到|感觉|认为|高兴|着急|焦头烂额|忙得|发愁|犯难|头疼|揪心|心里)"
)
PROBLEM_MIN = 0.4  # besides being its most probable role
PROBLEM_LOOSE = 0.3
# Fewer but surer: after the weightiest problem, the next is shown only when read as 问题 with at least this
# probability (a card with one right problem sentence beats one with a right and a doubtful one).
# Leave-one-case-out problem precision 0.839 (no such rule) / 0.893 / 0.923 / 0.923 / 0.917 / 0.905 for
# 0.5 / 0.55 / 0.6 / 0.65 / 0.7 (eval/cards_eval.md).
PROBLEM_SURE = 0.6


def extract_problems(story: Story, rarity: Rarity, limit: int = MAX_PROBLEMS) -> list[Citation]:
    """This community's own problem: the most particular sentences read surely as 问题.

    Taken from the situation parts at the start of the script (its
    problem/background sections) when the script has headed ones; a script
    that states its problems along the way (no such section) is read whole,
    except its lessons.  Directives, courtesies, questions and lead-ins are
    never a problem, nor are lead-ins announcing a list, statements about every
    community, what a trend brings to governance in general and the speaker's
    own feeling or view ("我却一度高兴不起来"); among the rest a
    sentence said of this community (we, here, the estate, a figure: ``_HERE``)
    is preferred.  One sentence per paragraph; after the first, only
    sentences read as 问题 with probability PROBLEM_SURE; in text order.
    """
    lead = story.situation_parts
    if any(story.parts[i].title for i in lead):
        pool = story.in_parts(lead)
    else:
        pool = [s for s in story.sentences if story.parts[s.part].role != LESSONS]

    def fits(s: Sentence) -> bool:
        return (
            _statement(s, strict_asks=True)
            and not _LIST_LEAD.search(s.text)
            and not _EVERY.search(s.text)
            and not _TREND.search(s.text)
            and not _DENIED.search(s.text)
            and not _SPEAKER_STATE.search(s.text)
        )

    cands = [s for s in pool if s.role == "问题" and s.prob("问题") >= PROBLEM_MIN and fits(s)]
    if not cands:
        # a background section the model reads no sentence of surely as 问题: its likeliest problem sentence
        # ("电梯工作16年以后,故障频发,电梯换新破在眉睫。"), one only
        loose = [s for s in pool if s.prob("问题") >= PROBLEM_LOOSE and fits(s)]
        cands, limit = loose, 1

    def weight(s: Sentence) -> float:
        w = _weight(s.prob("问题"), rarity.specificity(s.text))
        here = _HERE.search(_content(s.text)) or (story.case.community and story.case.community in s.text)
        return w * HERE_BONUS if here else w

    ranked = sorted(cands, key=lambda s: (-weight(s), s.start))
    picked: list[Sentence] = []
    for s in ranked:
        if any(s.par == o.par for o in picked):
            continue
        if picked and s.prob("问题") < PROBLEM_SURE:
            break  # fewer but surer: the next problem is shown only when read surely as one
        picked.append(s)
        if len(picked) >= limit:
            break
    return [cite(story.case, s.start, s.end) for s in sorted(picked, key=lambda s: s.start)]


# ---------------------------------------------------------------------------
# 主要做法

MIN_MEASURES, MAX_MEASURES, MEASURE_SPAN = 6, 20, 260
# A paragraph may tell several measures ("成立…三人小组。…召开了18次业主代表会议"): its weightiest sentence is a
# candidate, and up to PER_PARAGRAPH - 1 more when read surely as 做法 (p >= MEASURE_SURE), at
# SECOND_IN_PARAGRAPH of their weight; a doubtful further sentence of a paragraph is not one.
# Against round 3 (two per paragraph, the second at half weight, one measure per 400 characters): at equal
# recall the precision is 0.02-0.05 higher on both role models (eval/cards_eval.md, round 4).
PER_PARAGRAPH, SECOND_IN_PARAGRAPH, MEASURE_SURE = 4, 1.0, 0.5
LABEL_CHARS = 40


@dataclass
class Measure:
    """A measure the community took: a short label and the sentence that states it."""

    label: str  # the heading when it names the measure, else the sentence's lead clause
    named_by_heading: bool
    citation: Citation
    weight: float  # how surely and particularly the sentence states a 做法

    def to_dict(self) -> dict:
        return {"label": self.label, "named_by_heading": self.named_by_heading, "citation": self.citation.to_dict()}


def _heading_names_measure(title: str, model: RoleModel) -> str | None:
    """The heading without its marker when the role model reads it as a 做法 ("优化规则,巧用"价格杠杆"调需求"),
    else None ("社区基本情况", "第一个关键词", "难在何处?")."""
    body = _content(title).rstrip("。:：;；")
    if len(_CJK.findall(body)) < 4 or _ASKS.search(body):
        return None
    p = model.probabilities(body)
    return body if ROLES[int(p.argmax())] == "做法" else None


# a clause that only sets the scene of an action: "经过三个多月的努力", "在广泛听取意见的基础上", "为了加强监督"
_FRAME = re.compile(r"^(?:为了?|面对|针对|经过|通过|随着|由于|在|从|根据|按照|结合|围绕|依托)")


def lead_clause(text: str, limit: int = LABEL_CHARS) -> str:
    """A short label for a measure sentence: its action clauses, without scene-setting ones."""
    body = _CONNECTIVE.sub("", _content(text)).rstrip("。;；:：")
    if len(body) <= limit:
        return body
    clauses = [c for c in re.split(r"[，,；;]", body) if c.strip()]
    # scene-setting clauses and bare connectives ("随后") are not the action
    acts = [c for c in clauses if not _FRAME.match(c) and len(c) >= 4] or clauses
    comma = "," if "," in body else "，"
    out = ""
    for c in acts:
        if out and len(out) + 1 + len(c) > limit:
            break
        out = f"{out}{comma}{c}" if out else c
    return out if len(out) <= limit else out[: limit - 1] + "…"


# How concretely a sentence tells what was done (the handouts and 为什么相似 quote the concrete ones).
# Tried as exclusions for the card's measures too (slogans, incidents, aims, overviews, exclamations, verbless
# labels): shipped measure precision 0.830 -> 0.843, but leave-one-case-out 0.764 -> 0.758 and recall
# 0.642 -> 0.628, so the card does not use them (eval/cards_eval.md).
# one night's incident told step by step, an aim, a slogan the community coined: not a measure to borrow
_INCIDENT = re.compile(r"^\s*(?:某天|某日|一天|有一天|有一次|那天|当天|当晚|一日|案例[:：])")
_AIM = re.compile(r"^\s*(?:旨在|目的是|目标是|目的在于|意在)|口号|标语")
# phrasing that says how hard something was pursued, not what was done
_VAGUE = re.compile(
    r"充分发挥|积极调动|党建引领|高度重视|切实|全力|大力|着力|坚持|不断|深入推进|扎实|有效(?:推进|提升)|作用|紧紧围绕|积极|努力|旨在"
    r"|致力于|助力|为主题|为目标|稳步推进|啃下|硬骨头|大量的前期|前期准备"
)
_NAMED = re.compile(r'"[^"]{2,14}"|“[^”]{2,14}”|《[^》]{2,20}》')
_UNITS = (
    r"(?:%|％|万元|亿元|万|元|户|人次|人|名|次|件|辆|个|组|项|套|栋|幢|台|平方米|平米|米|亩|家|场|条|处|倍|位|张|间|公里|支|所|块|分)"
)
# a quantity (not a date): "11个新车位", "80%", "515户"
QUANTITY = re.compile(r"(?<![\d.])\d+(?:\.\d+)?\s*(?:余|多)?\s*" + _UNITS + r"|百分之")
# a count in words: "增设三个"暖心通道"" (not "一是", "第一")
_COUNT = re.compile(r"(?<![第])[两三四五六七八九十百千]+" + _UNITS)


def concreteness(text: str) -> int:
    """How concretely a sentence says what was done: a figure, a named thing; minus general phrasing."""
    figure = QUANTITY.search(text) or _COUNT.search(text)
    return (1 if figure else 0) + (1 if _NAMED.search(text) else 0) - len(_VAGUE.findall(text))


# a sentence timed to the day or the hour tells a step of one incident ("上午9:00左右,…维修师傅…清理家中积水"),
# not a measure the community takes
_CLOCK = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}|\d+月\d+日|凌晨|[上下]午\d|当晚|当天下午")
# three phrases of effort and nothing concrete (concreteness < -VAGUE_MAX) is an overview, not a measure
VAGUE_MAX = 2


# A measure is an act done to something: setting up a group, convening a meeting, making a rule, building,
# going to people ("成立了楼道"三人小组"", "召开了18次业主代表会议", "制定《…管理办法》", "安装电表", "上门走访").
# An overview says how hard the community pursued an aim ("发挥党建引领作用", "营造…氛围", "推动…实现美丽蝶变")
# and names no such act.  A sentence naming a concrete act weighs ACT_BONUS times as much (the role model reads
# both as 做法: it learnt the role, not the act; sweep in eval/cards_eval.md, round 5).
_ACT = re.compile(
    r"成立|组建|召开|召集|举办|组织|开展|建立|设立|搭建|设置|配备|增设|新增|安装|铺设|修建|建成|改造|拆除"
    r"|制定|修订|出台|实行|实施|推行|签订|签约|列入|设为|划分|邀请|聘请|引入|开设|培训|发放|张贴|公示"
    r"|推出|走访|上门|入户|征询|投票|选举|对接|联合|结对|认领|众筹"
)
ACT_BONUS = 1.5
# what is to be done, not what was done: a clause opening on an obligation ("需系统梳理非遗、民俗…资源",
# "也要创新业态与场景设计", "应…", "必须…"); the paragraph holding one sets out a plan, and its other sentences
# spell the plan out ("例如发展景观农业…", "借鉴浙江"五级人才梯队"模式…")
_MUST = re.compile(r"(?:^|[，,；;:：])\s*(?:还|也|更|则)?(?:需要?|应当?|应该|必须)(?![求要])")
# making something a priority or stating an aim announces the measures; it is not one of them
# ("我们将政策宣传解释作为重中之重", "把…作为推进业委会改选的重要一环", "旨在:(1)为街区企业…提供贴心服务")
_PRIORITY = re.compile(
    r"作为[^，,。；;]{0,12}(?:重中之重|头号任务|首要任务|重要一环|重点工作|抓手|突破口|切入点)|旨在|目的是|目标是|目的在于|意在"
)


def _measure_weight(s: Sentence, rarity: Rarity) -> float:
    """How surely and particularly a sentence states a measure taken (a reflection is not one), more when it
    names a concrete act."""
    w = _weight(s.prob("做法"), rarity.specificity(s.text)) * (1.0 - s.prob("感悟"))
    return w * ACT_BONUS if _ACT.search(s.text) else w


def _tells_situation(part: Part) -> bool:
    """The untitled opening, or a part headed as the background ("一、背景情况")."""
    return part.role == SITUATION and (not part.title or heading_role(part.title) == SITUATION)


def _lessons_lead_ins(story: Story) -> dict[int, int]:
    """Part index -> where a line announcing the lessons ("最后,对我万人大型社区自治共治心得启示:", "启示思考:")
    opens them inside a part headed otherwise: what follows it in the part is lessons, not measures."""
    out: dict[int, int] = {}
    starts = [p.start for p in story.parts]
    for par in story.case.paragraphs:
        text = story.case.text[par.start : par.end].strip()
        if not par.heading_level and text.endswith((":", "：")) and heading_role(text) == LESSONS:
            out.setdefault(bisect.bisect_right(starts, par.start) - 1, par.start)
    return out


# A part divided into sub-sections tells its measures in them ("二、主要做法" > "(一)成立…", "(二)…"; a heading
# that is the lead clause of a paragraph counts); the text before its first sub-heading introduces or sums them
# up ("追根溯源找问题后,…开出硬件软件双提升的良方", "大型居住社区治理涉及硬件配套、服务供给…多个维度"), it is
# not one of them (eval/cards_eval.md, round 6).
def _part_leads(story: Story) -> dict[int, int]:
    """Part index -> offset of its first sub-heading, for the parts divided into sub-sections (sub-headings after a
    line announcing the lessons, "最后,对我…心得启示:", divide the lessons, not the part)."""
    sections = story.case.sections
    top = min((s.level for s in sections), default=0)
    lessons_from = _lessons_lead_ins(story)
    out: dict[int, int] = {}
    for k, part in enumerate(story.parts):
        end = min(part.end, lessons_from.get(k, part.end))
        subs = [s.start for s in sections if s.level > top and part.start < s.start < end]
        if subs:
            out[k] = min(subs)
    return out


def extract_measures(
    story: Story, model: RoleModel, rarity: Rarity, limit: int | None = None, shown: Iterable[Citation] = ()
) -> list[Measure]:
    """The measures the community took: per paragraph, the sentences most surely and particularly a 做法.

    Lessons and plans are not measures (nor is a paragraph saying what is to
    be done: a clause opening on 需/应/必须, nor what follows a line announcing
    the lessons: "…心得启示:"); nor are the sentences of the
    untitled opening or of a part headed as the background when the script
    has a part of measures, the lead of a part divided into sub-sections
    (before its first sub-heading: it introduces them), steps of one dated
    incident, overviews in general phrasing (:func:`concreteness`), a
    priority or an aim announced.  A sentence naming a concrete act (``_ACT``)
    weighs ACT_BONUS times as much.  A
    paragraph gives its weightiest sentence and, of its others, those read
    surely as 做法 (MEASURE_SURE; up to PER_PARAGRAPH in all): a paragraph
    telling several measures gives them all, a doubtful second sentence of a
    paragraph none.  A measure under a heading that names a measure is labelled with
    that heading (once); otherwise with its own lead clause.  The ``limit``
    weightiest, in text order.  A sentence the card already ``shown`` as its
    problem or outcome is not listed again as a measure.
    """
    taken = {c.start for c in shown}
    best: dict[int, list[tuple[float, Sentence]]] = {}
    # the untitled opening introduces the speaker and the place, and a part headed as the background
    # ("一、背景情况", "一、特殊背景下产生的"特殊大居"") tells the situation; a script with parts that tell its
    # measures tells them there
    skip_opening = any(p.role == MEASURES for p in story.parts)
    planned = {s.par for s in story.sentences if _MUST.search(_content(s.text))}  # paragraphs setting out a plan
    lessons_from = _lessons_lead_ins(story)
    leads = _part_leads(story)
    for s in story.sentences:
        part = story.parts[s.part]
        if part.role == LESSONS or s.role != "做法" or s.start in taken or s.par in planned:
            continue
        if s.start >= lessons_from.get(s.part, len(story.case.text)):
            continue  # after "最后,对我…心得启示:": the lessons
        if skip_opening and _tells_situation(part):
            continue
        if s.start < leads.get(s.part, -1):
            continue  # the lead of a part divided into sub-sections: it introduces them
        if not _statement(s, 10, colon_ok=True) or _PLAN.search(s.text) or _CLOCK.search(s.text):
            continue
        if concreteness(s.text) < -VAGUE_MAX:
            continue  # three phrases of effort and nothing done: an overview ("充分发挥…积极调动…有效缓解")
        if _PRIORITY.search(s.text):
            continue
        best.setdefault(s.par, []).append((_measure_weight(s, rarity), s))
    # a longer script tells of more measures: about one per MEASURE_SPAN characters
    limit = limit or max(MIN_MEASURES, min(MAX_MEASURES, round(len(story.case.text) / MEASURE_SPAN)))
    per_par = [
        (w * (SECOND_IN_PARAGRAPH if k else 1.0), s)
        for got in best.values()
        for k, (w, s) in enumerate(sorted(got, key=lambda x: -x[0])[:PER_PARAGRAPH])
        if k == 0 or s.prob("做法") >= MEASURE_SURE
    ]
    chosen = sorted(per_par, key=lambda x: -x[0])[:limit]
    out: list[Measure] = []
    labelled: set[str] = set()
    for w, s in sorted(chosen, key=lambda x: x[1].start):
        heading = next((t for t in reversed(s.block) if not t.startswith("¶")), None)
        # a heading in a situation part names a difficulty ("(三)三驾马车受制"), not a measure
        in_situation = story.parts[s.part].role == SITUATION
        name = _heading_names_measure(heading, model) if heading and not in_situation else None
        c = cite(story.case, s.start, s.end)
        if name and heading and heading not in labelled:
            labelled.add(heading)
            out.append(Measure(name, True, c, w))
        else:
            out.append(Measure(lead_clause(s.text), False, c, w))
    return out


# ---------------------------------------------------------------------------
# named methods

_Q = r"[\"“”]"
_NAME = r"([^\"“”\n，。；！？]{2,14})"
_SUFFIX = r"(工作法|治理模式|服务模式|模式|机制|清单|议事法|步法|法|平台|体系|制度|架构|品牌|行动|积分制|公约|工作室|联盟|课堂)"
# a suffix may follow after a short qualifier: "红黄绿"三色问题清单, "JIE事好商量"协商议事平台
_QUALIFIER = (
    r"(?:三色|问题|处理|工作|资金|拼盘|议事|协商|服务|治理|协同|共治|陪伴式|走访|线上|指导|管理|联席|会议"
    r"|联动|党建|特色|自治|全域|闭环|公示|积分|常态|长效|专项|入户|分级)*"
)
_QUOTED = re.compile(_Q + _NAME + _Q + r"\s*(" + _QUALIFIER + _SUFFIX + ")?")
_BOOK = re.compile(r"《([^》\n]{2,12})》\s*" + _SUFFIX)
_METHOD_END = re.compile(
    r"(工作法|模式|机制|四制|议事法|步法|共治|共答|融合|架构|清单|平台|课堂|联盟|议事会|议事厅|议事堂|公约|合伙人|一中心|赋能|联动|善治|自管会|对接站|能量树|小组|马车)$"
)
_FORMULA = re.compile(r"^[0-9A-Za-z一二三四五六七八九十]+(?:\+[0-9A-Za-z\u4e00-\u9fff]+)+$")
# "三驾马车", "两委一中心", "三人小组"; not counted things ("三个问题", "一些人", "三篇文章")
_NUMERAL_LED = re.compile(r"^[一二三四五六七八九十两](?![个些群篇层维颗大位名件次条棵起直定般])[^\s的]{2,6}$")
_SUFFIX_ONLY = re.compile(r"[\u4e00-\u9fff]{1,3}$")  # "1+1" and "1+1伙伴卡" are one method
_DEFINES = re.compile(r"^[\"”」》]?\s*(?:——|—|:|：|\(|（|即|就是|是指|是|包括|分为|指|以|,即|，即)")


@dataclass
class Method:
    name: str  # as displayed: "三个一"工作法
    key: str  # without quotes, for matching
    case_id: str
    mentions: int
    definition: Citation

    def to_dict(self) -> dict:
        d = asdict(self)
        d["definition"] = self.definition.to_dict()
        return d


def _method_candidates(case: Case, not_methods: frozenset[str]) -> dict[str, tuple[str, list[int]]]:
    """base name -> (display name, occurrence offsets)."""
    found: dict[str, tuple[str, list[int]]] = {}
    heads = "\n".join(s.title for s in case.sections)
    for m in list(_QUOTED.finditer(case.text)) + list(_BOOK.finditer(case.text)):
        base, suffix = re.sub(r"['‘’]", "", m.group(1).strip()), m.group(2) or ""
        if base in not_methods or re.search(r"[,、:：;]", base) and not _FORMULA.match(base.replace("、", "")):
            continue
        if _is_year_or_number(base):
            continue
        quoted = f"《{base}》{suffix}" if m.group(0).startswith("《") else f'"{base}"{suffix}'
        is_method = bool(
            suffix
            or ((ending := _METHOD_END.search(base)) and len(base) > len(ending.group(0)) and "的" not in base)
            or _FORMULA.match(base)
            or (_NUMERAL_LED.match(base) and (_defined_at(case.text, m.end(1)) or base in heads))
        )
        if not is_method:
            continue
        display, at = found.get(base, (quoted, []))
        if len(quoted) > len(display):
            display = quoted  # prefer the form with its suffix: "四三"工作法 over "四三"
        found[base] = (display, at + [m.start()])
    # "三元共治模式" and "三元共治" are one method: fold the longer base into the shorter
    for base in sorted(found, key=len, reverse=True):
        shorter = next((o for o in found if o != base and base.startswith(o) and _SUFFIX_ONLY.match(base[len(o):])), None)
        if shorter:
            disp, at = found.pop(base)
            sdisp, sat = found[shorter]
            found[shorter] = (disp if len(disp) > len(sdisp) else sdisp, sorted(sat + at))
    # components of a formula ("1", "3", "N") or a two-character part of a longer name are not methods
    for base in list(found):
        if len(base) <= 2 and any(base != o and base in o for o in found):
            found.pop(base)
    return found


def _is_year_or_number(s: str) -> bool:
    return bool(re.fullmatch(r"[\d\s.,%-]+|[A-Za-z]", s))


def _defined_at(text: str, pos: int) -> bool:
    return bool(_DEFINES.match(text[pos : pos + 6]))


def extract_methods(case: Case, passages: list[Passage], taxonomy: Taxonomy) -> list[Method]:
    """Named working methods of a case, each with the passage that defines it."""
    out = []
    for base, (display, offsets) in _method_candidates(case, taxonomy.not_methods).items():
        mentions = len(re.findall(re.escape(base), case.text))
        out.append(Method(display, base, case.id, mentions, _definition(case, passages, base, offsets)))
    out.sort(key=lambda m: m.definition.start)
    return out


def _definition(case: Case, passages: list[Passage], base: str, offsets: list[int]) -> Citation:
    """The passage that best defines ``base``: a definitional marker right after
    a mention beats a heading mention, which beats the first mention."""

    def score(pos: int) -> tuple[int, int]:
        end = pos + case.text[pos:].find(base) + len(base)
        tail = re.sub(r"^[\"”」》]?(?:工作法|模式|机制|清单|法|平台|体系|制度)?", "", case.text[end : end + 12])
        defined = bool(_DEFINES.match(tail)) and not tail.startswith("以")
        in_heading = any(s.start <= pos < s.start + len(s.title) + 2 and not s.inline for s in case.sections)
        return (2 if defined else 1 if in_heading else 0, -pos)

    best = max(offsets, key=score)
    return _span_from(case, best)


def _span_from(case: Case, pos: int, min_chars: int = 120, max_chars: int = 260) -> Citation:
    """Sentences from the one holding ``pos`` onwards, up to the next heading
    (a heading mention starts at the section body): the method and what follows it."""
    par = next((p for p in case.paragraphs if p.start <= pos < p.end + 1), None)
    if par is not None and par.heading_level:
        par = next((p for p in case.paragraphs if p.start > par.start and not p.heading_level), par)
        pos = par.start
    if par is None:
        return cite(case, pos, min(len(case.text), pos + max_chars))
    sents = []
    i = case.paragraphs.index(par)
    for p in case.paragraphs[i : i + 4]:  # a lead-in ending in ":" continues below
        if p.heading_level:
            break
        sents += split_sentences(case.text[p.start : p.end], p.start)
    start = next((s for s, e in sents if s <= pos < e), par.start)
    end = start
    for s, e in sents:
        if e <= start:
            continue
        if end > start and (end - start >= min_chars or e - start > max_chars):
            break
        end = e
    return cite(case, start, end)


# ---------------------------------------------------------------------------
# 成效: a result with a figure or a concrete change

_UNIT = (
    r"(?:%|％|万元|亿元|万|元|户|人次|人|名|次|件|辆|把|个|组|项|套|栋|幢|台|部|平方米|平米|米|亩|公顷|家|场|条|处|倍|位|张|间|公里|支|所|单|起|类|块)"
)
_QTY = re.compile(r"(?<![\d.])(?:\d+(?:\.\d+)?\s*(?:余|多)?\s*" + _UNIT + r"|百分之\s*\d+)")
# a change completed: what a measure produced ("共安装充电桩10个", "抠出了11个新车位", "累计签约676户")
_DONE = re.compile(
    r"累计|共计|已经?|完成|完工|竣工|建成|新增|增至|增加|减少|下降|降至|降到|提升|达到|超过|突破|实现|解决|清除|拆除|安装|签约|搬[入进]|入住|投入使用|抠出|腾出"
)
MAX_OUTCOMES = 5
# quotation marks inside a phrase ("抠"出了11个新车位) do not hide its verb
_MARKS = re.compile(r"[\"“”「」‘’']")
# figures of the country or the speaker's career are not this community's results ("当前,我国城镇化率已突破65%")
_NATIONAL = re.compile(r"我国|全世界|全球|城镇化率")
_CAREER = re.compile(r"工作了\s*\d+\s*年|任职期间|我(?:参与|见证|担任|来到|从事)")
# a tariff or a rate per unit ("每小时5元,全天80元封顶", "补贴15万/部", "处罚200元/人") is a rule set, not a
# result, unless the rate moved ("价格从1.5元/斤涨到5元/斤"); an application filed is not yet a result
_TARIFF = re.compile(
    r"每(?:小时|天|晚|月|年|辆|户|人|次|平方米|平米)\s*\d|封顶|首\s*\d+\s*分钟|\d\s*(?:万元|万|元)\s*/\s*(?:[\u4e00-\u9fff]|m)"
)
_RATE_MOVED = re.compile(r"从[^，,；;。]*\d[^，,；;。]*(?:涨|增|升|降|跌)(?:到|至)")
_PENDING = re.compile(r"提交(?:了)?申请|已申请|申报|正在|待审批")
# Fewer but surer: a result is shown when it reads as 成效 more than as the situation (背景 + 问题 together:
# a need, a problem told with a figure, a detail of the place), by this margin; a card whose candidates all
# read less surely shows only its weightiest one.  Leave-one-case-out outcome precision 0.860 (no such rule) /
# 0.919 / 0.943 / 0.939 / 0.939 for margins 0 / 0.05 / 0.1 / 0.15, outcomes shown 43 / 37 / 35 / 33 / 33
# (eval/cards_eval.md): 0, the parameter-free point, keeps the most results.
OUTCOME_MARGIN = 0.0


def _done(text: str) -> bool:
    """The sentence reports a change completed (quotation marks set aside)."""
    return bool(_DONE.search(_MARKS.sub("", text)))


def _reads_as_result(s: Sentence) -> bool:
    """The sentence reads as 成效 surely more than as the situation (背景 + 问题)."""
    return s.prob("成效") - (s.prob("背景") + s.prob("问题")) > OUTCOME_MARGIN


@dataclass
class Outcome:
    quote: str
    numbers: list[str]
    citation: Citation
    weight: float = 0.0  # how surely and particularly the sentence reads as 成效
    headline: bool = False  # stated where the script sums up (its opening, or a part read as 成效/感悟)

    def to_dict(self) -> dict:
        return {"quote": self.quote, "numbers": self.numbers, "citation": self.citation.to_dict()}


def extract_outcomes(story: Story, rarity: Rarity, limit: int = MAX_OUTCOMES) -> list[Outcome]:
    """Results with a figure: sentences read as 成效 that carry one.

    A script whose results are told inside its measures ("硬是在边角空置区域
    抠出了11个新车位") has none read as 成效; its card then shows the one
    measure sentence (outside the lessons) that reports a completed change
    with a figure — weighed by how surely it reads as 成效, but not required
    to read more as 成效 than as anything else: a measure sentence's other
    probabilities are small and say little — or failing that the one
    sentence read as 成效 that reports a completed change without a figure
    ("成功打通了…交通线，新增多条公交").  The country's figures, the speaker's
    career, a tariff or a rate per unit, an application filed and a count in
    a section headed as background (unless it reports a change) are not
    results.  Weightiest first; a result restated with the same figures is
    kept once.  Fewer but surer: only the results reading as 成效 by
    OUTCOME_MARGIN over 背景 + 问题 are shown, or, when none does, the
    weightiest one.  Shown in text order.
    """
    results, produced, changes = [], [], []
    for s in story.sentences:
        if len(s.text) > 220 or _DIRECTIVE.search(s.text) or _ASKS.search(_content(s.text)) or _PLAN.search(s.text):
            continue
        if _NATIONAL.search(s.text) or _CAREER.search(s.text) or _PENDING.search(s.text):
            continue
        if _TARIFF.search(s.text) and not _RATE_MOVED.search(s.text):
            continue
        qty = [m.group(0).replace(" ", "") for m in _QTY.finditer(s.text)]
        w = _weight(s.prob("成效"), rarity.specificity(s.text))
        if not qty:
            if s.role == "成效" and _done(s.text):
                changes.append((w, s, qty))
            continue
        if heading_role(story.parts[s.part].title) == SITUATION and not _done(s.text):
            continue  # a figure of the section headed as the background describes the place ("664家市场主体中…")
        if s.role == "成效":
            results.append((w, s, qty))
        elif (
            s.role == "做法"
            and _done(s.text)
            and story.parts[s.part].role != LESSONS  # the change it reports is its result
        ):
            produced.append((w, s, qty))
    pool = results or sorted(produced or changes, key=lambda x: -x[0])[:1]
    best: list[tuple[Sentence, list[str]]] = []
    seen: list[frozenset[str]] = []
    for _, s, qty in sorted(pool, key=lambda x: (-x[0], x[1].start)):
        key = frozenset(qty)
        if key and any(key <= k or k <= key for k in seen):
            continue  # the same figures again (a summary restating a result)
        seen.append(key)
        best.append((s, qty))
        if len(best) >= limit:
            break
    best = [(s, qty) for s, qty in best if _reads_as_result(s)] or best[:1]  # fewer but surer
    weights = {id(s): w for w, s, _ in pool}
    out = []
    for s, qty in sorted(best, key=lambda x: x[0].start):
        c = cite(story.case, s.start, s.end)
        summing_up = s.part == 0 or story.parts[s.part].role in (OUTCOMES, LESSONS)
        out.append(Outcome(c.quote, qty, c, weights[id(s)], summing_up))
    return out


# ---------------------------------------------------------------------------
# 启示


@dataclass
class Lessons:
    title: str  # the section heading; "" when the lessons close the script without one
    points: list[str]
    citation: Citation

    def to_dict(self) -> dict:
        return {"title": self.title, "points": self.points, "citation": self.citation.to_dict()}


def extract_lessons(story: Story) -> Lessons | None:
    """The last part read as 感悟 (its sub-headings as points); failing that,
    the closing paragraph read most as 感悟."""
    case = story.case
    for k in range(len(story.parts) - 1, -1, -1):
        part = story.parts[k]
        if part.role != LESSONS or not part.title:
            continue
        sec = next((s for s in case.sections if s.start == part.start and s.title == part.title), None)
        body_start = part.start + len(part.title) + 1 if sec and not sec.inline else part.start
        subs = [s.title for s in case.sections if sec and s.level > sec.level and part.start < s.start <= part.end]
        if body_start < part.end:
            return Lessons(part.title, subs, cite(case, body_start, part.end))
    tail = [p for p in case.paragraphs[-4:] if not p.heading_level and p.end - p.start > 40]
    if not tail:
        return None

    def lesson_share(i: int) -> float:
        sents = [s for s in story.sentences if s.par == i]
        n = sum(s.end - s.start for s in sents)
        return sum((s.end - s.start) * s.prob("感悟") for s in sents) / n if n else 0.0

    idx = [case.paragraphs.index(p) for p in tail]
    best = max(idx, key=lesson_share)
    par = case.paragraphs[best]
    return Lessons("", [], cite(case, par.start, par.end))


# ---------------------------------------------------------------------------
# the card


@dataclass
class CaseCard:
    case_id: str
    title: str
    author: str
    role: str | None
    town: str | None
    community: str
    community_type: str
    instructor: str | None
    author_line: str
    tags: list[str]
    tag_counts: dict[str, int]
    problem: list[Citation]
    measures: list[Measure]
    methods: list[Method]
    outcomes: list[Outcome]
    lessons: Lessons | None
    roles: dict[str, int] = field(default_factory=dict)
    # the script read sentence by sentence, for handouts that quote more than the card shows
    story: Story | None = field(default=None, repr=False, compare=False)
    # word rarity over the library the card was built with: how particular a sentence of the story is
    rarity: Rarity | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {
            "case_id": self.case_id,
            "title": self.title,
            "author": self.author,
            "role": self.role,
            "town": self.town,
            "community": self.community,
            "community_type": self.community_type,
            "instructor": self.instructor,
            "author_line": self.author_line,
            "tags": self.tags,
            "problem": [c.to_dict() for c in self.problem],
            "measures": [m.to_dict() for m in self.measures],
            "methods": [m.to_dict() for m in self.methods],
            "outcomes": [o.to_dict() for o in self.outcomes],
            "lessons": self.lessons.to_dict() if self.lessons else None,
        }


def build_card(
    case: Case,
    taxonomy: Taxonomy | None = None,
    role_model: RoleModel | None = None,
    rarity: Rarity | None = None,
    story: Story | None = None,
) -> CaseCard:
    """The card of one case.

    The problem and the outcomes are read out of sample (``read_story(...,
    held_out=True)``): their "fewer but surer" thresholds were set on readings
    of scripts the model had not seen.  ``role_model`` defaults to the shipped sentence-role model; ``rarity``
    (word rarity over the library) to this case alone — :func:`build_cards`
    passes the rarity over all the cases it builds, and their stories.
    """
    taxonomy = taxonomy or load_taxonomy()
    model = role_model or get_role_model()
    story = story or read_story(case, model)
    rarity = rarity or Rarity.of_stories([story])
    # "fewer but surer" fields: read as a script the model has not seen is (the story itself when none of its
    # sentences is one the model was trained on: a script added later, or a model without a held-out table)
    unseen = read_story(case, model, held_out=True) if any(s.text in model.held_out for s in story.sentences) else story
    problem = extract_problems(unseen, rarity)
    outcomes = extract_outcomes(unseen, rarity)
    passages = chunk_case(case)
    counts = case_tags(case, taxonomy)
    roles = {r.name: n for r in taxonomy.roles if (n := r.count(case.text))}
    return CaseCard(
        case_id=case.id,
        title=case.title,
        author=case.author,
        role=case.role,
        town=case.town,
        community=case.community,
        community_type=case.community_type,
        instructor=case.instructor,
        author_line=case.author_line,
        tags=list(counts)[:MAX_TAGS],
        tag_counts=counts,
        problem=problem,
        measures=extract_measures(story, model, rarity, shown=problem + [o.citation for o in outcomes]),
        methods=extract_methods(case, passages, taxonomy),
        outcomes=outcomes,
        lessons=extract_lessons(story),
        roles=dict(sorted(roles.items(), key=lambda x: -x[1])),
        story=story,
        rarity=rarity,
    )


def build_cards(
    cases: Iterable[Case], taxonomy: Taxonomy | None = None, role_model: RoleModel | None = None
) -> dict[str, CaseCard]:
    """Cards of ``cases``, word rarity weighed over all of them."""
    taxonomy = taxonomy or load_taxonomy()
    model = role_model or get_role_model()
    stories = {c.id: read_story(c, model) for c in cases}
    rarity = Rarity.of_stories(stories.values())
    return {c.id: build_card(c, taxonomy, model, rarity, stories[c.id]) for c in cases}


# Digest of the case records -> their cards.  Keyed by content, not by id():
# a new dict could reuse a collected one's id and get its stale cards.  Only
# the latest CARD_CACHE_SIZE sets are kept, so the published index versions
# of a long-running UI do not each keep their cards alive.  The last dict
# seen is held with its digest: the UI asks for the same dict on every
# request, and holding it means its id cannot be reused meanwhile.
_card_cache: dict[str, dict[str, CaseCard]] = {}
_last_seen: tuple[dict[str, Case], str] | None = None
_card_cache_lock = threading.Lock()
CARD_CACHE_SIZE = 2


def cards_for(cases: dict[str, Case]) -> dict[str, CaseCard]:
    """Cards for a dict of cases (e.g. ``searcher.index.cases``), computed once per set of case records.

    The dict is read as unchanged while it is the last one asked for (index
    dicts are never modified after loading); any other dict is digested.
    """
    global _last_seen
    with _card_cache_lock:
        last = _last_seen
    key = last[1] if last is not None and last[0] is cases else cases_digest(cases.values())
    with _card_cache_lock:
        _last_seen = (cases, key)
        got = _card_cache.get(key)
    if got is None:
        got = build_cards(cases.values())
        with _card_cache_lock:
            _card_cache[key] = got
            while len(_card_cache) > CARD_CACHE_SIZE:
                del _card_cache[next(iter(_card_cache))]  # the oldest
    return got


def cases_digest(cases: Iterable[Case]) -> str:
    """A digest of everything a card is computed from: each case's metadata, text and section tree."""
    h = hashlib.sha1()
    for c in cases:
        meta = [c.id, c.title, c.author, c.role, c.town, c.community, c.community_type, c.instructor]
        h.update(json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        h.update(c.text.encode("utf-8"))
        h.update(repr((c.paragraphs, c.sections)).encode("utf-8"))
    return h.hexdigest()


def get_card(cards: dict[str, CaseCard], case_id: str) -> CaseCard:
    """The card for ``case_id``; an unknown id raises InputError listing the valid ones."""
    if case_id not in cards:
        valid = "、".join(f"{c.case_id}（{c.community}）" for c in cards.values())
        raise InputError(f"没有编号为“{case_id}”的案例。可用的编号：{valid}")
    return cards[case_id]


def filter_cards(
    cards: dict[str, CaseCard], tag: str | None = None, community_type: str | None = None
) -> list[CaseCard]:
    """Cards having ``tag`` (name or synonym) and of ``community_type`` (one of ``COMMUNITY_TYPES``)."""
    out = list(cards.values())
    if tag:
        name = resolve_tag(tag)
        out = [c for c in out if name in c.tag_counts]
        out.sort(key=lambda c: -c.tag_counts[name])
    if community_type:
        if community_type not in COMMUNITY_TYPES:
            raise InputError(f"没有社区类型“{community_type}”。可用的类型：{'、'.join(COMMUNITY_TYPES)}")
        out = [c for c in out if c.community_type == community_type]
    return out


def all_methods(cards: dict[str, CaseCard]) -> list[Method]:
    """Every named method across the cases, in case order."""
    return [m for c in cards.values() for m in c.methods]


def tag_idf(cards: dict[str, CaseCard]) -> dict[str, float]:
    """Inverse document frequency of each tag over the cards (rare tags say more)."""
    n = len(cards)
    df: dict[str, int] = {}
    for c in cards.values():
        for t in c.tag_counts:
            df[t] = df.get(t, 0) + 1
    return {t: math.log((n + 1) / (d + 0.5)) for t, d in df.items()}


def load_cards(corpus_dir: str | Path) -> dict[str, CaseCard]:
    """Cards for the cases parsed from ``corpus_dir`` (no index or model needed)."""
    from assistant.corpus import CorpusError, load_corpus

    try:
        return build_cards(load_corpus(corpus_dir))
    except CorpusError as exc:
        raise InputError(str(exc)) from None
