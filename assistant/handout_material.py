"""What a handout question may stand on: a case's problems, measures, outcomes, lessons and parties,
read by meaning from the case's story (:mod:`assistant.cards`).

A trainer reads a question for what it says, so the material is chosen by
what a sentence is, not by the words it contains:

- **scope**: for a topic handout only the sentences about the topic (that
  name it, or stand next to a sentence that does, or under a heading that
  does); a topic that names a kind of community (动迁安置, 无产证 …) covers
  the whole script of such a community;
- **problems, measures, outcomes, lessons**: sentences the role model reads as
  such, statements (not questions, lead-ins, plans), not slogans or directives,
  particular to the script (rare words) and quotable as a span that reads on
  its own (:func:`assistant.quoting.excerpt`);
- **stances**: a party's own situation or position — a sentence whose subject
  or speaker is the party ("一楼业主不同意…", "居民陈先生回忆…") and that
  states a difficulty, a wish or an objection.  A sentence about a party
  ("为老人赠送…") or told by another party ("小哥说居民恶意投诉") is not that
  party's stance.  A party whose only stance is its absence ("业委会集体辞职")
  is not cast.  A party is labelled by the group the sentence names
  ("地下车库产权车主", "一楼业主") when it names one;
- **conflicts**: two problem sentences state the same conflict when they stand
  in one paragraph or share most of their particular words; a handout asks
  about each conflict once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from assistant.cards import _AIM, _INCIDENT, LESSONS, QUANTITY, CaseCard, Sentence, concreteness
from assistant.citations import Citation
from assistant.quoting import QUOTE_CHARS, clauses, concludes, excerpt, excerpts, is_frame, is_slogan, lead_skip, pos_cut, reads_alone
from assistant.taxonomy import Tag, load_taxonomy

SPECIFIC = 3.0  # a sentence less particular than this (word rarity) says what every script says
_ASKS = re.compile(r"[？?]|如何|怎样|怎么|为什么|为何")
_PLAN = re.compile(r"下一步|今后|未来|将(?:继续|进一步|持续)|计划|拟(?!定)|预计|即将|打算|设想|的想法[。!！]?$")
_COURTESY = re.compile(r"大家好|各位|很荣幸|向大家|汇报|我是|分享")
_FIGURE = re.compile(r"\d|百分之")
# a quantity (not a date): "11个新车位", "80%", "515户"


# ---------------------------------------------------------------------------
# scope: the sentences a handout on a topic may use


def mentions(tag: Tag | None, text: str) -> bool:
    return bool(tag and tag.count(text))


def strong_pattern(tag: Tag) -> re.Pattern:
    """A tag's words without those that only begin its name ("楼道" of 楼道堆物 names any stairwell)."""
    words = [w for w in (tag.name, *tag.synonyms) if w and "/" not in w and not (w != tag.name and tag.name.startswith(w))]
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)))


def scope(card: CaseCard, tag: Tag | None) -> Callable[[Sentence], bool]:
    """Which sentences of ``card`` a handout on ``tag`` may quote (every sentence without a topic).

    A script whose title names the topic and whose main tag it is: all of it.  Otherwise, a problem topic (停车):
    the sentences that name it, their neighbours in the paragraph (two either side) and
    the sentences under a heading that names it.  A kind of community (动迁安置) the case is: the paragraphs and
    sub-sections that name the kind (its words: 动迁, 农民变市民 …), where the script says what being such a
    community brings."""
    story = card.story
    if tag is None or story is None:
        return lambda s: True
    if all_about(card, tag):
        return lambda s: True
    sents = story.sentences
    near: set[int] = set()
    if tag.kind and tag.name in card.tag_counts:
        named_pars = {s.par for s in sents if mentions(tag, s.text)}
        blocks = {s.block for s in sents if mentions(tag, s.text) and not s.block[-1].startswith("¶")}
        heads = {s.block for s in sents if any(mentions(tag, h) for h in s.block if not h.startswith("¶"))}
        kind_keep = {s.start for s in sents if s.par in named_pars or s.block in blocks or s.block in heads}
        return lambda s: s.start in kind_keep
    for i, s in enumerate(sents):
        if mentions(tag, s.text) or any(mentions(tag, h) for h in s.block if not h.startswith("¶")):
            near.update(k for k in range(i - 2, i + 3) if 0 <= k < len(sents) and sents[k].par == s.par)
    # a part of the script that keeps returning to the topic is about it as a whole (西林塔's "换梯" sections)
    pars: dict[int, set[int]] = {}
    named: dict[int, set[int]] = {}
    for s in sents:
        pars.setdefault(s.part, set()).add(s.par)
        if mentions(tag, s.text):
            named.setdefault(s.part, set()).add(s.par)
    whole = {k for k, ps in pars.items() if len(named.get(k, ())) >= max(2, PART_SHARE * len(ps))}
    keep = {sents[i].start for i in near} | {s.start for s in sents if s.part in whole}
    return lambda s: s.start in keep


PART_SHARE = 0.5  # a part with the topic in at least this share of its paragraphs is about the topic


def all_about(card: CaseCard, tag: Tag) -> bool:
    """The script is about the topic from its title on: its title names it and it is its main tag
    (湖畔天地's 停车, 西林塔's 换梯), so every part of it is."""
    return bool(card.tags) and card.tags[0] == tag.name and mentions(tag, card.title)


def _usable(s: Sentence, card: CaseCard, min_chars: int = 12) -> bool:
    """A statement of the community's own that can be quoted: not a question, courtesy, plan, slogan or directive."""
    t = s.text
    return (
        len(t) >= min_chars
        and not _ASKS.search(t)
        and not _COURTESY.search(t)
        and not is_slogan(t)
        and not t.rstrip("\"”").endswith((":", "："))
    )


def specificity(card: CaseCard, text: str) -> float:
    return card.rarity.specificity(text) if card.rarity else SPECIFIC


def _sentence_at(card: CaseCard, c: Citation) -> Sentence | None:
    story = card.story
    return next((s for s in story.sentences if s.start <= c.start < s.end), None) if story else None


def _in_lessons(card: CaseCard, s: Sentence) -> bool:
    return bool(card.story and card.story.parts[s.part].role == LESSONS)


def quotable(s: Sentence, must: re.Pattern | None = None, limit: int = QUOTE_CHARS) -> bool:
    span = excerpt(s.text, limit, must)
    return bool(span and (must is None or must.search(span)) and not _UNCLEAR.search(span))


# a measure told as it turned out, not as it was proposed: "最后…做通了居民的思想工作"
_NARRATED = re.compile(r"做通了|得以|成功(?!概率|率|的可能|的把握)|顺利|圆满|终于|最终|未果|最后|达成")  # not "成功概率最低"


def narrated(text: str) -> bool:
    """A measure told with how it turned out: it cannot be put to a meeting as a proposal."""
    return bool(_NARRATED.search(text))


def is_plan(text: str) -> bool:
    """A plan or an idea, not a measure taken."""
    return bool(_PLAN.search(text))


def clear(span: str) -> bool:
    """A span names what it speaks of ("该人群" does not)."""
    return not _UNCLEAR.search(span)


# ---------------------------------------------------------------------------
# problems, measures, outcomes, lessons


# what makes a sentence a difficulty rather than a profile ("街区沿街分布着600多家商铺")
TROUBLE = _TROUBLE = re.compile(
    r"难|困|缺|不足|不够|问题|矛盾|隐患|烦恼|不便|短缺|无法|不能|没有|未能|频发|突出|严重|滞后|薄弱|差|乱|堵|拥|吵|怨|投诉|纠纷"
    r"|冲突|压力|挑战|不满|抵触|老化|破旧|积水|脏|隐忧|风险|紧张|失衡|瘫痪|辞职|推诿|扰民|不一|分散|模糊|陌生|冷漠|旁观|不高|低"
    r"|激动|情绪|罚款|冻结|迷路"
    r"|反对|不同意|不愿|不肯|拒绝|担心|顾虑|分歧"  # a party objecting is a difficulty too ("一楼业主不同意…")
)


def problem_sentences(card: CaseCard, keep: Callable[[Sentence], bool], tag: Tag | None = None) -> list[Sentence]:
    """This community's problems, the card's own first, then sentences read surely as 问题 and particular."""
    story = card.story
    if not story:
        return []
    own = [s for c in card.problem if (s := _sentence_at(card, c))]
    more = [
        s
        for s in story.sentences
        if s.role == "问题"
        and s.prob("问题") >= 0.45
        and not _in_lessons(card, s)
        and specificity(card, s.text) >= SPECIFIC
    ]
    more.sort(key=lambda s: -(s.prob("问题") * (1 + specificity(card, s.text)) ** 0.5))
    out = _dedupe(own + more)
    out = [s for s in out if keep(s) and _usable(s, card) and quotable(s, TROUBLE) and _states_trouble(s)]
    return _topic_first(out, tag) if tag is None else _by_topic(out, tag, "问题", card)


def _states_trouble(s: Sentence) -> bool:
    """A span of the sentence that reads on its own states a difficulty: it names one (:data:`TROUBLE`) and does
    not close on the speaker's judgement of what matters ("…投诉量占了大头,所以…把物业管好尤为重要")."""
    return any(
        TROUBLE.search(x) and clear(x) and not concludes(x) for x in excerpts(s.text, QUOTE_CHARS, TROUBLE)
    )


def measure_sentences(card: CaseCard, keep: Callable[[Sentence], bool], tag: Tag | None = None) -> list[Sentence]:
    """The measures the community took: the card's, weightiest first, then other sentences read surely as 做法."""
    story = card.story
    if not story:
        return []
    own = [s for m in sorted(card.measures, key=lambda m: -m.weight) if (s := _sentence_at(card, m.citation))]
    more = [
        s
        for s in story.sentences
        if s.role == "做法" and s.prob("做法") >= 0.5 and not _in_lessons(card, s) and not _PLAN.search(s.text)
    ]
    own = [s for s in own if not _AIM.search(s.text) and not _INCIDENT.match(s.text)]
    more = [s for s in more if not _AIM.search(s.text) and not _INCIDENT.match(s.text)]
    more.sort(key=lambda s: -(s.prob("做法") * (1 + specificity(card, s.text)) ** 0.5))
    out = [s for s in _dedupe(own + more) if specificity(card, s.text) >= SPECIFIC and concreteness(s.text) >= 0]
    # what was done, concretely, first: a figure or a named thing; a sentence in general phrasing ("充分发挥…作用",
    # "做了大量的前期准备工作") says nothing a class can discuss
    out.sort(key=lambda s: -concreteness(s.text))
    out = [s for s in out if keep(s) and _usable(s, card) and not _PLAN.search(s.text) and not finding_out(s.text) and quotable(s)]
    return _topic_first(out, tag) if tag is None or tag.kind else _by_topic(out, tag, "做法", card)




# a phrase pointing to a group named elsewhere: "该人群", "这类群体", "上述问题"
_UNCLEAR = re.compile(
    r"该(?:群体|人群|村|小区|社区|项目|问题|方案|制度|做法|模式|机制|平台|工作|情况)|这类|此类|上述|以上"
    r"|这一|这件事|此事|这些事|(?:这个|这种|这样的?)(?:问题|情况|难题|做法|办法|疑问)"
)
# finding out is a step before the measure, not the measure: "开展了进一步的调研和走访"
_FINDING_OUT = re.compile(r"调研|走访|排摸|摸排|了解到|座谈|研判|理清|勘察|听取|取经|考察")


def finding_out(text: str) -> bool:
    """A sentence telling how the community found out (visits, surveys), not what it then did."""
    return bool(_FINDING_OUT.search(text))


def outcome_sentences(card: CaseCard, keep: Callable[[Sentence], bool], tag: Tag | None = None) -> list[Sentence]:
    """The card's outcomes (the headline first) that a question can quote with their figure."""
    got = [s for o in sorted(card.outcomes, key=lambda o: (not o.headline, -o.weight)) if (s := _sentence_at(card, o.citation))]
    # then the script's other results told with a figure, read surely as 成效 (the card keeps a few only; a script
    # all about one matter, such as 西林塔's 换梯, tells several: "8部电梯历时一年,圆满完工")
    story = card.story
    more = [
        s for s in (story.sentences if story else [])
        if s.role == "成效" and s.prob("成效") >= OUTCOME_PROB and not _in_lessons(card, s) and RESULT.search(s.text)
    ]
    more.sort(key=lambda s: -s.prob("成效"))
    out = [s for s in _dedupe(got + more) if keep(s) and _usable(s, card) and quotable(s, RESULT) and not _GRANTED.search(s.text)]
    # on a topic the script tells little of (蓝天二村's 加装电梯): the milestone it names, dated ("2021年6月10日,…325号楼
    # 加装电梯签约仪式正式举行"), is its result there, though the role model reads it as a step
    if tag is not None and story is not None:
        out += [
            s for s in story.sentences
            if s not in out and mentions(tag, s.text) and _MILESTONE.search(s.text) and _DATED.search(s.text)
            and keep(s) and _usable(s, card) and quotable(s, _MILESTONE)
        ]
    return _topic_first(out, tag)


_MILESTONE = re.compile(r"签约仪式|正式签约|完成施工|竣工|完工|投入使用|正式运行|建成")
_DATED = re.compile(r"\d{4}\s*年")


# a result a class can weigh: a figure with its unit, a count of things ("8部电梯"), a named product ("《…全流程指南》")
# or a body built ("培养了一支党员骨干队伍"), or a milestone reached ("…加装电梯签约仪式正式举行", "2024年完成施工")
RESULT = re.compile(QUANTITY.pattern + r"|\d+\s*(?:部|台|轮|场|次|支|套|批|栋|幢|块|项)|《[^》]{2,}》|一支|一套|一批|签约仪式|完成施工|竣工")
OUTCOME_PROB = 0.6  # a sentence the role model reads as 成效 at least this surely is a result, not a step


# money granted from outside ("超长期特别国债政策支持换梯,补贴15万/部") is a condition the community was given, not a
# result it achieved: a question asking what made it possible has nothing to discuss
_GRANTED = re.compile(r"国债|政策支持|财政补贴|补贴\s*[0-9一二三四五六七八九十百千万]|拨款|拨付|专项资金")


def lesson_sentences(card: CaseCard, keep: Callable[[Sentence], bool], tag: Tag | None = None) -> list[Sentence]:
    """Sentences of the lessons read as 感悟 that say something particular: they name the case's method,
    the topic or a party, and are not slogans."""
    story = card.story
    if not story or not card.lessons:
        return []
    span = card.lessons.citation
    names = [m.key for m in card.methods]
    parties = _party_regex()

    def concrete(s: Sentence) -> bool:
        if tag is not None and not tag.kind:
            return mentions(tag, s.text) or any(k in s.text for k in names)  # a topic handout: a lesson on the topic
        return any(k in s.text for k in names) or bool(parties.search(s.text)) or bool(_FIGURE.search(s.text))

    # a paragraph quoting a directive; a lesson's own numbered heading in slogan form ("(二)在基层治理中,一定要坚持
    # "全过程人民民主"理念。") does not make the example under it a directive
    directive_pars = {s.par for s in story.sentences if is_slogan(s.text) and not _NUMBERED_HEAD.match(s.text)}

    out = [
        s
        for s in story.sentences
        if span.start <= s.start < span.end
        and s.role == "感悟"
        and not _PLAN.search(s.text)
        and _usable(s, card, 14)
        and concrete(s)
        and concreteness(s.text) >= 0
        and s.par not in directive_pars
        and specificity(card, s.text) >= SPECIFIC
        and keep(s)
        and quotable(s)
    ]
    out.sort(key=lambda s: -s.prob("感悟"))
    return _topic_first(out, tag)


_NUMBERED_HEAD = re.compile(r"^\s*(?:[(（][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)")


def lesson_pattern(card: CaseCard, tag: Tag | None = None) -> re.Pattern:
    """What a quoted lesson must hold to say something particular: the topic, or the case's methods or a party."""
    if tag is not None and not tag.kind:
        words = [tag.pattern.pattern] + [re.escape(m.key) for m in card.methods]
    else:
        words = [re.escape(m.key) for m in card.methods] + [_party_regex().pattern]
    return re.compile("|".join(f"(?:{w})" for w in words))


def _dedupe(sents: Iterable[Sentence]) -> list[Sentence]:
    seen: set[int] = set()
    out = []
    for s in sents:
        if s.start not in seen:
            seen.add(s.start)
            out.append(s)
    return out


def _topic_first(sents: list[Sentence], tag: Tag | None) -> list[Sentence]:
    return sorted(sents, key=lambda s: not mentions(tag, s.text)) if tag else sents


def _by_topic(sents: list[Sentence], tag: Tag, role: str, card: CaseCard) -> list[Sentence]:
    """For a topic handout: the sentences most about the topic (naming it most often) first, then the surest and most
    particular; the card's own choice (what a handout on the case leads with) gets no precedence."""
    return sorted(sents, key=lambda s: (-tag.count(s.text), -(s.prob(role) * (1 + specificity(card, s.text)) ** 0.5)))


# ---------------------------------------------------------------------------
# the kind of problem a sentence states (which discussion prompts fit it)

PROBLEM_KINDS: dict[str, re.Pattern] = {
    # people complain, quarrel, are upset: a meeting can get heated
    "诉求": re.compile(r"投诉|矛盾|争吵|吵|不满|抱怨|纠纷|扰民|指责|骂|冲突|意见大|怨|12345|焦虑|积怨|对立|闹"),
    # nobody to lead or take part: a body cannot be formed, people stay away
    "组织": re.compile(r"没人|无人|人手|报名|成立|换届|瘫痪|缺位|辞职|参与度|积极性不高|旁观|难以组建|牵头|凝聚力|覆盖"),
    # money: who pays, how much
    "资金": re.compile(r"资金|经费|出资|筹|维修基金|物业费|收费|缴费|费用|钱|补贴|成本|入不敷出"),
    # habits and customs
    "习惯": re.compile(r"习惯|观念|老规矩|老传统|传统习俗|风俗|陋习|旧习"),
    # many people, many places, always moving
    "规模": re.compile(r"流动|分散|人户分离|规模|点多面广|复杂|多元|万人|\d{3,}(?:户|人|家|辆)"),
}


def problem_kinds(text: str) -> set[str]:
    return {k for k, p in PROBLEM_KINDS.items() if p.search(text)}


# ---------------------------------------------------------------------------
# conflicts: two problem sentences about one conflict are asked about once


@lru_cache(maxsize=65536)
def bigrams(text: str) -> frozenset[str]:
    """The Chinese character bigrams of a text (computed once per text: a handout compares the same sentences
    many times over)."""
    t = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return frozenset(t[i : i + 2] for i in range(len(t) - 1))


_bigrams = bigrams


def same_conflict(a: Sentence, b: Sentence, common: set[str] = frozenset(), by_paragraph: bool = True) -> bool:  # type: ignore[assignment]
    """One paragraph (when ``by_paragraph``), or most of their particular words (character bigrams not common
    in the script) shared."""
    if by_paragraph and a.par == b.par:
        return True
    ga, gb = _bigrams(a.text) - common, _bigrams(b.text) - common
    if not ga or not gb:
        return False
    return len(ga & gb) / min(len(ga), len(gb)) >= 0.3


_COMMON: dict[tuple[int, float], tuple[object, frozenset[str]]] = {}


def common_bigrams(card: CaseCard, share: float = 0.04) -> frozenset[str]:
    """Bigrams found in more than ``share`` of the script's sentences (its topic words: 停车, 车位, 居民 …),
    computed once per script."""
    story = card.story
    if not story:
        return frozenset()
    got = _COMMON.get((id(story), share))
    if got is not None and got[0] is story:
        return got[1]
    result = _common_bigrams(story, share)
    if len(_COMMON) >= 4096:  # cards are rebuilt when scripts are added: old stories must not stay alive
        _COMMON.clear()
    _COMMON[(id(story), share)] = (story, result)
    return result


def _common_bigrams(story, share: float) -> frozenset[str]:
    counts: dict[str, int] = {}
    for s in story.sentences:
        for g in _bigrams(s.text):
            counts[g] = counts.get(g, 0) + 1
    n = max(1, len(story.sentences))
    return frozenset(g for g, k in counts.items() if k / n > share)


# ---------------------------------------------------------------------------
# parties and their stances

# what a party says, wants or objects to; a difficulty it faces
_STANCE = re.compile(
    r"(?<![来所据听])说(?![明服法是])|表示|反映|认为|觉得|抱怨|吐槽|诉苦|坦言|直言|提出|担心|担忧|害怕|怕|希望|盼|要求|质疑|反对|不同意|不愿|不肯|不想"
    r"|拒绝|抵触|不满|不理解|不配合|不支持|不缴|不交|坚持|嫌|宁愿|宁可|想要|有意见|意见(?:很大|大|不一)|顾虑|心声|苦恼|难处|无奈"
    r"|不得不|只能|压力|回忆|反应|情绪|激动|疑惑|观望|疑虑|模糊|不一|不习惯|舍不得|迷路"
    r"|需耗时|找不到|不方便|难以|无法|影响|困扰|头疼|发愁"
)
# what a service lets a party do is not the party's position: "居民可随时在群内@相关人员或反映问题"
# a party's own position said ("一楼业主不同意"), as against a state the speaker ascribes to it ("居民意见不统一")
_POSITION = re.compile(
    r"(?<![来所据听])说(?![明服法是])|表示|认为|觉得|抱怨|吐槽|诉苦|坦言|直言|担心|担忧|害怕|希望|要求|质疑|反对|不同意|不愿|不肯"
    r"|不想|拒绝|不满|不理解|坚持|嫌|宁愿|宁可|想要|舍不得"
)
_AFFORDS = re.compile(r"可随时|可以随时|只需|即可|可直接|可通过|均可")
# a party that is gone: it cannot sit at the table
_ABSENT = re.compile(r"辞职|解散|瘫痪|缺位|缺失|空缺|停摆|无法运作|成立不了|难以成立|未成立|没有成立|不存在|难产")
# the words before a mention that make the party an object: served, mobilised, visited
_OBJECT_BEFORE = re.compile(
    r"(?:为|向|给|对|帮|帮助|服务|组织|引导|动员|邀请|赠送|让|请|号召|联合|与|和|同|把|将|被|由|替|针对|面向|关心|关爱|走访|慰问"
    r"|发动|依靠|协调|督促|要求|指导|联系|召集|约谈|吸引|引入|带领|团结|教育|鼓励|培育|培养|推动|通知|告知|提醒|安排|为了|对于"
    r"|解决|满足|方便|保障|惠及|了解|倾听|收集|听取)$"
)
# modifiers of a group too general to name it
_GENERAL = re.compile(r"^(?:小区|社区|广大|全体|本|该|这些|一些|很多|许多|不少|部分|大部分|个别|有的|其他|各|每位|每个|相关|所有|有)+")
# the learner plays the secretary, who leads the 居委会/村委会 too: these are not cast against them
_NOT_CAST = {"社区党组织", "居委会/村委会"}
# a former body is gone: "前期业委会遗留了诸多官司"
_FORMER = re.compile(r"^(?:前期|前任|上届|上一届|原(?!住)|老(?![年人]|党员|干部|骑手))")
SUBJECT_WITHIN = 12
STANCE_CHARS = 10
_CJK = re.compile(r"[\u4e00-\u9fff]")  # a party named later in its clause is not what the sentence is about


@dataclass(frozen=True)
class Stance:
    party: Tag
    label: str  # as the handout names the party: "一楼业主", "居民", "村委会"
    word: str  # the word of the sentence naming it
    sentence: Sentence
    absent: bool  # the sentence says the party is gone
    quote: str  # the span to quote: the party's clause, or its words when it speaks
    clause: int = 0  # offset in the sentence of the clause naming the party


@lru_cache(maxsize=1)
def _party_regex() -> re.Pattern:
    words = sorted({w for r in load_taxonomy().roles for w in (r.name, *r.synonyms) if w and "/" not in w}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(re.escape(w) for w in words) + ")(?![区委会])")


def gone(text: str, word: str) -> bool:
    """Whether ``text`` says the party named ``word`` is gone (resigned, dissolved, never formed) in the clause
    naming it: "业委会一度因指责声浪集体辞职"."""
    for clause in re.split(r"[，,。；;：:]", text):
        at = clause.find(word)
        if at >= 0 and _ABSENT.search(clause[at:]):
            return True
    return False


def party_of(word: str) -> Tag | None:
    """The taxonomy party a word names."""
    for r in load_taxonomy().roles:
        if word == r.name or word in r.synonyms:
            return r
    return None


def party_pattern(party: Tag) -> re.Pattern:
    """A party's words as a mention of that party: "居民" but not "居民区", "村民" but not "村民委员会"."""
    words = sorted({w for w in (party.name, *party.synonyms) if w and "/" not in w}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(re.escape(w) for w in words) + ")(?![区委会])")


# time words that may open a clause before its subject: "一开始居民情绪也较为激动"
_WHEN = re.compile(r"^(?:一开始|开始时|起初|最初|当时|后来|原来|原先|以前|过去|此前|平时|如今|现在|目前|有时|往往|常常|每逢|今年|去年)[，,]?")
# a clause that introduces what a party says
_SPEAKS = re.compile(r"(?:说|道|表示|反映|反应|称|讲|坦言|直言|回忆|感慨|吐槽|抱怨|诉苦|问|提出)$")


@dataclass(frozen=True)
class Subject:
    party: Tag
    word: str
    at: int  # offset of the party word in the sentence
    clause: int  # offset of its clause (a quote of the party starts there)
    speech: int | None  # offset where its words start, when the clause introduces what it says


def subjects(text: str) -> list[Subject]:
    """The parties a sentence speaks of as subjects or speakers, one per clause that opens with one:
    "一楼业主不同意(…),二楼业主也反对(…)" has two.  The first clause may be preceded by a lead-in or a
    scene-setting clause; a party named after a verb ("为老人…", "动员\"老骑手\"…"), inside brackets or as
    a modifier ("外卖高峰期") is not a subject."""
    cl = clauses(text)
    out: list[Subject] = []
    first = True
    for i, (a, b) in enumerate(cl):
        if text[a] in "(（":
            continue  # an aside in brackets
        skip = lead_skip(text[a:b])
        seg = text[a + skip : b]
        if first and seg and is_frame(seg) and i + 1 < len(cl):
            continue
        when = _WHEN.match(seg)
        off = a + skip + (when.end() if when else 0)
        got = _subject_of(text[off:b], within=SUBJECT_WITHIN if first else 8)
        first = False
        if not got:
            continue
        party, word, k = got
        speech = None
        if _SPEAKS.search(text[off:b]) and i + 1 < len(cl):
            speech = cl[i + 1][0]
        out.append(Subject(party, word, off + k, a, speech))
        if speech is not None:
            break  # what follows is the speaker's words: whoever it names is not speaking
    return out


# a party's own position on a matter: what it wants, fears, refuses or does against the rules ("一楼业主不同意",
# "产权车主为图方便占用…却不缴费"); a state the speaker ascribes to it ("业主意见分散") or a concession ("商铺同意…")
# is not one
_OWN_POSITION = re.compile(
    r"认为|觉得|担心|担忧|害怕|怕|希望|盼望|期盼|要求|反对|不同意|不赞成|不愿|不肯|不想|拒绝|抵触|不满|不理解|不配合|不支持"
    r"|不缴|不交|坚持|嫌|宁愿|宁可|想要|有意见|意见(?:很大|大|相左)|顾虑|抱怨|吐槽|诉苦|反映|质疑|舍不得|投诉|争吵|争执"
    r"|怨言|怨声|情绪|为图|占用|私拉|乱停|乱放|乱堆|反应|无奈|不方便|吃力"
)
# a party that speaks: "店主说：“…”"
_OWN_WORDS = re.compile(r"(?:说|道|表示|坦言|直言|问|称|讲|感慨|抱怨|吐槽|反映)[:：,，]?\s*[“\"]")
# the party's clause goes on in the next one: "老年人的思想有点老古板,觉得女儿…"
_GOES_ON_SAYING = re.compile(r"^(?:觉得|认为|担心|表示|说|希望|要求|坚持|总是|就)")


def own_position(text: str, word: str, at: int = -1) -> bool:
    """Whether ``text`` gives the party named ``word`` (at ``at``, else its first mention) a position of its own
    within its clause (or the next one, when that goes on with what it thinks): what it wants, fears, refuses,
    says, or does against the rules."""
    at = text.find(word) if at < 0 else at
    if at < 0:
        return False
    parts = re.split(r"[，,；;。！!？?]", text[at + len(word) :])
    head = parts[0]
    if len(parts) > 1 and _GOES_ON_SAYING.match(parts[1]):
        head += "，" + parts[1]
    return bool(_OWN_POSITION.search(head) or _OWN_WORDS.search(text[at + len(word) :][:40]))


# what a party does against the rules: a fault, not a stance or a concern of its own that a student could play
_MISDEED = re.compile(r"不缴|不交|为图|占用|私拉|乱停|乱放|乱堆")


def own_concern(text: str, word: str, at: int = -1) -> bool:
    """Whether the party's position (:func:`own_position`) is more than a fault ("图方便占位不缴费"): what it wants,
    fears, refuses or says, which a student playing it can argue from."""
    if not own_position(text, word, at):
        return False
    at = text.find(word) if at < 0 else at
    after = _MISDEED.sub("", text[at + len(word) :])
    return own_position(text[: at + len(word)] + after, word, at)


def owner(text: str) -> tuple[Tag, str, int] | None:
    """The party the sentence is first about (its first clause's subject or speaker), or None."""
    subs = subjects(text)
    return (subs[0].party, subs[0].word, subs[0].at) if subs else None


def _subject_of(clause: str, within: int) -> tuple[Tag, str, int] | None:
    topic = re.match(r"^(?:对于|对)(?:像)?(.+?)(?:而言|来说)$", clause)  # "对于像我们处在中间的商家而言"
    tokens = _tokens(clause)
    for m in _party_regex().finditer(clause):
        if m.start() > within:
            return None
        if _bracketed(clause, m.start()) or not _is_head(tokens, m.start(), m.end(), clause):
            continue
        before = clause[: m.start()].rstrip("\"“”'‘’")
        if not topic and (_OBJECT_BEFORE.search(before) or _MARKS_OBJECT.search(before) or _has_verb(tokens, m.start())):
            return None
        party = party_of(m.group(0))
        return (party, m.group(0), m.start()) if party else None
    return None


def _bracketed(text: str, pos: int) -> bool:
    """Whether ``pos`` is inside brackets or quotation marks (an example or a name, not the subject)."""
    head = text[:pos]
    return head.count("(") + head.count("（") > head.count(")") + head.count("）") or head.count('"') % 2 == 1


def _tokens(text: str) -> list[tuple[int, int, str, str]]:
    out, at = [], 0
    for word, flag in pos_cut(text):
        out.append((at, at + len(word), word, flag))
        at += len(word)
    return out


# a preposition anywhere before the party word makes it an object: "将祥东居民对…的向往与现实差距拉大"
_MARKS_OBJECT = re.compile(r"[将把被让使给替向]")
# nouns after a party word that are the party's own (its needs, its mood): the party is still what the clause is about
_ITS = re.compile(r"^(?:需求|诉求|意见|情绪|矛盾|纠纷|参与|积极性|生活|出行|习惯|观念|利益|权益|心声|呼声|期待|期望|满意度|压力|负担|收入|困难|难处|顾虑|意愿)")
# nouns after a party word that name its people: "物业经理", "业委会成员"
_ITS_PEOPLE = re.compile(r"^(?:服务)?(?:公司|企业|经理|人员|工作人员|代表|委员|成员|负责人|老板|从业人员)")


def _is_head(tokens: list[tuple[int, int, str, str]], start: int, end: int, clause: str = "") -> bool:
    """The party word heads its noun phrase: not part of a longer word ("业主群") nor a modifier of a thing
    ("外卖高峰期"); its needs or its people may follow ("居民情绪", "物业经理"), or a name ("居民陈先生")."""
    after = clause[end:]
    if _ITS.match(after) or _ITS_PEOPLE.match(after):
        return True
    for a, b, _, flag in tokens:
        if a < end < b:
            return False
        if a == end:
            return not ((flag.startswith("n") and flag != "nr") or flag in ("vn", "an"))
    return True


def _has_verb(tokens: list[tuple[int, int, str, str]], pos: int) -> bool:
    """A verb or a preposition before ``pos``: what follows is an object ("为老人…", "给周边居民带来…")."""
    return any(b <= pos and (flag.startswith("v") or flag == "p") and w not in ("有", "是") for _, b, w, flag in tokens)


_NOT_MODIFIER = {"时间", "期间", "时候", "方面", "阶段", "时代", "过程", "闲暇", "平时", "目前", "小区", "社区"}
_MODIFIER_POS = ("n", "s", "b", "a", "vn", "an", "nz")


# the people of a party who are not the party itself: a shop's staff are not the shop's owner
_STAFF = re.compile(r"^的?(从业人员|员工|店员|营业员|职工|雇员|服务员|工作人员)")


def group_label(text: str, at: int, word: str) -> str:
    """The group a sentence names around the party word at ``at``: "地下车库产权车主", "一楼业主", else the word;
    the party's people where the sentence speaks of them ("商铺的从业人员…家住车墩": "商铺从业人员", not 商户)."""
    staff = _STAFF.match(text[at + len(word) :])
    if staff:
        return word + staff.group(1)
    head = re.split(r"[，,；;：:、\"“”()（）]", text[max(0, at - 8) : at])[-1]
    if not head:
        return word
    keep: list[str] = []
    for token, flag in reversed(pos_cut(head)):
        if token in _NOT_MODIFIER:
            break
        if flag.startswith(_MODIFIER_POS) and flag not in ("ns", "nr", "nrt") and len(keep) < 3:
            keep.insert(0, token)
        else:
            break
    mods = re.sub(r"^[内里中上下外]+", "", _GENERAL.sub("", "".join(keep)))
    label = mods + word
    return label if len(label) <= 9 else word


def display_name(party: Tag, word: str, community_type: str) -> str:
    """How the handout names a party: the group's word where it says more ("业主", "商家"), a 居委会 or a 村委会
    by the community's type."""
    if party.name == "居委会/村委会":
        return "村委会" if community_type == "村" else "居委会"
    if party.name == "外卖骑手/快递小哥":
        return "快递小哥" if "快递" in word or word == "小哥" else "外卖骑手"
    if party.name == "开发商/企业":
        return "开发商" if word == "开发商" else "企业"
    if word == "阿姨":
        return "居民"
    if word == "商铺":
        return "商户"
    if party.name in ("居民", "村民", "商户", "游客", "老年居民", "租户/新住民") or party.name == word:
        return word
    return party.name


def stances(card: CaseCard, keep: Callable[[Sentence], bool]) -> list[Stance]:
    """Every clause of the case that states a party's own situation or position (see the module doc)."""
    story = card.story
    if not story:
        return []
    model = None
    out = []
    for s in story.sentences:
        if not keep(s) or _in_lessons(card, s) or not _usable(s, card, 10):
            continue
        out += _framed_stances(card, s)
        for sub in subjects(s.text):
            if sub.party.name in _NOT_CAST:
                continue
            if model is None:
                from assistant.roles import get_role_model

                model = get_role_model()
            problem = model.probabilities

            def as_problem(x: str) -> float:
                return float(problem(x)[1])

            told = _own_clauses(s.text, sub.clause)
            label = group_label(s.text, sub.at, sub.word).removeprefix(card.community) or sub.word
            absent = bool(_ABSENT.search(told)) or bool(_FORMER.match(label))
            said = (bool(_STANCE.search(told)) and not _AFFORDS.search(told)) or sub.speech is not None
            own = told.split(",")[0].split("，")[0]
            if not (said or absent or (as_problem(told) >= 0.45 and TROUBLE.search(own))):
                continue  # the party acting, or its problem solved: not its situation
            if s.role in ("做法", "成效") and not (said and s.prob("问题") >= 0.2):
                continue

            if sub.speech is not None:  # the most telling part of what it says
                quote = excerpt(s.text, score=as_problem, starts_at=[sub.speech], not_before=sub.speech)
            else:
                quote = excerpt(s.text, must=re.compile(re.escape(sub.word)), score=as_problem, starts_at=[sub.clause])
                if quote and sub.word not in quote:
                    quote = None
            if not quote or not clear(quote) or len(_CJK.findall(quote)) < STANCE_CHARS:
                continue  # a stance says something: "居民主动参与度低" (a heading) does not
            if not (sub.speech is not None or _POSITION.search(told)) and specificity(card, quote) < SPECIFIC:
                continue  # the speaker's general view of a party ("居民意见不统一,难以形成共识"), not its own situation
            if label == sub.word:
                label = display_name(sub.party, sub.word, card.community_type)
            out.append(Stance(sub.party, label, sub.word, s, absent, quote, sub.clause))
    return out


# "针对村民对宅基地"三权"概念模糊的情况": the party's situation told inside the frame of a measure
FRAMED = _FRAMED = re.compile(r"(?:针对|面对|为解决|为了解决|鉴于)(?P<inner>[^。；;]{6,60}?)的(?:情况|问题|诉求|需求|困难|难题|现象|矛盾|状况|困境|窘境)")


def _framed_stances(card: CaseCard, s: Sentence) -> list[Stance]:
    out = []
    for m in _FRAMED.finditer(s.text):
        inner, at = m.group("inner"), m.start("inner")
        parts = [(a, b) for a, b in _split_at(inner)]
        for a, b in parts:
            got = _subject_of(inner[a:b], within=8)
            if not got:
                continue
            party, word, k = got
            if party.name in _NOT_CAST:
                continue
            quote = inner.strip(",，、 ")
            if not reads_alone(quote) or len(quote) > QUOTE_CHARS or specificity(card, quote) < SPECIFIC:
                continue
            label = group_label(s.text, at + a + k, word)
            if label == word:
                label = display_name(party, word, card.community_type)
            out.append(Stance(party, label, word, s, False, quote, at))
            break
    return out


def _split_at(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch in "，,、":
            out.append((start, i))
            start = i + 1
    out.append((start, len(text)))
    return [(a, b) for a, b in out if b > a]


def _own_clauses(text: str, at: int) -> str:
    """The clause starting at ``at`` and the next one: what the sentence says of the party."""
    cl = [(a, b) for a, b in clauses(text) if b > at]
    return text[at : cl[1][1] if len(cl) > 1 else len(text)]


def absent_parties(card: CaseCard, found: list[Stance]) -> set[str]:
    """Parties whose stances say they are gone (业委会集体辞职) and never anything else."""
    gone = {st.party.name for st in found if st.absent}
    present = {st.party.name for st in found if not st.absent}
    return gone - present


def closeness(a: Sentence, b: Sentence, common: set[str] | frozenset[str]) -> float:
    """How much two sentences are about the same thing: one paragraph, one sub-section, particular words shared
    (a top-level section alone is too broad: a script tells several stories in one)."""
    ga, gb = _bigrams(a.text) - common, _bigrams(b.text) - common
    shared = len(ga & gb) / max(1.0, (len(ga) * len(gb)) ** 0.5)
    # one story is told in a few sentences: a long paragraph may tell several
    close_by = abs(a.start - b.start) <= NEAR_CHARS
    if a.par == b.par and close_by:
        near = 1.0
    elif a.block == b.block and abs(a.par - b.par) == 1 and close_by:
        near = 0.5
    else:
        near = 0.0
    return shared + near


NEAR_CHARS = 400


# plain names of one party: "居民" and "业主" at one table are the same people
_SAME = [{"居民", "业主", "住户", "车主"}, {"村民", "农户"}, {"商户", "商铺", "店主", "商家"}, {"外卖骑手", "快递小哥"}]


def _plain(label: str) -> str:
    return next((min(group) for group in _SAME if label in group), label)


CLOSE = 0.3  # a stance about a scene: in its paragraph or sub-section, or sharing its particular words


def distinct(a: Stance, b: Stance, community_type: str) -> bool:
    """Two stances are two parties: different parties, or groups of one party named apart ("一楼业主", "二楼业主")."""
    if _plain(a.label) == _plain(b.label) or a.label in b.label or b.label in a.label:
        return False
    return True


def cast(
    card: CaseCard,
    scene: Sentence,
    found: list[Stance],
    used: set[int] = frozenset(),  # type: ignore[assignment]
    limit: int = 3,
) -> list[Stance]:
    """Up to ``limit`` distinct parties with a stance about ``scene``'s conflict, the closest first.

    A party must be present (not only gone), named by a distinct label, and its
    stance must be about the scene (its paragraph, block or particular words).
    """
    common = common_bigrams(card)
    gone = absent_parties(card, found) | {st.party.name for st in found if st.sentence.start == scene.start and st.absent}
    if _ABSENT.search(scene.text):
        gone |= {p.name for p in load_taxonomy().roles if party_pattern(p).search(scene.text) and _ABSENT.search(scene.text)}
    ranked = sorted(
        (st for st in found if not st.absent and st.party.name not in gone and st.sentence.start not in used and st.sentence.start != scene.start),
        key=lambda st: -closeness(scene, st.sentence, common),
    )
    out: list[Stance] = []
    for st in ranked:
        if closeness(scene, st.sentence, common) < CLOSE:
            break
        ga, gb = _bigrams(scene.text), _bigrams(st.quote)
        if ga and gb and len(ga & gb) / min(len(ga), len(gb)) > 0.6:
            continue  # it restates the scene
        if any(not distinct(st, o, card.community_type) for o in out):
            continue
        out.append(st)
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------
# the comparison partner: the same problem, another measure


def topic_cases(cards: dict[str, CaseCard], tag: Tag, memo: dict | None = None) -> list[CaseCard]:
    """Cases with something to say on ``tag``: carrying it, or with a measure sentence about it; most about it first.
    ``memo``: a dict kept by the caller for the time its ``cards`` stay the same."""
    if memo is not None:
        key = ("topic_cases", tag.name)
        if key not in memo:
            memo[key] = topic_cases(cards, tag)
        return memo[key]
    out = []
    for c in cards.values():
        keep = scope(c, tag)
        measures = [s for s in measure_sentences(c, keep, tag) if mentions(tag, s.text) or tag.kind]
        if tag.name in c.tag_counts or measures:
            out.append((c.tag_counts.get(tag.name, 0) + 3 * len(measures), c))
    out.sort(key=lambda x: -x[0])
    if tag.kind:  # a community is of a kind when its script keeps saying so: not a passing mention
        top = max((c.tag_counts.get(tag.name, 0) for _, c in out), default=0)
        out = [(n, c) for n, c in out if c.tag_counts.get(tag.name, 0) >= KIND_SHARE * top]
    return [c for _, c in out]


KIND_SHARE = 0.4


def partners(cards: dict[str, CaseCard], card: CaseCard, tag: Tag, memo: dict | None = None) -> list[CaseCard]:
    """Other communities that faced the problem ``tag`` and took measures on it, the likeliest partner first:
    the most alike problems, the least alike measures; a related tag's cases (加装电梯 ~ 电梯更新) when none
    carries ``tag`` itself."""
    if memo is not None:
        key = ("partners", card.case_id, tag.name)
        if key not in memo:
            memo[key] = partners(cards, card, tag)
        return memo[key]
    taxonomy = load_taxonomy()
    pool = [c for c in topic_cases(cards, tag) if c.case_id != card.case_id]
    # what a community of a kind did is told all over its script; a problem's measures where it names the problem
    pool = [c for c in pool if measure_sentences(c, (lambda s: True) if tag.kind else scope(c, tag), tag)]
    if not pool:
        for name in tag.related:
            rel = taxonomy.tag(name)
            pool += [c for c in topic_cases(cards, rel) if c.case_id != card.case_id and c not in pool]
    own_problem = "".join(s.text for s in problem_sentences(card, scope(card, tag), tag)[:3])

    def score(other: CaseCard) -> float:
        theirs = "".join(s.text for s in problem_sentences(other, scope(other, tag), tag)[:3])
        ga, gb = _bigrams(own_problem), _bigrams(theirs)
        alike = len(ga & gb) / len(ga | gb) if ga and gb else 0.0
        return 3 * alike + min(other.tag_counts.get(tag.name, 0), 30) / 30 - 0.5 * _measures_alike(card, other)

    return sorted(pool, key=lambda o: -score(o))


def _measures_alike(a: CaseCard, b: CaseCard) -> float:
    la, lb = [_bigrams(m.label) for m in a.measures], [_bigrams(m.label) for m in b.measures]
    if not la or not lb:
        return 0.0
    return sum(max((len(x & y) / len(x | y) if x | y else 0.0) for y in lb) for x in la) / len(la)


def shared_problems(a: CaseCard, b: CaseCard, idf: dict[str, float], exclude: Iterable[str] = ()) -> list[Tag]:
    """The problem tags two communities share, for a kind topic: the most about both first, rare tags before
    common ones (楼道堆物 says more than 矛盾调解)."""
    taxonomy = load_taxonomy()
    skip = set(exclude)
    scored = [
        (min(a.tag_counts[t.name], b.tag_counts[t.name]) ** 0.5 * idf.get(t.name, 0.0), t)
        for t in taxonomy.tags
        if not t.kind and t.name not in skip and t.name in a.tag_counts and t.name in b.tag_counts
    ]
    return [t for sc, t in sorted(scored, key=lambda x: -x[0]) if sc > 0]


__all__ = [
    "PROBLEM_KINDS",
    "Stance",
    "absent_parties",
    "cast",
    "common_bigrams",
    "group_label",
    "lesson_sentences",
    "measure_sentences",
    "mentions",
    "outcome_sentences",
    "owner",
    "partners",
    "party_pattern",
    "problem_kinds",
    "problem_sentences",
    "same_conflict",
    "scope",
    "shared_problems",
    "stances",
    "topic_cases",
]
