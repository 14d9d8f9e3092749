"""Synthetic corpora for the scale benchmarks: perturbed copies of the scripts, random vectors.

Embedding a 100x corpus with the real model would take hours on two cores;
:class:`RandomEmbedder` gives each text a deterministic random unit vector,
so what is measured is the index and the retrieval, not the model.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from assistant.chunking import Passage
from assistant.corpus import Case

class RandomEmbedder:
    """A fast fake embedder: a deterministic random unit vector per text.

    It stands in for the model where embedding would take hours (synthetic
    10x/100x corpora) or with ``--quick``; what is then measured is the index
    and the retrieval, not the model.  ``query_embedder`` (e.g. the real
    model) can answer ``embed_query`` so that query latency stays realistic.
    """

    def __init__(self, dim: int = 384, query_embedder=None) -> None:
        self.dim = dim
        self.id = f"fake:random-{dim}"
        self.query_embedder = query_embedder

    def _vec(self, text: str) -> np.ndarray:
        seed = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:16], 16)
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_documents(self, texts, *, progress=None) -> np.ndarray:
        out = np.stack([self._vec(t) for t in texts]) if len(texts) else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        if self.query_embedder is not None:
            return self.query_embedder.embed_query(text)
        return self._vec("query: " + text)


_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")


def _perturb(text: str, donor: str, rng: random.Random) -> str:
    """Recombine (add a sentence of another passage, swap two sentences) and perturb digits."""
    sents = _SENTENCE.findall(text) or [text]
    extra = _SENTENCE.findall(donor) or [donor]
    sents.insert(rng.randrange(len(sents) + 1), rng.choice(extra))
    if len(sents) > 2:
        i = rng.randrange(len(sents) - 1)
        sents[i], sents[i + 1] = sents[i + 1], sents[i]
    return re.sub(r"\d", lambda m: str(rng.randrange(10)), "".join(sents))


def synthetic_corpus(
    cases: dict[str, Case], passages: Sequence[Passage], factor: int, seed: int = 0
) -> tuple[dict[str, Case], list[Passage], list[int]]:
    """``factor`` copies of every case (copy 0 is the original), each passage of a copy perturbed.

    Returns the cases, the passages (``factor`` x as many) and, for each
    passage, the index of the original passage it was made from.
    """
    rng = random.Random(seed)
    out_cases: dict[str, Case] = {}
    out: list[Passage] = []
    sources: list[int] = []
    for r in range(factor):
        for i, p in enumerate(passages):
            cid = p.case_id if r == 0 else f"{p.case_id}~{r}"
            if cid not in out_cases:
                out_cases[cid] = cases[p.case_id] if r == 0 else replace(cases[p.case_id], id=cid)
            text = p.text if r == 0 else _perturb(p.text, passages[rng.randrange(len(passages))].text, rng)
            out.append(Passage(cid, p.start, p.start + len(text), text, p.section, p.title))
            sources.append(i)
    return out_cases, out, sources


def _dataclass(cls, base=None, **values):
    """``cls(**values)`` copying other fields from ``base`` (or empty ones), so fields added later don't break us."""
    from dataclasses import MISSING, fields

    if base is not None:
        return replace(base, **values)
    for f in fields(cls):
        if f.name not in values and f.default is MISSING and f.default_factory is MISSING:
            values[f.name] = []
    return cls(**values)


def synthetic_index(cases: dict[str, Case], passages: list[Passage], vectors: np.ndarray,
                    base=None) -> tuple[Any, dict]:
    """An in-memory library over synthetic passages (local store), and the seconds each part took to build.

    ``base`` (the loaded 1x index) supplies any field this module does not set.
    """

    from assistant.stores.base import FORMAT_VERSION, Manifest
    from assistant.stores.files import FilesStore, vector_index
    from assistant.lexical import LexicalIndex
    from assistant.roles import problem_share

    times = {}
    texts = [p.index_text for p in passages]
    t = time.perf_counter()
    words = LexicalIndex.build(texts, "jieba")
    times["bm25_words_s"] = time.perf_counter() - t
    t = time.perf_counter()
    chars = LexicalIndex.build(texts, "chars")
    times["bm25_chars_s"] = time.perf_counter() - t
    t = time.perf_counter()
    flat = vector_index(vectors)  # what `assistant index build` would write at this size
    times["faiss_flat_s"] = time.perf_counter() - t
    t = time.perf_counter()
    shares = np.array([problem_share(p.text) for p in passages], dtype=np.float32)  # sentence roles, as a build does
    times["roles_s"] = time.perf_counter() - t
    manifest = _dataclass(Manifest, getattr(base, "manifest", None), format_version=FORMAT_VERSION,
                          corpus_hash="synthetic", corpus_files=[], parser_version="-", chunker_version="-",
                          embedder_id="synthetic", dim=vectors.shape[1], n_cases=len(cases),
                          n_passages=len(passages), built_at="", build_seconds=0.0, reused_vectors=0, file_sizes={})
    index = FilesStore.in_memory(manifest, cases, passages, flat, words, chars, shares)
    return index, times


