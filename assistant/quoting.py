"""Short verbatim quotes that read on their own.

A handout question or a 为什么相似 reason quotes a few dozen characters of a
script sentence, and the reader sees only those characters.  A span cut
anywhere reads as a fragment ("逐步向", "…风俗习惯等"), opens with a word that
points back ("但是…", "该群体…"), or carries the script's layout ("4、",
"**", "【P15】").  :func:`excerpt` returns the best span of a sentence that is
made of whole clauses and reads as a statement, or None when the sentence has
none — the caller then quotes another sentence.

The rules are about Chinese sentence structure, not about particular scripts:

- a span starts at the sentence start (after its list marker, a leading
  connective such as "同时," or "但是"), after a semicolon or colon, or after
  the scene-setting clauses that open the sentence ("经过三个多月的努力,");
- it ends at the sentence end or after a clause that is complete: not ending in
  a word that needs what follows ("等", "的", "向", "和" …), not a lone
  subordinate clause ("尽管…", "随着…");
- it never cuts inside quotation marks, book-title marks or brackets, and its
  quotation marks are paired;
- it does not open with a word that points to something said before
  ("该", "这", "其", "他们" …).

Example::

    >>> excerpt("同时,首创房屋建造\\"保障金\\"制度。")
    '首创房屋建造"保障金"制度'
    >>> excerpt("来自不同村的村民尽管居住在了同一小区,但文体活动、人情往来、风俗习惯等,还是以原来的村为单位。", limit=30) is None
    True
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable

QUOTE_CHARS = 60

# list markers and layout residue in front of a sentence: "一是", "(一)", "4、", "第二,", "①", "-", "**", "【P15】"
_MARKER = re.compile(
    r"(?:\s|\*\*|【[^】]{0,12}】|[(（][^()（）]{2,30}[)）](?=[\u4e00-\u9fff])|[-·•]|(?:[一二三四五六七八九十]+[、是]|第[一二三四五六七八九十]+(?:步|个|是)?[，,、:：]"
    r"|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．](?!\d)|[①-⑩])\s*)+"
)
# a connective that opens a sentence says how it follows on; the statement starts after it
_LEAD_CONNECTIVE = re.compile(
    r"^(?:与此同时|在此基础上|另一方面|一方面|同时|此外|另外|因此|所以|于是|首先|其次|再次|最后|然后|接着|随后|当然|其实|总之|总的来说"
    r"|但是|但|然而|可是|不过|而且|并且|而|再加上|加上|加之|举一个例子|举个例子|比如说|比如|例如|譬如|如(?=针对|在|对))(?![不非未没])[，,：:]?"
)
# a span opening with these points back to what came before: it cannot be read alone
_POINTS_BACK = re.compile(
    r"^(?:与(?!此同时)|是(?!否)|诸如此类|如此|该|这|此(?!前)|其(?![他它实])|上述|以上|前者|后者|他们|她们|它们|他|她|它|对此|为此|那|之后|此后|然后|并|且|又|也|还|就|才|即|则|从而|进而|以便|以致)"
)
# a clause that tells the next step of what was done: a span may start there ("最终在…建设了478块菜园")
_FRAME_TAIL = re.compile(r"(?:等|的)(?:环节|方式|形式|途径|措施|渠道|手段|举措|过程|基础上|前提下|情况下)$")
_NEW_STEP = re.compile(r"^(?:最终|最后|随后|后来|如今|现在|目前|截至目前|此后)")
# a clause that only sets the scene; the main clause follows
_FRAME = re.compile(
    r"^(?:为了?|面对|针对|经过|通过|随着|由于|在|从|根据|按照|结合|围绕|依托|自|自从|当|对于|近年来|近期|目前|如今|此前|当时|\d{2,4}年)"
)
# a clause that needs the next one: a lone "尽管…" or "随着…" is not a statement
_SUBORDINATE = re.compile(r"^(?:尽管|虽然|虽|如果|假如|若|因为|由于|随着|只要|只有|即使|哪怕|不仅|不但|既|一旦|当|为了?|面对|针对|在|经过|通过|对于|对)")
# a clause ending in a word that needs what follows
_DANGLING_END = re.compile(
    r"(?:等|的|地|和|(?<![参赋授])与|(?<![涉普危])及|以及|或|或者|对|向|在|把|将|被|从|为|以|让|使|给|是|及其|并|而|但|如|像|比如|例如|包括|就是|即|来说|而言|来看)$"
)
_SETS_SCENE = re.compile(
    r"^(?:为了?|面对|针对|经过|通过|随着|由于|根据|按照|结合|围绕|依托|对于|尽管|虽然|如果|只要|只有|即使|借着|趁着|乘着|借助"
    r"|经(?!济|营|费|验|常|理|历|典|过了))"
)
_PLACE_TIME = re.compile(r"^(?:在|从|自|当)")
# "以"清洁村庄助力乡村振兴"为主题": the frame of what follows
_WITH_AS = re.compile(r"^以.*为(?:主题|抓手|载体|契机|目标|核心|重点|导向|基础|依托|平台|主线|切入点|突破口)$")
_PLACE_TIME_END = re.compile(r"(?:上|中|下|时|后|前|里|内|方面|之初|期间|问题|基础|过程)$")
# a clause ending on when something happened: "平移工作启动伊始", "一到下班时间", "列成解决目标后"
_WHEN_END = re.compile(r"(?:伊始|之初|之际|以来|期间|之时|时候|时间|时期|阶段|之后|以后|之前|以前|[^同及平随准按暂]时|[^之然最前背以今落身]后)$")
# a clause with a preposition whose object ends the clause, and no verb after it: "2020年起依托产业项目"
_PREPOSITIONS = re.compile(r"依托|借助|利用|围绕|依据|按照|根据|结合|针对|面对|通过|凭借|基于")
_CLAUSE_SEP = re.compile(r"[，,；;：:]")
# an enumeration introduced, its items cut: "…的例子还有像小区南门主路…"
_LIST_INTRO = re.compile(r"例子还有|还有像")
# a note of the speaker's left in the script: "(引出问题)", "(举些例子)", "【展示照片】"
_STAGE = re.compile(r"[(（【](?:引出问题|引出|举些?例子|举例|过渡|小结|总结|展示[^)）】]{0,6}|PPT|图片?\d*|照片|视频|播放[^)）】]{0,6})[)）】]")
_ASIDE = re.compile(r"[(（][^()（）]{16,}?[)）]")
_INNER_MARKER = re.compile(r"[，,；;：:]\s*(?:[(（]\d+[)）]|\d+[、.．](?!\d)|[①-⑩])")
_OPEN = "“《(（【「"
_CLOSE = "”》)）】」"
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_CHARS = 8  # shorter spans say too little to be read alone


def tidy(sentence: str) -> tuple[int, int]:
    """The ``(start, end)`` of a sentence without its layout (list marker, "**", an unpaired edge quote mark)
    and its closing punctuation."""
    text = sentence
    a, b = 0, len(text)
    while True:
        m = _MARKER.match(text, a)
        if not m or m.end() == a:
            break
        a = m.end()
    while b > a and text[b - 1] in "。！？!?；;，,、 \n*":
        b -= 1
    # a quote mark closing the previous sentence's quotation (at its start, or after its final stop)
    if b > a and _unpaired(text[a:b]):
        if text[a] in '"”' and not _unpaired(text[a + 1 : b]):
            a += 1
        elif text[b - 1] in '"”' and b - 2 >= a and text[b - 2] in "。！？!?" and not _unpaired(text[a : b - 1]):
            b -= 2
    return a, b


def _unpaired(span: str) -> bool:
    if span.count('"') % 2:
        return True
    depth = 0
    for ch in span:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                return True
    return depth != 0


def clauses(sentence: str) -> list[tuple[int, int]]:
    """Clause boundaries of a sentence (offsets into it), never inside quotes, titles or brackets."""
    return list(_clauses(sentence))


@lru_cache(maxsize=65536)
def _clauses(sentence: str) -> tuple[tuple[int, int], ...]:
    a, b = tidy(sentence)
    # a quotation running on into the next sentence ('有店主倾诉道,"安装花架护栏…'): its mark opens a new clause
    opens = sentence.rindex('"', a, b) if sentence[a:b].count('"') % 2 else -1
    out, start, depth, straight = [], a, 0, False
    stage = {m.start(): m.end() for m in _STAGE.finditer(sentence, a, b)}
    # a long aside in brackets ("拥有一票否决权(多层620户、别墅区180户…)"): a clause of its own, so that what comes
    # before it can be quoted without it
    aside = {m.start(): m.end() for m in _ASIDE.finditer(sentence, a, b) if m.start() not in stage}
    skip_to = -1
    for i in range(a, b):
        ch = sentence[i]
        if i < skip_to:
            continue
        if i in stage and not depth and not straight:  # "(引出问题)": the speaker's note, a boundary
            if i > start:
                out.append((start, i))
            start = skip_to = stage[i]
            continue
        if i in aside and not depth and not straight:
            if i > start:
                out.append((start, i))
            out.append((i, aside[i]))
            start = skip_to = aside[i]
            continue
        if i == opens:
            if i > start:
                out.append((start, i))
            start = i + 1
        elif ch == '"':
            straight = not straight
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif _CLAUSE_SEP.match(ch) and not depth and not straight:
            if i > start:
                out.append((start, i))
            start = i + 1
    if b > start:
        out.append((start, b))
    return tuple(out)


def _pure_frame(clause: str) -> bool:
    """A clause that is only a frame ("依据上海市物业管理相关规定"), not a statement beginning with one
    ("在车辆密集时段通行困难")."""
    if not _FRAME.match(clause):
        return False
    return not _PLACE_TIME.match(clause) or bool(_PLACE_TIME_END.search(clause))


def is_frame(clause: str) -> bool:
    """A clause that only sets the scene ("经过三个多月的努力", "在业委会无法运作的过渡阶段"), or ends one that
    runs over a comma ("通过职能部门实地勘察、初步拟定方案,街区党支部征询商户意见等环节")."""
    return bool(_FRAME.match(clause) or _FRAME_TAIL.search(clause))


def lead_skip(text: str) -> int:
    """Characters of a leading connective ("同时,", "但是") to skip."""
    m = _LEAD_CONNECTIVE.match(text)
    return m.end() if m else 0


def reads_alone(span: str) -> bool:
    """Whether a span can be quoted without its context: enough words, no layout, paired marks, not pointing back,
    not ending in a word that needs more."""
    s = span.strip()
    if ELLIPSIS in s:  # an elided quote: its opening reads alone, and its turn without the turn word
        parts = pieces(s)
        return len(parts) == 2 and reads_alone(parts[0]) and reads_alone(parts[1][lead_skip(parts[1]) :])
    if len(_CJK.findall(s)) < MIN_CHARS or "**" in s or "【" in s or "】" in s or _unpaired(s):
        return False
    if _INNER_MARKER.search(s) or _STAGE.search(s) or _LIST_INTRO.search(s):
        return False  # a list inside: "旨在:(1)为…"
    if _POINTS_BACK.match(s) or _LEAD_CONNECTIVE.match(s) or _MARKER.match(s):
        return False
    last = _CLAUSE_SEP.split(s.rstrip("。！？!?；;，,"))[-1]
    last = last[lead_skip(last) :]
    bare = re.sub(r"[(（][^()（）]*[)）]$", "", last)  # "…的共性矛盾(遮光、挡路、安全隐患等)": what the brackets close on
    if _DANGLING_END.search(bare.rstrip("\"”’)）")) or len(_CJK.findall(last)) < 3:
        return False
    if (
        _SETS_SCENE.match(last)
        or (_PLACE_TIME.match(last) and _PLACE_TIME_END.search(last))
        or _WHEN_END.search(last)
        or _WITH_AS.match(last)
    ):
        return False  # ends on a clause that only sets the scene for what was cut
    m = _PREPOSITIONS.search(last)
    if m and not _has_verb_after(last[m.end() :]):
        return False
    if _NOUN_END.search(last) and not _PREDICATE.search(last):
        return False  # "北门外阻挡停车堵塞消防通道放置的石墩子": a thing named, nothing said of it
    if _NOUN_END.search(last) and _TOPIC.search(last):
        return False  # "各区域对于不符合自己利益的议题": the topic named, what of it is cut
    # "尽管…" needs its "但…", "不仅…" its "还…"
    for first, then in _PAIRS:
        m = first.search(s)
        if m and not then.search(s, m.end()):
            return False
    return True


@lru_cache(maxsize=65536)
def pos_cut(text: str) -> list[tuple[str, str]]:
    """``(word, part of speech)`` by jieba over the library's tokenizer (one tagger for the process: a second
    one built on the same tokenizer tags the user dictionary's words "x")."""
    from assistant.lexical import pos_tokenizer

    return [(t.word, t.flag) for t in pos_tokenizer().cut(text)]


# who acts in a script: the speaker, the community's bodies, its people
_AGENT = re.compile(
    r"^(?:我们|社区工作者|社区|街区|居民区|居委会|居委|村委会|村委|村两委|党支部|党总支|党委|党组织|物业公司|物业|业委会|居民|村民|业主"
    r"|商户|志愿者|党员|楼组长|网格员|工作人员|[\u4e00-\u9fff]{2,6}(?:党支部|党总支|居民区|小组|工作组|理事会|委员会))"
    r"(?:也|还|就|又|则|都|先|再|随即|立即|马上|主动|共同|一起)?(?=[\u4e00-\u9fff])"
)


def _has_subject(head: str) -> bool:
    """A clause opening with who acts ("社区调整了思路", "我们又拉来了…"): it reads as a statement of its own."""
    m = _AGENT.match(head)
    if not m:
        return False
    rest = pos_cut(head[m.end() : m.end() + 4])
    return bool(rest) and rest[0][1].startswith(("v", "d", "p"))


def _has_verb_after(text: str) -> bool:
    """Whether ``text`` holds a verb: "依托产业项目" does not, "依托产业项目盘活闲置农房" does."""
    return any(flag.startswith("v") and flag != "vn" for _, flag in pos_cut(text))

# the speaker's judgement of what matters closing a statement: "…,把业委会建好、把物业管好尤为重要", "…是关键"
_JUDGES = re.compile(
    r"(?:(?:尤为|至关|十分|非常|很|极为|更为|更加|特别|最为|格外|尤其|至为|相当)(?:重要|关键)|(?:是|就是|才是)(?:关键|重中之重)"
    r"|是[^，,。；;]{1,12}的关键|重中之重|必不可少|不可或缺)了?$"
)


def concludes(span: str) -> bool:
    """Whether a span ends in the speaker's judgement of what matters ("…尤为重要", "…是关键"): a stance the
    speaker takes, not a fact of the community (a difficulty it met, a step it took)."""
    last = _CLAUSE_SEP.split(span.strip().rstrip("。！？!?；;，,\"”’"))[-1]
    return bool(_JUDGES.search(last))


# a place told in a clause of its own ("在12345平台", "在奥园居民区"): the next clause is told of it
_PLACE_WORDS = ("n", "m", "r", "s", "eng", "zg", "q")


def bare_place(clause: str) -> bool:
    """A short clause that only says where ("在12345平台,投诉量…占了大头"): what follows is told of that place and
    does not say where without it.  Not a circumstance ("在党委政府的帮助下", "在…过程中") nor a clause with a
    predicate ("在醒目位置放置意见收集箱")."""
    c = clause.strip()
    if not c.startswith("在") or len(_CJK.findall(c)) > 10 or "的" in c or _PLACE_TIME_END.search(c) or _WHEN_END.search(c):
        return False
    tokens = pos_cut(c)
    if len(tokens) < 2 or tokens[0] != ("在", "p"):
        return False
    return all(flag.startswith(_PLACE_WORDS) for _, flag in tokens[1:]) and tokens[-1][1].startswith(("n", "s", "eng"))


# a clause ending in "…的" + a short noun, with nothing marking a predicate, only names a thing
_NOUN_END = re.compile(r"的[\"“]?[\u4e00-\u9fff]{1,4}[\"”]?$")
_TOPIC = re.compile(r"对于|关于|至于")
_PREDICATE = re.compile(r"[了着过]|是|成为|成了|变成|为|有|属于|让|使|得|在|没|不")

_PAIRS = (
    (re.compile(r"尽管|虽然|虽说|即使|哪怕"), re.compile(r"但|却|仍|还|也|依然")),
    (re.compile(r"不仅|不但|不光"), re.compile(r"还|也|而且|更|并且|同时")),
    (re.compile(r"既"), re.compile(r"又|也|还")),
    (re.compile(r"不是"), re.compile(r"而是|也不是|就是")),
    # "表面是花粉问题" needs its "背后是…", "看似都有责任" its "实则都难牵头"
    (re.compile(r"表面上?(?:是|看)|看似|看上去"), re.compile(r"背后|实则|实际|实质|其实|却|但")),
)


def spans(sentence: str, limit: int = QUOTE_CHARS, starts_at: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Every ``(start, end)`` of ``sentence`` at most ``limit`` characters long that may be quoted alone.

    ``starts_at``: offsets of clauses where a new statement starts besides those
    found here (e.g. a clause whose subject is a new party: "…,二楼业主也反对")."""
    return list(_spans(sentence, limit, tuple(sorted(set(starts_at)))))


@lru_cache(maxsize=65536)
def _spans(sentence: str, limit: int, starts_at: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    cl = clauses(sentence)
    if not cl:
        return ()
    extra = set(starts_at)
    starts = []
    hard = 0  # the first clause after the last hard boundary (a semicolon, a colon, a quotation mark, a speaker's note)
    for i, (a, _) in enumerate(cl):
        if i == 0:
            ok = True
        else:
            sep = sentence[cl[i - 1][1] : a]
            if any(ch in '；;：:"' for ch in sep) or _STAGE.search(sep):
                hard = i
            # a new statement starts after a hard boundary; after a comma only when what comes before only set the
            # scene, or where the caller knows a new subject starts
            ok = bool(
                hard == i
                or a in extra
                or (_has_subject(sentence[a : a + 14]) and not any(is_frame(sentence[x:y]) for x, y in cl[hard:i]))
                or lead_skip(sentence[a:]) > 0
                or _NEW_STEP.match(sentence[a:])
                or (_pure_frame(sentence[a : cl[i][1]]) and not _FRAME_TAIL.search(sentence[cl[i - 1][0] : cl[i - 1][1]]))
                or all(is_frame(sentence[x:y]) or lead_skip(sentence[x:y]) == y - x for x, y in cl[hard:i])
            )
        if ok and i > hard and bare_place(sentence[cl[i - 1][0] : cl[i - 1][1]]):
            ok = False  # "在12345平台,|投诉量…": the statement starts with where it is told of
        if ok:
            starts.append(i)
    out = []
    for i in starts:
        if sentence[cl[i][0]] in "(（":
            continue  # an aside
        if len(_CJK.findall(sentence[cl[i][0] : cl[i][1]])) < 3 and i + 1 < len(cl):
            continue  # "换,每根5米长…": a stray word left of a split, not a clause
        if _FRAME_TAIL.search(sentence[cl[i][0] : cl[i][1]]):
            continue  # the end of a frame begun before
        a = cl[i][0]
        m = _MARKER.match(sentence, a)
        a = m.end() if m and i else a
        a += lead_skip(sentence[a:])
        for j in range(i, len(cl)):
            b = cl[j][1]
            if b - a > limit:
                break
            if j == i and _SUBORDINATE.match(sentence[a:b]) and j + 1 < len(cl):
                continue  # "尽管…" alone
            span = sentence[a:b]
            if b < len(sentence) and sentence[b] in "：:" and j + 1 < len(cl):
                continue  # a lead-in: what it introduces is cut
            if j + 1 < len(cl) and (m := _PREPOSITIONS.search(sentence[cl[j][0] : b])) and not _has_verb_after(sentence[cl[j][0] : cl[j][0] + m.start()]):
                continue  # "我们通过召开…会议" cut before what was done by it (not "拟定居委会通过…代为履职")
            if reads_alone(span):
                out.append((a, b))
    return tuple(out)


def excerpts(
    sentence: str,
    limit: int = QUOTE_CHARS,
    must: re.Pattern | None = None,
    score: Callable[[str], float] | None = None,
    starts_at: Iterable[int] = (),
    only_from: int | None = None,
    not_before: int = 0,
    to_the_end: bool = True,
) -> list[str]:
    """Every span of ``sentence`` (at most ``limit`` characters) that reads on its own, best first.

    ``only_from``: the span must start there (a clause start).  A span holding
    ``must`` comes first; among those, one running to the end of the sentence
    (the whole sentence when it is short enough; unless ``to_the_end`` is
    false), then the highest ``score`` (e.g. how surely it reads as a
    measure), then the longest.
    """
    cands = spans(sentence, limit, starts_at)
    if only_from is not None:
        cands = [(a, b) for a, b in cands if a == only_from]
    cands = [(a, b) for a, b in cands if a >= not_before]
    if not cands:
        return []
    whole = tidy(sentence)

    def key(ab: tuple[int, int]) -> tuple:
        text = sentence[ab[0] : ab[1]]
        holds = bool(must and must.search(text))
        # a span that runs to the end of the sentence says what the sentence comes to
        full = ab[1] == whole[1] and to_the_end
        return (holds, full, score(text) if score else 0.0, ab[1] - ab[0])

    return [sentence[a:b] for a, b in sorted(cands, key=key, reverse=True)]


def excerpt(
    sentence: str,
    limit: int = QUOTE_CHARS,
    must: re.Pattern | None = None,
    score: Callable[[str], float] | None = None,
    starts_at: Iterable[int] = (),
    only_from: int | None = None,
    not_before: int = 0,
) -> str | None:
    """The best span of ``sentence`` that reads on its own (:func:`excerpts`), or None."""
    got = excerpts(sentence, limit, must, score, starts_at, only_from, not_before)
    return got[0] if got else None


# a sentence opening with these follows on from the one before: quoted alone, its start is missing ("而第二辆则
#提高到15元/天", "随之而来的是维修基金遭到冻结", "最终在集中居住区周边…" without why)
_FOLLOWS_ON = re.compile(
    r"^(?:而(?![今后])|但(?!凡)|但是|然而|可是|不过|却|因此|所以|于是|因而|故而|由此|可见|结果|随之|随后|随即|之后|此后|后来|接着|然后"
    r"|最终|最后|终于|加上|再加上|加之|再者|何况|况且|其中|其次|再次|另一(?!方面)|另外一|第二|第三|同样|一开始|起初|一来|二来|这样|这时|那时"
    r"|从此|自此|也就是说|换句话说|换言之|即便如此|尽管如此|除此之外|除此以外|与此相反|相反|反之|对此|为此|就此|至此)"
)
# what is cut after a span: its consequence ("…,导致业委会迟迟不能成立"), or what the last verb turns a thing into
# ("升级…服务项目,培育为以学习充电为主的课堂"); a span opening on a cause needs its consequence
_CONSEQUENCE = re.compile(r"^(?:导致|造成|致使|以致|使得|所以|因此|因而|于是|结果|最终|最后|终于|却|才|便|但|但是|然而|可是|不过)")
_GOES_INTO = re.compile(r"^[\u4e00-\u9fff]{0,4}?(?:为|成)以")
_CAUSE = re.compile(r"^(?:由于|因为|因(?![此而])|虽然|尽管|即使|如果|假如|只要|随着)")
_CAUSE_DONE = re.compile(r"[，,].*(?:导致|造成|使|让|所以|因此|但|却|也|还|仍|就|才|便)")
# a clause that introduces what someone says: "有店主倾诉道"
_SPEAKS_END = re.compile(r"(?:说|道|表示|反映|称|讲|坦言|直言|感慨|吐槽|抱怨|诉苦)$")
# misspellings a script may carry, read aloud as they stand ("破在眉睫" for 迫在眉睫)
_TYPO = re.compile(
    r"破在眉睫|充电装(?!置)|公立规矩|历害|按装(?!修)|既使|再接再励|一股作气|迫不急待|默守成规|甘败下风|谈笑风声|穿流不息|走头无路"
    r"|哄堂大笑不止|不径而走|事半功陪|变本加利|一愁莫展|出奇不意|声名雀起|美仑美奂|破釜沉船|按步就班|一如继往|精兵减政"
    # 介于 for 鉴于 ("介于第一部电梯的成功"), 与 for 于 before a date ("并与2024年完成施工")
    r"|介于[^，,。；;]{1,16}的(?:成功|经验|成效|做法)|与\d{4}年(?:\d{1,2}月)?(?:完成|竣工|建成|投入|开工|启动)"
)


def locate(span: str, sentence: str) -> tuple[int, int] | None:
    """Where ``span`` sits in ``sentence`` (offsets), whitespace ignored; None when it is not there.  An elided
    span ("开头……但是…", see :func:`elisions`) sits from where its first piece starts to where its last ends,
    its pieces in order."""
    got = _locate(span, sentence, 0)
    if got is not None or ELLIPSIS not in span:
        return got
    first = None
    at = 0
    for piece in pieces(span):
        hit = _locate(piece, sentence, at)
        if hit is None:
            return None
        first = hit[0] if first is None else first
        at = hit[1]
    return (first, at) if first is not None else None


def _locate(span: str, sentence: str, after: int) -> tuple[int, int] | None:
    pos = [i for i, ch in enumerate(sentence) if not ch.isspace() and i >= after]
    flat = "".join(sentence[i] for i in pos)
    want = re.sub(r"\s+", "", span)
    k = flat.find(want)
    if k < 0 or not want:
        return None
    return pos[k], pos[k + len(want) - 1] + 1


def pieces(span: str) -> list[str]:
    """The verbatim pieces of a quote (one, or those an elision "……" joins)."""
    return [x for x in span.split(ELLIPSIS) if x.strip()]


def elided(span: str, sentence: str) -> bool:
    """Whether ``span`` is an elided quote of ``sentence`` (its "……" is not the script's own)."""
    return ELLIPSIS in span and _locate(span, sentence, 0) is None


def quote_faults(span: str, sentence: str, opens_on_subject: Callable[[str], bool] | None = None) -> list[str]:
    """Why a quoted span of ``sentence`` would not read on its own in a handout, in Chinese; [] when it does
    (see :func:`_quote_faults`)."""
    return list(_quote_faults(span, sentence, opens_on_subject))


@lru_cache(maxsize=65536)
def _quote_faults(span: str, sentence: str, opens_on_subject: Callable[[str], bool] | None = None) -> tuple[str, ...]:
    """The faults of a span, computed once per span and sentence.

    Stricter than :func:`reads_alone`, which judges the span alone: the span starts where the sentence's
    statement starts (its first clause, or after a semicolon or colon), never with a word that follows on from
    what came before (nor in a sentence that opens with one); it ends at the sentence end, a semicolon, or
    before a clause that goes on with a new step or a new subject; it carries no misspelling; it is no slogan.
    ``opens_on_subject``: whether a span opens on a subject of its own (a party: "一楼业主不同意…"), so that it may
    start after a clause of the speaker's ("…的情况一公布,")."""
    if elided(span, sentence):
        return _elision_faults(span, sentence, opens_on_subject)
    out = []
    at = locate(span, sentence)
    if at is None:
        return ("引文不在原句中",)
    a, b = at
    s0, s1 = tidy(sentence)
    head = sentence[s0:]
    # the clause the span starts in: a span opening after its connective ("…,加上|居民众筹的…") follows on too
    inside = next((sentence[x:a] for x, y in clauses(sentence) if x < a < y), "")
    if _FOLLOWS_ON.match(head) or _FOLLOWS_ON.match(span.lstrip("\"“")) or _POINTS_BACK.match(span) or _FOLLOWS_ON.match(inside):
        out.append("引文承接上文开头")
    elif a > s0 + lead_skip(head):
        sep = sentence[:a].rstrip()[-1:]
        dropped = [sentence[x:y] for x, y in clauses(sentence) if s0 <= x and y <= a]
        frames = all(is_frame(d[lead_skip(d):]) or _SPEAKS_END.search(d) for d in dropped)
        own = _has_subject(sentence[a : a + 14]) or bool(opens_on_subject and opens_on_subject(sentence[a:b]))
        if sep not in "；;：:。！？!?" and not frames and not own:
            out.append("引文从句中截起")
        elif sep in "，," and dropped and bare_place(dropped[-1]):
            out.append("引文丢了句首说地点的短语")
    if b < s1:
        rest = sentence[b:s1].lstrip(" ，,")
        # what the speaker concludes from it ("…,所以…尤为重要") is the speaker's judgement, not what came of it
        cut = (_CONSEQUENCE.match(rest) and not concludes(rest)) or _GOES_INTO.match(rest)
        if cut or (_CAUSE.match(span) and not _CAUSE_DONE.search(span)):
            out.append("引文截断了后半句")
    if sentence.rstrip()[-1:] in "：:" and b >= s1 - 1:
        out.append("引文引出的内容被截掉")  # "打造"益课堂"特色品牌,包含四个维度:" and the four are in the next sentences
    if _TYPO.search(span):
        out.append("引文有错字")
    if is_slogan(span) or _THANKS.search(span):
        out.append("引文是口号或套话")
    if not reads_alone(span):
        out.append("引文读不通")
    return tuple(out)


def _elision_faults(span: str, sentence: str, opens_on_subject: Callable[[str], bool] | None) -> tuple[str, ...]:
    """The faults of an elided quote: its opening is a quote of its own (:func:`_quote_faults`); it leaves out the
    middle of the sentence only; its last piece is the turn the sentence takes ("但是…") and runs to its end."""
    parts = pieces(span)
    if len(parts) != 2 or locate(span, sentence) is None:
        return ("引文不在原句中",)
    head, turn = parts
    out = [f for f in _quote_faults(head, sentence, opens_on_subject) if f != "引文截断了后半句"]
    h = _locate(head, sentence, 0)
    t = _locate(turn, sentence, h[1] if h else 0)
    s0, s1 = tidy(sentence)
    if h is None or t is None or t[1] < s1 or not _turn_start(sentence, t[0]) or not sentence[h[1] : t[0]].strip(" ，,·…"):
        out.append("省略号后不是原句的转折")
    elif not reads_alone(turn[lead_skip(turn) :]):
        out.append("引文读不通")
    if is_slogan(span) or _THANKS.search(span):
        out.append("引文是口号或套话")
    if _TYPO.search(span):
        out.append("引文有错字")
    return tuple(dict.fromkeys(out))


# where a sentence turns: "…,但是…", "…·····但是…", "…,却…"
ELLIPSIS = "……"
_TURN_WORD = re.compile(r"(?:但是|但(?!凡)|可是|然而|不过|却)")
_TURN_BEFORE = re.compile(r"(?:[，,；;]|·+|…+)\s*$")


def _turn_start(sentence: str, at: int) -> bool:
    """Whether the sentence turns at ``at``: a turn word after a clause break (or the speaker's "·····")."""
    return bool(_TURN_WORD.match(sentence, at)) and bool(_TURN_BEFORE.search(sentence[:at]))


def elisions(sentence: str, limit: int = QUOTE_CHARS, starts_at: Iterable[int] = ()) -> list[str]:
    """Quotes of a sentence too long to quote whole that keep both its opening and the turn it takes at the end,
    the middle left out: "换电梯的钱要从…开支的情况一公布,一楼业主不同意……但是维修资金的使用规定是法定的,无法突破".

    Each piece is verbatim; the opening is a span that reads on its own (:func:`spans`, here also one ending
    before a bracketed note), the turn runs from its turn word ("但是", "却" …) after a clause break to the end of
    the sentence.  At most ``limit`` characters with the "……"; best first (the earliest opening, then the
    longest); [] when the sentence has no such turn or fits whole."""
    a, b = tidy(sentence)
    if b - a <= limit:
        return []
    turns = [m.start() for m in _TURN_WORD.finditer(sentence, a, b) if m.start() > a and _turn_start(sentence, m.start())]
    out: list[tuple[int, int, str]] = []
    for t in turns[-1:]:  # the last turn: what the sentence comes to
        turn = sentence[t:b]
        room = limit - len(ELLIPSIS) - len(turn)
        if room < MIN_CHARS or not reads_alone(turn[lead_skip(turn) :]):
            continue
        # where an opening may end: a clause end before the turn, or just before a bracketed note
        ends = {y for _, y in clauses(sentence) if y < t}
        ends |= {i for i in range(a + 1, t) if sentence[i] in "(（" and sentence[i - 1] not in "(（"}
        for e in sorted(ends):
            gap = sentence[e:t].strip(" ，,；;·…")
            if not gap:
                continue  # nothing left out: a span of its own
            for x, y in spans(sentence[:e], room, starts_at):
                if y == tidy(sentence[:e])[1]:
                    out.append((x, y, sentence[x:y] + ELLIPSIS + turn))
    out.sort(key=lambda o: (o[0], -(o[1] - o[0])))
    return list(dict.fromkeys(x for _, _, x in out))


# a slogan or a directive: the speaker's frame, not something a community did or faced
_SLOGAN = re.compile(
    r"习近平|总书记|党中央|二十大|二十届|十[八九]大|重要(?:讲话|指示|论述)|以人民为中心|紧跟|指示要求|指示精神|初心|使命"
    r"|新时代|新征程|高质量发展|中国式现代化|根本遵循|人民城市|战斗堡垒|一面旗帜|贯彻落实|决策部署|获得感|幸福感|安全感"
    r"|三治融合|自治、法治、德治|共建共治共享|全过程人民民主"
)
# thanks and maxims, nothing to discuss: "离不开街道领导的重视和关怀", "功成不必在我"
_THANKS = re.compile(
    r"功成不必在我|久久为功|感谢|感恩|离不开[^，,。]{0,16}(?:重视|关怀|关心|支持|指导|帮助)|归根(?:到底|结底)|聚人心|暖民心"
)


def is_slogan(text: str) -> bool:
    """A sentence built on a slogan or a directive (it supports nothing a trainer can discuss)."""
    return bool(_SLOGAN.search(text))


__all__ = [
    "QUOTE_CHARS",
    "ELLIPSIS",
    "clauses",
    "elided",
    "elisions",
    "excerpt",
    "excerpts",
    "is_frame",
    "is_slogan",
    "lead_skip",
    "locate",
    "pieces",
    "pos_cut",
    "quote_faults",
    "reads_alone",
    "spans",
    "tidy",
]
