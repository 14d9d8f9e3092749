"""Score a retriever on a question file (JSON lines).

Each line: ``{"id": …, "question": …, "evidence": [verbatim strings], "gold_author": …}``
(``evidence`` and ``gold_author`` optional).  A conversation has ``"turns": [question, follow-up, …]``
instead of ``question``; its evidence is for the last turn (retrieval scores the last turn alone,
answers play the whole conversation).  Metrics, over the questions
that carry the gold field concerned:

- evidence@k: a top-k passage contains an evidence string (whitespace ignored);
- evidence within 600 / 1,200 characters: the ranked passages concatenated
  and cut at that length contain an evidence string, so big chunks cannot win
  just by being big;
- author@k and MRR@10 by author;
- latency p50/p95 of the search call.

Example::

    >>> from assistant.evaluation import evaluate, read_questions
    >>> report = evaluate(searcher, read_questions("eval/dev.jsonl"), k=5)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from assistant.errors import InputError

if TYPE_CHECKING:
    from assistant.answer import Answer

BUDGETS = (600, 1200)
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def evidence_in(text: str, evidence: Iterable[str], share: float = 0.5) -> bool:
    """``text`` holds a gold evidence string: whole, or a contiguous part of at least ``share`` of it.

    Both sides are :func:`normalise`-d (NFKC, whitespace removed).  The partial
    rule lets an answer that quotes half of an evidence string count (an
    evidence string may run past the end of a quoted passage); it is the
    longest common substring, never scattered characters.
    """
    t = normalise(text)
    for e in evidence:
        e = normalise(e)
        if not e:
            continue
        if e in t:
            return True
        m = SequenceMatcher(None, e, t, autojunk=False).find_longest_match(0, len(e), 0, len(t))
        if m.size >= share * len(e):
            return True
    return False


def answerable(item: dict) -> bool:
    """``answerable`` when given; a coverage label ``none`` means the cases do not answer it."""
    return bool(item.get("answerable", item.get("label") != "none"))


def read_questions(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"问题文件不存在：{path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} 第 {n} 行不是合法的 JSON：{exc.msg}") from None
        if isinstance(item, dict) and "question" not in item and "turns" in item:
            turns = item["turns"]
            if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
                raise InputError(f"{path} 第 {n} 行的 turns 应为非空的问题列表。")
            item["question"] = turns[-1]
        if not isinstance(item, dict) or "id" not in item or not str(item.get("question", "")).strip():
            raise InputError(f"{path} 第 {n} 行缺少 id 或 question 字段。")
        items.append(item)
    if not items:
        raise InputError(f"{path} 中没有问题。")
    return items


@dataclass
class EvalReport:
    n: int
    k: int
    metrics: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"questions: {self.n}  (k={self.k})"]
        for name, value in self.metrics.items():
            count = self.counts.get(name)
            suffix = f"  (n={count})" if count is not None else ""
            out.append(f"{name:<28}{value:8.3f}{suffix}")
        return out


def score_item(item: dict, texts: list[str], authors: list[str], k: int) -> dict:
    """Per-question hits; keys are absent when the gold field is absent."""
    out: dict = {}
    evidence = [normalise(e) for e in item.get("evidence") or [] if normalise(e)]
    if evidence:
        norm = [normalise(t) for t in texts]
        out["evidence@k"] = any(e in t for t in norm[:k] for e in evidence)
        joined = "".join(texts)
        for budget in BUDGETS:
            window = normalise(joined[:budget])
            out[f"evidence@{budget}ch"] = any(e in window for e in evidence)
        first = next((r for r, t in enumerate(norm[:10], 1) if any(e in t for e in evidence)), None)
        out["evidence_mrr@10"] = 1.0 / first if first else 0.0
    gold = item.get("gold_author")
    if gold:
        out["author@k"] = gold in authors[:k]
        first = next((r for r, a in enumerate(authors[:10], 1) if a == gold), None)
        out["author_mrr@10"] = 1.0 / first if first else 0.0
    return out


def evaluate(
    search: Callable[[str, int], list],
    items: Iterable[dict],
    k: int = 5,
    depth: int = 20,
) -> EvalReport:
    """Run every question through ``search(question, n) -> list[Hit]`` and score it.

    ``depth`` passages are fetched so the 1,200-character budget can be filled;
    the per-question output keeps the top ``k``.
    """
    items = list(items)
    report = EvalReport(n=len(items), k=k)
    sums: dict[str, float] = {}
    latencies = []
    for item in items:
        t0 = time.perf_counter()
        hits = search(item["question"], max(k, depth))
        latency = (time.perf_counter() - t0) * 1000
        latencies.append(latency)
        texts = [h.passage.text for h in hits]
        authors = [h.case.author for h in hits]
        scores = score_item(item, texts, authors, k)
        for name, value in scores.items():
            sums[name] = sums.get(name, 0.0) + float(value)
            report.counts[name] = report.counts.get(name, 0) + 1
        report.rows.append(
            {
                "id": item["id"],
                "latency_ms": round(latency, 2),
                "results": [h.to_dict() for h in hits[:k]],
                "scores": scores,
            }
        )
    order = ["evidence@k", "evidence@600ch", "evidence@1200ch", "evidence_mrr@10", "author@k", "author_mrr@10"]
    for name in order:
        if name in sums:
            report.metrics[name.replace("@k", f"@{k}")] = sums[name] / report.counts[name]
    report.counts = {n.replace("@k", f"@{k}"): c for n, c in report.counts.items()}
    # the first query pays for loading jieba and the model: report warm latency
    warm = latencies[1:] if len(latencies) > 1 else latencies
    report.metrics["latency_p50_ms"] = float(np.percentile(warm, 50))
    report.metrics["latency_p95_ms"] = float(np.percentile(warm, 95))
    return report


def evaluate_answers(
    answer: Callable[[str], Answer],
    items: Iterable[dict],
    passages: list,
    converse: Callable[[list[str]], Answer] | None = None,
) -> EvalReport:
    """Score cited answers: ``answer(question) -> assistant.answer.Answer``.

    ``passages`` are the index's passages (``searcher.index.passages``): a
    citation "cites" the passage its quote lies in.  A conversation (an item
    with ``turns``) is played through ``converse(turns)``, which returns the
    answer to the last turn.

    - first_block_evidence: over answerable questions with evidence, the
      first block of the answer (:func:`first_block`: the first community's
      quotes) holds a gold evidence string (:func:`evidence_in`: whole, or a
      contiguous half of it), whitespace ignored; also per ``half`` and
      ``kind`` of the questions when they carry them;
    - top_sentence_evidence: the first citation of the answer quotes a
      passage that contains an evidence string; the passage is the one
      holding the quote (or the passages a quote runs over, one paragraph's
      run across the index's seam);
    - quotes_verbatim: every citation's quote equals the case text at its offsets;
    - refused_unanswerable / refused_answerable: share of each group refused
      (:func:`answerable`: the ``answerable`` field, or a coverage label other than
      ``none``; questions without either count as answerable);
    - coverage judgements per gold label, for question files with a ``label``
      (full / partial / none) and a ``domain`` (in / off), as
      eval/coverage.jsonl has: ``gold=full judged none`` is the share of the
      full questions judged 没有, and so on; ``gold=off`` are the off-domain ones;
    - latency p50/p95 of the whole answer call (warm: the first is skipped).
    """
    items = list(items)
    report = EvalReport(n=len(items), k=0)
    hits: dict[str, list[bool]] = {
        "first_block_evidence": [],
        "top_sentence_evidence": [],
        "refused_unanswerable": [],
        "refused_answerable": [],
        "quotes_verbatim": [],
    }
    groups: dict[str, list[bool]] = {}
    judged: dict[str, list[str]] = {}
    latencies = []
    for item in items:
        t0 = time.perf_counter()
        turns = item.get("turns")
        if turns and len(turns) > 1:
            if converse is None:
                raise InputError(f"问题 {item['id']} 是多轮对话（turns），需要按对话评测。")
            a = converse(list(turns))
        else:
            a = answer(item["question"])
        latencies.append((time.perf_counter() - t0) * 1000)
        can = answerable(item)
        hits["refused_answerable" if can else "refused_unanswerable"].append(not a.answered)
        gold = gold_label(item)
        if gold:
            judged.setdefault(gold, []).append(a.coverage)
        cases = {h.case.id: h.case for h in a.hits}
        for c in a.citations:
            case = cases.get(c.case_id)
            hits["quotes_verbatim"].append(case is not None and case.text[c.start : c.end] == c.quote)
        evidence = [normalise(e) for e in item.get("evidence") or [] if normalise(e)]
        top_ok = block_ok = None
        if can and evidence:
            top_ok = block_ok = False
            if a.answered and a.citations:
                first = a.citations[0]
                passage = _passage_of(passages, first) or first.quote
                top_ok = any(e in normalise(passage) for e in evidence)
                block_ok = evidence_in(first_block(a.answer, a.citations), evidence)
            hits["top_sentence_evidence"].append(top_ok)
            hits["first_block_evidence"].append(block_ok)
            for key in ("half", "kind"):
                if item.get(key):
                    groups.setdefault(f"first_block_evidence[{item[key]}]", []).append(block_ok)
        report.rows.append(
            {
                "id": item["id"],
                "latency_ms": round(latencies[-1], 2),
                "answered": a.answered,
                "first_block_evidence": block_ok,
                "coverage": a.coverage,
                "uncovered": list(a.uncovered),
                "top_sentence_evidence": top_ok,
                "search_question": a.search_question,
                "answer": a.answer,
                "citations": [c.to_dict() for c in a.citations],
            }
        )
    for name, values in list(hits.items()) + sorted(groups.items()):
        if values:
            report.metrics[name] = sum(values) / len(values)
            report.counts[name] = len(values)
    for gold in ("full", "partial", "none", "off"):
        levels = judged.get(gold) or []
        for level in ("full", "partial", "none") if levels else ():
            name = f"gold={gold} judged {level}"
            report.metrics[name] = sum(x == level for x in levels) / len(levels)
            report.counts[name] = len(levels)
    warm = latencies[1:] if len(latencies) > 1 else latencies
    report.metrics["latency_p50_ms"] = float(np.percentile(warm, 50))
    report.metrics["latency_p95_ms"] = float(np.percentile(warm, 95))
    return report


_BLOCK_START = re.compile(r"^\d+\. ")
_MARKER = re.compile(r"\[(\d+)\]")


def first_block(text: str, citations: list) -> str:
    """The quotes of an answer's first block: the first community's measure and result.

    An extractive answer numbers its blocks ("1. 蓝天二村居民区（…）：…", then
    "成效：…"); the first block runs to the next numbered line.  Any other
    answer (an LLM's) counts its first line that cites anything.  The block's
    text is the cited quotes (for an LLM answer, the cited passages).
    """
    lines = [x for x in text.split("\n") if x.strip()]
    starts = [i for i, x in enumerate(lines) if _BLOCK_START.match(x)]
    if starts:
        end = starts[1] if len(starts) > 1 else len(lines)
        block = lines[starts[0] : end]
    else:
        block = [next((x for x in lines if _MARKER.search(x)), "")]
    by_n = {c.n: c for c in citations}
    numbers = [int(n) for line in block for n in _MARKER.findall(line)]
    return "".join(by_n[n].quote for n in dict.fromkeys(numbers) if n in by_n)


def gold_label(item: dict) -> str | None:
    """full / partial / none for an in-domain question with a coverage ``label``, off for an off-domain one."""
    label = item.get("label")
    if label not in ("full", "partial", "none"):
        return None
    return "off" if item.get("domain") == "off" else label


def _passage_of(passages: list, citation) -> str | None:
    """Text of the indexed passage that holds a citation's quote, or of the passages it runs over
    (an answer quotes a paragraph's run across the index's seam as one citation); None if not found."""
    over = sorted(
        (p for p in passages if p.case_id == citation.case_id and p.start < citation.end and citation.start < p.end),
        key=lambda p: p.start,
    )
    if not over or over[0].start > citation.start or over[-1].end < citation.end:
        return None
    return "".join(p.text for p in over)
