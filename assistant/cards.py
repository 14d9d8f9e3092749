"""Case cards computed from the case text: who, where, tags, named methods, outcomes, lessons.

Nothing here is typed by hand per case.  Tags come from the curated taxonomy
(:mod:`assistant.taxonomy`); named methods are quoted names that look like a
working method ("三个一"工作法, "1+3+N", "奥园四制" …); outcomes are
sentences reporting a change with numbers; the lessons are the section headed
启示/感悟/经验/结语 … .  Every extracted item carries a
:class:`~assistant.citations.Citation` with ``case.text[start:end] == quote``.
Text views of the cards for the CLI are in :mod:`assistant.card_text`.

Cards of the searcher's cases are computed once per set of case records
(:func:`cards_for`, keyed by a digest of the records it was given).

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.cards import build_cards, filter_cards
    >>> cards = build_cards(load_corpus("corpus"))
    >>> card = cards["sj2025-12"]
    >>> [m.name for m in card.methods][:2], card.tags[:3]
    >>> [c.case_id for c in filter_cards(cards, tag="车位", community_type="居民区")][:2]
"""

from __future__ import annotations

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
from assistant.taxonomy import Taxonomy, case_tags, load_taxonomy, resolve_tag

MAX_TAGS = 8
MAX_OUTCOMES = 8


# ---------------------------------------------------------------------------
# section roles: problem / measures / outcomes / lessons

_ROLE_WORDS = (
    ("lessons", re.compile(r"启示|感悟|经验|思考|体会|结语|总结|之道|展望|逻辑")),
    ("outcomes", re.compile(r"成效|实效|之变|变化|成果|成绩|见效|结出|裂变")),
    ("measures", re.compile(r"破解|路径|做法|对策|举措|措施|工作法|之治|密钥|解题|破局|具体实践")),
    ("problem", re.compile(r"难题|困境|挑战|背景|概况|现状|问题|痛点|之困|之问|难在|死结|困难|阵痛|融合度低")),
    ("measures", re.compile(r"探索|实践|方法|机制|步|如何|怎么|模式")),
)
# what a problem statement sounds like, and what an opening courtesy sounds like
_PROBLEM_WORDS = re.compile(r"难|问题|矛盾|困境|投诉|缺|不足|老旧|隐患|乱|堵|没有|无法|困扰|怨|纠纷|冲突|不愿|不肯|抵触|挤|吵|脏")
_COURTESY = re.compile(r"习近平|总书记|大家好|各位|很荣幸|汇报|分享|我是|感谢|同志们|二十大|指出")


def section_role(title: str) -> str | None:
    for role, pat in _ROLE_WORDS:
        if pat.search(title):
            return role
    return None


def passage_role(case: Case, start: int) -> str:
    """Role of the text at ``start``: the first classified heading from the top of
    its path; unclassified text is background before the first heading (or in
    the first third of a script without headings) and measures after it."""
    for s in sorted(case.sections, key=lambda s: s.level):
        if s.start <= start <= s.end:
            role = section_role(s.title)
            if role:
                return role
    first = min((s.start for s in case.sections), default=len(case.text) // 3)
    return "problem" if start < first else "measures"


def problem_passages(case: Case, passages: list[Passage], n: int = 2) -> list[Passage]:
    """The passages that best state the case's problem, in text order.

    Problem sections come first; openings are discounted when they are
    courtesies or quotations rather than the situation itself.
    """

    def score(p: Passage) -> float:
        role = passage_role(case, p.start)
        base = {"problem": 2.0, "measures": 0.0}.get(role, -5.0)
        position = 1.0 - p.start / max(len(case.text), 1)
        return base + len(_PROBLEM_WORDS.findall(p.text)) / 3 - 2 * len(_COURTESY.findall(p.text)) + position

    best = sorted(passages, key=score, reverse=True)[:n]
    return sorted(best, key=lambda p: p.start)


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
# outcomes with numbers

_UNIT = (
    r"(?:%|％|万元|亿元|万|元|户|人次|人|名|次|件|辆|把|个|组|项|套|栋|幢|台|平方米|平米|米|亩|家|场|条|处|倍|位|张|间|公里|支|所|单|起|类)"
)
_QTY = re.compile(r"(?<![\d.])(?:\d+(?:\.\d+)?\s*(?:余|多)?\s*" + _UNIT + r"|百分之\s*\d+)")
_CHANGE = re.compile(r"从.{0,16}?\d.{0,20}?(?:到|至|降|减|升|增)|由.{0,16}?\d.{0,20}?(?:到|至|降|减|升|增)")
_OUTCOME_VERB = re.compile(
    r"下降|降到|降至|减少|提升|提高|增加|增长|增至|增收|达到|超过|突破|实现|完成|累计|新增|拆除|化解|覆盖|受益|惠及|吸引|带动|节约|结案|满意率|清理|整改|安装|建成|收获|获评|获得|投入使用|新建|增设|缓解|促成|转化|零成本|签约|入住|打通|开辟|腾挪|回收|撤销|化作|扩展|抠出|争取|解决"
)
# scene-setting numbers (size, population, plans) are background, not results
_SETUP = re.compile(r"总户数|常住|户籍|面积|位于|地处|建成于|规划|占地|下设|从业人员|涉及|其中|总计划|目前有|共有|估算|预算|预计")


@dataclass
class Outcome:
    quote: str
    numbers: list[str]
    citation: Citation

    def to_dict(self) -> dict:
        return {"quote": self.quote, "numbers": self.numbers, "citation": self.citation.to_dict()}


def extract_outcomes(case: Case, limit: int = MAX_OUTCOMES) -> list[Outcome]:
    """Sentences that report a result with numbers, best first by evidence strength."""
    scored = []
    for par in case.paragraphs:
        if par.heading_level:
            continue
        for s, e in split_sentences(case.text[par.start : par.end], par.start):
            sent = case.text[s:e]
            qty = [m.group(0).replace(" ", "") for m in _QTY.finditer(sent)]
            if not qty or len(sent) > 220:
                continue
            verbs = len(_OUTCOME_VERB.findall(sent))
            change = bool(_CHANGE.search(sent))
            if not verbs and not change:
                continue
            role = passage_role(case, s)
            score = verbs + min(len(qty), 2) + 4 * change + 2 * ("%" in sent or "百分之" in sent)
            score += {"outcomes": 3, "lessons": 2, "problem": -3}.get(role, 0) - 3 * bool(_SETUP.search(sent))
            if score >= 4:
                scored.append((score, s, e, qty))
    best: list[tuple[int, int, int, list[str]]] = []
    seen = set()
    for item in sorted(scored, key=lambda x: (-x[0], x[1])):
        key = frozenset(item[3])  # the summary often repeats a result reported earlier
        if key not in seen and len(best) < limit:
            seen.add(key)
            best.append(item)
    out = []
    for _, s, e, qty in sorted(best, key=lambda x: x[1]):
        c = cite(case, s, e)
        out.append(Outcome(c.quote, qty, c))
    return out


# ---------------------------------------------------------------------------
# lessons

_LESSON_SENT = re.compile(r"启示|体会|感悟|深刻认识|实践证明|我们认识到|关键在于|经验")


@dataclass
class Lessons:
    title: str
    points: list[str]
    citation: Citation

    def to_dict(self) -> dict:
        return {"title": self.title, "points": self.points, "citation": self.citation.to_dict()}


def extract_lessons(case: Case) -> Lessons | None:
    """The 启示/感悟/经验/结语 section (its sub-headings as points); failing
    that, the closing paragraphs that draw a lesson."""
    top = [s for s in case.sections if section_role(s.title) == "lessons" and not s.inline]
    if top:
        lvl = min(s.level for s in top)
        sec = next(s for s in top if s.level == lvl)
        body_start = sec.start + len(sec.title) + 1
        subs = [s.title for s in case.sections if s.level > sec.level and sec.start < s.start <= sec.end]
        if body_start < sec.end:
            return Lessons(sec.title, subs, cite(case, body_start, sec.end))
    body = [p for p in case.paragraphs if not p.heading_level and p.end - p.start > 40]
    if not body:
        return None
    par = next((p for p in reversed(body[-4:]) if _LESSON_SENT.search(case.text[p.start : p.end])), body[-1])
    return Lessons("（结尾段落）", [], cite(case, par.start, par.end))


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
    summary: Citation | None
    problem: list[Citation]
    measures: list[Citation]
    methods: list[Method]
    outcomes: list[Outcome]
    lessons: Lessons | None
    roles: dict[str, int] = field(default_factory=dict)

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
            "summary": self.summary.to_dict() if self.summary else None,
            "problem": [c.to_dict() for c in self.problem],
            "measures": [c.to_dict() for c in self.measures],
            "methods": [m.to_dict() for m in self.methods],
            "outcomes": [o.to_dict() for o in self.outcomes],
            "lessons": self.lessons.to_dict() if self.lessons else None,
        }


def build_card(case: Case, taxonomy: Taxonomy | None = None) -> CaseCard:
    taxonomy = taxonomy or load_taxonomy()
    passages = chunk_case(case)
    counts = case_tags(case, taxonomy)
    by_role: dict[str, list[Passage]] = {}
    for p in passages:
        by_role.setdefault(passage_role(case, p.start), []).append(p)
    problem = problem_passages(case, passages)
    measures = _measure_heads(case, by_role.get("measures", []))
    summary = _first_sentences(case, problem[0]) if problem else None
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
        summary=summary,
        problem=[cite(case, p.start, p.end) for p in problem],
        measures=measures,
        methods=extract_methods(case, passages, taxonomy),
        outcomes=extract_outcomes(case),
        lessons=extract_lessons(case),
        roles=dict(sorted(roles.items(), key=lambda x: -x[1])),
    )


def _first_sentences(case: Case, p: Passage, max_chars: int = 160) -> Citation:
    end = p.start
    for s, e in split_sentences(p.text, p.start):
        if e - p.start > max_chars and end > p.start:
            break
        end = e
    return cite(case, p.start, end)


def _measure_heads(case: Case, measure_passages: list[Passage], limit: int = 8) -> list[Citation]:
    """One passage per measure section: the first passage under each distinct heading path."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for p in measure_passages:
        key = p.section[:2]
        if key in seen:
            continue
        seen.add(key)
        out.append(cite(case, p.start, p.end))
        if len(out) >= limit:
            break
    return out


def build_cards(cases: Iterable[Case], taxonomy: Taxonomy | None = None) -> dict[str, CaseCard]:
    taxonomy = taxonomy or load_taxonomy()
    return {c.id: build_card(c, taxonomy) for c in cases}


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
