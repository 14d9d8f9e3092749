"""Faithful re-creations of two widely copied RAG recipes, to compare our retrieval against.

- ``langchain-tutorial``: LangChain's RAG tutorial,
  ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` and
  dense search only;
- ``chatchat``: Langchain-Chatchat 0.3's knowledge-base defaults, its
  ``ChineseRecursiveTextSplitter`` (regex separators kept at the end of each
  piece, size 250, overlap 50) and its ``EnsembleRetriever``: BM25 over
  ``jieba.lcut_for_search`` tokens + dense, fused 0.5/0.5 by reciprocal rank.

Same cases and same embedder as ours, so only the recipe differs.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from assistant.corpus import Case

# ---------------------------------------------------------------------------
# peer recipes

# LangChain RAG tutorial (python.langchain.com/docs/tutorials/rag):
# RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), similarity search.
LANGCHAIN_TUTORIAL = {"chunk_size": 1000, "chunk_overlap": 200}

# Langchain-Chatchat 0.3 (libs/chatchat-server/chatchat/settings.py and
# server/file_rag/text_splitter/chinese_recursive_text_splitter.py):
# CHUNK_SIZE 250, OVERLAP_SIZE 50, length by characters, these regex separators.
CHATCHAT = {"chunk_size": 250, "chunk_overlap": 50}
CHATCHAT_SEPARATORS = ["\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", r"；|;\s", r"，|,\s"]
CHATCHAT_WEIGHTS = (0.5, 0.5)  # (bm25, dense) as in chatchat's EnsembleRetrieverService
RRF_C = 60  # LangChain EnsembleRetriever's constant


def langchain_tutorial_splitter():
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(**LANGCHAIN_TUTORIAL)


def _split_with_regex_from_end(text: str, separator: str, keep_separator: bool | Literal["start", "end"]) -> list[str]:
    """Chatchat's splitter keeps each separator at the end of the piece before it."""
    if separator:
        if keep_separator:
            parts = re.split(f"({separator})", text)
            splits = ["".join(pair) for pair in zip(parts[0::2], parts[1::2])]
            if len(parts) % 2 == 1:
                splits += parts[-1:]
        else:
            splits = re.split(separator, text)
    else:
        splits = list(text)
    return [s for s in splits if s != ""]


def chatchat_splitter():
    """A re-creation of Langchain-Chatchat's ``ChineseRecursiveTextSplitter`` with its KB defaults."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class ChineseRecursiveTextSplitter(RecursiveCharacterTextSplitter):
        def __init__(self, separators=None, keep_separator=True, is_separator_regex=True, **kwargs):
            super().__init__(keep_separator=keep_separator, **kwargs)
            self._separators = separators or list(CHATCHAT_SEPARATORS)
            self._is_separator_regex = is_separator_regex

        def _split_text(self, text: str, separators: list[str]) -> list[str]:
            final: list[str] = []
            separator = separators[-1]
            rest: list[str] = []
            for i, s in enumerate(separators):
                pattern = s if self._is_separator_regex else re.escape(s)
                if s == "":
                    separator = s
                    break
                if re.search(pattern, text):
                    separator, rest = s, separators[i + 1 :]
                    break
            pattern = separator if self._is_separator_regex else re.escape(separator)
            splits = _split_with_regex_from_end(text, pattern, self._keep_separator)
            good: list[str] = []
            joiner = "" if self._keep_separator else separator
            for s in splits:
                if self._length_function(s) < self._chunk_size:
                    good.append(s)
                    continue
                if good:
                    final.extend(self._merge_splits(good, joiner))
                    good = []
                final.extend(self._split_text(s, rest) if rest else [s])
            if good:
                final.extend(self._merge_splits(good, joiner))
            return [re.sub(r"\n{2,}", "\n", c.strip()) for c in final if c.strip() != ""]

    return ChineseRecursiveTextSplitter(**CHATCHAT)


@dataclass(frozen=True)
class Chunk:
    """A peer recipe's chunk: one piece of one case's text."""

    case_id: str
    index: int
    text: str


@dataclass(frozen=True)
class PeerHit:
    rank: int
    score: float
    passage: Chunk
    case: Case

    def to_dict(self) -> dict:
        return {"rank": self.rank, "case_id": self.case.id, "author": self.case.author,
                "text": self.passage.text, "score": round(self.score, 6)}


def split_cases(cases: Sequence[Case], splitter) -> list[Chunk]:
    """One document per case (so every chunk keeps its author), split by the peer's splitter."""
    return [
        Chunk(case.id, i, text) for case in cases for i, text in enumerate(splitter.split_text(case.text))
    ]


class VectorCache:
    """Document vectors on disk keyed by (embedder id, sha1 of text), so reruns skip embedding."""

    def __init__(self, cache_dir: Path, embedder) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.id)
        self.path = Path(cache_dir) / f"vectors-{safe}.npz"
        self.embedder = embedder
        self._store: dict[str, np.ndarray] = {}
        if self.path.is_file():
            try:
                with np.load(self.path) as data:
                    self._store = dict(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError):
                self._store = {}  # a damaged cache is only a slower run

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        keys = list(self._store)
        vecs = np.stack([self._store[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)
        np.savez(tmp, keys=np.array(keys), vectors=vecs)
        os.replace(tmp, self.path)

    def embed(self, texts: Sequence[str], desc: str = "embedding", batch: int = 32) -> np.ndarray:
        from tqdm import tqdm

        keys = [self.key(t) for t in texts]
        todo = sorted({k: i for i, k in enumerate(keys) if k not in self._store}.values())
        if todo:
            with tqdm(total=len(todo), desc=desc, unit="chunk", file=sys.stderr) as bar:
                for s in range(0, len(todo), batch):
                    ids = todo[s : s + batch]
                    vecs = self.embedder.embed_documents([texts[i] for i in ids])
                    for i, v in zip(ids, vecs):
                        self._store[keys[i]] = np.asarray(v, dtype=np.float32)
                    self._save()  # an interrupted run keeps what it paid for
                    bar.update(len(ids))
        return np.stack([self._store[k] for k in keys]).astype(np.float32)


class PeerRecipe:
    """Dense search, optionally fused with jieba-BM25 by weighted reciprocal rank (chatchat)."""

    def __init__(self, name: str, chunks: list[Chunk], cases: dict[str, Case], vectors: np.ndarray,
                 embedder, bm25: bool = False) -> None:
        import faiss

        self.name, self.chunks, self.cases, self.embedder = name, chunks, cases, embedder
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.bm25 = None
        if bm25:
            import bm25s
            import jieba

            self._cut = jieba.lcut_for_search  # chatchat: BM25Retriever(preprocess_func=jieba.lcut_for_search)
            self.bm25 = bm25s.BM25()
            self.bm25.index([self._cut(c.text) for c in chunks], show_progress=False)

    def dense(self, question: str, n: int) -> list[int]:
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)[None, :]
        _, ids = self.index.search(q, min(n, len(self.chunks)))
        return [int(i) for i in ids[0] if i >= 0]

    def lexical(self, question: str, n: int) -> list[int]:
        assert self.bm25 is not None, "search() ranks lexically only for a recipe built with bm25=True"
        vocab = self.bm25.vocab_dict
        ids = [vocab[t] for t in self._cut(question) if t in vocab]
        if not ids:
            return []
        scores = np.asarray(self.bm25.get_scores(ids))
        return [int(i) for i in np.argsort(-scores, kind="stable")[:n]]  # BM25Retriever: top n, zeros too

    def search(self, question: str, n: int) -> list[PeerHit]:
        if self.bm25 is None:
            order = self.dense(question, n)
            scored = [(i, 1.0 / (r + 1)) for r, i in enumerate(order)]
        else:
            # LangChain EnsembleRetriever: sum of weight / (rank + c), unique by page content
            fused: dict[str, tuple[int, float]] = {}
            for weight, ranking in zip(CHATCHAT_WEIGHTS, (self.lexical(question, n), self.dense(question, n))):
                for r, i in enumerate(ranking, 1):
                    text = self.chunks[i].text
                    first, score = fused.get(text, (i, 0.0))
                    fused[text] = (first, score + weight / (r + RRF_C))
            scored = sorted(fused.values(), key=lambda x: -x[1])[:n]
        return [
            PeerHit(r, s, self.chunks[i], self.cases[self.chunks[i].case_id]) for r, (i, s) in enumerate(scored, 1)
        ]


def build_peers(cases: Sequence[Case], embedder, cache_dir: Path) -> list[PeerRecipe]:
    cache = VectorCache(cache_dir, embedder)
    by_id = {c.id: c for c in cases}
    peers = []
    for name, splitter, bm25 in (
        ("langchain-tutorial", langchain_tutorial_splitter(), False),
        ("chatchat", chatchat_splitter(), True),
    ):
        chunks = split_cases(cases, splitter)
        vectors = cache.embed([c.text for c in chunks], desc=f"{name} 分块向量化")
        peers.append(PeerRecipe(name, chunks, by_id, vectors, embedder, bm25=bm25))
    return peers


