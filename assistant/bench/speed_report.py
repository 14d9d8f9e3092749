"""The report of ``assistant bench speed``: a Markdown table, a JSON file and a plot."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.bench.common import mmm

def format_speed(r: dict) -> str:
    m, b = r["machine"], r["build"]
    fake = "**fake random-vector embedder (`--quick`)**" if r["quick"] else f"`{b['embedder']}`"
    L = [f"Machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, faiss {m['faiss']}; "
         f"load average at start {m['load_avg']:.1f} (other jobs share the box: figures are medians, "
         "with min–max over the runs).", "",
         f"### Index build ({b['n_passages']} passages, {b['n_chars']:,} characters, embedder {fake})", "",
         "| build | runs | seconds | passages/s | chars/s | passages embedded |", "|---|---|---|---|---|---|"]
    for label, key in (("full (empty index)", "full"), ("incremental (one case edited)", "incremental")):
        s = b.get(key)
        if s:
            L.append(f"| {label} | {s['seconds']['n']} | {mmm(s['seconds'], '{:.2f}')} | "
                     f"{mmm(s['passages_per_s'], '{:.0f}')} | {mmm(s['chars_per_s'], '{:,.0f}')} | "
                     f"{mmm(s['embedded'], '{:.0f}')} |")
    if b.get("profile_s"):
        tot = b["profile_s"].get("total") or 1
        parts = ", ".join(f"{k} {v:.1f} s ({100 * v / tot:.0f}%)" for k, v in b["profile_s"].items() if k != "total")
        L += ["", f"Profile of the first full build (pyinstrument, `bench/profile_build.txt`): total {tot:.1f} s; {parts}."]
    c, w = r["cold_start"], r["warm"]
    L += ["", "### Cold start and warm latency (shipped index, real model)", "",
          f"- cold start, process start → first result of `assistant search` ({c['seconds']['n']} runs): "
          f"{mmm(c['seconds'], '{:.2f}')} s; peak RSS of that process {mmm(c['peak_rss_mb'], '{:.0f}')} MB",
          f"- warm `search` (k=5, every dev question, median over rounds): p50 {mmm(w['search']['p50'])} ms, "
          f"p95 {mmm(w['search']['p95'])} ms"]
    if w.get("answer"):
        L.append(f"- warm extractive answer (`{w['answer_fn']}`): p50 {mmm(w['answer']['p50'])} ms, "
                 f"p95 {mmm(w['answer']['p95'])} ms")
    else:
        L.append("- extractive answer: `assistant/answer.py` not present when measured, search only")
    if w.get("profile_s"):
        tot = w["profile_s"].get("total") or 1
        parts = ", ".join(f"{k} {100 * v / tot:.0f}%" for k, v in w["profile_s"].items()
                          if k not in ("total", "queries"))
        L.append(f"- profile of {w['profile_s']['queries']} warm queries (`bench/profile_query.txt`): {parts}")
    L += ["", "### Growth with corpus size", "",
          "1× is the shipped index with the model's vectors. 10× and 100× are synthetic: every case copied and "
          "each passage perturbed (a sentence from another passage added, two sentences swapped, digits "
          "changed); their passage vectors come from a **fake embedder (random unit vectors)**, the query is "
          "still embedded by the real model, so what grows is the index and the retrieval.", "",
          "Columns after p95 are per-part p50s in ms; *rest* is p50 of the whole minus the parts (fusion, "
          "follow-on, diversity, and noise). *Index RSS* is the process's RSS growth after building the index "
          "in memory: for the synthetic sizes it includes memory the allocator keeps after the build (token "
          "lists), so *vectors + BM25 MB* (the arrays a loaded index holds) is the steady-state cost.", "",
          "| corpus | passages | search p50 ms | search p95 ms | embed query | dense (flat) | BM25 words | "
          "BM25 chars | rest | vectors + BM25 MB | index RSS MB | peak RSS MB |", "|" + "---|" * 12]
    for p in r["scale"]:
        pp = p["parts_p50_ms"]
        L.append(f"| {p['factor']}× | {p['n_passages']:,} | {mmm(p['search_ms']['p50'])} | "
                 f"{mmm(p['search_ms']['p95'])} | {pp['embed_query']:.1f} | {pp['dense']:.2f} | "
                 f"{pp['bm25_words']:.1f} | {pp['bm25_chars']:.1f} | {pp['fusion_and_rest']:.1f} | "
                 f"{'%.0f' % p['memory_mb']['structures'] if 'structures' in p['memory_mb'] else '—'} | "
                 f"{p['memory_mb']['index_rss']:.0f} | {p['memory_mb']['peak_rss']:.0f} |")
    if len(r["scale"]) > 1:
        first, last = r["scale"][0], r["scale"][-1]
        ratio = last["search_ms"]["p50"]["median"] / first["search_ms"]["p50"]["median"]
        L += ["", f"Warm search p50 at {last['factor']}× / at {first['factor']}×: **{ratio:.2f}×**."]
    L += ["", "### Exact vs approximate vector search (one query, k=10, recall against exact)", "",
          "| corpus | vectors | flat ms | HNSW ef32 ms / recall | HNSW ef128 ms / recall | IVF nprobe8 ms / recall "
          "| IVF nprobe32 ms / recall | HNSW build s | IVF build s |", "|" + "---|" * 9]
    for p in r["scale"]:
        for kind, a in (p.get("ann") or {}).items():
            cells = [f"{a[x]['ms']:.2f} / {a[x]['recall@10']:.3f}" for x in
                     ("hnsw_ef32", "hnsw_ef128", "ivf_nprobe8", "ivf_nprobe32")]
            L.append(f"| {p['factor']}× | {kind} | {a['flat_ms']:.2f} | " + " | ".join(cells)
                     + f" | {a['hnsw_build_s']:.1f} | {a['ivf_build_s']:.1f} (nlist {a['ivf_nlist']}) |")
    x = r.get("crossover")
    if x:
        L += ["", f"Flat search costs {x['flat_ms_per_100k']:.2f} ms per 100k passages (fit over the sizes above); "
              f"HNSW (ef128) about {x['hnsw_ef128_ms']:.2f} ms. Flat is slower than HNSW beyond "
              f"~{max(0, x['flat_equals_hnsw_at']):,.0f} passages, but stays below a quarter of the query "
              f"embedding ({x['embed_query_ms']:.0f} ms) up to ~{x['flat_equals_quarter_embed_at']:,.0f} passages "
              f"and below the whole of it up to ~{x['flat_equals_embed_at']:,.0f}: that is where an approximate "
              "index starts to pay for its recall cost. Recall on random vectors is the worst case (no "
              "structure to exploit); on *perturbed_real* vectors (each synthetic passage = its source "
              "passage's real vector plus noise, cos ≈ 0.94) the 100 near-duplicates of every passage make the "
              "exact top 10 a near-tie, so recall there is pessimistic too. IVF with nprobe 32 keeps ~0.99 of "
              "the exact top 10 on realistic vectors at a fraction of the flat cost."]
    return "\n".join(L)


def plot_speed(r: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = r["scale"]
    n = [p["n_passages"] for p in pts]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    a1.plot(n, [p["search_ms"]["p50"]["median"] for p in pts], "o-", label="hybrid search p50")
    a1.plot(n, [p["search_ms"]["p95"]["median"] for p in pts], "o--", label="hybrid search p95")
    a1.plot(n, [p["parts_p50_ms"]["embed_query"] for p in pts], "s:", label="query embedding p50")
    ann = [(p["n_passages"], next(iter(p["ann"].values()))) for p in pts if p.get("ann")]
    if ann:
        a1.plot([x for x, _ in ann], [a["flat_ms"] for _, a in ann], "^-", label="FAISS flat (k=10)")
        a1.plot([x for x, _ in ann], [a["hnsw_ef128"]["ms"] for _, a in ann], "v-", label="FAISS HNSW ef128")
        a1.plot([x for x, _ in ann], [a["ivf_nprobe32"]["ms"] for _, a in ann], "d-", label="FAISS IVF nprobe32")
    a1.set_xscale("log")
    a1.set_yscale("log")
    a1.set_xlabel("passages (1× real; larger: synthetic, random vectors)")
    a1.set_ylabel("ms per query")
    a1.set_title("Warm latency vs corpus size")
    a1.legend(fontsize=7)
    a2.plot(n, [p["memory_mb"]["index_rss"] for p in pts], "o-", label="index RSS")
    a2.plot(n, [p["memory_mb"]["peak_rss"] for p in pts], "s--", label="peak RSS of process")
    a2.set_xscale("log")
    a2.set_xlabel("passages")
    a2.set_ylabel("MB")
    a2.set_title("Memory vs corpus size")
    a2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_speed(r: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "speed-quick" if r["quick"] else "speed"
    md, js = out_dir / f"{stem}.md", out_dir / f"{stem}.json"
    md.write_text(format_speed(r) + "\n", encoding="utf-8")
    js.write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
    return [md, js, plot_speed(r, out_dir / f"{stem}.png")]


