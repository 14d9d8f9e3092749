"""The focal topic of a question, and whether a follow-up stays on it.

A conversation is about something: 宅基地平移, 加装电梯, 停车费.  A follow-up
("那钱从哪里来？", "他要是一直不签呢") leaves it out, so without an LLM the
answerer adds the topic of the conversation to it before searching.  The topic
is not "the rarest words of the last question" (which carried 以后 房子 分配
过去): it is the words that say which *kind of matter* the question is about.
In a corpus of scripts, each about a few matters, those are the words that
concentrate in few scripts (宅基地 is in 3 of 21, 以后 in all of them) plus
the curated topic words of the taxonomy (``assistant/data/taxonomy.json``),
so the signal holds for scripts added later and wordings nobody tuned on.

:class:`TopicFinder` is shared by anything that needs "what is this question
about" (the follow-up logic of :mod:`assistant.answer`; a coverage check can
use :meth:`TopicFinder.focal` too).

Example::

    >>> from assistant.retrieval import get_searcher
    >>> from assistant.extractive import CorpusStats
    >>> from assistant.topic import TopicFinder
    >>> topics = TopicFinder(CorpusStats(get_searcher().index.passages))
    >>> topics.focal("宅基地平移建房，农户钱不够怎么办？")
    ['宅基地', '平移', '建房']
    >>> topics.follows("那钱从哪里来？", ['宅基地', '平移', '建房'])
    True
    >>> topics.follows("对了，楼道堆物怎么治理？", ['宅基地', '平移', '建房'])
    False
"""

from __future__ import annotations

import math
import re
import threading

import jieba

from assistant.extractive import CorpusStats
from assistant.lexical import tokenize
from assistant.taxonomy import Taxonomy, load_taxonomy

TAXONOMY_BONUS = 2.0  # a curated topic word outranks a word that only one script uses once
MIN_TOPICALITY = 0.9  # below this a word is spread over most scripts (with 21 scripts: in more than ~8 of them)
SHORT = 10  # a question this short leans on the conversation
LONG = 20  # a longer question with a matter of its own, sharing no word with the topic, opens a new one
# Question and filler words: they say what is asked, not what about.
_GENERIC = frozenset(
    "怎么 怎么办 怎样 如何 什么 为什么 哪些 哪里 哪儿 多少 能不能 可不可以 是不是 有没有 要不要 应该 可以 需要 现在 以后 后来 当时"
    " 之前 之后 一直 还是 就是 但是 因为 所以 如果 要是 的话 我们 你们 他们 大家 自己 这个 那个 这些 那些 这样 那样 问题 办法 情况"
    " 事情 东西 时候 一下 一点 有人 别人 其他 别的 另外 对了 具体 主要 真的 特别 非常 比较 一些 很多 好多 不少"
    " 开始 工作 进行 开展 做好 解决 处理 出现 发现 觉得 知道 希望 愿意 合适 本人 家里 平时 到底 干脆 剩下".split()
)
_NAMING = ("vn", "an", "j")  # besides nouns (n, nr, ns, nz …): verbal and adjectival nouns, abbreviations
# Words that count or negate ("好几""一百多""不肯") rather than name a matter.
_QUANTITY = re.compile(r"^(?:[不没未别]|[一二三四五六七八九十百千万几两多好半数]|\d)")
# "对了，…" "换个事，…" open a new matter when what follows has a topic of its own.
_TOPIC_CHANGE = re.compile(
    r"^(?:对了|(?:另外|再|顺便|还想)?问(?:一下|下)?(?:一?个(?:事儿?|问题))|另外问(?:一下|下|个)?|再问(?:一下|一个|个)|"
    r"顺便问(?:一下|下|个)?|换个(?:事|问题|话题)|说个别的|说点别的|问个别的|还有(?:一)?个(?:事儿?|问题)|"
    r"另一个问题|题外话|另外)(?:别的|其他的?)?(?:事儿?|问题)?[,，:：;；\s]*"
)
_POINTS_BACK = re.compile(r"^(?:那|那么|这|这个|这些|那个|那些|其中)")
# Words that point back to the conversation ("那…", "他…", "…呢？").
_ANAPHORA = re.compile(
    r"^(?:那|那么|这|这个|这些|那个|那些|它|他|她|他们|她们|其中|还有|然后|如果|要是|具体|后来|最后|当时)"
    r"|[他她它]|(?:呢|吗|么)[？?]?\s*$"
    r"|[这那]一?(?:帮|伙|批|堆|号人|些人|种人)"  # "对这帮人后来是怎么弄的？", "审批那一堆材料"
    r"|[这那][几两](?:个|位|家|户|名|栋|幢|条|件)"  # "把这几个党员请来一起商量的话…"
    # a message opening with "but", a worry or "merely" answers what was just said: "可一收费就怕居民说…",
    # "就怕居民说居委会拿公家的地方赚钱…", "光定公约不够吧…"
    r"|^(?:可是?|但是?|不过|只是)(?![以能不])|^(?:就怕|只怕|就是怕|光(?=[靠有定是凭说贴罚劝搞做]))"
)


class TopicFinder:
    """Focal topic words of a text, over the statistics of one index's passages (computed on first use)."""

    def __init__(self, stats: CorpusStats, taxonomy: Taxonomy | None = None) -> None:
        self.stats = stats
        self._taxonomy = taxonomy
        self._lock = threading.Lock()
        self._case_df: dict[str, tuple[int, int]] | None = None
        self._pos: dict[str, str] | None = None
        self._n_cases = 0

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy()
        return self._taxonomy

    def _df(self) -> dict[str, tuple[int, int]]:
        """word -> (scripts using it, passages using it)."""
        if self._case_df is None:
            with self._lock:
                if self._case_df is None:
                    cases: dict[str, set[str]] = {}
                    passages: dict[str, int] = {}
                    for p in self.stats.passages:
                        for t in self.stats.passage_tokens(p):
                            cases.setdefault(t, set()).add(p.case_id)
                            passages[t] = passages.get(t, 0) + 1
                    self._n_cases = len({p.case_id for p in self.stats.passages})
                    self._case_df = {t: (len(c), passages[t]) for t, c in cases.items()}
        return self._case_df

    def topicality(self, word: str) -> float:
        """How much a word names a matter, 0 for a question/filler word or one no script uses.

        Rarity across scripts (log of scripts over scripts using it) times
        burstiness (1 + half the log of the passages using it per script using
        it: a script about 宅基地 says it in 12 passages, while 好几 turns up
        once here and there), plus a bonus for a curated taxonomy word.  Only
        nouns name a matter, and verbs a script keeps coming back to (平移):
        an adjective, adverb or numeral (平均, 干脆, 好几) scores 0.
        """
        df = self._df()
        taxonomy = any(word == t.name or word in t.synonyms for t in self.taxonomy.tags)
        if not taxonomy and (word in _GENERIC or len(word) < 2 or _QUANTITY.match(word)):
            return 0.0
        cases, passages = df.get(word, (0, 0))
        if not cases:
            parts = [df[t] for t in tokenize(word) if len(t) >= 2 and t in df]
            if not parts:
                return TAXONOMY_BONUS if taxonomy else 0.0
            cases, passages = min(parts)
        burst = passages / cases
        tag = self._tags().get(word, "n")
        if not taxonomy and not (tag.startswith("n") or tag in _NAMING or burst >= 2):
            return 0.0  # an adjective, adverb, numeral or one-off verb does not name a matter
        score = math.log((self._n_cases + 1) / (cases + 0.5)) * (1 + 0.5 * math.log(burst))
        return score + (TAXONOMY_BONUS if taxonomy else 0.0)

    def _tags(self) -> dict[str, str]:
        """Part of speech (jieba's dictionary) of the words the scripts use; words it lacks are the
        corpus's own terms (道闸, 维修资金 …) and count as names."""
        if self._pos is None:
            df = self._df()
            with self._lock:
                if self._pos is None:
                    tags: dict[str, str] = {}
                    try:
                        with jieba.dt.get_dict_file() as f:
                            for line in f:
                                word, _, rest = line.decode("utf-8").partition(" ")
                                if word in df:
                                    tags[word] = rest.split()[-1]
                    except OSError:  # no dictionary: every word counts as a name
                        pass
                    self._pos = tags
        return self._pos

    def focal(self, text: str, n: int = 3, *, within: str | None = None) -> list[str]:
        """The ``n`` words of ``text`` that best name its matter, most topical first ([] when it names none).

        With ``within`` (the passages that answered the text), only words those
        passages use count, besides taxonomy words: the matter as the scripts
        understood it, without the asker's incidental words.
        """
        words: list[str] = []
        for tag in self.taxonomy.tags:  # curated words as the user wrote them (加装电梯, not 加装 + 电梯)
            words.extend(m.group(0) for m in tag.pattern.finditer(text))
        curated = set(words)
        words.extend(t for t in tokenize(text) if len(t) >= 2)
        scored: dict[str, float] = {}
        for w in words:
            if w not in scored and (within is None or w in curated or w in within):
                scored[w] = self.topicality(w)
        ranked = sorted((w for w, s in scored.items() if s >= MIN_TOPICALITY), key=lambda w: (-scored[w], -len(w)))
        out: list[str] = []
        for w in ranked:
            if not any(w in o or o in w for o in out):
                out.append(w)
            if len(out) == n:
                break
        return out

    def without_opener(self, question: str) -> str:
        """The question without an opener that announces a new matter ("对了，", "换个事，"), if any."""
        rest = _TOPIC_CHANGE.sub("", question.strip(), count=1)
        return rest if rest and self.focal(rest) else question

    def follows(self, question: str, topic: list[str], context: str = "") -> bool:
        """Whether ``question`` continues a conversation about ``topic`` (else it opens a new matter).

        ``context`` is what the conversation has been reading (the scripts its
        last answer cited).  In order:

        - "对了，…" "换个事，…" with a matter of its own: new (unless it goes on "对了，那…");
        - words that point back ("那…" "他…" "…呢？" "对这帮人…"), no matter of its own, or a
          short question (``SHORT`` characters or fewer): a follow-up;
        - a matter of its own: a follow-up when it shares a word with the
          topic, or when it is not long (``LONG`` characters or fewer) and the
          scripts being read speak of half of it or more ("谈不拢谁出面？" after
          a lift case that says 谈不拢), else new.
        """
        if not topic:
            return False
        q = question.strip()
        rest = _TOPIC_CHANGE.sub("", q, count=1)
        own = self.focal(rest)
        if rest != q and own and not _POINTS_BACK.match(rest):  # "对了，那…" still points back
            return False
        if _ANAPHORA.search(rest) or not own or len(rest) <= SHORT:
            return True
        if any(w in t or t in w for w in own for t in topic):
            return True
        return len(rest) <= LONG and 2 * sum(w in context for w in own) >= len(own)
