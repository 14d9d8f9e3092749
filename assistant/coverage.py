"""Coverage: do the scripts address what a question is about?  有 / 部分 / 没有.

The signal is what the question is *about* against what the retrieved passages *discuss*,
in words, not in retrieval scores:

- **Concepts**: the question's content words (jieba, part of speech; question words,
  everyday words and place names dropped), each weighted by its specificity in general
  language (log of jieba's dictionary frequency: 破袋率 weighs more than 管理). Words most
  scripts use (``COMMON_SHARE``) say nothing about coverage; a concept in the clause that
  asks (the one holding 怎么, 吗 …) is *asked*, the others set the scene. How the asker wants it to
  end (让大家信服), praises the way (两全的办法), how the asker feels about it (担心, 头疼) or when the
  story happens (过段时间) is no concept; a verb and the one-character noun after it are one (jieba's 进门 + 码: the 进门码 asked for).
- **Places**: each retrieved passage with its neighbours in its section (``WINDOW``) and the opening of
  the section above it (``INTRO``: the matter its subsections solve), its
  heading and the practitioners' questions linked to it (corpus/links.jsonl). A place
  *discusses* a concept (``STRONG``) when its heading or a linked question names it or two
  sentences do, *mentions* it (``WEAK``) in one sentence; a list item or a bracket is no mention (brackets
  that give figures in clauses of their own are: "(湿谷加工后价格从1、5元/斤涨到5元/斤,…年增收约200万元)"). A user's word the scripts spell
  otherwise is found by its characters in order (:func:`scattered`: 废车 in 废弃车辆).
- **Judgement** (:func:`decide`): a place *misses* an asked concept it does not discuss and
  a scene-setting concept absent from it (unless two scripts or more use that word: then
  the place words it otherwise; nor a word said only in who asks, "房管所：…": ``Concept.lead``).
  有 when a place discusses something and misses nothing, or
  misses only scene-setting words and discusses twice as much as it misses (``MOSTLY``: 挡路 in a
  question about chairs in the stairwell is detail, not a part left out);
  部分 when a place discusses at least as much of the question, by weight, as it misses
  (:func:`addresses`) — the missed concepts are named in the user's words (:func:`_names`), by what is
  asked when some of it is missed, not by the story told before it (:func:`named_by`) —
  but not when all the question asks is in no script's words (``Concept.unheard``:
  外嫁女, 年检费): such a place only sets the scene; nor when it never says the head of what is
  asked (``Concept.modifier``: 残疾人就业 at a place about 残疾人 without 就业);
  没有 otherwise. A question in none of the scripts' vocabulary that no passage's own text
  discusses is off-domain; the retrieval distance only decides that case.
- **Procedures** (:func:`procedure_terms`): a question that asks for an administrative procedure
  ("低保怎么申请", "要走什么流程", "需要哪些条件") asks for rules; the procedure is an asked concept,
  discussed only where it is named together with what it is for, and a place missing it gives no 部分.
- **Figures** (:data:`_QUANTITY`): a question that asks for a figure ("要多少比例的业主同意", "补偿标准是多少",
  "多久见效") is answered only where a sentence gives one beside what it counts (a length of time, for 多久 or
  几天 / 几个月: "几天内办完" ← "原则上5个工作日内办"; a
  sum beside what the clause names, for a price: "收费定多少" ← "设定1元充六小时"): the figure is an asked
  concept of no weight, and a place missing it gives no 部分. A figure or procedure looked up for a city no
  script names ("杭州加装电梯补贴多少") is 没有: the scripts give Songjiang's.
- **Funding** (:data:`_ASKS_FUNDS`): a question that asks where the money comes from or who pays
  ("场地和钱从哪来", "装监控的钱谁出") is answered only where a sentence (or the heading, or a linked
  question) speaks of money — 出资, 资金, 经费, 补贴, 众筹 …, or a sum — together with something the
  question names: an asked concept like a figure, so a place missing it gives no 部分, and a quoted
  sentence saying what the judgement missed is enough (a look-up). A linked question as alike as a
  paraphrase still stands for it (泰晤士小镇's "公共座椅坏了…钱从哪来？" for a question about 长椅).
  A follow-up asking it in the conversation's matter ("那钱从哪里来？" after a question on 宅基地平移) is
  answered by money spoken of anywhere in a script of the matter (黄桥村's 信用贷款 names no 宅基地), and a
  question about money reads its best cases' passages on money besides the retrieved ones (Answerer.on_money).
- **A 部分 no link asks** (:meth:`CoverageJudge.asked_by_no_link`): the bundled links are the questions each
  passage is known to answer. A 部分 whose places' linked questions are none of them as alike to it as three
  in four links are to some other script's link, which asks something else (the index's ``Manifest.link_unasked``:
  the lower quartile of how alike each link gets to its nearest link of another script), is 没有: the words the
  places discuss are the scene, what is asked no passage answers ("快递包裹堆在楼道门口，怎么管理？" at passages on
  楼道堆物). The quartile, not the median, because at the median one in 40 of dev.jsonl's tune half was refused
  (tune halves: +12 gaps refused and 3 answerable at the median, +5 and 0 at the quartile). Not for a
  look-up (it searches only the links users made), a follow-up (it leans on the turns before it), a
  statement that asks nothing (it tells the situation), or where
  the first places are of a script without links (added without an LLM: its words alone decide).
- **A 部分 far from the passages** (``judge(remote=True)``, confidence below
  ``assistant.grounding.GAP_CONFIDENCE``): retrieval finds the question farther from them than all but a few
  answerable questions get, so what the places miss is what is asked: 没有 (not for a follow-up).
- **Links as paraphrases** (:meth:`CoverageJudge.asked_by_a_link`): a question judged 没有 (even one in
  none of the scripts' words: 湿谷, 种粮) whose
  retrieved passage carries a linked question as alike as a paraphrase (the index's
  ``Manifest.link_paraphrase``, :func:`assistant.links.paraphrase_level`) is 有 there: the words it
  missed are wording. A question a user links to a passage is covered the next time it is asked.

Nothing is fitted to a question set: a script added later takes part as soon as it is indexed.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable

import jieba.posseg

from assistant.chunking import Passage, split_sentences
from assistant.corpus import Case
from assistant.lexical import load_tokenizer, tokenize
from assistant.retrieval import Hit, is_lookup
from assistant.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from assistant.stores.base import LinkRow
    from assistant.taxonomy import Taxonomy

__all__ = [
    "DURATION", "FIGURE", "FULL", "FUNDS", "MONEY", "PARTIAL", "NONE", "Concept", "Coverage", "CoverageJudge", "Place", "addresses", "decide",
    "missing_from", "named_by", "said_in",
    "scattered",
]

FULL, PARTIAL, NONE = "full", "partial", "none"
LEVEL_LABELS = {FULL: "有", PARTIAL: "部分", NONE: "没有"}

PLACES = 8  # the retrieved passages whose support counts: those the answer may quote (answer.CANDIDATE_HITS)
VOCABULARY = 2  # a word this many scripts use is a word of theirs: missing from one place, it is wording, not a gap
STRONG, WEAK = 2, 1  # how a place treats a concept: what it is about / one sentence says it
STRONG_SUPPORT, WEAK_SUPPORT, ABSENT = "strong", "weak", "absent"
_SUPPORT = {STRONG: STRONG_SUPPORT, WEAK: WEAK_SUPPORT, 0: ABSENT}
INTRO = 2  # passages of the section above a retrieved one's, from its opening, that belong to its place
WINDOW = 2  # passages each side of a retrieved one, within its section, that belong to its place
SCATTER_SLACK = 2  # a user's word matched by its characters in order may spread over this many more characters
GENERIC_FREQ = 10_000  # jieba dictionary frequency from which a word is everyday language (做, 钱, 管理 …)
COMMON_SHARE = 0.6  # a word in this share of the scripts is the corpus's own general vocabulary

# jieba POS classes that never name a topic: pronouns, numerals, measure words, adverbs,
# prepositions, conjunctions, particles, interjections, onomatopoeia, position, time and
# place words, punctuation, set phrases and idioms (屡禁不止, 当回事: how, not what) and
# distinguishing words (大型, 新一届)
_CLOSED_POS = ("r", "m", "q", "d", "p", "c", "u", "y", "e", "o", "f", "t", "z", "x", "w", "k", "h", "s", "l", "i", "b")
QUESTION_WORDS = frozenset(
    "怎么 怎样 怎么样 怎么办 如何 什么 哪 哪里 哪儿 哪些 谁 吗 呢 吧 能 能否 可以 可否 要 要不要 该 应该 应当 需要 "
    "办 做 搞 弄 干 有 没有 有没有 是 是否 会 想 给 让 找 来 去 怎么弄 怎么搞 咋 咋办 好 多少 几 才能 怎样才能 "
    "如何才能 能不能 可不可以 有何 请问 请教 问问 想问 一下 并且 而且 但是 可是 然后 还是".split()
)
# nouns that frame a request rather than name a topic ("有什么办法", "有没有……的例子")
FRAME_WORDS = frozenset(
    "办法 法子 路子 门路 招 高招 妙招 招数 门道 讲究 思路 方法 做法 经验 建议 对策 措施 途径 例子 案例 先例 "
    "情况 问题 事情 事 东西 地方 方面 时候 作用 效果 效果好 程度 地步 功夫 力度 下手 入手 着手 规矩".split()
)
# 几 asks, except in a quantity (十几个人, 几十年, 就几个人, 好几年); 多久/多大 ask, 没多久 does not
_JI = r"(?<![十百千万0-9就这那好没前])几"
# 几 after a limit asks it ("最多能住几个人", "至少要开几次"), a question mark or not
_JI_LIMIT = re.compile(r"(?:最多|至少|最少|顶多|起码)(?:能|要|可以|得|只能)?[\u4e00-\u9fff]{0,2}$")
_HOW_MUCH = r"多少|(?<![没不])多(?:久|长时间|大|高|远)"
# (什么都不懂, 谁也不服谁, 哪怕, 怎么都不行: "any", "even", not a question)
_QWORD = re.compile(rf"(?:怎么|哪|谁|什么|啥)(?![都也怕])|怎样|如何|咋|是否|能否|能不能|要不要|有没有|{_HOW_MUCH}|{_JI}(?![十百千万])|吗|呢")
_MODALS = "能要该会想可"  # a two-character verb opening with one says what may be done (能用, 要放), not about what
_ASCII_WORD = re.compile(r"[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*")
# a gap is named by the user's words from its first to its last content word when at most this many characters of
# theirs lie between (了, 的, 才肯, 要: "补偿才肯签字", "低保怎么申请"), rather than by its content words glued ("补偿签字")
SPAN_GAP = 2
# a space between Chinese words parts the phrases a gap is named by ("燃气报警器 免费安装怎么申请": 燃气报警器,
# 免费申请), though not the clause that asks (a search-box query's topic is asked about with what follows it);
# between letters or digits it stays inside the phrase ("wi fi")
_SPACE_INSIDE = r"(?<=[a-z0-9])\s+(?=[a-z0-9])"
_CLAUSE = re.compile(rf"(?:[^，,。！!？?；;：:、\s]|{_SPACE_INSIDE})+")
# the clauses of a question, at punctuation (_ASKING_CLAUSE), and at spaces too when it is dictated (_SPOKEN_CLAUSE)
_ASKING_CLAUSE = re.compile(r"[^，,。！!；;：:]+")
_SPOKEN_CLAUSE = re.compile(rf"(?:[^，,。！!；;：:\s]|{_SPACE_INSIDE})+")
_SPOKEN_SPACE = re.compile(r"(?<![a-z0-9])\s+(?![a-z0-9])")
_PUNCT = "，,。；;：:、（(）)“”\"！!？?"
_NOUNISH = ("n", "vn", "an", "eng", "j")
# who and where a question speaks of: after a missed noun they start the next phrase (人口普查|社区怎么配合)
_WHO_WHERE = frozenset("社区 小区 村 村里 居委 居委会 居民 村民 业主 物业 街道 镇 我们 大家 孩子 老人 老人家 人家".split())
# a question set in a community's affairs (村里咋管, 小区里, 居委能做啥) is the scripts' domain, whatever else it names
_COMMUNITY = re.compile(r"村里|村上|村委|村两委|小区|社区|居委|楼道|楼栋|业委会|物业|网格")
LIST_ITEM_CHARS = 10  # an item of an enumeration is a short phrase ("社区矫正人员、"), not a clause
# place and person names (上海, 松江; jieba reads 老公房's 老公 and 修桥 as names too) locate a
# question or are misreadings: they do not say what it is about
_NAME_POS = ("ns", "nsf", "nr", "nrfg", "nrt")
_ASPECT = re.compile("[了着过]")  # 关了门: what happened, not a word jieba does not know
# the hundred most common surnames, or 老/小/阿 (老王, 小李): a word jieba tags as a person's name and opening
# with none of them is a word it does not know (承重墙), not a name
_SURNAME = re.compile(
    "[老小阿王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤]"
)


def _unknown_word(word: str) -> bool:
    """A "name" jieba gave a word it does not know (承重墙): it opens with no common surname and tells no event (关了门)."""
    return not _SURNAME.match(word) and not _ASPECT.search(word)


# a two-character verb ending in a complement (挨着, 剩下, 搬来, 闹出, 帮到) tells how, not about what
_COMPLEMENT = "着下来去进出到起回过开住给"
_DIRECTIONAL = frozenset("上去 上来 下去 下来 进去 进来 出去 出来 起来 过去 过来 回去 回来 开来".split())  # 坐上去, 搬进来
# a degree adverb right before a word makes it a judgement of how good (比较合理, 更稳妥, 最有效), not a topic
_DEGREE = re.compile(r"(?:比较|更加|更|最|很|非常|特别|十分|才)$")
# the people a question wants won over: the word after them is how it should end (让大家信服, 使居民满意)
_OUTCOME = re.compile(r"(?:让|使|令)(?:大家|大伙|居民|村民|业主|群众|老百姓|人家|他们|她们|各方|双方|人人)(?:都|也|更|真正|心里)?$")
# adverbs of insistence jieba's dictionary tags as verbs (死活 455 v): how, not what; and praise of a way
# it tags as nouns or names (两全 n, 双赢 nr, 一劳永逸 nr: "有没有两全的办法" asks how good, not about what)
_INSISTENCE = frozenset("死活 执意 硬要 偏要 两全 双赢 万全 一劳永逸 管用 好使 靠谱 省事 专门 特地 专程 有用 可行 划算 行得通".split())
# conjunctions and modal adverbs jieba tags as verbs or nouns ("这次就算调解好了", "以后肯定还会冒出来")
# 人家: "跟人家借", them; 听说: "听说别的村能…", what the user heard, not what is asked
_FUNCTION = frozenset("就算 原本 索性 肯定 估计 可能 好像 总得 只能 起码 人家 免得 以免 省得 以便 好让 听说 据说 听人说 听别人说".split())
# a negation, perhaps of a wish and with who or when between (不签字, 没人管, 不想自己掏腰包, 不愿再出钱)
_NEGATED = re.compile(r"[不没](?:想|愿|愿意|肯|敢|让|用|再)?(?:自己|再|都|也)?$")
_AGE = re.compile(r"[0-9一二三四五六七八九十]+岁?$")  # "五十岁出头": 出头 says about how old, not what
# where, said of an administrative level or a building (镇上有没有…, 村里能不能…, 楼上): jieba tags some as
# verbs or nouns; they locate the question like a place name, they do not say what it is about
_LOCATIVE = re.compile(r"[镇村区市街县省楼家]+[上里头]|..+[上里]")  # 街面上, 马路上: where, a word of its own
# the asker's worry (担心施工队偷工减料, 最头疼的是): how they feel about it, not what it is about
_WORRY = frozenset("担心 担忧 害怕 生怕 唯恐 发愁 犯愁 头疼 头痛 关心".split())
# when it happens (过段时间又闹起来, 前段时间): the story's time, not what it is about (jieba: nouns)
_WHEN = frozenset("过段时间 前段时间 这段时间 那段时间 一段时间 段时间 前阵子 这阵子 那阵子 阵子".split())
# who asks or passes the matter on, before it is told: "房管所：…", "12345工单：…", "居民来问：…" (a label before a
# colon, with no question in it), "我是网格员。…", "我在镇农业农村服务中心，…" (the asker's introduction). Its words
# set the scene (Concept.lead): a place that lacks them lacks no part of the question (the scripts rarely name a
# 房管所: "没有讲到“房管所”" was the answer to a lift question of eval/holdout_r24.jsonl); one that says them counts them.
_LEAD = re.compile(r"[^，,。？?！!：:\s]{1,10}[：:]|我(?:是|在)[^，,。？?！!：:]{1,16}[，,。]")
# what someone else said, quoted after a verb of saying, asks nothing of us ("老爷叔说“我交了物业费凭什么还要我来分”",
# "哭着来问我们：“…为什么开不下去？”"): the question is the user's own
_REPORTED = re.compile(r"((?:说|问|道|喊|骂|讲|嚷|吼)(?:我们|我|他们|大家|居委)?[:：]?)[“「\"][^”」\"]*[”」\"]")
_COUNTED = re.compile(r"[一二两三四五六七八九十几]+[件个位次条项]")
_REDUPLICATED = re.compile(r"(.)一\1")  # a verb said twice, tentatively: 压一压, 顶一顶, 改一改
_AGENT = "队方员人"  # who does it, after what they do or where they are from: 施工队, 施工方, 保洁员, 外地人
# A question about a procedure of public administration (办事: how to apply for or obtain something,
# what approval, conditions, materials or standard it takes) asks for rules, not for a community's
# experience: the scripts cover it only where a place discusses that procedure itself, however well
# they know the thing it is about (低保, 房产证, 宅基地). The procedure is then part of what is asked,
# whatever its frequency or part of speech (条件, 申请, 办理 are everyday words; 流程 frames requests).
PROCEDURE_NOUNS = frozenset("流程 程序 审批 手续 条件 要求 材料 证件 资格 政策 标准 规定 期限 时限 部门".split())
PROCEDURE_VERBS = frozenset("申请 办理 补办 领取 报销 备案 登记 注册 提取 退税 申报 认定 审批 缴纳 报考 参保 投保".split())
PROCEDURE_WORDS = PROCEDURE_NOUNS | PROCEDURE_VERBS
MOSTLY = 2.0  # a place discussing twice what it misses (two thirds of the question) and all it asks answers it
NAMED_WHOLE = 40  # a question this short is quoted whole when only its procedure word or figure would name the gap
# the noun is looked up ("要走什么流程", "需要哪些条件", "标准是多少"), not designed ("流程怎么设计")
_LOOKUP_WORD = re.compile(r"什么|哪些|哪个|哪几|多少|多久|多长|几[个类项天年月]|是啥|啥")
# the verb is how-to-do ("怎么申请", "去哪里补办", "如何办理"), directly after the asking words
_PROCEDURE_VERB = re.compile(r"(?:怎么|怎样|如何|咋|去哪里?|在哪里?|到哪里?|哪里|哪儿)(?:才能|能|可以|去|来)?(" + "|".join(sorted(PROCEDURE_VERBS, key=len, reverse=True)) + ")")
# A question that asks for a figure (多少钱, 多少比例, 多久一次, 多大声, 几部电梯) is answered only where a
# sentence gives one for the thing counted: "要多少比例的业主同意" is not answered by a lift story without
# that share, however much of the rest the place discusses.
# (怎么算 asks how a figure is reckoned — "补偿怎么算", "积分怎么算" — and a figure answers it)
_QUANTITY = re.compile(rf"{_HOW_MUCH}|{_JI}(?=[个位名户家次天年月周岁层栋幢部辆台条项类种成万千百元块])|(?:怎么|如何|咋)(?:计)?算(?!是)")
# a figure: digits, a numeral with a measure word (三个, 两年, 几百户, 十余年, 近千人), a fraction or a percentage
_FIGURE = re.compile(r"[0-9０-９]|[二三四五六七八九十百千万两半几]+[余多]?[个位名户家次天年月周岁层栋幢部辆台条项类种成元块米亩平倍人]|分之|百分")
# a length of time: what 多久 asks for ("经过整整3年时间" answers "多久见效"; 3个多月, 十余年), whatever it is said of
_TIME_UNIT = r"(?:工作日|小时|分钟|星期|年|月|周|天|日)"
_DURATION = re.compile(rf"(?:[0-9０-９]+|[一二三四五六七八九十百千两半几]+)个?[多余]?个?{_TIME_UNIT}")
# 几 with a unit of time asks for a length of time as 多久 does ("几天内办完" is answered by "5个工作日内办")
_JI_TIME = re.compile(rf"个?{_TIME_UNIT}")
# a sum of money: what 收多少, 定多少, 多少钱 ask for ("设定1元充六小时" prices the charging point)
# a sum: with its unit (23万余元, 五千块钱), or in 万/亿 with no unit after it ("投资20余万", "年租金96万"; not 1万多户)
_MONEY = re.compile(
    r"[0-9０-９][0-9０-９.,]*\s*[万千百亿]?[余多]?\s*(?:元|块)|[一二三四五六七八九十百千万两几]+[余多]?(?:元|块钱)"
    r"|[0-9０-９][0-9０-９.,]*\s*[余多]?[万亿][余多]?(?![0-9０-９余多]|\s*[个位名户家次天年月周岁层栋幢部辆台条项类种成米亩平倍人套间株棵只头件册份场期元块])"
)
MONEY_VERBS = "收定交缴花出付贴赔罚补卖赚"  # a question word after one of these asks for a sum (收费定多少)
_SUMS = frozenset(("多少钱", "多少元", "多少块"))  # a quantity asked with its unit of money
FIGURE = "\x00figure"  # in an alternative: a figure in the same sentence (see Place.strength)
MONEY = "\x00money"  # in an alternative: a sum of money in the same sentence, close to one of its words
DURATION = "\x00duration"  # in an alternative: a length of time in the sentence
FUNDS = "\x00funds"  # in an alternative: money spoken of in the sentence (who pays, where it comes from)
# asks where the money comes from or who pays: "钱从哪来", "维保费谁出", "修桥的钱怎么凑", "谁来出钱", "谁来赔"
_ASKS_FUNDS = re.compile(
    r"(?:钱|费|资金|经费|开销|开支)[^，,。？?；;！!]{0,6}?"
    r"(?:从哪|哪里?来|哪儿来|从何|谁(?:来)?(?:出|掏|付|承担|负担)|怎么(?:凑|筹)|去哪(?:里|儿)?(?:弄|找|筹)|哪(?:里|儿)?(?:出|弄|筹))"
    r"|谁(?:来)?(?:出钱|掏钱|出资|买单|付钱|赔|担责)|[算记]在?谁(?:的)?头上"  # who pays for a damage: "损失谁来赔", "这个账算谁头上"
)
# how a script speaks of finding money: who put it in, where it came from, how it was raised
_FUNDING = re.compile(
    r"出资|资金|经费|补贴|补助|众筹|筹集|筹措|自筹|募捐|捐赠|捐款|拨款|国债|基金|费用|出钱|掏钱|买单|赞助|贷款|资助|融资"
)
# ... or a sum (_MONEY, and 万元 / 亿元)
_FUNDS_WORD = re.compile(_FUNDING.pattern + "|万元|亿元|" + _MONEY.pattern)
# money said to be short ("钱不够", "没钱修", "拿不出钱", "资金压力大", "经费不足"): asked of, it wants where money
# was found as much as "钱从哪来" does; said by a script ("为解决部分村民建房资金压力,…"), it names the need answered
_SHORT_OF_MONEY = re.compile(
    r"钱不够|钱不足|没钱|缺钱|拿不出钱|出不起|(?:资金|经费|费用)(?:不足|不够|紧张|压力|短缺|缺口|困难)|(?:没有?|缺少?)(?:资金|经费)"
)


def asks_money(question: str) -> bool:
    """Whether ``question`` asks where money comes from or who pays, or says the money is short."""
    text = _norm(question)
    return bool(_ASKS_FUNDS.search(text) or _SHORT_OF_MONEY.search(text))


def money_said(sentence: str) -> int:
    """How ``sentence`` speaks of money: 2 where it was found (出资, 补贴, 贷款 …), 1 a sum only, 0 not at all."""
    text = _norm(sentence)
    return 2 if _FUNDING.search(text) else 1 if _FUNDS_WORD.search(text) else 0


def short_of_money(sentence: str) -> bool:
    """Whether ``sentence`` says money is short (资金压力, 经费不足): the need a funding measure answers."""
    return bool(_SHORT_OF_MONEY.search(_norm(sentence)))


DURATION_WORDS = ("多久", "多长时间")  # ask for a length of time: answered by one anywhere in the place's script
FIGURE_NEAR = 8  # characters between a figure and what it counts
COUNTED_GAP = 2  # characters between a question word and what it counts (多少次会议, 标准是多少)


def asks_duration(concept: "Concept") -> bool:
    """The concept asks for a length of time: 多久, 多长时间, or 几 with a unit of time (几天, 几个月)."""
    return concept.quantity and (concept.text in DURATION_WORDS or (concept.text[:1] == "几" and len(concept.text) > 1))


def pos_tokenizer():
    """jieba's part-of-speech tagger over the shared tokenizer (one for the process, :func:`assistant.lexical.pos_tokenizer`)."""
    from assistant.lexical import pos_tokenizer as shared

    return shared()


# one-character nouns that name a thing with the verb before them (进门码, 快递柜, 停车区, 保障房)
_NOUN_SUFFIXES = frozenset("码证卡区点站店房柜桩栏箱亭室棚池费群车场库馆")


def _compounds(pairs: Iterable) -> list:
    """jieba's pairs, with a verb and the one-character noun after it joined into the noun they name
    (进门 + 码, 停车 + 证, 烧烤 + 店: the 进门码 asked for, not how to 进门)."""
    out: list = []
    for pair in pairs:
        prev = out[-1] if out else None
        if (prev is not None and pair.word in _NOUN_SUFFIXES and pair.flag == "n" and len(prev.word) >= 2
                and prev.flag.startswith("v") and prev.word.isalnum()):
            out[-1] = jieba.posseg.pair(prev.word + pair.word, "n")
        else:
            out.append(pair)
    return out


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")


_FACTS_IN_BRACKETS = re.compile(r"[（(][^（()）]*\d[^（()）]*[，,][^（()）]*\d[^（()）]*[）)]")


def in_passing(sentence: str, start: int, end: int) -> bool:
    """The words at ``sentence[start:end]`` are an item of a list (a short phrase between 、) or in brackets
    (an aside, unless the brackets hold two clauses with figures: the facts themselves)."""
    left = max(sentence.rfind(ch, 0, start) for ch in _PUNCT)
    rights = [i for i in (sentence.find(ch, end) for ch in _PUNCT) if i >= 0]
    right = min(rights, default=len(sentence))
    before = sentence[left] if left >= 0 else " "
    after = sentence[right] if right < len(sentence) else " "
    if before in "（(" or after in "）)":
        # an aside, unless the brackets give the facts themselves: a clause with figures
        # ("卖稻谷"变"卖大米"(湿谷加工后价格从1、5元/斤涨到5元/斤,1628亩良田年增收约200万元))
        opens = max(sentence.rfind("(", 0, start), sentence.rfind("（", 0, start))
        closes = [i for i in (sentence.find(")", end), sentence.find("）", end)) if i >= 0]
        return not (opens >= 0 and closes and _FACTS_IN_BRACKETS.fullmatch(sentence, opens, min(closes) + 1))

    item = sentence[left + 1 : right]
    if before == "、" and "等" in item[end - left - 1 :]:  # the last item: "……、社区矫正人员等10类群体"
        item = item[: item.index("等", end - left - 1)]
    return (before == "、" or after == "、") and len(item) <= LIST_ITEM_CHARS


@dataclass(frozen=True)
class Concept:
    """One thing a question is about, in the user's words, and how the scripts treat it."""

    text: str
    weight: float  # specificity in general language (log10 of jieba's total / frequency)
    asked: bool  # in the clause that asks (the one holding the question word)
    noun: bool
    action: bool = False  # a verb after the question word: how, not what ("怎么组建")
    common: bool = False  # used by most scripts: says nothing about coverage
    vocabulary: bool = False  # used by several scripts (VOCABULARY): a word of theirs, whatever it names here
    unheard: bool = False  # no script uses the word (nor a taxonomy synonym of it)
    support: str = ABSENT  # in the place the judgement rests on: strong | weak | absent
    where: str = ""  # that place (for explanations and tests)
    procedure: bool = False  # the administrative procedure asked for (申请, 审批, 条件 …): see PROCEDURE_NOUNS
    quantity: bool = False  # a figure asked for (多少, 多久, 几): see _QUANTITY; also who pays (``funding``)
    funding: bool = False  # where the money comes from or who pays, asked for: see _ASKS_FUNDS
    counts: tuple[str, ...] = ()  # for a quantity, the concepts it counts (多少比例 → 比例), if the question names one
    priced: tuple[str, ...] = ()  # for a sum asked after a verb of paying (收费定多少, 能赔多少), what it may be said of
    modifier: str = ""  # asked, right after another concept that modifies it: its text (残疾人就业: 就业's is 残疾人)
    lead: bool = False  # said only in who asks or passes the matter on ("房管所：…", "我是网格员。…": _LEAD)

    @property
    def focal(self) -> bool:
        return not self.common and not self.action

    @property
    def discussed(self) -> bool:
        return self.common or self.support == STRONG_SUPPORT

    @property
    def mentioned(self) -> bool:
        return self.discussed or self.support == WEAK_SUPPORT

    def to_dict(self) -> dict:
        return {"text": self.text, "support": STRONG_SUPPORT if self.common else self.support, "asked": self.asked}


@dataclass(frozen=True)
class Coverage:
    """The judgement: ``level`` is full / partial / none; ``uncovered`` names what the scripts miss."""

    level: str
    concepts: tuple[Concept, ...] = ()
    uncovered: tuple[str, ...] = ()
    off_domain: bool = False
    covered: tuple[str, ...] = field(default=())
    briefly: tuple[str, ...] = field(default=())  # the part of ``uncovered`` the place mentions once, in passing
    place: str = ""  # the place (passage) the judgement rests on, when one addresses the question

    @property
    def focal(self) -> list[str]:
        """The question's focal concepts, in the user's words (what a content gap is recorded under)."""
        return [c.text for c in self.concepts if c.focal and not c.quantity]

    @property
    def topics(self) -> list[str]:
        """The focal concepts the scripts do not discuss: what a content gap is grouped under."""
        return [c.text for c in self.concepts if c.focal and not c.discussed and not c.quantity]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def asks_procedure(self) -> bool:
        """The question asks for an administrative procedure (申请, 审批 …) no place discusses."""
        return any(c.procedure and not c.discussed for c in self.concepts)


@dataclass(frozen=True)
class Place:
    """One retrieved passage as evidence of coverage: its heading, its sentences and the
    practitioners' questions linked to it (:mod:`assistant.links`), all normalised."""

    label: str
    heading: str
    sentences: tuple[str, ...]
    links: tuple[str, ...] = ()

    @classmethod
    def of(cls, passages: list[Passage], links: tuple[str, ...] = ()) -> "Place":
        """The place of consecutive ``passages`` of one section (the first gives the label)."""
        p = passages[0]
        sentences = tuple(
            _norm(q.text[a - q.start : b - q.start]) for q in passages for a, b in split_sentences(q.text, q.start)
        )
        label = f"{p.case_id} {p.section_label}".strip()
        # a heading's brackets enumerate or aside ("老年群体(独居、纯老、高龄、困难户、精神疾病患者)"): in passing,
        # as in a sentence, not what the section is about
        heading = _BRACKETED.sub(" ", _norm(" ".join(p.section)))
        return cls(label, heading, sentences, tuple(_norm(q) for q in links))

    def strength(self, alternatives: list[tuple[str, ...]], word: str = "", links: bool = True) -> int:
        """How the place treats a concept named by any of ``alternatives`` (each: words found together):

        ``STRONG`` (2) in the heading, in a linked question or in two sentences (what the place is
        about); ``WEAK`` (1) in one sentence; 0 when absent or only a list item or in brackets.
        A user's wording the scripts do not use is matched by its characters in order, close
        together (废车 in 废弃车辆, 占位 in 占车位): the same levels, from the same places.
        """
        said = 0
        labels = (self.heading, *self.links) if links else (self.heading,)
        for alt in alternatives:
            if any(_holds(t, alt) for t in labels):
                return STRONG
            n = 0
            for s in self.sentences:
                if _holds(s, alt):
                    last = {FIGURE: _FIGURE, MONEY: _MONEY, DURATION: _DURATION, FUNDS: _FUNDS_WORD}.get(alt[-1]) or re.compile(re.escape(alt[-1]))
                    spans = [m.span() for m in last.finditer(s)]
                    n += not all(in_passing(s, a, b) for a, b in spans)
            if n >= 2:
                return STRONG
            said = max(said, n)
        if said or not word or not _CJK_WORD.fullmatch(word):
            return said
        if any(scattered(word, t) for t in labels):
            return STRONG
        return min(STRONG, sum(scattered(word, s) for s in self.sentences))


def said_in(name: str, texts: Iterable[str], enough: int = 2) -> int:
    """How ``texts`` (quoted spans) treat ``name``, as a place does (:meth:`Place.strength`): ``STRONG``
    when ``enough`` sentences say it (one, for a figure asked for), ``WEAK`` when fewer do or it is only a
    list item or in brackets, 0 when absent."""
    sentences = in_list = 0
    for text in texts:
        for a, b in split_sentences(text):
            sentence = text[a:b]
            found = [m.span() for m in re.finditer(re.escape(name), sentence)]
            sentences += bool(found) and not all(in_passing(sentence, x, y) for x, y in found)
            in_list += bool(found)
    return STRONG if sentences >= enough else WEAK if in_list else 0


def _holds(text: str, alt: tuple[str, ...]) -> bool:
    """All words of ``alt`` are in ``text``; ``FIGURE``: a figure is, close to one of them (``FIGURE_NEAR``:
    "减量比例高达 31%" gives a share, "修改了6次,最终确定了…出资比例" does not)."""
    if DURATION in alt:
        return bool(_DURATION.search(text))
    if FUNDS in alt:
        return bool(_FUNDS_WORD.search(text)) and all(w in text for w in alt if w != FUNDS)
    words = [w for w in alt if w not in (FIGURE, MONEY)]
    if not all(w in text for w in words):
        return False
    if len(words) == len(alt):
        return True
    figures = [m.span() for m in (_MONEY if MONEY in alt else _FIGURE).finditer(text)]
    if not words:
        return bool(figures)
    return any(
        a - FIGURE_NEAR <= f_end and f_start <= a + len(w) + FIGURE_NEAR
        for w in words for a in (m.start() for m in re.finditer(re.escape(w), text)) for f_start, f_end in figures
    )


_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")
_QUOTED = re.compile(r'["“]([\u4e00-\u9fff]{3,8})["”]')


def coined_names(texts: Iterable[str], pos) -> tuple[str, ...]:
    """The names a script coins and puts in quotation marks ("一号蛇伤散", "野河浜"), used by that script
    only, that jieba cuts into a piece no dictionary knows (一号/蛇/伤散) or into nouns one of which is a
    single character (野/河浜): a question naming one is about it, not about its pieces. Longest first."""
    texts = list(texts)
    out = set()
    for text in texts:
        for m in _QUOTED.finditer(text):
            name = m.group(1)
            if name in out or _QWORD.search(name) or "不" in name or "没" in name:
                continue  # a phrase quoted from speech ("能花多少钱", "管不起"), not a name
            cut = list(pos.cut(name))
            unknown = any(len(p.word) >= 2 and not pos.tokenizer.FREQ.get(p.word) for p in cut)
            nouns = all(p.flag.startswith("n") for p in cut) and any(len(p.word) == 1 for p in cut)
            if len(cut) > 1 and (unknown or nouns):
                if sum(name in t for t in texts) == 1:  # 停车难, 一老一小: the scripts' shared words
                    out.add(name)
    return tuple(sorted(out, key=lambda n: (-len(n), n)))


_BREAK = re.compile(r"[，,。！!？?；;：:、（）()“”\"\s]")


def scattered(word: str, text: str) -> bool:
    """``word``'s characters in order in ``text``, within ``len(word) + 2`` characters and one clause
    (废车 in 废弃车辆, 占位 in 占车位): how a user's wording matches the scripts' longer one."""
    limit = len(word) + SCATTER_SLACK
    at = text.find(word[0])
    while at >= 0:
        pos = at
        for ch in word[1:]:
            pos = text.find(ch, pos + 1, at + limit)
            if pos < 0:
                break
        else:
            if not _BREAK.search(text, at, pos):
                return True
        at = text.find(word[0], at + 1)
    return False


class CoverageJudge:
    """Judges coverage over one index's passages and cases; statistics are computed on first use.

    Nothing is trained: a script added later takes part as soon as it is in the index.
    """

    def __init__(
        self,
        passages: list[Passage],
        cases: dict[str, Case],
        taxonomy: Taxonomy | None = None,
        links: Iterable[LinkRow] = (),
        paraphrase: float = 0.0,
        unasked: float = 0.0,
    ) -> None:
        self.passages = passages
        self.paraphrase = paraphrase  # see :meth:`judge` (0: the index knows no level)
        self.unasked = unasked  # see :meth:`asked_by_no_link` (0: the index knows no level)
        self.cases = cases
        self._links: dict[int, tuple[str, ...]] = {}  # passage position -> the questions linked to it
        for link in links:
            self._links[link.passage] = self._links.get(link.passage, ()) + (link.question,)
        self._linked_cases = {passages[p].case_id for p in self._links if 0 <= p < len(passages)}
        self._positions: dict[tuple[str, int], int] | None = None
        self._taxonomy = taxonomy
        self._lock = threading.Lock()
        self._ready = False
        self._spread: dict[str, int] = {}
        self._alternatives: dict[str, list[tuple[str, ...]]] = {}
        self._places: dict[tuple, Place] = {}
        self._examples: list[str] | None = None

    def _prepare(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            tok = load_tokenizer()
            self._freq = tok.FREQ
            self._total = tok.total
            self._pos = pos_tokenizer()
            self._texts = {cid: _norm(c.text) for cid, c in self.cases.items()}
            self._corpus = "\n".join(self._texts.values())
            names = set()
            for c in self.cases.values():
                for v in (c.town, c.community, c.author, c.instructor):
                    if v:
                        names.add(_norm(v))
            self._names = names
            self._tax = self._taxonomy or load_taxonomy()
            self._vocabulary = {_norm(w) for t in (*self._tax.tags, *self._tax.roles) for w in (t.name, *t.synonyms)}
            self._coined = coined_names(self._texts.values(), self._pos)  # longest first
            self._coined_set = frozenset(self._coined)
            self._ready = True

    # -- the question's concepts ---------------------------------------------

    def spread(self, word: str) -> int:
        """In how many scripts ``word`` occurs."""
        got = self._spread.get(word)
        if got is None:
            got = sum(1 for t in self._texts.values() if word in t)
            if len(self._spread) > 50_000:
                self._spread.clear()
            self._spread[word] = got
        return got

    def is_name(self, word: str) -> bool:
        """A community, town or person of the scripts, alone or with a suffix (亭南居民区, 祥东社区)."""
        return any(n in word for n in self._names if len(n) >= 2)

    def specificity(self, word: str) -> float:
        return math.log10(self._total / (int(self._freq.get(word) or 0) + 1))

    def concepts(self, question: str) -> list[Concept]:
        """The question's content words with their weight, clause and part of speech (support not yet known)."""
        self._prepare()
        text = _norm(question)
        asking = _asking_clauses(text)
        qwords = [m.start() for m in _QWORD.finditer(text)]
        n_scripts = max(len(self._texts), 1)
        found: list[Concept] = []
        seen: set[str] = set()
        starts: dict[str, int] = {}

        def add(word: str, start: int, noun: bool) -> None:
            seen.add(word)
            starts[word] = start
            clause = next(((a, b) for a, b in asking if a <= start and start + len(word) <= b), None)
            # a verb after the question word says how (怎么组建); the object of 把/将 is what (怎么把诉求接到…)
            # (nor is the object of a procedure verb: "怎么申请理赔" asks about 理赔, how is 申请)
            action = (clause is not None and not noun and any(clause[0] <= q < start for q in qwords)
                      and text[start - 1 : start] not in ("把", "将")
                      and not any(text.endswith(v, 0, start) for v in PROCEDURE_VERBS))
            spread = max(self.spread(w) for w, in self._synonyms(word))
            common = self.spread(word) >= COMMON_SHARE * n_scripts
            found.append(
                Concept(
                    word, self.specificity(word), clause is not None, noun, action, common, spread >= VOCABULARY,
                    unheard=spread == 0,
                )
            )

        for m in _ASCII_WORD.finditer(text):  # Wi-Fi, app, 5g: whole, never cut into letters
            if len(m.group(0)) >= 2 and m.group(0) not in seen:
                add(m.group(0), m.start(), True)
        masked = _ASCII_WORD.sub(lambda m: " " * len(m.group(0)), text)
        for name in self._coined:  # a name a script coined (一号蛇伤散): whole, as the script writes it
            at = masked.find(name)
            if at >= 0 and name not in seen:
                add(name, at, True)
                masked = masked[:at] + " " * len(name) + masked[at + len(name):]
        pos = 0
        for pair in _compounds(self._pos.cut(masked)):
            word, flag = pair.word, pair.flag
            start = masked.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            if len(word) < 2 or word in seen or not all(ch.isalnum() for ch in word):
                continue
            if flag in _NAME_POS and not (flag.startswith("nr") and (word in self._corpus or _unknown_word(word))):
                continue  # a place, or a name the scripts never use: jieba reads 老公房's 老公 as one
            if flag.startswith(_CLOSED_POS) or word in QUESTION_WORDS or word in FRAME_WORDS or self.is_name(word):
                continue
            noun = flag.startswith(_NOUNISH)
            if (word in _INSISTENCE or word in _FUNCTION or word in _WORRY or word in _WHEN or _LOCATIVE.fullmatch(word)
                    or word[-1] in "吗呢吧" or _DEGREE.search(masked, 0, start)
                    or word == "出头" and _AGE.search(masked, 0, start)):
                continue  # 死活; 比较合理, 更稳妥: how good, not what; 有用吗 (a dictionary word): whether, not what
            if _COUNTED.match(word):
                continue  # 两件事, 三个人 (dictionary words): how many, not what ("想请教两件事：…")
            after = start + len(word)
            if masked[after : after + 1] == "不" and masked[after + 1 : after + 2] == word[-1]:
                continue  # jieba's 时分 in "分房时分不分": the verb of an A-not-A question glued to the word before
            if _REDUPLICATED.fullmatch(word):
                continue  # 压一压, 顶一顶 (jieba reads one it does not know as a noun): a try at doing, not a thing
            if _OUTCOME.search(masked, 0, start):
                continue  # 让大家信服, 让居民满意: how it should end, not what it is about
            if (start and masked[start - 1] == "不") or not noun and _NEGATED.search(masked, 0, start):
                continue  # a negated verb (不签字, 不配合, 不想自己掏腰包) says how the obstacle goes, not what it is
                # about; after 不 even a word jieba reads as a noun is a verb ("不花钱": how, not about money)
            if word[0] in "不没" or len(word) == 2 and word[0] in _MODALS + "是" and flag.startswith("v"):
                continue  # how things are or may be (不够, 没用, 能用, 要放, 是从: "是从哪儿解决的"), not what they are
            if not noun and ("不" in word or "没" in word or flag == "v" and len(word) == 2 and word[1] in _COMPLEMENT):
                continue  # 装不下, 搞不定, 挨着, 剩下: how things go, not what they are
            if (not noun and len(word) >= 3 and word[-2:] in _DIRECTIONAL
                    and not any(a <= start < b for a, b in asking)):
                continue  # 坐上去, 闹起来 in the story: how things went (asked, "把人踢出去会不会…" is the matter)
            freq = int(self._freq.get(word) or 0)
            if freq >= GENERIC_FREQ or (flag.startswith("a") and flag != "an"):
                continue
            if not freq and (not noun or _QWORD.search(word) or len(word) < 3):
                continue  # an unknown word: a segmentation artefact (想办, 要放, 村离, 条河) unless a longer noun (破袋率)
            add(word, start, noun)
        for word, start in procedure_terms(text):
            if word in seen:
                found = [replace(c, asked=True, action=False, common=False, procedure=True) if c.text == word else c
                         for c in found]
            else:
                seen.add(word)
                starts[word] = start
                found.append(Concept(word, self.specificity(word), True, True, procedure=True))
        for a, b in asking:
            pays = _ASKS_FUNDS.search(text, a, b)
            if pays and pays.group(0) not in seen:
                # no weight, like a figure: what the answer must hold, not what the question is about;
                # money said of what the question names (its asking clause's, else all it names)
                named = [c for c in found if c.focal and not c.procedure and c.text in starts]
                said_of = [c.text for c in named if a <= starts[c.text] < b] or [c.text for c in named]
                found.append(Concept(pays.group(0), 0.0, True, True, quantity=True, funding=True, priced=tuple(said_of)))
                break
        ends = {starts[c.text] + len(c.text): c.text for c in found if c.text in starts}
        found = [replace(c, modifier=ends[starts[c.text]]) if c.asked and starts.get(c.text, -1) in ends else c
                 for c in found]
        lead = _LEAD.match(text)
        if lead and not _QWORD.search(lead.group(0)):
            end = lead.end()
            found = [replace(c, lead=True) if starts.get(c.text, end) < end and c.text not in text[end:] else c
                     for c in found]
        return found + self._quantities(text, asking, found, starts)

    def _quantities(
        self, text: str, asking: list[tuple[int, int]], found: list[Concept], starts: dict[str, int]
    ) -> list[Concept]:
        """The figures a question asks for (:data:`_QUANTITY`), each with the concept it counts: the concept
        right after the question word (多少比例, 多少次会议), else right before it (树龄多少, 标准是多少); none
        when a unit follows (多少钱, 多少年): then any figure of the place may answer."""
        out: dict[str, Concept] = {}
        for a, b in asking:
            for m in _QUANTITY.finditer(text, a, b):
                if m.group(0) == "几" and text[b : b + 1] not in ("?", "？", "") and not _JI_LIMIT.search(text, 0, m.start()):
                    # 几 asks only in the clause the question mark closes ("换了几部电梯？"), not "有几个…居民，…",
                    # or where it asks for a limit ("最多能住几个人，怎么答", "一年至少要开几次")
                    continue
                inside = sorted(
                    ((starts[c.text], c.text) for c in found if c.text in starts and a <= starts[c.text] < b),
                )
                after = [w for at, w in inside if m.end() <= at <= m.end() + COUNTED_GAP]
                before = [w for at, w in inside if m.start() - COUNTED_GAP <= at + len(w) <= m.start()]
                counted = after[:1] or before[-1:]
                word = m.group(0)
                unit = _JI_TIME.match(text, m.end()) if word == "几" else None
                if unit:
                    word, counted = text[m.start() : unit.end()], []  # 几天: a length of time, whatever it counts
                elif text[m.start() : m.end() + 1] in _SUMS:
                    word = text[m.start() : m.end() + 1]  # 多少钱: a sum of money, not any figure (see ways)
                prior = out.get(word)
                counts = tuple(dict.fromkeys([*(prior.counts if prior else ()), *counted]))
                # a sum asked after a verb of paying (收费定多少, 能赔多少): said of what the clause names; with
                # its unit (多少钱) any figure of the place may be the sum
                money = text[m.start() - 1 : m.start()] in MONEY_VERBS and text[m.end() : m.end() + 1] not in ("钱", "元", "块")
                # (a clause naming nothing — "一年大概要花多少" — asks the sum of what the question is about)
                said_of = [w for _, w in inside] or [c.text for c in found if not c.procedure]
                priced = tuple(dict.fromkeys(
                    [*(prior.priced if prior else ()), *(said_of if money and m.start() else ())]
                ))
                # no weight: a figure is what the answer must hold, not a part of what the question is about
                out[word] = Concept(word, 0.0, True, True, quantity=True, counts=counts, priced=priced)
        return list(out.values())

    # -- what the scripts discuss --------------------------------------------

    def _synonyms(self, word: str) -> list[tuple[str, ...]]:
        """``word`` and its taxonomy synonyms (``assistant/data/taxonomy.json``)."""
        out: list[tuple[str, ...]] = [(word,)]
        for t in self._tax.tags:
            if word == t.name or word in t.synonyms:
                out += [(_norm(s),) for s in (t.name, *t.synonyms) if "/" not in s]
        return list(dict.fromkeys(out))

    def alternatives(self, word: str) -> list[tuple[str, ...]]:
        """Ways a script may name ``word``: itself, a taxonomy synonym, or its parts together in one sentence."""
        got = self._alternatives.get(word)
        if got is not None:
            return got
        self._prepare()
        out = self._synonyms(word)
        if len(word) == 2 and word[1] == "子" and "\u4e00" <= word[0] <= "\u9fff":
            out.append((word[0],))  # 村子 is 村, 院子 is 院: 子 the noun suffix of speech
        if (len(word) == 3 and word[2] in _AGENT and "\u4e00" <= word[0] <= "\u9fff"
                and self.spread(word[:2]) < COMMON_SHARE * max(len(self._texts), 1)):
            out.append((word[:2],))  # the asker's 施工队 is the script's 施工方: both named by 施工
        # the word and each of its synonyms may be named by parts (加梯 as 加装电梯 is, by its head 电梯)
        for form in [word, *(s[0] for s in out[1:] if len(s) == 1)]:
            if len(form) < 3 or form.isascii():
                continue
            parts = [t for t in dict.fromkeys(tokenize(form)) if t != form and len(t) >= 2]
            parts = [t for t in parts if not any(t != o and t in o for o in parts)]
            if len(parts) >= 2:
                out.append(tuple(parts))
            # a compound's head is its last word: 房产证 is named 产证 too (not 社区 for 智慧社区: too common)
            tail = form[-2:]
            if tail in parts and self.spread(tail) < COMMON_SHARE * max(len(self._texts), 1):
                out.append((tail,))
        got = list(dict.fromkeys(out))
        if len(self._alternatives) > 50_000:
            self._alternatives.clear()
        self._alternatives[word] = got
        return got

    def place(self, hit: Hit) -> Place:
        """The retrieved passage as a :class:`Place`, with the passages around it in its section
        (``WINDOW`` each side: a measure often continues the passage that names the problem) and the
        opening of the section above (:meth:`_intro`)."""
        key = (hit.case.id, hit.passage.start, hit.passage.end, hit.links)
        got = self._places.get(key)
        if got is None:
            if len(self._places) > 20_000:
                self._places.clear()
            i = self._position().get((hit.case.id, hit.passage.start))
            if i is None:  # a passage of another index: itself alone
                window, links = [hit.passage], hit.links
            else:
                p = self.passages[i]
                near = range(max(0, i - WINDOW), min(len(self.passages), i + WINDOW + 1))
                window = [self.passages[j] for j in near
                          if self.passages[j].case_id == p.case_id and self.passages[j].section == p.section]
                window += self._intro(i)  # after: the first passage gives the place its label and heading
                links = tuple(dict.fromkeys(
                    [*hit.links, *(q for j in near if self.passages[j] in window for q in self._links.get(j, ()))]
                ))
            got = self._places[key] = Place.of(window, links)
        return got

    def _intro(self, i: int) -> list[Passage]:
        """The passages that open the section above passage ``i``'s (its own text before its first
        subsection): the matter its subsections tell how it was solved ("…二期与三期之间有一座木桥…" above
        "3、创新筹资模式")."""
        p = self.passages[i]
        if len(p.section) < 2:
            return []
        parent = p.section[:-1]
        out: list[Passage] = []
        j = i - 1
        while j >= 0 and self.passages[j].case_id == p.case_id and self.passages[j].section[: len(parent)] == parent:
            if self.passages[j].section == parent:
                out.insert(0, self.passages[j])
            j -= 1
        return out[:INTRO]

    def _position(self) -> dict[tuple[str, int], int]:
        if self._positions is None:
            self._positions = {(p.case_id, p.start): i for i, p in enumerate(self.passages)}
        return self._positions

    def strengths(self, concepts: list[Concept], hits: list[Hit]) -> list[dict[str, int]]:
        """For each retrieved place, how strongly it treats each focal concept (:meth:`Place.strength`)."""
        focal = [c for c in concepts if c.focal]
        ways = {c.text: self.ways(c, focal) for c in focal}
        out = []
        for h in hits:
            place = self.place(h)
            got = {c.text: self.named(c.text, place.strength(ways[c.text], "" if c.procedure or c.quantity else c.text))
                   for c in focal}
            for c in focal:
                if asks_duration(c) and not got[c.text] and _DURATION.search(h.case.text):
                    got[c.text] = WEAK  # a script tells its case's timeline once ("通过3个多月、6次协调会"), not by each step
            out.append(got)
        return out

    def named(self, word: str, strength: int) -> int:
        """A name a script coined (:func:`coined_names`) is what a sentence naming it is about: one is enough."""
        return STRONG if strength and word in self._coined_set else strength

    def ways(self, concept: Concept, focal: list[Concept]) -> list[tuple[str, ...]]:
        """How a script may discuss ``concept``: a procedure with what it is for, a figure asked for with a
        figure beside what it counts (in one sentence), anything else by its :meth:`alternatives`."""
        if concept.procedure:
            return self.procedure_alternatives(concept, focal)
        if concept.funding:
            # who pays: a place speaking of money together with what the question names
            return [(FUNDS, *alt) for w in concept.priced for alt in self.alternatives(w)] or [(FUNDS,)]
        if asks_duration(concept):
            return [(DURATION,)]  # how long: a length of time of the place answers, whatever it is said of
        if concept.quantity:
            # a sum asked for is also given by a price said of what the clause names (设定1元充六小时)
            # (a sum asked of something named — "能赔多少" of 保障 — is not given by any figure of the place)
            ways = [(FIGURE, *alt) for w in concept.counts for alt in self.alternatives(w)]
            priced = [(MONEY, *alt) for w in concept.priced for alt in self.alternatives(w)]
            if ways or priced:
                return ways + priced
            return [(MONEY,)] if concept.text in _SUMS else [(FIGURE,)]  # 多少钱: a sum, not a count of households
        return self.alternatives(concept.text)

    def procedure_alternatives(self, procedure: Concept, focal: list[Concept]) -> list[tuple[str, ...]]:
        """A procedure is discussed only together with what it is for: 申请 with 低保 in one sentence
        (or heading, or linked question), not 申请 of anything; with nothing else named, nowhere."""
        return [
            (*alt, procedure.text)
            for c in focal if not c.procedure
            for alt in self.alternatives(c.text)
        ]

    def example_questions(self, n: int = 3) -> list[str]:
        """Questions the scripts answer, from the topics most scripts share (they change as scripts are added)."""
        self._prepare()
        if self._examples is None:
            from assistant.taxonomy import case_tags

            counts: dict[str, int] = {}
            for case in self.cases.values():
                for tag in case_tags(case, self._tax):
                    counts[tag] = counts.get(tag, 0) + 1
            ranked = sorted(counts, key=lambda t: (-counts[t], t))
            self._examples = [f"{t.split('/')[0]}方面，其他社区（村）是怎么做的？" for t in ranked]
        return self._examples[:n]

    def governance_words(self, concepts: list[Concept], question: str = "") -> bool:
        """Whether the question uses the scripts' vocabulary: a taxonomy term or a word of two scripts or more
        (a taxonomy term of two characters or more counts wherever the question says it: 沿街 is no concept)."""
        text = _norm(question)
        return any(
            c.common or c.vocabulary or any(v in c.text for v in self._vocabulary) for c in concepts if not c.quantity
        ) or any(len(v) >= 2 and v in text for v in self._vocabulary) or bool(_COMMUNITY.search(text))

    def judge(
        self, question: str, hits: list[Hit], *, far: bool = False, near: bool = False, remote: bool = False,
        follows: bool = False, said: str = "",
    ) -> Coverage:
        """Judge ``question`` against its retrieved ``hits`` (best first).

        ``far``: retrieval found the question far from every passage
        (:func:`assistant.grounding.confidence` below its threshold). It only tips a question in
        none of the scripts' vocabulary to off-domain; it never overrides concepts the places discuss.
        ``near``: retrieval found it close to them (confidence at or above
        ``assistant.grounding.WORDING_CONFIDENCE``): a 部分 there is 有 — the words it misses are
        then mostly the user's wording, not a part the scripts leave out (blind rounds 17 and 18,
        eval/coverage_results.md round 8).
        ``remote``: retrieval found it farther from them than all but a few answerable questions get
        (confidence below ``assistant.grounding.GAP_CONFIDENCE``): a 部分 there is 没有 — what the places
        miss is then what is asked ("…老被普通车占着…" at passages on 残疾人 and 车位).
        ``follows``: the question continues a conversation ("定个规矩有用吗？"): it leans on the turns before
        it, so no linked question is expected to ask it whole (:meth:`asked_by_no_link` is not consulted).
        ``said``: the user's own words when ``question`` is a follow-up with the conversation's topic added
        ("现在换掉多少了？（…）"): a gap is named in them, never in the carried words.
        """
        self._prepare()
        # (a passage the answer added for money asked about, unranked, is a place too: Answerer.on_money)
        top = hits[:PLACES] + [h for h in hits[PLACES:] if h.rank == 0]
        concepts = self.concepts(question)
        # a follow-up asking for money ("那钱从哪里来？") in the conversation's matter: the script is about that
        # matter, so the words carried with it need not be in the sentence that speaks of money, nor in its place
        loose = {c.text for c in concepts if said.strip() and c.funding and not any(w in said for w in c.priced)}
        concepts = [replace(c, priced=()) if c.text in loose else c for c in concepts]
        strengths = self.strengths(concepts, top)
        for word in loose:  # said anywhere in a script, it is said in each of the script's places
            in_case: dict[str, int] = {}
            for h, st in zip(top, strengths):
                in_case[h.case.id] = max(in_case.get(h.case.id, 0), st.get(word, 0))
            for h, st in zip(top, strengths):
                st[word] = in_case[h.case.id]
        labels = [self.place(h).label for h in top]
        off_domain = False
        if not self.governance_words(concepts, question):
            # none of the scripts' vocabulary: off-domain when far from every passage, or when no
            # passage's own text is about any of it (a word in a linked question is not enough:
            # 下雨 in "下雨积水，找谁来修" does not make a weather forecast a matter of the scripts)
            # — unless one place holds all of two words or more, its own text saying some of it
            # ("窗前的树让孩子过敏能移走吗": 过敏 once in the 一棵树 passage, 移走 in its linked questions)
            words = [c.text for c in concepts if c.focal and not c.quantity]
            own = [
                max((self.named(w, self.place(h).strength(self.alternatives(w), w, links=False)) for w in words), default=0)
                for h in top
            ]
            whole = [len(words) >= 2 and all(st.get(w, 0) >= STRONG for w in words) for st in strengths]
            off_domain = far or not any(o >= STRONG or whole[i] and o >= WEAK for i, o in enumerate(own))
        if not concepts and not far:
            # no word to go by (jieba cut "保洁费老收不上来" into 保洁 + a name): the retrieval
            # distance is all there is, and it finds the question near the scripts
            return Coverage(FULL)
        words_said = said.strip() or question
        got = decide(concepts, strengths, off_domain=off_domain, question=words_said, labels=labels)
        looks_up = got.level != NONE and any(c.quantity or c.procedure for c in concepts)
        elsewhere = self.places_elsewhere(question) if looks_up else []  # a second cut only for look-ups
        if elsewhere:
            # the figures and rules the scripts give are Songjiang's: 杭州's subsidy or 苏州's sorting
            # categories are not in them, however well they know the thing looked up
            short = len(words_said) <= NAMED_WHOLE
            return replace(got, level=NONE, uncovered=(words_said.strip().rstrip("？?。！! "),) if short else tuple(elsewhere))
        if (got.level == NONE and got.uncovered and len(words_said) <= NAMED_WHOLE
                and all(u in PROCEDURE_WORDS or _QWORD.search(u) for u in got.uncovered)):
            # "没有讲到“条件”" or "“要多少人同意”" says too little: the procedure or the figure is named with
            # what it is for, in the user's words (a name holding a question word is a clause asking for one)
            got = replace(got, uncovered=(words_said.strip().rstrip("？?。！! "),))
        if got.level == NONE and not any(c.quantity and not c.funding and not c.mentioned for c in got.concepts):
            # (a figure asked for and not given is no wording: "能赔多少")
            at = self.asked_by_a_link(top)
            if at is not None:
                # a practitioner's question linked to this passage asks the same thing in other words
                # (木桥 for 危桥, 钱不够 for 拿不出钱): the words missed are wording, not a gap
                rated = tuple(replace(c, support=STRONG_SUPPORT, where=labels[at]) if c.focal else c for c in concepts)
                return Coverage(FULL, rated, place=labels[at], covered=tuple(c.text for c in concepts if c.focal and not c.quantity))
        if near and got.level == PARTIAL:  # (a figure or procedure asked and not given is 没有, never 部分: decide)
            return replace(got, level=FULL, uncovered=(), briefly=())
        if got.level == PARTIAL and not follows and (remote or self.asked_by_no_link(question, top)):
            # the places discuss some of its words, but what it asks is nothing their passages are known to
            # answer: "快递包裹堆在楼道门口" at passages on 楼道堆物 is the scene, not an answer
            return replace(got, level=NONE)
        return got

    def places_elsewhere(self, question: str) -> list[str]:
        """Place names of the question no script mentions (杭州, 苏州): somewhere the scripts are not about."""
        self._prepare()
        return [
            p.word for p in self._pos.cut(_norm(question))
            if p.flag in ("ns", "nsf") and len(p.word) >= 2 and p.word not in self._corpus
        ]

    def asked_by_no_link(self, question: str, hits: list[Hit]) -> bool:
        """No question linked to the places is even as alike to ``question`` as three in four links are to a
        link of another script, which asks something else (``link_dense`` below the index's ``unasked``
        level, the lower quartile of how alike links of different scripts get:
        :func:`assistant.links.paraphrase_level`).

        Said only where the links speak for the places: the first three hits are of scripts that have links
        (a script added without an LLM has none, and its passages are judged by their words alone), the
        question asks something (a statement of the situation is no question a link could ask), and it
        is not a look-up (which searches only the links users made).
        """
        if not self.unasked or is_lookup(question) or not hits or not _asking_clauses(_norm(question)):
            return False  # (a statement asks nothing: "…木桥…维修基金被冻住了。" tells the situation)
        if not all(h.case.id in self._linked_cases for h in hits[:3]):
            return False
        return max(h.parts.get("link_dense", 0.0) for h in hits) < self.unasked

    def asked_by_a_link(self, hits: list[Hit]) -> int | None:
        """The first hit whose linked question is as alike to the question as a paraphrase
        (``link_dense`` at or above the index's ``paraphrase`` level), else None."""
        if not self.paraphrase:
            return None
        return next((i for i, h in enumerate(hits) if h.parts.get("link_dense", 0.0) >= self.paraphrase), None)


def decide(
    concepts: list[Concept],
    places: list[dict[str, int]],
    *,
    off_domain: bool = False,
    question: str = "",
    labels: list[str] | None = None,
) -> Coverage:
    """有 / 部分 / 没有 from how each place treats the question's focal concepts (module docstring).

    ``places``: for each place, focal concept text → strength (0, ``WEAK``, ``STRONG``);
    ``labels``: each place's name (for explanations).
    """
    concepts = list(concepts)
    focal = [c for c in concepts if c.focal]

    def verdict(level: str, missing: list[Concept], at: int | None = None) -> Coverage:
        support = places[at] if at is not None else {}
        where = labels[at] if labels and at is not None else ""
        rated = [
            replace(c, support=_SUPPORT[min(support.get(c.text, 0), STRONG)], where=where) if c.focal else c
            for c in concepts
        ]
        gone = {m.text for m in missing}
        known = tuple(c.text for c in rated if c.mentioned and c.text not in gone)
        common = tuple(c.text for c in concepts if c.common)
        names = _names(question, named_by(question, missing), known, common) if level != FULL else []
        weak = {c.text for c in missing if support.get(c.text, 0) == WEAK}
        briefly = tuple(name for name, cs in names if all(c.text in weak for c in cs))
        covered = tuple(c.text for c in rated if c.focal and c.mentioned and not c.quantity)
        return Coverage(
            level, tuple(rated), tuple(name for name, _ in names), off_domain and level == NONE, covered, briefly, where
        )

    if not focal:
        # only words most scripts discuss (有), or nothing to go by (没有)
        return verdict(FULL if any(c.common for c in concepts) else NONE, [])
    if off_domain:
        return verdict(NONE, [c for c in focal if c.asked] or focal)
    best: tuple[float, int, list[Concept]] | None = None
    for i, place in enumerate(places):
        held = {c.text: place.get(c.text, 0) for c in focal}
        if not any(held[c.text] >= STRONG for c in focal if not c.quantity):
            continue  # a place that is about none of it
        missed = missing_from(focal, held)
        if not missed:
            return verdict(FULL, [], i)
        asked = [c for c in focal if c.asked and not c.quantity]
        if asked and all(c in missed and c.unheard for c in asked):
            continue  # it sets the scene of the question and says nothing of what it asks
        if not any(c.procedure or c.quantity or _head_missed(c, held) for c in missed) and addresses(focal, held):
            lost = sum(c.weight for c in missed)
            if best is None or lost < best[0]:
                best = (lost, i, missed)
    if best is not None:
        lost, at, missed = best
        if not any(c.asked for c in missed) and said_at(focal, places[at]) >= MOSTLY * lost:
            # all it asks and two thirds of what it describes, by weight: the rest is scene detail
            # (挡路, 耽误时间), not a part of the question the scripts leave out
            return verdict(FULL, [], at)
        return verdict(PARTIAL, missed, at)
    best_at = max(
        range(len(places)), default=None,
        key=lambda i: sum(c.weight * min(places[i].get(c.text, 0), STRONG) for c in focal),
    )
    held = places[best_at] if best_at is not None else {}
    return verdict(NONE, missing_from(focal, held) or [c for c in focal if c.asked] or focal, best_at)


_SENTENCE = re.compile(r"[^。！!？?]+[。！!？?]*")


def named_by(question: str, missing: list[Concept]) -> list[Concept]:
    """The missed concepts a gap is named by: what is asked, when some of it is missed.

    A message that tells its story first and then asks ("…电线从自家窗口拉下来，像蜘蛛网一样…请问…具体是以谁的
    名义去立户的？") misses the story's details too (冰柜, 蜘蛛网), but "没有讲到“冰柜”" names no part of what
    it asks. So when an asked concept is missed, the gap is named by the missed words of the sentences
    that ask and of the sentence right before them, which sets their matter. The story's are named too
    when nothing asked is missed (then the story is the matter), or only a procedure or a figure, which
    names nothing alone (blind round 39: new better 39 of 41).
    """
    if not any(c.asked and not (c.quantity or c.procedure) for c in missing):
        return missing  # (a procedure or a figure alone names nothing: "要找哪个部门批" of what the story tells)
    text = _norm(question)
    asking = _asking_clauses(text)
    spans = [m.span() for m in _SENTENCE.finditer(text)]
    asks = [i for i, (a, b) in enumerate(spans) if any(a <= x < b for x, _ in asking)]
    # the sentence right before the question sets its matter ("…供电公司说没有产证没法立户装表…。请问…？")
    said = "".join(text[a:b] for i, (a, b) in enumerate(spans) if i in asks or asks and i == asks[0] - 1)
    return [c for c in missing if c.asked or c.text in said]


def _head_missed(concept: Concept, held: dict[str, int]) -> bool:
    """The place discusses what modifies ``concept`` and never says it (残疾人 without 就业)."""
    return bool(concept.modifier) and not held.get(concept.text, 0) and held.get(concept.modifier, 0) >= STRONG


def missing_from(focal: list[Concept], held: dict[str, int]) -> list[Concept]:
    """The focal concepts a place misses: asked and not discussed there, or absent from it.

    Of the words that only set the scene (not in the asking clause), one that two scripts or more
    use (``Concept.vocabulary``) is not missed when a place lacks it: the scripts know it, and
    this place words it otherwise. A figure asked for is given by one sentence.
    """
    return [
        c for c in focal
        if held.get(c.text, 0) < (WEAK if c.quantity else STRONG) and c.asked
        or held.get(c.text, 0) == 0 and not c.vocabulary and not c.lead
    ]


def said_at(focal: list[Concept], held: dict[str, int]) -> float:
    """How much of the question a place discusses: its concepts' specificity, a concept mentioned once counting
    half, and a word inside another of them said once, as the longer word ("外卖骑手 … 骑手和保安天天吵": the
    骑手 a place discusses is the 外卖骑手 it discusses, not a second thing it says)."""
    words = [c.text for c in focal if not c.quantity]
    return sum(
        c.weight * min(held.get(c.text, 0), STRONG) / STRONG
        for c in focal if not any(c.text != w and c.text in w for w in words)
    )


def addresses(focal: list[Concept], held: dict[str, int]) -> bool:
    """A place addresses a question when it discusses at least as much of it as it misses,
    each concept counted by its specificity (:func:`said_at`)."""
    return said_at(focal, held) >= sum(c.weight for c in missing_from(focal, held))


def _names(
    question: str, missing: list[Concept], known: tuple[str, ...] = (), common: tuple[str, ...] = ()
) -> list[tuple[str, list[Concept]]]:
    """The undiscussed concepts in the user's words: each clause's missing concepts with the content
    words around and between them ("加梯费用怎么分摊" → 费用分摊: 加梯 is discussed, 怎么 asks), and
    the noun that heads their phrase ("儿童游乐设施": 设施 on the right, discussed or not)."""
    text = _norm(question)
    out: list[tuple[str, list[Concept]]] = []
    clauses = [m.span() for m in _CLAUSE.finditer(text)]
    by_clause: dict[tuple[int, int], list[tuple[int, Concept]]] = {}
    for c in missing:
        at = text.find(c.text)
        span = next((s for s in clauses if s[0] <= at < s[1]), None) if at >= 0 else None
        if span is None:
            out.append((c.text, [c]))
        else:
            by_clause.setdefault(span, []).append((at, c))
    cutter = pos_tokenizer()
    for (lo, hi), found in sorted(by_clause.items()):
        pieces, pos = [], lo
        for pair in cutter.cut(text[lo:hi]):
            pieces.append((pos, pos + len(pair.word), pair.word, pair.flag))
            pos += len(pair.word)

        def content(w: str, flag: str) -> bool:
            return (
                len(w) >= 2 and any(ch.isalnum() for ch in w) and not _QWORD.search(w) and w not in QUESTION_WORDS
                and w not in FRAME_WORDS and not flag.startswith(_CLOSED_POS) and not (flag.startswith("a") and flag != "an")
                and int(load_tokenizer().FREQ.get(w) or 1) < GENERIC_FREQ
                and not any(k in w or w in k for k in known)
            )

        def noun(w: str, flag: str, modifier: bool) -> bool:
            return (
                flag.startswith(_NOUNISH) and flag not in _NAME_POS and w not in FRAME_WORDS
                and int(load_tokenizer().FREQ.get(w) or 1) < GENERIC_FREQ and w not in common
            )

        if all(c.quantity or c.procedure for _, c in found):
            # a figure or a procedure alone ("多少", "标准") says nothing: the clause that asks for it does
            # ("要多少人同意", "让业主续筹按什么标准")
            name = question_span(question, text, (lo, hi)).strip("，,。？?！! ")
            if name and not any(name in o or o in name for o, _ in out):
                out.append((name, [c for _, c in found]))
            continue
        inside = [i for i, (a, b, _, _) in enumerate(pieces) if any(a < at + len(c.text) and b > at for at, c in found)]
        if not inside:
            out += [(c.text, [c]) for _, c in found]
            continue
        i, j = inside[0], inside[-1]
        while i > 0 and content(*pieces[i - 1][2:]) and j - i < 3:
            i -= 1
        while j + 1 < len(pieces) and (content(*pieces[j + 1][2:]) or noun(*pieces[j + 1][2:], False)) and j - i < 3:
            j += 1
        head = None
        if j == inside[-1] and j + 1 < len(pieces):
            w, flag = pieces[j + 1][2:]
            if (len(w) >= 2 and flag.startswith(_NOUNISH) and flag not in _NAME_POS and w not in FRAME_WORDS
                    and pieces[j][3].startswith(_NOUNISH) and w not in _WHO_WHERE):
                head = j = j + 1  # the noun the missed word modifies, however common: 大件垃圾, not 大件
        modifier = None
        if i == inside[0] and i > 0:
            w, flag = pieces[i - 1][2:]
            if (len(w) >= 2 and flag.startswith((*_NOUNISH, "s")) and flag not in _NAME_POS and w not in FRAME_WORDS
                    and pieces[i][3].startswith(_NOUNISH) and w not in _WHO_WHERE and w not in QUESTION_WORDS
                    and w not in _WORRY and not _LOCATIVE.fullmatch(w)):
                modifier = i = i - 1  # the noun that says which, however discussed: 台账报表, 地下管线, not 报表, 管线
        kept = [k for k in range(i, j + 1)
                if k in inside or k in (head, modifier) or content(*pieces[k][2:]) or noun(*pieces[k][2:], False)]
        # a conjunction between two kept words stays: "保费和电费", not "保费电费"
        kept = sorted({*kept, *(k for k in range(i, j + 1) if pieces[k][3] == "c" and kept[0] < k < kept[-1])})
        skipped = sum(pieces[k][1] - pieces[k][0] for k in range(kept[0], kept[-1] + 1) if k not in kept)
        if kept == list(range(i, j + 1)):
            name = question_span(question, text, (pieces[i][0], pieces[j][1]))
        elif skipped <= SPAN_GAP:
            # the words between said as the user said them ("老房子拆掉以后的补偿", not "老房子拆掉补偿")
            name = question_span(question, text, (pieces[kept[0]][0], pieces[kept[-1]][1]))
        else:
            name = "".join(question_span(question, text, pieces[k][:2]) for k in kept)
        name = _balanced(name.strip("，,。？?！! "))
        if name and not any(name in o or o in name for o, _ in out):
            out.append((name, [c for _, c in found]))
    return out


_PAIRS = (("“", "”"), ("（", "）"), ("(", ")"), ("《", "》"), ("「", "」"), ("‘", "’"))


def _balanced(name: str) -> str:
    """``name`` without a quotation mark or bracket whose partner the span cut off ("宝宝屋”托育点" → 宝宝屋托育点)."""
    for a, b in _PAIRS:
        if name.count(a) != name.count(b):
            name = name.replace(a, "").replace(b, "")
    if name.count('"') % 2:
        name = name.replace('"', "")
    return name.strip()


def question_span(question: str, normalised: str, span: tuple[int, int]) -> str:
    """The user's own characters for a span of the normalised question (NFKC keeps CJK offsets)."""
    a, b = span
    if len(question) == len(normalised):
        return question[a:b].strip()
    return normalised[a:b].strip()


def procedure_terms(text: str) -> list[tuple[str, int]]:
    """The administrative procedure a question asks for, with its position: a procedure verb right
    after the asking words ("低保怎么申请", "去哪里补办") or a procedure noun in an asking clause that
    looks it up ("要走什么流程", "需要哪些条件", "标准是多少")."""
    out: list[tuple[str, int]] = []
    for a, b in _asking_clauses(text):
        clause = text[a:b]
        out += [(m.group(1), a + m.start(1)) for m in _PROCEDURE_VERB.finditer(clause)]
        if _LOOKUP_WORD.search(clause):
            for word in PROCEDURE_NOUNS:
                at = clause.find(word)
                if at >= 0:
                    out.append((word, a + at))
    return sorted(dict(out).items(), key=lambda x: x[1])


def _asks_beyond_count(clause: str) -> bool:
    """A question word other than 几 (which also counts: 几天, 好几家) in ``clause``, or 几 asking a limit
    ("最多能住几个人", "至少要开几次")."""
    return any(m.group(0) != "几" or _JI_LIMIT.search(clause, 0, m.start()) for m in _QWORD.finditer(clause))


def _asking_clauses(text: str) -> list[tuple[int, int]]:
    """Clauses that ask: those holding a question word, else the last clause before each question mark.

    A statement without either ("外卖小哥在小区里骑快车，居民投诉了好几回") asks about all it
    describes: no clause of it is the asking one. After the last question mark, only a last clause
    holding a question word asks (users leave the second mark out).
    """
    out: list[tuple[int, int]] = []
    # spaces said as commas (a question dictated to the phone: "楼组长平均快七十岁了 线上投票的链接发下去一大半弄不来
    # 这个你们怎么弄的") part clauses; one space parts a search-box query's topic from what it asks of it
    # ("宅基地平移 老房拆除补偿怎么算"), which is asked whole
    clause = _SPOKEN_CLAUSE if len(_SPOKEN_SPACE.findall(text.strip())) >= 2 else _ASKING_CLAUSE
    # reported speech (_REPORTED) asks nothing: its marks and question words are masked, keeping every position
    text = _REPORTED.sub(lambda q: q.group(1) + "·" * (len(q.group(0)) - len(q.group(1))), text)
    for m in re.finditer(r"[^？?]+(?:[？?]+|$)", text):
        seg = m.group(0)
        marked = bool(re.search(r"[？?]", seg))
        parts = [(p.start(), p.end()) for p in clause.finditer(seg) if p.group(0).strip("？? ")]
        if not marked and out:
            # text after the last question mark describes ("怎么办？我们小区有三千户"), unless its last
            # clause asks without the mark ("社工证怎么报考？考出来有补贴吗", "…？一年大概要花多少")
            if parts and _asks_beyond_count(seg[parts[-1][0] : parts[-1][1]]):
                out.append((m.start() + parts[-1][0], m.start() + parts[-1][1]))
            continue
        asking = [(a, b) for a, b in parts if _QWORD.search(seg[a:b])]
        if any(_asks_beyond_count(seg[a:b]) for a, b in asking):
            # "摆几天酒席，怎么引导？": 几 counts (several days) where another clause asks
            asking = [(a, b) for a, b in asking if _asks_beyond_count(seg[a:b])]
        for a, b in asking or (parts[-1:] if marked else []):
            out.append((m.start() + a, m.start() + b))
    return out
