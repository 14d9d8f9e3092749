"""Cited answers: extractive by default, through the LLM when one is configured.

The pipeline (:meth:`Answerer.ask`): a follow-up question is made standalone
(the conversation's topic, :mod:`assistant.topic`, or the LLM's rewrite; not
after a 没有 turn, which a follow-up cannot build on) and prefers the cases the
conversation already cites; the passages are retrieved, and right then, before any LLM call, :mod:`assistant.coverage` judges whether
the scripts cover the question: 有 (``full``), 部分 (``partial``) or
没有 (``none``).  Then

- 没有: the answer says so plainly and lists at most two nearest cases as
  可参考 (:func:`assistant.grounding.not_covered`); no LLM is asked;
- 部分: the answer covers what the scripts cover and names the rest
  ("关于费用分摊，讲稿中没有涉及"), in the LLM's prompt as well;
- with an LLM, the model answers from the passages as numbered, fenced data
  and its reply is checked sentence by sentence (:mod:`assistant.grounding`);
- otherwise, or when the LLM fails (with a notice), the answer is one block
  per community (:mod:`assistant.extractive`), quoting whole
  sentences of the passages (:mod:`assistant.extractive`), so every
  citation is exact: ``case.text[c.start:c.end] == c.quote``.

:func:`get_answerer` keeps one answerer per settings over the process-wide
searcher and replaces it when a new index version is published, so the old
index can be freed.

Example::

    >>> from assistant.answer import ask, Conversation
    >>> chat = Conversation()
    >>> a = ask("小区停车位不够，外来车辆多怎么办？", conversation=chat)
    >>> print(a.answer); a.citations[0].quote
    >>> b = ask("那收费标准怎么定？", conversation=chat)   # a follow-up
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from assistant.citations import Citation
from assistant.config import Settings, get_settings
from assistant.coverage import FULL, NONE, PARTIAL, STRONG, Coverage, CoverageJudge, asks_money, money_said, said_in
from assistant.extractive import CorpusStats, Extractor
from assistant.grounding import (
    CONFIDENCE_THRESHOLD,
    GAP_CONFIDENCE,
    REFUSAL,
    UNSUPPORTED_MARK,
    WORDING_CONFIDENCE,
    Grounder,
    Reference,
    confidence,
    declines,
    defang,
    llm_messages,
    not_covered,
    uncovered_line,
)
from assistant.retrieval import HybridSearcher, Hit, check_question, get_searcher
from assistant.roles import RoleModel
from assistant.topic import TopicFinder

__all__ = [
    "Answer", "Answerer", "Conversation", "FULL", "NONE", "PARTIAL", "REFUSAL", "Turn", "UNSUPPORTED_MARK",
    "ask", "get_answerer",
]

CANDIDATE_HITS = 8  # passages whose sentences may be quoted
LLM_PASSAGES = 6  # passages given to the LLM (grouped by community like the blocks: Extractor.context)
# A follow-up answered without an LLM searches twice as deep and lifts the
# passages of the cases the previous answer cited by this share of their score:
# "那钱从哪里来？" after 黄桥村's 宅基地 answer is about 黄桥村's money first.
CITED_CASE_LIFT = 0.3
# A question about money ("农户钱不够怎么办", "那钱从哪里来？") also reads the passages of its best
# cases that say where money was found, at this share of the case's best score: retrieval ranks the
# passages that echo the matter (宅基地平移建房) above the one on its money (黄桥村's 信用贷款, 10th).
MONEY_CASES = 2
MONEY_LIFT = 0.6
# A greeting, thanks or goodbye is no question: read as one, a "谢谢" after the lift question was a follow-up
# that searched the lift question again and quoted it as 有.
_SOCIAL = re.compile(
    r"^(?:(?P<greet>你好|您好|大家好|哈喽|嗨|hi|hello|在吗|在不在)"
    r"|(?P<thanks>(?:谢谢|多谢|感谢)(?:你|您|你们|您们|大家|啦)?(?:的帮助|的回答|帮忙)?|辛苦了|麻烦了)"
    r"|(?:好的|好|嗯|收到|明白了?|知道了|懂了|了解了?|ok|okay|再见|拜拜))[!！。.,，~～?？\s]*$",
    re.IGNORECASE,
)
# how a message may open before its matter: a greeting or an address ("老师您好，", "各位专家，") and asking leave to
# ask ("想请教一下，", "我想咨询个问题：", "麻烦问下，", "请问") — courtesy, no part of what is asked: read as the
# question's words, "请教" was named as a part the scripts leave out ("关于请教，讲稿中没有涉及。")
_PUNCT_AFTER = r"[，,：:！!。、；;\s~～]"
_COURTESY = (
    re.compile(rf"^(?:(?:各位|尊敬的)?(?:老师|专家|领导|书记|前辈)们?(?:(?:您|你)?好{_PUNCT_AFTER}*|{_PUNCT_AFTER}+)"
               rf"|(?:你|您|大家)好{_PUNCT_AFTER}*|(?:哈喽|嗨){_PUNCT_AFTER}+)"),
    re.compile(rf"^(?:我|我们)?(?:想|想要|能|可以)?(?:请问|请教|咨询|问|打听|求教)"
               rf"(?:(?:一下|下|问|个事|一件事|个问题|一个问题|您|你|各位|老师|专家|大家)+{_PUNCT_AFTER}*|{_PUNCT_AFTER}+)"),
    re.compile(rf"^(?:麻烦|打扰)(?:您|你|各位|老师|专家)?(?:一下|下)?(?:问|请教)?(?:一下|下)?{_PUNCT_AFTER}+"),
    re.compile(r"^请问"),
)
# ... and the asker introducing themself ("我是网格员。", "我是一名社工，"): who asks. Their post tells retrieval
# where they work (a 村书记's question is a village's), but it is no matter the scripts must discuss: the coverage
# judgement reads the question without it (holdout_r17 named "经理" as a part the scripts leave out). A place they
# name stays ("我是无产证小区的书记" keeps 无产证小区: only a bare post, with the body it belongs to, is dropped).
_INTRODUCTION = re.compile(
    r"^我是(?:一名|一位|一个|个)?(?:村|社区|居委会?|小区|街道|镇|物业公司|业委会)?(?:党总支|党支部)?"
    r"(?:书记|副书记|支书|主任|副主任|社工|社区工作者|工作人员|网格员|网格长|楼组长|楼长|物业经理|经理|志愿者|党员|干部|委员)"
    rf"{_PUNCT_AFTER}+"
)


def _without(question: str, openers: tuple[re.Pattern, ...]) -> str:
    rest = question.strip()
    for _ in range(4):
        m = next((m for p in openers if (m := p.match(rest)) and m.end()), None)
        if m is None:
            break
        rest = rest[m.end():].lstrip()
    return rest if rest else question


def without_courtesy(question: str) -> str:
    """``question`` without the greeting, address or leave to ask it opens with (:data:`_COURTESY`), if it goes on."""
    return _without(question, _COURTESY)


def without_introduction(question: str) -> str:
    """``question`` without its courtesy and the asker's self-introduction (:data:`_INTRODUCTION`), if it goes on."""
    return _without(question, (*_COURTESY, _INTRODUCTION))


TOPIC_WORDS = 6  # words that name a conversation's topic (follow-ups tune half, first block: 3 / 4 / 5 / 6 / 8 words 0.57 / 0.65 / 0.70 / 0.74 / 0.74)

@dataclass
class Answer:
    question: str
    answered: bool
    mode: str  # "extractive" | "llm"
    answer: str
    citations: list[Citation] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # not part of the JSON shape: what was searched, how sure retrieval was
    search_question: str = ""
    confidence: float = 0.0
    hits: list[Hit] = field(default_factory=list, repr=False)
    coverage: str = FULL  # full | partial | none: do the scripts address what is asked (有 / 部分 / 没有)
    uncovered: list[str] = field(default_factory=list)  # what they do not address, in the user's words
    references: list[Reference] = field(default_factory=list)  # 可参考 cases under a 没有 answer
    judgement: Coverage | None = field(default=None, repr=False)  # the concepts behind ``coverage``
    topic: list[str] = field(default_factory=list)  # what the conversation is about after this answer
    follows: bool = False  # it continued the conversation's matter (a follow-up)
    social: bool = False  # a greeting or thanks, answered in kind: no question, no content gap

    @property
    def off_domain(self) -> bool:
        return bool(self.judgement and self.judgement.off_domain)

    def gap(self) -> dict | None:
        """The content-gap record of a 没有 / 部分 answer (``FeedbackStore.record_gap`` arguments), else None."""
        if self.coverage not in (NONE, PARTIAL) or self.social:
            return None
        judgement = self.judgement or Coverage(self.coverage)
        return {
            "question": self.question,
            "coverage": self.coverage,
            "concepts": judgement.focal,
            # grouped by what the answer said is missing, in the askers' words (费用分摊, not 费用 + 分摊)
            "topics": [u.lower() for u in self.uncovered] or judgement.topics,
            "uncovered": list(self.uncovered),
        }

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "coverage": self.coverage,
            "uncovered": list(self.uncovered),
            "mode": self.mode,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "references": [r.to_dict() for r in self.references],
            "notices": list(self.notices),
        }


@dataclass
class Turn:
    question: str
    standalone: str
    answer: str
    coverage: str = FULL
    topic: list[str] = field(default_factory=list)  # focal words of the conversation at this turn
    cases: list[str] = field(default_factory=list)  # cases the answer cited, in order
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # what it quoted: (case id, start, end)
    follows: bool = False  # it was a follow-up of the turn before


@dataclass
class Conversation:
    """Earlier turns of one user's conversation (follow-ups use them)."""

    turns: list[Turn] = field(default_factory=list)
    max_turns: int = 6

    def add(self, answer: Answer) -> None:
        cited = answer.citations if answer.answered else []
        cases = list(dict.fromkeys(c.case_id for c in cited))
        spans = [(c.case_id, c.start, c.end) for c in cited]
        standalone = answer.search_question or answer.question
        self.turns.append(
            Turn(answer.question, standalone, answer.answer, answer.coverage, list(answer.topic), cases, spans, answer.follows)
        )
        del self.turns[: -self.max_turns]

    def quoted(self) -> list[tuple[str, int, int]]:
        """What the answers on the current matter quoted, the last answer's first: the last turn's
        spans, then those of the turns before it back to the question that opened the matter."""
        out: list[tuple[str, int, int]] = []
        for t in reversed(self.turns):
            out.extend(t.spans)
            if not t.follows:
                break
        return out

    def history_text(self, turns: int = 3, answer_chars: int = 200) -> str:
        lines = []
        for t in self.turns[-turns:]:
            lines.append(f"用户：{defang(t.question)}")
            lines.append(f"助手：{defang(t.answer[:answer_chars])}")
        return "\n".join(lines)


class Answerer:
    """Answers questions over one searcher; cheap to build, statistics computed on first use.

    ``settings`` may be replaced between questions (e.g. to switch the LLM on).
    """

    def __init__(
        self, searcher: HybridSearcher, settings: Settings | None = None, roles: RoleModel | None = None
    ) -> None:
        self.searcher = searcher
        self.settings = settings or get_settings()
        self.stats = CorpusStats(searcher.index.passages)
        self.extractor = Extractor(self.stats, roles)
        self.grounder = Grounder(searcher, self.stats)
        self.judge = CoverageJudge(
            searcher.index.passages, searcher.index.cases, links=searcher.index.links,
            paraphrase=searcher.index.manifest.link_paraphrase, unasked=searcher.index.manifest.link_unasked,
        )
        self.topics = TopicFinder(self.stats)

    def confidence(self, question: str, hits: list[Hit]) -> float:
        """> ``CONFIDENCE_THRESHOLD`` when the cases cover the question."""
        return confidence(self.stats, question, hits)

    # -- follow-ups ----------------------------------------------------------

    def follows(self, question: str, conversation: Conversation | None) -> bool:
        """Whether ``question`` continues the conversation's topic (:meth:`assistant.topic.TopicFinder.follows`)."""
        if not conversation or not conversation.turns:
            return False
        last = conversation.turns[-1]
        if " ".join(question.split()) == " ".join(last.question.split()):
            return False  # the same question again (a retry after an error): the same answer, not the next one
        return self.topics.follows(question, last.topic, self._discussed(last))

    def _discussed(self, turn: Turn) -> str:
        """The sections the turn's answer quoted (what the conversation is reading).

        Not the whole scripts: a script about lifts also speaks of parking, and
        "小区停车位不够怎么办？" after a lift question is a new matter.
        """
        cases = self.searcher.index.cases
        parts = []
        for case_id, start, end in turn.spans:
            case = cases.get(case_id)
            if case is None:
                continue
            inside = [s for s in case.sections if s.start <= start and end <= s.end]
            if inside:
                section = min(inside, key=lambda s: s.end - s.start)
                parts.append(case.text[section.start:section.end])
            else:
                parts.append(case.text[max(0, start - 300):end + 300])
        return "\n".join(parts)

    def carry_terms(self, question: str, conversation: Conversation | None, *, force: bool = False) -> str:
        """Extractive follow-up: the question with the conversation's topic words it lacks.

        "村里怎么管施工质量？" after "宅基地平移是农户委托建房…" searches
        "村里怎么管施工质量？（宅基地 平移 …）".  A follow-up that names nothing of its
        own presses the last question on and carries it whole ("他要是一直不签呢"
        after "加装电梯，一楼死活不签字怎么办" searches "他要是一直不签呢（加装电梯，一楼死活
        不签字怎么办）": the topic words alone, 加装电梯, lose the 不签字 it asks about
        again); a question that opens a new matter
        is searched as it is, without its opener ("对了，楼道堆物怎么治理？" searches
        "楼道堆物怎么治理？"); ``force`` reads it as a follow-up all the same.
        """
        if not conversation or not conversation.turns or not (force or self.follows(question, conversation)):
            return self.topics.without_opener(question)
        assert conversation is not None
        last = conversation.turns[-1]
        terms = [t for t in last.topic if t not in question]
        if not self.topics.focal(question):  # it names nothing of its own: it presses the last question on
            terms = [last.question.strip()] + [t for t in terms if t not in last.question]
            carried = f"{question}（{' '.join(terms)}）"
            if len(carried) <= self.searcher.max_question_chars:
                return carried
            terms = terms[1:]
        return f"{question}（{' '.join(terms)}）" if terms else question

    def topic_after(self, question: str, hits: list[Hit], conversation: Conversation | None, follows: bool) -> list[str]:
        """The conversation's topic once ``question`` is answered: its own focal words (those the
        retrieved passages use), then, for a follow-up, the earlier topic's.  A question that names
        no matter of its own keeps the earlier topic even when it was not taken as a follow-up (it
        came after a 没有 answer: "最后怎么协调的？" after the 移树 question), so the next
        question ("这棵移完了，别的楼也跑来要求移树怎么办？") can still follow."""
        own = self.topics.focal(question, TOPIC_WORDS, within="".join(h.passage.text for h in hits[:4]))
        if (follows or not own) and conversation and conversation.turns:
            own += [t for t in conversation.turns[-1].topic if t not in own]
        return own[:TOPIC_WORDS]

    def aspect(self, question: str, topic: list[str]) -> list[str]:
        """What a follow-up asks about within the conversation's topic: its own focal words the
        topic lacks ("谈不拢谁出面？" after the lift question: 出面; "那钱从哪里来？": none)."""
        return [w for w in self.topics.focal(question, TOPIC_WORDS) if not any(w in t or t in w for t in topic)]

    def search(self, question: str, cited: list[str]) -> list[Hit]:
        """The passages for ``question``; those of the ``cited`` cases (a follow-up's) lifted by ``CITED_CASE_LIFT``."""
        if not cited:
            hits = self.searcher.search(question, CANDIDATE_HITS)
        else:
            hits = self.searcher.search(question, 2 * CANDIDATE_HITS)
            lift = {c: CITED_CASE_LIFT / (1 + n) for n, c in enumerate(cited)}  # the first block's case most
            lifted = sorted((replace(h, score=h.score * (1 + lift.get(h.case.id, 0.0))) for h in hits), key=lambda h: -h.score)
            hits = [replace(h, rank=r) for r, h in enumerate(lifted[:CANDIDATE_HITS], 1)]
        return hits + self.on_money(question, hits)

    def on_money(self, question: str, hits: list[Hit]) -> list[Hit]:
        """For a question about money, the passages of its ``MONEY_CASES`` best cases that say where
        money was found and are not among ``hits`` (unranked: rank 0), each at ``MONEY_LIFT`` of its
        case's best score.  The judgement reads them as places and the answer may quote them
        (:meth:`assistant.extractive.Extractor.candidates` prefers sentences on money then)."""
        if not hits or not asks_money(question):
            return []
        best: dict[str, float] = {}
        for h in hits:
            best[h.case.id] = max(best.get(h.case.id, 0.0), h.score)
        seen = {h.passage.id for h in hits}
        stats = self.extractor.stats
        out = []
        for case_id in list(dict.fromkeys(h.case.id for h in hits))[:MONEY_CASES]:
            for p in stats.passages_of(case_id):
                i = stats.position(p)
                if i is not None and p.id not in seen and money_said(p.text) == 2:
                    out.append(self.searcher.hit(i, MONEY_LIFT * best[case_id]))
        return out

    def condense(self, question: str, conversation: Conversation, timeout: float) -> str:
        """The LLM's standalone rewrite of a follow-up question."""
        from assistant.llm import complete, render_prompt

        prompt = render_prompt(
            "condense", self.settings, history=conversation.history_text(), question=defang(question)
        )
        reply = complete([("user", prompt)], self.settings, timeout=timeout)
        line = next((x.strip() for x in reply.strip().splitlines() if x.strip()), "")
        return line[: self.searcher.max_question_chars] or question

    # -- the entry point -----------------------------------------------------

    def ask(
        self,
        question: str,
        conversation: Conversation | None = None,
        *,
        use_llm: bool | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer ``question`` (continuing ``conversation`` when given) and record the turn."""
        from assistant.llm import LLMError, llm_configured, warm_up

        question = check_question(question, self.searcher.max_question_chars)
        question = without_courtesy(question)
        social = _SOCIAL.match(question.strip())
        if social:  # answered in kind, outside the conversation (its matter carries on to the next question)
            return self._social(question, "greet" if social.group("greet") else "thanks" if social.group("thanks") else "ack")
        want_llm = llm_configured(self.settings) if use_llm is None else use_llm
        notices: list[str] = []
        if want_llm:
            warm_up()
        deadline = time.monotonic() + self.settings.llm_timeout
        # a follow-up builds on the previous turn, unless that turn was 没有: then it is judged on its own
        earlier = conversation if conversation and conversation.turns and conversation.turns[-1].coverage != NONE else None
        follows = self.follows(question, earlier)
        standalone = self.carry_terms(question, earlier)
        cited = earlier.turns[-1].cases if follows and earlier else []
        rewritten = follows
        condensed = False
        if want_llm and earlier:
            try:
                standalone = self.condense(question, earlier, timeout=self.settings.llm_timeout)
                cited, rewritten, condensed = [], True, True  # the rewrite names its topic; retrieval needs no nudge
            except LLMError as exc:
                notices.append(f"大模型改写追问失败（{exc}），已改用上一轮的话题延续检索。")
                want_llm = False
        # the judgement comes before any LLM call: a 没有 question is not put to the LLM
        hits, sure, judgement = self._read(question, standalone, cited, follows, condensed)
        if judgement.off_domain and earlier is not None and not follows and not condensed:
            # read as a new matter, it is outside the scripts' vocabulary, in a conversation on a matter they
            # cover ("施工队偷工减料怎么防？" after 宅基地平移建房): it continues that matter if the scripts
            # then cover it; otherwise it stays what it is (a weather question is no follow-up)
            carried = self.carry_terms(question, earlier, force=True)
            again = self._read(question, carried, earlier.turns[-1].cases, True, False)
            if again[2].level == FULL:
                standalone, cited, follows, rewritten = carried, earlier.turns[-1].cases, True, True
                hits, sure, judgement = again
        if rewritten and standalone != question:
            notices.append(f"结合上一轮对话，按“{standalone}”检索。")
        answer = Answer(question, True, "extractive", "", [], notices, standalone, sure, hits)
        answer.topic = self.topic_after(question, hits, conversation, follows) if conversation is not None else []
        answer.follows = follows
        self._judge(answer, judgement)
        if answer.coverage != NONE and want_llm:
            context = self.extractor.context(standalone, hits, LLM_PASSAGES)  # per community, as the blocks
            try:
                reply = self._complete(standalone, context, deadline, on_token, tuple(answer.uncovered))
            except LLMError as exc:
                notices.append(f"大模型暂不可用：{exc} 以下改为直接摘录讲稿原文作答。")
            else:
                answer.mode = "llm"
                if declines(reply):  # the model found no answer in its passages: 没有, said our way
                    notices.append("大模型认为检索到的讲稿段落不足以回答这个问题。")
                    self._judge(answer, replace(answer.judgement, level=NONE) if answer.judgement else Coverage(NONE))
                else:
                    answer.answer, answer.citations, extra = self.grounder.check(reply, context)
                    notices.extend(extra)
                    self._add_partial_line(answer, earlier if follows else None)
        if not answer.answer:
            shown = earlier.quoted() if follows and earlier else []
            aspect = self.aspect(question, earlier.turns[-1].topic) if shown and earlier else []
            answer.answer, answer.citations = self.extractor.compose(standalone, hits, shown, aspect)
            notices.extend(said_before(answer.citations, shown))
            self._add_partial_line(answer, earlier if follows else None)
        if conversation is not None:
            conversation.add(answer)
        return answer

    def _social(self, question: str, kind: str) -> Answer:
        """The reply to a greeting, thanks or an acknowledgement: what the assistant answers, and questions to ask."""
        n = len(self.searcher.index.cases)
        first = {
            "greet": f"您好！这里收录了 {n} 篇村居书记讲稿，讲的是基层治理的实际做法，",
            "thanks": "不客气。还有问题可以接着问，",
        }.get(kind, "好的。还有问题可以接着问，")
        lines = [first + "请直接描述您遇到的情况，例如："]
        lines += [f"· {q}" for q in self.judge.example_questions()]
        return Answer(question, False, "extractive", "\n".join(lines), coverage=NONE, social=True)

    def _read(
        self, question: str, standalone: str, cited: list[str], follows: bool, condensed: bool
    ) -> tuple[list[Hit], float, Coverage]:
        """The passages for ``standalone``, the retrieval confidence and the coverage judgement."""
        hits = self.search(standalone, cited)
        sure = self.confidence(standalone, hits)
        # a follow-up whose best passage is in a case the conversation cites stays in a matter
        # the cases were found to cover: retrieval's distance alone does not make it 没有
        stays = bool(cited) and bool(hits) and hits[0].case.id in cited
        far, near = sure < CONFIDENCE_THRESHOLD and not stays, sure >= WORDING_CONFIDENCE
        remote = sure < GAP_CONFIDENCE and not stays
        # a gap is named in the user's words, not in the topic words carried with them (an LLM's rewrite reads whole)
        said = self.topics.without_opener(question) if standalone != question and not condensed else ""
        judged = without_introduction(standalone)  # who asks is no matter the scripts must discuss
        return hits, sure, self.judge.judge(judged, hits, far=far, near=near, remote=remote, follows=follows, said=said)

    def _add_partial_line(self, answer: Answer, earlier: Conversation | None) -> None:
        """Open a 部分 answer with what the scripts do not cover, unless the answer or, for a
        follow-up, the turn before already said it (a follow-up carries the last question's words).

        First, not last: read blind with the line at the end, 7 of 61 部分 answers passed their quotes
        off as an answer to what they do not address; with it first, 3 (eval/blind/round20)."""
        if answer.coverage != PARTIAL:
            return
        # a community's quotes count when they hold what the question was found to be about as well
        # (残疾人 and 就业 in one block, not 就业 of the unemployed in general)
        blocks: dict[str, list[str]] = {}
        for c in answer.citations:
            blocks.setdefault(c.case_id, []).append(c.quote)
        about = answer.judgement.covered if answer.judgement else ()
        quotes = [q for qs in blocks.values() if all(w in "".join(qs) for w in about) for q in qs]
        looks_up = answer.judgement is not None and any(c.quantity for c in answer.judgement.concepts)
        how = {u: said_in(u, quotes, 1 if looks_up else 2) for u in answer.uncovered}
        if any(how.values()) and answer.judgement is not None:
            # the answer quotes what the judgement found missing at its place ("联席" in a block from
            # another passage): "关于联席，讲稿中没有涉及" under that quote would contradict it. Said
            # there, it is covered; named in a list only, it is touched on in passing
            left = tuple(u for u in answer.uncovered if how[u] < STRONG)
            briefly = tuple(dict.fromkeys([*answer.judgement.briefly, *(u for u in left if how[u])]))
            self._judge(answer, replace(answer.judgement, level=PARTIAL if left else FULL, uncovered=left, briefly=briefly))
        if answer.coverage != PARTIAL:
            return
        line = self._partial_line(answer)
        if line and line not in answer.answer and not (earlier and earlier.turns and line in earlier.turns[-1].answer):
            answer.answer = line + "\n" + answer.answer

    @staticmethod
    def _partial_line(answer: Answer) -> str:
        briefly = answer.judgement.briefly if answer.judgement else ()
        return uncovered_line(tuple(answer.uncovered), briefly)

    def _judge(self, answer: Answer, judgement: Coverage) -> None:
        """Record the coverage judgement on ``answer``; a 没有 answer gets its text and 可参考 cases here."""
        answer.judgement = judgement
        answer.coverage = judgement.level
        answer.uncovered = list(judgement.uncovered)
        if judgement.level == NONE:
            answer.answered = False
            answer.answer, answer.references = not_covered(
                answer.hits, len(self.searcher.index.cases), judgement.uncovered, judgement.covered,
                off_domain=judgement.off_domain, examples=self.judge.example_questions(),
                procedure=judgement.asks_procedure,
            )
            answer.citations = []

    def _complete(
        self, question: str, hits: list[Hit], deadline: float, on_token, uncovered: tuple[str, ...] = ()
    ) -> str:
        from assistant.llm import LLMError, complete

        remaining = deadline - time.monotonic()
        if remaining <= 0.5:
            raise LLMError("大模型在时限内没有答完（超时）。", "timeout")
        messages = llm_messages(question, hits, self.settings, uncovered)
        return complete(messages, self.settings, on_token, timeout=remaining)


def said_before(citations: list[Citation], shown: list[tuple[str, int, int]]) -> list[str]:
    """A notice when a follow-up's first block quotes what the last answer quoted already
    (the part of it that answers the follow-up, or all of it, when it still answers best or the scripts have
    nothing more: :data:`assistant.extractive.STILL_ANSWERS`)."""
    first = [c for c in citations if citations and c.case_id == citations[0].case_id]
    if not first or not shown:
        return []
    inside = all(any(k == c.case_id and a <= c.start and c.end <= b for k, a, b in shown) for c in first)
    if not inside:
        return []
    if {(c.case_id, c.start, c.end) for c in first} <= set(shown):
        # (it answers the follow-up best, or nothing else in the scripts does: the notice holds either way)
        return ["第 1 条仍是上一轮引用的原文：讲稿中回答这一追问的，以这段最直接。"]
    return ["第 1 条摘自上一轮已引用的原文，是其中回答这一追问的部分。"]


# One answerer per settings, over the searcher get_searcher() returns for them,
# with the index version it was built for.  When a new version is published,
# get_searcher() returns a new searcher and the answerer is rebuilt; answerers
# still holding the old searcher are dropped with it, so the old index (and
# the statistics computed over it) can be freed.
_answerers: dict[Settings, tuple[str, Answerer]] = {}
_answerers_lock = threading.Lock()


def get_answerer(settings: Settings | None = None) -> Answerer:
    """A process-wide answerer over the process-wide searcher for these settings and its index version."""
    settings = settings or get_settings()
    searcher = get_searcher(settings)
    version = searcher.index.version
    with _answerers_lock:
        got = _answerers.get(settings)
        if got is not None and got[0] == version and got[1].searcher is searcher:
            return got[1]
        if got is not None:
            old = got[1].searcher
            for key in [k for k, (_, a) in _answerers.items() if a.searcher is old]:
                del _answerers[key]
        answerer = Answerer(searcher, settings)
        _answerers[settings] = (version, answerer)
        return answerer


def ask(
    question: str,
    settings: Settings | None = None,
    *,
    conversation: Conversation | None = None,
    use_llm: bool | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """Answer one question (see :meth:`Answerer.ask`)."""
    return get_answerer(settings).ask(question, conversation, use_llm=use_llm, on_token=on_token)
