"""The index jobs: build (parse, chunk, embed, BM25), status, export to Milvus.

Storing, loading and publishing belong to the stores (:mod:`assistant.stores`);
this module decides what goes into an index.  A build reuses the vectors
(and sentence-role shares) of passages whose content did not change, then
hands the complete index to the configured store, which publishes it
atomically (``index/`` always; Milvus too when it is the store).

The question–passage links of the corpus folder (:mod:`assistant.links`) are
resolved to the passages holding their anchors and indexed beside the
passages: their questions embedded (only new ones; the others' vectors are
reused) and given BM25 indexes of their own.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.indexing import build_index, status
    >>> report = build_index(get_settings())      # doctest: +SKIP
    >>> status(get_settings())["stale_reasons"]   # doctest: +SKIP
    []
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from assistant import corpus as corpus_mod
from assistant.chunking import CHUNKER_VERSION, chunk_cases
from assistant.config import Settings
from assistant.corpus import CORPUS_DIR_FIX, CorpusEdit, CorpusError
from assistant.embedding import Embedder, get_embedder
from assistant.errors import AssistantError, Cancelled, InputError, storage_error
from assistant.fsutil import check_writable
from assistant.lexical import LexicalIndex
from assistant.links import (
    PARAPHRASE_SHARE, UNASKED_SHARE, ResolvedLink, link_levels, links_digests, load_links, resolve,
)
from assistant.roles import model_fingerprint, problem_share
from assistant.stores import open_store
from assistant.memory import release_memory
from assistant.stores.base import FORMAT_VERSION, BuiltIndex, LinkRow, Manifest, SyncReport, staleness
from assistant.stores.files import INDEX_DIR_FIX, FilesStore, current_dir


# How link questions are embedded: as queries ("query: " for e5), like the questions they are
# matched with, or as documents.  eval/links_eval.py measured both on the dev set (eval/README.md).
LINK_EMBEDDING = "query"


@dataclass
class BuildReport:
    path: Path  # the new version folder under index/
    n_cases: int
    n_passages: int
    embedded: int
    reused: int
    seconds: float
    milvus: SyncReport | None = None  # what a shared store wrote after the local publication
    reused_from: Path | None = None  # the version folder whose vectors were reused
    live_before: str | None = None  # the version CURRENT named before this build (None: none or damaged)
    n_links: int = 0  # links indexed
    links_embedded: int = 0  # link questions embedded by this build (the others' vectors were reused)
    links_unresolved: int = 0  # links whose anchor no passage holds


def link_key(question: str, mode: str = LINK_EMBEDDING) -> str:
    """Content key of a link question's vector (equal keys: the vector is reused)."""
    return hashlib.sha1(f"{mode}\n{question}".encode("utf-8")).hexdigest()


def embed_link_questions(embedder: Embedder, texts: list[str], mode: str = LINK_EMBEDDING, progress=None) -> np.ndarray:
    """Vectors of link questions, embedded as queries or as documents (``mode``)."""
    if mode == "document":
        return embedder.embed_documents(texts, progress=progress)
    batch = getattr(embedder, "embed_queries", None)
    if batch is not None:
        return batch(texts, progress=progress)
    out = np.stack([embedder.embed_query(t) for t in texts]) if texts else np.zeros((0, embedder.dim), np.float32)
    if progress:
        progress(len(texts))
    return np.asarray(out, dtype=np.float32)


def index_links(
    resolved: list[ResolvedLink],
    embedder: Embedder,
    reuse: dict[str, np.ndarray],
    mode: str = LINK_EMBEDDING,
    progress=None,
) -> tuple[list[LinkRow], np.ndarray | None, LexicalIndex | None, LexicalIndex | None, int]:
    """The links' rows, vectors (reused where the question is unchanged) and BM25 indexes; and how many were embedded."""
    if not resolved:
        return [], None, None, None, 0
    rows = [
        LinkRow(r.link.id, r.link.question, r.link.case_id, r.link.source, r.passage, link_key(r.link.question, mode))
        for r in resolved
    ]
    vectors = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    todo = []
    for i, row in enumerate(rows):
        if row.key in reuse:
            vectors[i] = reuse[row.key]
        else:
            todo.append(i)
    if todo:
        vectors[todo] = embed_link_questions(embedder, [rows[i].question for i in todo], mode, progress)
    questions = [row.question for row in rows]
    return rows, vectors, LexicalIndex.build(questions, "jieba"), LexicalIndex.build(questions, "chars"), len(todo)


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    edit: CorpusEdit | None = None,
    stop: threading.Event | None = None,
) -> BuildReport:
    """Parse, chunk, embed (reusing unchanged vectors) and publish a new index version.

    ``edit``: documents to add or delete, built into the index as if they were
    already in ``corpus/`` and written there only when the new version is
    published (:class:`assistant.corpus.CorpusEdit`).  ``stop``: set it (the
    UI's 取消 button) to abandon the build between two embedding batches,
    changing nothing (:class:`~assistant.errors.Cancelled`).  ``progress(done,
    total)`` is told ``(0, total)`` before the first passage is embedded.
    """
    t0 = time.perf_counter()
    check_writable(settings.index_dir, INDEX_DIR_FIX)  # before hours of embedding, not after
    embedder = embedder or get_embedder(settings.embedder, settings.query_instruction)
    try:
        contents = corpus_mod.corpus_contents(settings.corpus_dir, edit)
        cases = corpus_mod.load_corpus(settings.corpus_dir, edit)
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise storage_error(exc, settings.corpus_dir, writing=False, fix=CORPUS_DIR_FIX) from None
    if not cases:
        raise InputError(f"语料目录 {settings.corpus_dir} 中没有案例，无法建立索引。")
    passages = chunk_cases(cases)
    digests = links_digests(settings.corpus_dir)
    resolved, unresolved = resolve(load_links(settings.corpus_dir), cases, passages)
    local = FilesStore(settings)
    try:
        live_before = local.published_version()
    except AssistantError:
        live_before = None  # a damaged CURRENT: the build repairs it
    reuse = local.stored_vectors(embedder.id)
    link_reuse = local.stored_link_vectors(embedder.id)
    todo = [i for i, p in enumerate(passages) if p.key not in reuse]
    n_link_todo = len({link_key(r.link.question) for r in resolved} - set(link_reuse))
    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    for i, p in enumerate(passages):
        if p.key in reuse:
            vectors[i] = reuse[p.key]

    def check_stop() -> None:
        if stop is not None and stop.is_set():
            raise Cancelled("已取消：语料和索引都没有改动。")

    done = 0
    total = len(todo) + n_link_todo

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)
        check_stop()

    if total and progress:
        progress(0, total)
    check_stop()
    if todo:
        vectors[todo] = embedder.embed_documents([passages[i].index_text for i in todo], progress=tick)
    link_rows, link_vectors, link_words, link_chars, links_embedded = index_links(
        resolved, embedder, link_reuse, progress=tick
    )
    words = LexicalIndex.build([p.index_text for p in passages], "jieba")
    chars = LexicalIndex.build([p.index_text for p in passages], "chars")
    old_shares = local.stored_shares()
    shares = [old_shares[p.key] if p.key in old_shares else round(problem_share(p.text), 4) for p in passages]
    # how alike a question must be to a link to ask what it asks, and below which it asks nothing a link asks
    levels = (
        link_levels(link_vectors, [row.case_id for row in link_rows], (PARAPHRASE_SHARE, UNASKED_SHARE))
        if link_vectors is not None else (0.0, 0.0)
    )
    seconds = round(time.perf_counter() - t0, 2)
    built = BuiltIndex(
        manifest=Manifest(
            format_version=FORMAT_VERSION,
            corpus_hash=corpus_mod.hash_contents(contents),
            corpus_files=sorted(contents),
            corpus_digests={name: hashlib.sha256(data).hexdigest() for name, data in sorted(contents.items())},
            parser_version=corpus_mod.PARSER_VERSION,
            chunker_version=CHUNKER_VERSION,
            embedder_id=embedder.id,
            dim=embedder.dim,
            n_cases=len(cases),
            n_passages=len(passages),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build_seconds=seconds,
            reused_vectors=len(passages) - len(todo),
            file_sizes={},  # filled in by the local store when it writes the files
            roles_model=model_fingerprint(),
            links_digests=digests,
            n_links=len(link_rows),
            links_unresolved=len(unresolved),
            link_embedding=LINK_EMBEDDING,
            link_paraphrase=levels[0],
            link_unasked=levels[1],
        ),
        cases=cases,
        passages=passages,
        vectors=vectors,
        words=words,
        chars=chars,
        shares=shares,
        corpus_edit=edit,
        links=link_rows,
        link_vectors=link_vectors,
        link_words=link_words,
        link_chars=link_chars,
    )
    check_stop()
    published = open_store(settings).publish(built)
    report = BuildReport(
        published.path, len(cases), len(passages), len(todo), len(passages) - len(todo), seconds, published.sync,
        local.reused_from, live_before, n_links=len(link_rows), links_embedded=links_embedded, links_unresolved=len(unresolved),
    )
    del built, vectors, words, chars  # a running UI builds in-process: give the build's memory back
    release_memory()
    return report


def export_to_milvus(
    settings: Settings, uri: str, progress: Callable[[int, int], None] | None = None
) -> SyncReport:
    """Copy the live local index into the Milvus at ``uri``, vectors included (nothing is embedded)."""
    from assistant.stores.milvus import MilvusStore

    built = FilesStore(settings).read_built()
    return MilvusStore(replace(settings, store="milvus", milvus_uri=uri)).sync(built, progress)


def corpus_changes(settings: Settings, manifest: Manifest) -> dict[str, list[str]]:
    """Files added, changed and deleted on disk since the index was built."""
    now = {p.name: corpus_mod.file_digest(p) for p in corpus_mod.corpus_files(settings.corpus_dir)}
    then = manifest.corpus_digests
    return {
        "added": sorted(set(now) - set(then)),
        "changed": sorted(n for n in set(now) & set(then) if now[n] != then[n]),
        "deleted": sorted(set(then) - set(now)),
    }


def status(settings: Settings) -> dict:
    """What is indexed and whether it matches the corpus, the configuration and the store.

    ``damage`` lists the live version's files that are missing, truncated or
    changed since the build (sizes, and checksums of the small files).
    """
    embedder = get_embedder(settings.embedder, settings.query_instruction)
    local = FilesStore(settings)
    manifest = local.read_manifest()
    out: dict[str, Any] = {
        "index": str(current_dir(settings.index_dir)),
        "manifest": manifest.to_dict(),
        "damage": local.damage(),
        "checksums": bool(manifest.file_sha256),
        "stale_reasons": staleness(settings, manifest, embedder.id),
        "changes": corpus_changes(settings, manifest),
    }
    extra, reasons = open_store(settings).status(manifest)
    out.update(extra)
    out["stale_reasons"] += reasons
    return out


class StderrProgress:
    """A tqdm progress bar on stderr for embedding, with the time left; ``close()`` it when the job ends.

    The bar starts when the build announces the work (``progress(0, total)``,
    before the first batch), so its rate is passages per second of embedding
    (not the first batch divided by the microseconds since the bar appeared).
    """

    def __init__(self) -> None:
        self.bar: Any = None  # a tqdm bar once the build says how much there is to do

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            print(f"需要向量化 {total} 个新段落与关联问题（按 Ctrl+C 可随时取消，语料和索引不会改动）。", file=sys.stderr)
            self.bar = tqdm(total=total, desc="向量化段落", unit="段", file=sys.stderr, smoothing=0.1)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        """End the bar's line (also when the job was stopped halfway), before any message that follows."""
        if self.bar is not None and not self.bar.disable:
            self.bar.close()


def stderr_progress() -> StderrProgress:
    return StderrProgress()
