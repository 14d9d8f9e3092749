"""Chinese lexical retrieval: jieba tokenisation with a governance user dictionary + BM25 (bm25s).

Usage::

    from pathlib import Path
    from assistant.lexical import LexicalIndex, tokenize

    tokenize("我们小区飞线充电怎么办？")      # ['小区', '飞线', '充电', '飞线充电']
    index = LexicalIndex.build(["老旧小区加装电梯", "整治飞线充电"])
    index.search("电梯", k=5)                 # [(0, 0.25...)]
    index.save(Path("index/lexical"))
    same = LexicalIndex.load(Path("index/lexical"))
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import unicodedata
import warnings
from pathlib import Path
from typing import Sequence

import bm25s
import jieba
import numpy as np

__all__ = ["ANALYZERS", "LexicalIndex", "LexicalIndexError", "tokenize", "tokenize_chars", "tokenizer"]

_DATA_DIR = Path(__file__).resolve().parent / "data"
USERDICT_PATH = _DATA_DIR / "userdict.txt"
STOPWORDS_PATH = _DATA_DIR / "stopwords.txt"
_META_NAME = "lexical_meta.json"
_FORMAT_VERSION = 1
_MAX_SUBWORD = 4  # emit dictionary sub-words up to this length (jieba's cut_for_search stops at 3)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_stopwords: frozenset[str] = frozenset()
_signature: str = ""


class LexicalIndexError(Exception):
    """Raised when a lexical index cannot be built, saved or loaded."""


def _init() -> jieba.Tokenizer:
    """Load jieba (private instance), the user dictionary and stopwords exactly once."""
    global _tokenizer, _stopwords, _signature
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)  # silence "Building prefix dict ..." chatter
            tok = jieba.Tokenizer()
            tok.initialize()  # uses jieba's prefix-dict cache in the temp dir after the first run
            digest = hashlib.sha256()
            for line in USERDICT_PATH.read_text(encoding="utf-8").splitlines():
                parts = line.strip().split()
                if not parts or parts[0].startswith("#"):
                    continue
                word = unicodedata.normalize("NFKC", parts[0]).lower()
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                tok.add_word(word, freq, parts[2] if len(parts) > 2 else None)
                digest.update(f"{word} {freq}\n".encode())
            words = STOPWORDS_PATH.read_text(encoding="utf-8").split()
            _stopwords = frozenset(unicodedata.normalize("NFKC", w).lower() for w in words)
            digest.update("\n".join(sorted(_stopwords)).encode())
            _signature = digest.hexdigest()[:16]
            _tokenizer = tok
    return _tokenizer


def tokenizer() -> jieba.Tokenizer:
    """The shared jieba tokenizer, with the user dictionary loaded (its ``FREQ`` is jieba's word frequencies)."""
    return _init()


def tokenizer_signature() -> str:
    """Hash of the user dictionary + stopwords; stored with saved indexes to detect drift."""
    _init()
    return _signature


def _is_content(token: str) -> bool:
    return any(ch.isalnum() for ch in token) and token not in _stopwords


def tokenize(text: str) -> list[str]:
    """Search-style tokens: whole dictionary words plus their dictionary sub-words (2..4 chars).

    NFKC-normalised and lower-cased; punctuation, whitespace and stopwords are dropped,
    numbers are kept. HMM is off so unknown spans split deterministically into characters.
    """
    tok = _init()
    text = unicodedata.normalize("NFKC", text).lower()
    freq = tok.FREQ
    out: list[str] = []
    for word in tok.cut(text, HMM=False):
        n = len(word)
        if n > 2:
            for size in range(2, min(_MAX_SUBWORD, n - 1) + 1):
                for i in range(n - size + 1):
                    gram = word[i : i + size]
                    if freq.get(gram) and _is_content(gram):
                        out.append(gram)
        if _is_content(word):
            out.append(word)
    return out


def tokenize_chars(text: str) -> list[str]:
    """Character unigrams (minus one-character stopwords) and bigrams.

    Word segmentation misses partial matches that a user's own wording needs
    ("修桥" against "危桥改造", "木桥"); character n-grams catch them, and
    BM25's IDF keeps frequent characters from dominating.
    """
    _init()
    chars = [ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum()]
    grams = [ch for ch in chars if ch not in _stopwords]
    grams.extend(a + b for a, b in zip(chars, chars[1:]))
    return grams


ANALYZERS = {"jieba": tokenize, "chars": tokenize_chars}


def pool_bm25(query_tokens: Sequence[str], docs: Sequence[dict[str, int]], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 of each document of a small pool (token -> count), with IDF and
    length taken from the pool itself: re-scoring an engine's candidates
    when the engine's own BM25 scores are not returned."""
    n = len(docs)
    if not n:
        return np.zeros(0, dtype=np.float32)
    lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
    avg = max(lengths.mean(), 1.0)
    out = np.zeros(n, dtype=np.float64)
    for t in set(query_tokens):
        tf = np.array([d.get(t, 0) for d in docs], dtype=np.float64)
        df = int((tf > 0).sum())
        if not df:
            continue
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        out += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avg))
    return out.astype(np.float32)


class LexicalIndex:
    """BM25 index over pre-tokenised documents; document ids are positions in ``texts``."""

    def __init__(self, model: bm25s.BM25, n_docs: int, analyzer: str = "jieba") -> None:
        self._model = model
        self._n_docs = n_docs
        self.analyzer = analyzer
        self._tokenize = ANALYZERS[analyzer]

    @classmethod
    def build(cls, texts: Sequence[str], analyzer: str = "jieba") -> LexicalIndex:
        if analyzer not in ANALYZERS:
            raise LexicalIndexError(f"unknown analyzer {analyzer!r} (expected one of {sorted(ANALYZERS)})")
        corpus_tokens = [ANALYZERS[analyzer](t) for t in texts]
        if not any(corpus_tokens):
            raise LexicalIndexError("nothing to index: corpus is empty or has only stopwords/punctuation")
        model = bm25s.BM25()
        model.index(corpus_tokens, show_progress=False)
        return cls(model, len(texts), analyzer)

    def __len__(self) -> int:
        return self._n_docs

    @property
    def vocabulary(self) -> dict[str, int]:
        return dict(self._model.vocab_dict)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document (zeros when no query token is known)."""
        vocab = self._model.vocab_dict
        ids = [vocab[t] for t in self._tokenize(query) if t in vocab]
        if not ids:
            return np.zeros(self._n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(ids), dtype=np.float32)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-``k`` ``(doc_index, score)`` pairs with score > 0, best first
        (only documents where the boolean mask ``allowed`` is true, when given)."""
        if k <= 0:
            return []
        scores = self.scores(query)
        hits = np.flatnonzero((scores > 0) if allowed is None else (scores > 0) & allowed)
        if hits.size > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        order = hits[np.lexsort((hits, -scores[hits]))]  # score desc, doc index asc on ties
        return [(int(i), float(scores[i])) for i in order]

    def save(self, dirpath: Path) -> None:
        dirpath = Path(dirpath)
        try:
            dirpath.mkdir(parents=True, exist_ok=True)
            self._model.save(str(dirpath), show_progress=False)
            meta = {
                "format_version": _FORMAT_VERSION,
                "n_docs": self._n_docs,
                "vocab_size": len(self._model.vocab_dict),
                "tokenizer_signature": tokenizer_signature(),
                "analyzer": self.analyzer,
                "bm25s_version": bm25s.__version__,
            }
            (dirpath / _META_NAME).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        except OSError as exc:
            raise LexicalIndexError(f"cannot save lexical index to {dirpath}: {exc}") from exc

    @classmethod
    def load(cls, dirpath: Path) -> LexicalIndex:
        dirpath = Path(dirpath)
        meta_path = dirpath / _META_NAME
        if not meta_path.is_file():
            raise LexicalIndexError(f"no lexical index at {dirpath} (missing {_META_NAME})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            n_docs, vocab_size = int(meta["n_docs"]), int(meta["vocab_size"])
            version = meta["format_version"]
            analyzer = meta.get("analyzer", "jieba")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LexicalIndexError(f"corrupt {meta_path}: {exc}") from exc
        if analyzer not in ANALYZERS:
            raise LexicalIndexError(f"{meta_path}: unknown analyzer {analyzer!r}")
        if version != _FORMAT_VERSION:
            raise LexicalIndexError(f"{dirpath}: unsupported format_version {version!r}")
        try:
            model = bm25s.BM25.load(str(dirpath), show_progress=False)
            indptr = np.asarray(model.scores["indptr"])
            indices = np.asarray(model.scores["indices"])
            data = np.asarray(model.scores["data"])
            n_cols = indptr.size - 1  # bm25s appends the empty token "" without a matrix column
            token_ids = [i for t, i in model.vocab_dict.items() if t != ""]
            ok = (
                len(model.vocab_dict) == vocab_size
                and indptr.ndim == 1
                and n_cols == len(token_ids)
                and indices.shape == data.shape == (int(indptr[-1]),)
                and model.scores.get("num_docs") == n_docs
                and (indices.size == 0 or (indices.min() >= 0 and indices.max() < n_docs))
                and sorted(token_ids) == list(range(n_cols))
            )
        except Exception as exc:  # bm25s/numpy/json raise a variety of types on bad files
            raise LexicalIndexError(f"cannot load lexical index from {dirpath}: {exc}") from exc
        if not ok:
            raise LexicalIndexError(f"{dirpath}: index files are inconsistent with {_META_NAME}")
        if meta.get("tokenizer_signature") != tokenizer_signature():
            warnings.warn(f"{dirpath} was built with another userdict/stopword list; rebuild it", stacklevel=2)
        return cls(model, n_docs, analyzer)
