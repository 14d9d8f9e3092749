"""Calibration data for the LLM support check (assistant.grounding SUPPORT_* thresholds).

For every answerable dev question, the top passage A and the best passage B
of another case are taken.  Each sentence of A is a *supported* claim when
checked against A (as an LLM restating A would be; the half of its words with
the highest IDF is also checked, a crude stand-in for a terse paraphrase).
Each sentence of B checked against A is a same-topic claim A does *not*
support.  The script prints the lexical share and cosine quantiles of both
groups and how often the shipped thresholds accept each.

    .venv/bin/python eval/answer_eval.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import answer as ans  # noqa: E402
from assistant import grounding  # noqa: E402
from assistant.chunking import split_sentences  # noqa: E402
from assistant.lexical import tokenize  # noqa: E402


def main() -> None:
    answerer = ans.get_answerer()
    items = [json.loads(x) for x in (ROOT / "eval" / "dev.jsonl").read_text("utf-8").splitlines() if x.strip()]
    groups: dict[str, list[tuple[float, float]]] = {"own": [], "terse": [], "other_case": []}
    for item in items:
        if not item.get("answerable", True):
            continue
        hits = answerer.searcher.search(item["question"], 8)
        a = hits[0]
        b = next((h for h in hits if h.case.id != a.case.id), None)
        for label, src in (("own", a), ("other_case", b)):
            if src is None:
                continue
            for s, e in split_sentences(src.passage.text)[:3]:
                sentence = src.passage.text[s:e].strip()
                if len(sentence) < 12:
                    continue
                lex, emb = answerer.grounder.support(sentence, [a.passage])
                if emb == 0.0:  # support() skips the embedding when lex alone decides: measure it here
                    q = answerer.searcher.embedder.embed_query(sentence)
                    emb = float(answerer.grounder.passage_vector(a.passage) @ q)
                groups[label].append((lex, emb))
                if label == "own":
                    toks = sorted(set(tokenize(sentence)), key=lambda t: -answerer.stats.idf(t))
                    terse = "，".join(toks[: max(3, len(toks) // 2)])
                    groups["terse"].append(answerer.grounder.support(terse, [a.passage]))
    for label, values in groups.items():
        lex = np.array([v[0] for v in values])
        emb = np.array([v[1] for v in values if v[1] > 0])
        accepted = sum(
            1 for x, y in values
            if x >= grounding.SUPPORT_LEX or (x >= grounding.SUPPORT_LEX_LOW and y >= grounding.SUPPORT_EMB)
        )
        print(
            f"{label:<11} n={len(values):3d}  lex p10/p50/p90 = {np.percentile(lex, 10):.2f}/{np.percentile(lex, 50):.2f}/"
            f"{np.percentile(lex, 90):.2f}  cos p10/p50/p90 = "
            + (f"{np.percentile(emb, 10):.3f}/{np.percentile(emb, 50):.3f}/{np.percentile(emb, 90):.3f}" if emb.size else "-")
            + f"  accepted {accepted / len(values):.0%}"
        )


if __name__ == "__main__":
    main()
