"""A long-running process keeps one index version in memory, however many uploads it sees.

Twenty uploads (``ingest.add_documents``), each followed by a question through
``assistant.answer.ask`` as the web UI does: afterwards only the searcher of
the live version, and its library, are alive; every earlier one was dropped
by the caches when its successor was published.  Weak references and the
garbage collector tell, not timings or RSS (``eval/bench_uploads.py`` prints
the RSS figures).
"""

from __future__ import annotations

import gc
import weakref

import pytest

from assistant.answer import ask
from assistant.config import get_settings
from assistant.indexing import build_index
from assistant.ingest import add_documents
from assistant.retrieval import get_searcher

from conftest import CORPUS_FILE, FakeEmbedder

UPLOADS = 20
PLACES = "东西南北中上下前后新"


def script(n: int) -> str:
    """A small lecture script of its own (numbers and places differ, so no upload is a duplicate)."""
    place = PLACES[n % 10] + PLACES[n // 10] + "村"
    return "\n".join([
        f"积分兑换撬动垃圾分类——{place}人居环境整治第{n}年实践",
        f"泖港镇{place}党总支书记王{PLACES[n % 10]}明",
        "一、村里垃圾分类的难点",
        f"{place}过去有{100 + n}户村民习惯把垃圾倒在河边，保洁员每天清运{n + 3}车也跟不上。",
        "二、我们的做法",
        f"{place}推出了第{n}家垃圾分类积分兑换超市，村民分类投放一次获得{n + 5}个积分。",
        f"村党总支组织{n + 12}名党员分片包干，连续{n + 2}个月后分类准确率达到百分之{60 + n}。",
        "(指导老师:区委党校讲师李四)",
    ]) + "\n"


@pytest.fixture
def workdir_settings(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = CORPUS_FILE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("党建引领圆梦换梯"))
    end = next(i for i in range(start, len(lines)) if "指导老师" in lines[i])
    (corpus / "base.txt").write_text("\n".join(lines[start : end + 1]) + "\n", encoding="utf-8")
    embedder = FakeEmbedder()
    monkeypatch.setattr("assistant.retrieval.get_embedder", lambda *a, **k: embedder)
    monkeypatch.setattr("assistant.retrieval._searchers", {})
    monkeypatch.setattr("assistant.answer._answerers", {})
    settings = get_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder)
    return settings, embedder


def test_twenty_uploads_leave_one_index_version_alive(workdir_settings, tmp_path):
    settings, embedder = workdir_settings
    searchers: list[weakref.ref] = []
    libraries: list[weakref.ref] = []
    versions = []
    for n in range(UPLOADS):
        doc = tmp_path / f"upload-{n}.txt"
        doc.write_text(script(n), encoding="utf-8")
        report = add_documents([doc], settings, embedder=embedder)
        assert not report.errors and report.added, report.errors
        answer = ask("垃圾分类积分兑换超市怎么办起来？", settings)
        assert answer.hits  # answered over the new version (judged covered or not)
        searcher = get_searcher(settings)
        assert len(searcher.index.cases) == n + 2  # the base script and every upload so far
        searchers.append(weakref.ref(searcher))
        libraries.append(weakref.ref(searcher.index))
        versions.append(searcher.index.version)
        del searcher, answer
    assert len(set(versions)) == UPLOADS  # each upload published and loaded a new version
    gc.collect()
    alive = [ref() for ref in libraries if ref() is not None]
    assert len(alive) == 1 and alive[0] is get_searcher(settings).index
    assert sum(ref() is not None for ref in searchers) == 1
