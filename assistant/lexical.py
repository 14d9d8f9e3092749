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

__all__ = ["ANALYZERS", "LexicalIndex", "LexicalIndexError", "load_tokenizer", "tokenize", "tokenize_chars"]

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


def load_tokenizer() -> jieba.Tokenizer:
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


_pos_tagger = None


def pos_tokenizer():
    """jieba's part-of-speech tagger over the shared tokenizer, one for the process: the first tagger to cut
    takes the user dictionary's tags from the tokenizer (jieba moves them), so a second one would tag those
    words "x"."""
    global _pos_tagger
    if _pos_tagger is None:
        tok = load_tokenizer()
        with _lock:
            if _pos_tagger is None:
                import jieba.posseg

                _pos_tagger = jieba.posseg.POSTokenizer(tok)
    return _pos_tagger


def tokenizer_signature() -> str:
    """Hash of the user dictionary + stopwords; stored with saved indexes to detect drift."""
    load_tokenizer()
    return _signature


def _is_content(token: str) -> bool:
    return any(ch.isalnum() for ch in token) and token not in _stopwords


def tokenize(text: str) -> list[str]:
    """Search-style tokens: whole dictionary words plus their dictionary sub-words (2..4 chars).

    NFKC-normalised and lower-cased; punctuation, whitespace and stopwords are dropped,
    numbers are kept. HMM is off so unknown spans split deterministically into characters.
    """
    tok = load_tokenizer()
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
    load_tokenizer()
    chars = [ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum()]
    grams = [ch for ch in chars if ch not in _stopwords]
    grams.extend(a + b for a, b in zip(chars, chars[1:]))
    return grams


ANALYZERS = {"jieba": tokenize, "chars": tokenize_chars}


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
        # one string object per distinct token: the character analyzer yields ~375 tokens a passage,
        # and a str object for each occurrence cost a build ~13 MB more at its peak (bundled corpus)
        distinct: dict[str, str] = {}
        corpus_tokens = [[distinct.setdefault(t, t) for t in ANALYZERS[analyzer](text)] for text in texts]
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

    def term_ids(self, tokens: Sequence[str]) -> list[int]:
        """Vocabulary ids of the known ``tokens``, repeats kept (a repeated query token counts twice)."""
        vocab = self._model.vocab_dict
        return [vocab[t] for t in tokens if t in vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document (zeros when no query token is known)."""
        return self.scores_of_tokens(self._tokenize(query))

    def scores_of_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        ids = self.term_ids(tokens)
        if not ids:
            return np.zeros(self._n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(ids), dtype=np.float32)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-``k`` ``(doc_index, score)`` pairs with score > 0, best first
        (only documents where the boolean mask ``allowed`` is true, when given)."""
        return self.search_tokens(self._tokenize(query), k, allowed)

    def search_tokens(self, tokens: Sequence[str], k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """:meth:`search` for a query already tokenised with this index's analyzer."""
        if k <= 0:
            return []
        scores = self.scores_of_tokens(tokens)
        hits = np.flatnonzero((scores > 0) if allowed is None else (scores > 0) & allowed)
        if hits.size > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        order = hits[np.lexsort((hits, -scores[hits]))]  # score desc, doc index asc on ties
        return [(int(i), float(scores[i])) for i in order]

    # The precomputed BM25 matrix, for a store that scores documents itself (the
    # Milvus store keeps these weights as sparse vectors: inner product = BM25).

    def terms(self) -> list[str]:
        """The vocabulary in id order (term ``i`` has id ``i``)."""
        out = [""] * self._n_terms()
        for term, i in self._model.vocab_dict.items():
            if i < len(out):  # bm25s's empty token "" has an id but no matrix column
                out[i] = term
        return out

    def document_weights(self) -> list[dict[int, float]]:
        """Per document, term id -> the term's precomputed BM25 contribution (bm25s's score(doc, term)).

        The BM25 score of a query is the sum of these weights over the query's
        tokens, a repeated token counting as often as it occurs.
        """
        indptr, indices, data = (np.asarray(self._model.scores[k]) for k in ("indptr", "indices", "data"))
        terms = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
        order = np.argsort(indices, kind="stable")
        docs, terms, weights = indices[order], terms[order], data[order]
        bounds = np.searchsorted(docs, np.arange(self._n_docs + 1))
        return [
            dict(zip(terms[a:b].tolist(), weights[a:b].tolist())) for a, b in zip(bounds[:-1], bounds[1:])
        ]

    def fingerprint(self) -> str:
        """Digest of the vocabulary and every weight: equal fingerprints, equal scores for any query."""
        h = hashlib.sha1(json.dumps(self.terms(), ensure_ascii=False).encode("utf-8"))
        for k in ("indptr", "indices", "data"):
            h.update(np.ascontiguousarray(self._model.scores[k]).tobytes())
        return h.hexdigest()

    def _n_terms(self) -> int:
        return int(np.asarray(self._model.scores["indptr"]).size - 1)

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
