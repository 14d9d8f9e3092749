"""``assistant bench quality``: our retriever against the peer recipes on a question set.

Example::

    >>> from pathlib import Path
    >>> from assistant.bench.quality import format_quality, run_quality
    >>> result = run_quality(Path("eval/dev.jsonl"))     # doctest: +SKIP
    >>> print(format_quality(result))                    # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from assistant.bench.common import cache_dir as default_cache_dir
from assistant.bench.peers import build_peers
from assistant.corpus import Case
from assistant.evaluation import evaluate, read_questions

QUALITY_COLUMNS = [
    ("evidence@k", "evidence@5"),
    ("evidence@600ch", "evidence≤600ch"),
    ("evidence@1200ch", "evidence≤1200ch"),
    ("author@k", "author@5"),
    ("author_mrr@10", "MRR@10"),
]
KINDS = ("howto", "fact", "similar")


def quality_of(search: Callable[[str, int], list], items: list[dict], k: int = 5) -> dict:
    """Overall metrics and per-question scores (keyed by id) of one recipe."""
    report = evaluate(search, items, k=k)
    per_q = {row["id"]: {n: float(v) for n, v in row["scores"].items()} for row in report.rows}
    overall = {key: float(np.mean([s[key] for s in per_q.values() if key in s]))
               for key, _ in QUALITY_COLUMNS if any(key in s for s in per_q.values())}
    return {"overall": overall, "per_question": per_q, "latency_p50_ms": report.metrics["latency_p50_ms"],
            "n_chunks": None}


def compare(results: dict[str, dict], items: list[dict], ours: str = "ours") -> dict:
    """Ratios ours / best peer, per-kind means and per-kind wins/losses against each peer."""
    peers = [n for n in results if n != ours]
    ratio = {}
    for key, _ in QUALITY_COLUMNS:
        best = max((results[p]["overall"].get(key, 0.0) for p in peers), default=0.0)
        ratio[key] = results[ours]["overall"].get(key, 0.0) / best if best else float("inf")
    kinds: dict[str, dict] = {}
    for kind in KINDS:
        ids = [i["id"] for i in items if i.get("kind") == kind]
        if not ids:
            continue
        row: dict[str, Any] = {"n": len(ids), "mean": {}, "vs": {}}
        for name, res in results.items():
            row["mean"][name] = {
                key: float(np.mean([res["per_question"][q][key] for q in ids if key in res["per_question"][q]]))
                for key in ("evidence@600ch", "evidence@1200ch", "author_mrr@10")
                if any(key in res["per_question"][q] for q in ids)
            }
        for p in peers:
            wins = losses = 0
            for q in ids:
                a, b = results[ours]["per_question"][q], results[p]["per_question"][q]
                for key in ("evidence@600ch", "evidence@1200ch"):
                    if key in a:
                        wins += a[key] > b[key]
                        losses += a[key] < b[key]
            row["vs"][p] = {"wins": wins, "losses": losses}
        kinds[kind] = row
    return {"ratio": ratio, "kinds": kinds}


def format_quality(result: dict) -> str:
    """One Markdown table per recipe and metric, the ratio row, and the per-kind breakdown."""
    results, cmp_ = result["results"], result["compare"]
    head = "| recipe | chunks | " + " | ".join(label for _, label in QUALITY_COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(QUALITY_COLUMNS) + 2)]
    for name, res in results.items():
        cells = [f"{res['overall'].get(key, float('nan')):.3f}" for key, _ in QUALITY_COLUMNS]
        lines.append(f"| {name} | {res.get('n_chunks') or ''} | " + " | ".join(cells) + " |")
    lines.append("| **ours / best peer** | | " + " | ".join(
        f"**{cmp_['ratio'][key]:.2f}×**" for key, _ in QUALITY_COLUMNS) + " |")
    lines += ["", "Per question kind (evidence within 600 / 1,200 characters; wins/losses count "
              "questions × budgets where ours finds the evidence and the peer does not, or the reverse):", ""]
    names = list(results)
    lines.append("| kind | n | " + " | ".join(f"{n} 600/1200" for n in names) + " | "
                 + " | ".join(f"vs {p} win/loss" for p in names if p != "ours") + " |")
    lines.append("|" + "---|" * (2 + len(names) + len(names) - 1))
    for kind, row in cmp_["kinds"].items():
        cells = [
            f"{row['mean'][n].get('evidence@600ch', float('nan')):.2f} / {row['mean'][n].get('evidence@1200ch', float('nan')):.2f}"
            for n in names
        ]
        vs = [f"{v['wins']} / {v['losses']}" for v in row["vs"].values()]
        lines.append(f"| {kind} | {row['n']} | " + " | ".join(cells) + " | " + " | ".join(vs) + " |")
    return "\n".join(lines)


def plot_quality(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = result["results"]
    names = list(results)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(QUALITY_COLUMNS))
    for j, name in enumerate(names):
        vals = [results[name]["overall"].get(key, 0.0) for key, _ in QUALITY_COLUMNS]
        bars = ax.bar(x + (j - (len(names) - 1) / 2) * width, vals, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(x, [label for _, label in QUALITY_COLUMNS])
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("score on eval set")
    ax.set_title(f"Retrieval quality per recipe ({result.get('questions', '')}, same embedder)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run_quality(
    questions: Path,
    k: int = 5,
    settings=None,
    embedder=None,
    cache_dir: Path | None = None,
    ours_search: Callable[[str, int], list] | None = None,
    cases: Sequence[Case] | None = None,
) -> dict:
    """Evaluate ours and both peers on ``questions``; returns results and comparison."""
    from assistant.config import get_settings
    from assistant.embedding import get_embedder

    settings = settings or get_settings()
    embedder = embedder or get_embedder(settings.embedder, settings.query_instruction)
    cache_dir = cache_dir or default_cache_dir(settings)
    items = read_questions(questions)
    results: dict[str, dict] = {}
    if ours_search is None:
        from assistant.retrieval import HybridSearcher
        from assistant.stores import open_store

        index = open_store(settings).load(embedder.id)
        searcher = HybridSearcher(index, embedder, max_question_chars=settings.max_question_chars)
        ours_search, n_ours = searcher.search, len(index.passages)
        cases = cases or list(index.cases.values())
    else:
        n_ours = None
    if cases is None:
        from assistant.corpus import load_corpus

        cases = load_corpus(settings.corpus_dir)
    results["ours"] = quality_of(ours_search, items, k)
    results["ours"]["n_chunks"] = n_ours
    for peer in build_peers(cases, embedder, cache_dir):
        results[peer.name] = quality_of(peer.search, items, k)
        results[peer.name]["n_chunks"] = len(peer.chunks)
    return {"questions": Path(questions).name, "n_questions": len(items), "k": k, "embedder": embedder.id,
            "results": results, "compare": compare(results, items)}


def write_quality(result: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "quality.md"
    intro = (f"Eval set `{result['questions']}` ({result['n_questions']} questions), k={result['k']}, "
             f"embedder `{result['embedder']}` for every recipe.\n\n")
    md.write_text(intro + format_quality(result) + "\n", encoding="utf-8")
    slim = {**result, "results": {n: {k: v for k, v in r.items() if k != "per_question"}
                                  for n, r in result["results"].items()}}
    js = out_dir / "quality.json"
    js.write_text(json.dumps(slim, ensure_ascii=False, indent=1), encoding="utf-8")
    return [md, js, plot_quality(result, out_dir / "quality.png")]


