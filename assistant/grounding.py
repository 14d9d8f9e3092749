"""Keeping answers grounded: what to say when the scripts do not cover a question, checks of LLM answers.

- :func:`confidence` says how close the retrieved passages are to the
  question at all; below ``CONFIDENCE_THRESHOLD`` the question is far from
  every script (one input of :mod:`assistant.coverage`).
- :func:`not_covered` is the answer to a question judged 没有: a plain
  sentence first ("这 21 篇讲稿没有讲到……"), then at most two nearest cases,
  labelled 可参考 and each with one line on why it might still help, as
  references, not numbered citations; an off-domain question gets
  "这个问题不在案例库的范围内" and example questions instead.
  :func:`uncovered_line` names the part of a 部分 question the scripts miss.
- :func:`llm_messages` gives the model the passages as numbered, fenced data
  (:func:`defang` keeps data from closing its own fence); for a 部分
  question it also names the part the scripts do not cover.
- :meth:`Grounder.check` reads the model's reply sentence by sentence:
  citation numbers that do not exist are removed, the rest renumbered in
  order of appearance, and claims their passages do not support are marked
  ``UNSUPPORTED_MARK`` (kept, not hidden), each with a notice.

Example::

    >>> from assistant.retrieval import get_searcher
    >>> from assistant.extractive import CorpusStats
    >>> from assistant.grounding import Grounder, confidence, CONFIDENCE_THRESHOLD
    >>> searcher = get_searcher()
    >>> stats = CorpusStats(searcher.index.passages)
    >>> hits = searcher.search("楼道里飞线充电怎么治理？", 6)
    >>> confidence(stats, "楼道里飞线充电怎么治理？", hits) > CONFIDENCE_THRESHOLD
    True
    >>> text, citations, notices = Grounder(searcher, stats).check("蓝天二村拆除了地锁。[1][9]", hits)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.chunking import Passage
from assistant.citations import Citation, numbered
from assistant.extractive import CorpusStats
from assistant.lexical import tokenize
from assistant.retrieval import Hit

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.retrieval import HybridSearcher

REFUSAL = "案例库中没有找到直接相关的做法"  # what the LLM is told to say when its passages do not answer
UNSUPPORTED_MARK = "〔未找到依据〕"
OUT_OF_SCOPE = "这个问题不在案例库的范围内"
REFERENCE_LABEL = "可参考"
PROCEDURE_NOTE = "讲稿讲的是村居书记的治理经验，不讲办事流程和政策标准；具体要求请以主管部门的最新规定为准。"
MAX_REFERENCES = 2
_ABSENCE = re.compile(r"没有涉及|没有讲到|未涉及|没有提到")

# --- refusal ---------------------------------------------------------------
# Confidence that the corpus covers the question, from two signals that fail
# differently: the best dense cosine among the retrieved passages (e5 puts
# every Chinese text pair at 0.8-0.95, so only the margin matters) and the
# share of the question's IDF mass (jieba tokens) found in the top passages
# (a question about 个税/高考/护照 leaves its key words uncovered or
# out of the vocabulary).  Calibrated on eval/dev.jsonl (eval/README.md, "回答质量"):
# the 8 unanswerable questions have top cosine 0.838-0.877 and coverage
# 0.15-0.31; the 80 answerable ones have cosine >= 0.886 or coverage >= 0.5.
# The line sits between the two groups: a 0.01 cosine is worth 0.1 coverage.
DENSE_FLOOR = 0.87
CONFIDENCE_THRESHOLD = 0.035  # midway between the lowest answerable (0.117) and highest unanswerable (-0.044)
COVERAGE_FLOOR = 0.35
# At or above this confidence a 部分 judgement is read as 有 (CoverageJudge.judge, ``near``): the
# question is as close to the passages as most answerable questions are, and the words the place
# misses are wording ("关于照看，讲稿中没有涉及" under an answer about 日巡/随访 of the elderly).
# Chosen on a blind reading of the 78 部分 lines of the tune halves (eval/blind/round17); checked
# once on the test halves (round 18). eval/coverage_results.md, round 8.
WORDING_CONFIDENCE = 0.45
# Below this confidence a 部分 judgement is read as 没有 (CoverageJudge.judge, ``remote``): retrieval finds the
# question farther from the passages than all but a few answerable questions get, and the part the places
# miss is what is asked, not wording ("小区划的残疾人专用车位老被普通车占着" at passages on 残疾人 and 车位).
# Of every signal at hand it separates the tune halves' gap 部分s from the answerable ones best
# (eval/partial_signals.py: AUC 0.89; the link level 0.79, the missed words 0.57-0.59); chosen on the
# tune halves (+5 gaps refused, 1 answerable), read once on the test halves (+4, 0) and on a fresh set
# (holdout_r11: +1, 1). eval/coverage_results.md, round 11.
GAP_CONFIDENCE = 0.2

# --- support check of LLM sentences ----------------------------------------
# lex: IDF-weighted share of a sentence's jieba tokens found in its cited
# passages; emb: cosine between the sentence (as a query) and the passage.
# Calibration (`python eval/answer_eval.py`, 80 dev questions): a sentence of
# the top passage, or a terse version of it, checked against that passage
# has lex 0.98-1.0 (p10) and cosine 0.88-0.95; a sentence from another
# case's passage on the same question has lex 0.00/0.06/0.22 (p10/p50/p90)
# and cosine 0.85-0.90, i.e. the cosine alone cannot separate them but lex
# can.  lex >= 0.5 is support; between 0.3 and 0.5 the cosine must agree
# (>= 0.88, the p10 of true support).  Result: 100% of supported claims
# accepted, 5% of same-topic claims from elsewhere accepted.
SUPPORT_LEX = 0.5
SUPPORT_LEX_LOW = 0.3
SUPPORT_EMB = 0.88

_MARKER = re.compile(r"[\[【［]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】］]")
_LLM_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*(?:\s*[\[【［]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】］])*")
_FENCE = re.compile(r"<<<|>>>")


# ---------------------------------------------------------------------------
# refusal


def confidence(stats: CorpusStats, question: str, hits: list[Hit]) -> float:
    """> ``CONFIDENCE_THRESHOLD`` when the cases cover the question (see the constants above)."""
    if not hits:
        return -1.0
    dense = max((h.parts.get("dense", 0.0) for h in hits), default=0.0)
    top = set().union(*(stats.passage_tokens(h.passage) for h in hits[:3]))
    # the questions linked to a passage say what it answers, in askers' words (assistant/links.py)
    top = top.union(*(tokenize(q) for h in hits[:3] for q in h.links))
    coverage = stats.weighted_share(set(tokenize(question)), top)
    return (dense - DENSE_FLOOR) * 10 + (coverage - COVERAGE_FLOOR)


@dataclass(frozen=True)
class Reference:
    """A case listed as 可参考 under a 没有 answer: where to look, and why it might still help (not a citation)."""

    case_id: str
    case_title: str
    author: str  # with role and community
    section: str
    quote: str  # the best passage, verbatim: case.text[start:end]
    start: int
    end: int
    why: str

    def to_dict(self) -> dict:
        return asdict(self)


def references(hits: list[Hit], concepts: tuple[str, ...] = ()) -> list[Reference]:
    """The nearest cases (at most ``MAX_REFERENCES``), each by its best passage, with one line on why it may help."""
    out: list[Reference] = []
    for h in hits:
        if h.case.id in {r.case_id for r in out}:
            continue
        shared = [w for w in concepts if w and w.lower() in h.case.text.lower()][:3]
        why = f"讲稿谈到了{'、'.join(shared)}，思路或可借鉴" if shared else "讲稿内容与问题最接近，或有可借鉴之处"
        where = h.passage.section[-1] if h.passage.section else ""
        if where:
            why += f"（见“{where}”）"
        p = h.passage
        out.append(Reference(h.case.id, h.case.title, h.case.author_line, p.section_label, p.text, p.start, p.end, why))
        if len(out) == MAX_REFERENCES:
            break
    return out


def not_covered(
    hits: list[Hit],
    n_cases: int,
    uncovered: tuple[str, ...] = (),
    covered: tuple[str, ...] = (),
    *,
    off_domain: bool = False,
    examples: list[str] | None = None,
    procedure: bool = False,
) -> tuple[str, list[Reference]]:
    """The answer to a question judged 没有: (text, references).

    The text says so plainly first; the references (可参考) are listed after a
    blank line, without citation numbers, so nothing looks like an answer.
    ``procedure``: the question asks for an administrative procedure (申请, 审批 …)
    the scripts do not give: the text says where such rules come from.
    """
    if off_domain:
        lines = [f"{OUT_OF_SCOPE}。案例库收录的是 {n_cases} 篇村居书记讲稿，讲的是基层治理的实际做法，可以这样问："]
        lines += [f"· {q}" for q in (examples or [])]
        return "\n".join(lines), []
    topic = "、".join(f"“{u}”" for u in uncovered) if uncovered else "这个问题"
    lines = [f"这 {n_cases} 篇讲稿没有讲到{topic}。"]
    if procedure:
        lines.append(PROCEDURE_NOTE)
    refs = references(hits, covered)
    if refs:
        lines.append("")
        lines.append(f"{REFERENCE_LABEL}（不是对这个问题的回答，只是内容相近的案例）：")
        lines += [f"· 《{r.case_title}》——{r.author}：{r.why}" for r in refs]
    return "\n".join(lines), refs


def uncovered_line(uncovered: tuple[str, ...], briefly: tuple[str, ...] = ()) -> str:
    """The sentence naming what a 部分 question asks that the scripts do not cover
    (``briefly``: the part they mention once, in passing, without going into it)."""
    absent = [u for u in uncovered if u not in briefly]
    said = [u for u in uncovered if u in briefly]
    parts = []
    if absent:
        parts.append(f"关于{'、'.join(absent)}，讲稿中没有涉及。")
    if said:
        parts.append(f"关于{'、'.join(said)}，讲稿只是顺带提到，没有具体讲。")
    return "".join(parts)


def declines(reply: str) -> bool:
    """The model said the passages do not cover the question (and cited nothing)."""
    return REFUSAL in reply and not _MARKER.search(reply)


# ---------------------------------------------------------------------------
# the prompt


def llm_messages(
    question: str, hits: list[Hit], settings: Settings, uncovered: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """System rules and the question with its passages as numbered, fenced data.

    ``hits`` come grouped by community, best first, each community's passages
    in script order (:meth:`assistant.extractive.Extractor.context`, the same
    order as the extractive answer's blocks); each group is headed by the
    community it comes from, so the model can write one paragraph per community.
    ``uncovered``: the part of a 部分 question the scripts do not cover; the
    model is told to answer only the rest and to say so.
    """
    from assistant.citations import place
    from assistant.llm import render_prompt

    blocks = []
    groups = 0
    for i, h in enumerate(hits, 1):
        if i == 1 or hits[i - 2].case.id != h.case.id:
            groups += 1
            where = " · ".join(x for x in (h.case.town, h.case.author) if x)
            blocks.append(f"【社区（村）{groups}：{place(h.case, town=False)}（{where}）】")
        section = h.passage.section_label or "开头"
        blocks.append(
            f"[{i}] 来源：《{h.case.title}》，{h.case.author_line}，{section}\n"
            f"<<<段落{i}开始>>>\n{defang(h.passage.text)}\n<<<段落{i}结束>>>"
        )
    user = render_prompt("answer_user", settings, question=defang(question), passages="\n\n".join(blocks))
    if uncovered:
        user += "\n\n" + render_prompt("answer_partial", settings, uncovered=defang("、".join(uncovered)))
    return [("system", render_prompt("answer_system", settings)), ("user", user)]


def defang(text: str) -> str:
    """Data must not be able to close its own fence: ``<<<``/``>>>`` become look-alikes."""
    return _FENCE.sub(lambda m: "‹‹‹" if m.group(0) == "<<<" else "›››", text)


# ---------------------------------------------------------------------------
# the reply


class Grounder:
    """Checks an LLM reply against the passages it was given (over one searcher's index)."""

    def __init__(self, searcher: HybridSearcher, stats: CorpusStats) -> None:
        self.searcher = searcher
        self.stats = stats

    def passage_vector(self, p: Passage) -> np.ndarray | None:
        i = self.stats.position(p)
        if i is None:
            return None
        return self.searcher.index.vector(i)  # None from an index that cannot give it back: lexical check only

    def support(self, sentence: str, passages: list[Passage]) -> tuple[float, float]:
        """(lexical share, best cosine) of ``sentence`` against ``passages``."""
        claim = _MARKER.sub("", sentence)
        tokens = set(tokenize(claim))
        found = set().union(*(set(tokenize(p.text)) for p in passages)) if passages else set()
        lex = self.stats.weighted_share(tokens, found) if tokens else 1.0
        emb = 0.0
        vectors = [v for v in (self.passage_vector(p) for p in passages) if v is not None]
        if vectors and lex < SUPPORT_LEX:  # only the borderline cases pay for an embedding
            q = np.asarray(self.searcher.embedder.embed_query(claim), dtype=np.float32)
            emb = float(max(v @ q for v in vectors))
        return lex, emb

    def supported(self, sentence: str, passages: list[Passage]) -> bool:
        lex, emb = self.support(sentence, passages)
        return lex >= SUPPORT_LEX or (lex >= SUPPORT_LEX_LOW and emb >= SUPPORT_EMB)

    def check(self, reply: str, hits: list[Hit]) -> tuple[str, list[Citation], list[str]]:
        """Renumber valid citations, drop nonexistent ones, mark unsupported sentences.

        Returns the checked text, its citations and the notices for the user.
        """
        notices: list[str] = []
        dropped: set[int] = set()
        numbering: dict[int, int] = {}  # prompt number -> answer number
        out: list[str] = []
        unsupported = 0
        for raw in _LLM_SENTENCE.findall(reply.strip()):
            sentence = raw.strip()
            if not sentence:
                continue
            cited = [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\s*[,，、]\s*", m.group(1))]
            valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(hits)]
            dropped.update(n for n in cited if not 1 <= n <= len(hits))
            body = _MARKER.sub("", sentence).rstrip()
            for n in valid:
                numbering.setdefault(n, len(numbering) + 1)
            markers = "".join(f"[{numbering[n]}]" for n in valid)
            # a lead-in ("可以参考以下做法。") or a statement of what the scripts lack claims nothing;
            # a number or a longer statement does
            substantive = REFUSAL not in body and not _ABSENCE.search(body) and (
                len(set(tokenize(body))) >= 5 or bool(valid) or bool(re.search(r"\d", body))
            )
            # an uncited sentence (a summary, a lead-in) may stand if some passage supports it
            ok = self.supported(body, [hits[n - 1].passage for n in (valid or range(1, len(hits) + 1))])
            if substantive and not ok:
                unsupported += 1
                out.append(f"{body}{markers}{UNSUPPORTED_MARK}")
            else:
                out.append(f"{body}{markers}")
        if dropped:
            notices.append(f"回答引用了不存在的段落编号 {sorted(dropped)}，已删除这些编号。")
        if unsupported:
            notices.append(f"有 {unsupported} 句话在所引段落中找不到依据，已标注{UNSUPPORTED_MARK}，请谨慎参考。")
        by_new = sorted(numbering.items(), key=lambda kv: kv[1])
        citations = [_passage_citation(new, hits[old - 1]) for old, new in by_new]
        return _join(out), citations, notices


def _passage_citation(n: int, h: Hit) -> Citation:
    return numbered(n, h.case, h.passage.start, h.passage.end, section=h.passage.section_label)


def _join(sentences: list[str]) -> str:
    out = ""
    for s in sentences:
        if out and out[-1].isascii() and out[-1].isalnum() and s[:1].isascii() and s[:1].isalnum():
            out += " "
        out += s
    return out
