"""Shared fixtures.

``FakeEmbedder`` is a deterministic bag-of-characters embedder for the
plumbing tests (index build, reuse, atomic writes); retrieval quality is
tested with the real default model on the shipped index.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# answers judged 没有/部分 are recorded as content gaps in the data folder: never the developer's own
if "ASSISTANT_DATA_DIR" not in os.environ:
    _DATA_DIR = tempfile.mkdtemp(prefix="assistant-test-data-")
    os.environ["ASSISTANT_DATA_DIR"] = _DATA_DIR
    atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)  # one per test run, gone with it

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
INDEX_DIR = ROOT / "index"
CORPUS_FILE = CORPUS_DIR / "songjiang_yixian_daoshi_2025-10_jianggao.txt"


class FakeEmbedder:
    """Hashes character bigrams into a fixed-size unit vector."""

    id = "fake:bigram-64"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            h = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16)
            v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts, *, progress=None):
        self.calls += 1
        self.embedded += len(texts)
        out = np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text):
        return self._vec(text)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A corpus folder holding a copy of the bundled compilation, and an empty index folder."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS_FILE, corpus / CORPUS_FILE.name)
    return tmp_path


@pytest.fixture(scope="session")
def cases():
    from assistant.corpus import load_corpus

    return load_corpus(CORPUS_DIR)


@pytest.fixture(scope="session")
def cards(cases):
    from assistant.cards import build_cards

    return build_cards(cases)


@pytest.fixture(scope="session")
def texts(cases):
    return {c.id: c.text for c in cases}


@pytest.fixture(scope="module")
def answerer():
    """The extractive answerer over the shipped index, with no LLM whatever the developer's environment says
    (a test module may define its own)."""
    from assistant.answer import Answerer
    from assistant.config import get_settings
    from assistant.retrieval import HybridSearcher

    mp = pytest.MonkeyPatch()
    for name in ("ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_LLM_API_KEY"):
        mp.delenv(name, raising=False)
    settings = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)
    yield Answerer(HybridSearcher.from_settings(settings), settings)
    mp.undo()
