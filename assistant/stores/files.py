"""The local store: versioned folders under ``index/``, FAISS for the vectors, bm25s for both BM25 routes.

Layout of ``index/``::

    CURRENT                 name of the live version (replaced atomically)
    v-<stamp>/manifest.json corpus hash, parser/chunker versions, embedder id and dim, file sizes
    v-<stamp>/cases.json    case records (the text the UI shows and citations point into)
    v-<stamp>/passages.json passages with their content keys and problem shares (sentence roles)
    v-<stamp>/vectors.faiss FAISS index of the passage vectors (inner product on unit vectors)
    v-<stamp>/lexical/      BM25 index over jieba tokens       (the "words" route)
    v-<stamp>/chars/        BM25 index over character n-grams  (the "chars" route)
    v-<stamp>/links.json    the links (question, passage position, content key), when there are any
    v-<stamp>/link_vectors.faiss, link_lexical/, link_chars/
                            the same three indexes over the link questions (the ``link_*`` routes)

Publishing writes a new version folder completely, renames it into place,
then swaps ``CURRENT`` (:func:`assistant.fsutil.atomic_write`): a reader
sees either the old index or the new one, never half of one, and a build
that dies leaves the old index in place.  The previous version stays on disk
for readers that loaded it a moment ago; older ones are pruned.

Example::

    >>> from assistant.stores.files import FilesStore
    >>> store = FilesStore(get_settings())           # doctest: +SKIP
    >>> library = store.load(embedder.id)            # doctest: +SKIP
    >>> store.published_version() == library.version # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

import faiss
import numpy as np

from assistant.chunking import Passage
from assistant.config import Settings, get_settings
from assistant.corpus import Case
from assistant.errors import IndexProblem
from assistant.fsutil import atomic_write
from assistant.lexical import LexicalIndex, LexicalIndexError
from assistant.roles import model_fingerprint
from assistant.stores.base import (
    BUILD_CMD,
    LINK_ROUTES,
    BuiltIndex,
    Filters,
    Library,
    LinkRow,
    Manifest,
    PublishReport,
    Query,
    Store,
    case_from_dict,
    shares_if_current,
)

_FILES = ("cases.json", "passages.json", "vectors.faiss")
_LINK_FILES = ("links.json", "link_vectors.faiss")  # written when the index has links

# Exact search costs ~22 ms per 100k passages on two cores, about the price of
# the query embedding; past this size an inverted-file index keeps search
# small.  `assistant bench speed` measured IVF (nprobe 32) at recall@10 0.99
# of exact search at 65k passages, 1 ms a query instead of 14-27 ms; HNSW lost
# more recall on the near-duplicate passages a growing corpus has.
IVF_FROM = 50_000
IVF_NPROBE = 32


def current_dir(index_dir: Path) -> Path | None:
    """The live version folder named by ``index_dir/CURRENT`` (None when there is none)."""
    pointer = Path(index_dir) / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return Path(index_dir) / name if name else None


def vector_index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner-product index for a corpus that fits, IVF for a large one."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    index: faiss.Index
    if n < IVF_FROM:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist = int(2 * np.sqrt(n))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
    index.add(vectors)
    return prepare_for_search(index)


def prepare_for_search(index: faiss.Index) -> faiss.Index:
    """Set the probe count of an IVF index and let it hand back stored vectors (for reuse)."""
    try:
        ivf = faiss.extract_index_ivf(index)
    except RuntimeError:
        return index  # flat
    ivf.nprobe = IVF_NPROBE
    ivf.make_direct_map()
    return index


def _selector(index: faiss.Index, allowed: np.ndarray):
    """FAISS search parameters restricted to the passages in the mask."""
    sel = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        # faiss's stubs omit the keyword __init__ that its Python wrappers add to every SearchParameters class
        return faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
    return faiss.SearchParametersIVF(sel=sel, nprobe=IVF_NPROBE)  # type: ignore[call-arg]  # as above


class FilesStore(Store):
    """The index under ``settings.index_dir``; after :meth:`load`, its vectors and BM25 indexes in memory."""

    kind = "faiss"

    vectors: faiss.Index  # the loaded version's parts (public for the benchmarks)
    words: LexicalIndex
    chars: LexicalIndex
    # the link routes' parts (None: the version has no links)
    link_vectors: faiss.Index | None = None
    link_words: LexicalIndex | None = None
    link_chars: LexicalIndex | None = None
    link_passage: np.ndarray = np.zeros(0, dtype=np.int64)  # passage position of each link
    link_source: np.ndarray = np.zeros(0, dtype=object)  # source of each link (bundled, llm, user)

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    # ------------------------------------------------------------ reading

    def read_manifest(self) -> Manifest:
        version = current_dir(self.index_dir)
        if version is None or not (version / "manifest.json").is_file():
            raise IndexProblem(f"没有找到索引（{self.index_dir}）。请先运行：{BUILD_CMD}")
        try:
            return Manifest.from_dict(json.loads((version / "manifest.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise IndexProblem(f"索引清单已损坏（{version / 'manifest.json'}：{exc}）。请运行：{BUILD_CMD}") from None

    def _load(self, manifest: Manifest) -> Library:
        version = current_dir(self.index_dir)
        assert version is not None, "read_manifest found it"
        for name, size in manifest.file_sizes.items():
            p = version / name
            if not p.is_file() or p.stat().st_size != size:
                raise IndexProblem(f"索引文件 {p} 缺失或不完整。请运行：{BUILD_CMD}")
        try:
            cases = {c["id"]: case_from_dict(c) for c in json.loads((version / "cases.json").read_text("utf-8"))}
            rows = json.loads((version / "passages.json").read_text("utf-8"))
            passages = [Passage.from_dict(d) for d in rows]
            vectors = prepare_for_search(faiss.read_index(str(version / "vectors.faiss")))
            words = LexicalIndex.load(version / "lexical")
            chars = LexicalIndex.load(version / "chars")
            links = _read_links(version, manifest)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, LexicalIndexError) as exc:
            raise IndexProblem(f"索引文件已损坏（{exc}）。请运行：{BUILD_CMD}") from None
        n = len(passages)
        if vectors.ntotal != n or len(words) != n or len(chars) != n or vectors.d != manifest.dim:
            raise IndexProblem(f"索引各部分的条数不一致。请运行：{BUILD_CMD}")
        self.vectors, self.words, self.chars = vectors, words, chars
        self._set_links(*links, n_passages=n, dim=manifest.dim)
        shares = shares_if_current(_column(rows, "problem_share"), manifest, n)
        library = Library(self, version, version.name, manifest, cases, passages, [], shares)
        library.links = links[0]
        return library

    def _set_links(
        self, rows: list[LinkRow], vectors: faiss.Index | None, words: LexicalIndex | None,
        chars: LexicalIndex | None, n_passages: int, dim: int,
    ) -> None:
        if rows:
            n = len(rows)
            if vectors is None or words is None or chars is None or vectors.ntotal != n or len(words) != n \
                    or len(chars) != n or vectors.d != dim or not all(0 <= r.passage < n_passages for r in rows):
                raise IndexProblem(f"索引中关联问题的各部分对不上。请运行：{BUILD_CMD}")
        self.link_vectors, self.link_words, self.link_chars = vectors, words, chars
        self.link_passage = np.fromiter((r.passage for r in rows), dtype=np.int64, count=len(rows))
        self.link_source = np.array([r.source for r in rows], dtype=object)

    @classmethod
    def in_memory(
        cls,
        manifest: Manifest,
        cases: dict[str, Case],
        passages: list[Passage],
        vectors: faiss.Index,
        words: LexicalIndex,
        chars: LexicalIndex,
        shares: np.ndarray | None = None,
        settings: Settings | None = None,
    ) -> Library:
        """A library served from parts already in memory, never published (benchmarks on synthetic corpora)."""
        store = cls(settings or get_settings())
        store.vectors, store.words, store.chars = vectors, words, chars
        store._loaded = True
        return Library(store, Path("<memory>"), "memory", manifest, cases, passages, [], shares)

    @classmethod
    def from_built(cls, built: BuiltIndex, settings: Settings | None = None) -> Library:
        """A library served straight from a build, never published (experiments, benchmarks)."""
        store = cls(settings or get_settings())
        store.vectors, store.words, store.chars = vector_index(built.vectors), built.words, built.chars
        link_vectors = vector_index(built.link_vectors) if built.links and built.link_vectors is not None else None
        store._set_links(built.links, link_vectors, built.link_words, built.link_chars, len(built.passages),
                         built.manifest.dim)
        store._loaded = True
        shares = np.asarray(built.shares, dtype=np.float32)
        library = Library(store, Path("<memory>"), "memory", built.manifest, {c.id: c for c in built.cases},
                          built.passages, [], shares)
        library.links = list(built.links)
        return library

    def _route(
        self, name: str, query: Query, depth: int, filters: Filters | None, allowed: np.ndarray | None
    ) -> Iterable[tuple[int, float]]:
        if name == "dense":
            q = query.vector[None, :]
            params = None if allowed is None else _selector(self.vectors, allowed)
            scores, ids = self.vectors.search(q, depth, params=params)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        if name == "words":
            return self.words.search_tokens(query.words, depth, allowed)
        if name == "chars":
            return self.chars.search_tokens(query.chars, depth, allowed)
        if name in LINK_ROUTES:
            return self._link_route(name, query, depth, allowed)
        raise AssertionError(f"route {name!r} is listed but not implemented")

    def _link_route(self, name: str, query: Query, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """The passages of the best links: found by their questions, scored by them."""
        n_links = len(self.link_passage)
        k = self.link_depth(depth, n_links)
        if not k:
            return []
        mask = None if allowed is None else allowed[self.link_passage]
        if query.link_sources is not None:
            of_source = np.isin(self.link_source, list(query.link_sources))
            mask = of_source if mask is None else mask & of_source
        if mask is not None and not mask.any():
            return []
        if name == "link_dense":
            assert self.link_vectors is not None
            params = None if mask is None else _selector(self.link_vectors, mask)
            scores, ids = self.link_vectors.search(query.vector[None, :], k, params=params)
            found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        else:
            index = self.link_words if name == "link_words" else self.link_chars
            assert index is not None
            found = index.search_tokens(query.tokens(name), k, mask)
        return [(int(self.link_passage[i]), s) for i, s in found]

    def vector(self, i: int) -> np.ndarray | None:
        try:
            return np.asarray(self.vectors.reconstruct(i), dtype=np.float32)
        except RuntimeError:
            return None

    def published_version(self) -> str | None:
        live = current_dir(self.index_dir)
        return live.name if live else None

    # ------------------------------------------- what a new build can reuse

    def stored_vectors(self, embedder_id: str) -> dict[str, np.ndarray]:
        """Content key -> vector of the live version, when it was built with the same embedder."""
        try:
            manifest = self.read_manifest()
            version = current_dir(self.index_dir)
            if manifest.embedder_id != embedder_id or version is None:
                return {}
            passages = json.loads((version / "passages.json").read_text("utf-8"))
            index = prepare_for_search(faiss.read_index(str(version / "vectors.faiss")))
            if index.ntotal != len(passages):
                return {}
            matrix = index.reconstruct_n(0, index.ntotal)
            return {p["key"]: matrix[i] for i, p in enumerate(passages)}
        except (IndexProblem, OSError, ValueError, KeyError, RuntimeError):
            return {}  # nothing reusable; a full build follows

    def stored_link_vectors(self, embedder_id: str) -> dict[str, np.ndarray]:
        """Content key -> vector of every link question of the live version (same embedder)."""
        try:
            manifest = self.read_manifest()
            version = current_dir(self.index_dir)
            if manifest.embedder_id != embedder_id or version is None or not (version / "links.json").is_file():
                return {}
            rows = json.loads((version / "links.json").read_text("utf-8"))
            if not rows:
                return {}
            index = faiss.read_index(str(version / "link_vectors.faiss"))
            if index.ntotal != len(rows):
                return {}
            matrix = index.reconstruct_n(0, index.ntotal)
            return {r["key"]: matrix[i] for i, r in enumerate(rows)}
        except (IndexProblem, OSError, ValueError, KeyError, RuntimeError):
            return {}

    def stored_shares(self) -> dict[str, float]:
        """Content key -> problem share of the live version, when computed with the current role model."""
        try:
            manifest = self.read_manifest()
            version = current_dir(self.index_dir)
            if version is None or manifest.roles_model != model_fingerprint():
                return {}
            return {p["key"]: p["problem_share"] for p in json.loads((version / "passages.json").read_text("utf-8"))}
        except (IndexProblem, OSError, ValueError, KeyError, TypeError):
            return {}

    def read_built(self) -> BuiltIndex:
        """The live version as it was built, vectors included (to copy it into another store)."""
        if current_dir(self.index_dir) is None:
            raise IndexProblem(f"没有找到本地索引（{self.index_dir}）。请先运行：{BUILD_CMD}")
        manifest = self.read_manifest()
        library = self._load(manifest)
        rows = json.loads((library.path / "passages.json").read_text("utf-8"))
        return BuiltIndex(
            manifest=manifest,
            cases=list(library.cases.values()),
            passages=library.passages,
            vectors=self.vectors.reconstruct_n(0, self.vectors.ntotal),
            words=self.words,
            chars=self.chars,
            shares=[float(r.get("problem_share", 0.0)) for r in rows],
            links=library.links,
            link_vectors=(
                self.link_vectors.reconstruct_n(0, self.link_vectors.ntotal) if self.link_vectors is not None else None
            ),
            link_words=self.link_words,
            link_chars=self.link_chars,
        )

    # ---------------------------------------------------------- publishing

    def publish(self, built: BuiltIndex, progress: Callable[[int, int], None] | None = None) -> PublishReport:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        name = f"v-{time.time_ns()}-{os.getpid()}"  # sortable and unique
        tmp = self.index_dir / f".tmp-{name}"
        final = self.index_dir / name
        try:
            tmp.mkdir()
            (tmp / "cases.json").write_text(
                json.dumps([c.to_dict() for c in built.cases], ensure_ascii=False), encoding="utf-8"
            )
            rows = [dict(p.to_dict(), key=p.key, problem_share=x) for p, x in zip(built.passages, built.shares)]
            (tmp / "passages.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            faiss.write_index(vector_index(built.vectors), str(tmp / "vectors.faiss"))
            built.words.save(tmp / "lexical")
            built.chars.save(tmp / "chars")
            names: tuple[str, ...] = _FILES
            if built.links:
                assert built.link_vectors is not None and built.link_words and built.link_chars
                (tmp / "links.json").write_text(
                    json.dumps([r.to_dict() for r in built.links], ensure_ascii=False), encoding="utf-8"
                )
                faiss.write_index(vector_index(built.link_vectors), str(tmp / "link_vectors.faiss"))
                built.link_words.save(tmp / "link_lexical")
                built.link_chars.save(tmp / "link_chars")
                names = _FILES + _LINK_FILES
            built.manifest.file_sizes = {n: (tmp / n).stat().st_size for n in names}
            (tmp / "manifest.json").write_text(
                json.dumps(built.manifest.to_dict(), ensure_ascii=False, indent=1), "utf-8"
            )
            _fsync_tree(tmp)
            tmp.rename(final)
            atomic_write(self.index_dir / "CURRENT", name + "\n")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _prune(self.index_dir, keep={name})
        return PublishReport(final, name)


def _read_links(
    version: Path, manifest: Manifest
) -> tuple[list[LinkRow], faiss.Index | None, LexicalIndex | None, LexicalIndex | None]:
    """The links of a version folder and their three indexes (none for a version built without links)."""
    if not (version / "links.json").is_file():
        if manifest.n_links:
            raise IndexProblem(f"索引中缺少关联问题文件 {version / 'links.json'}。请运行：{BUILD_CMD}")
        return [], None, None, None
    rows = [LinkRow.from_dict(d) for d in json.loads((version / "links.json").read_text("utf-8"))]
    if len(rows) != manifest.n_links:
        raise IndexProblem(f"索引中关联问题的条数与清单不符。请运行：{BUILD_CMD}")
    if not rows:
        return [], None, None, None
    vectors = prepare_for_search(faiss.read_index(str(version / "link_vectors.faiss")))
    return rows, vectors, LexicalIndex.load(version / "link_lexical"), LexicalIndex.load(version / "link_chars")


def _column(rows: list[dict], key: str) -> list | None:
    try:
        return [r[key] for r in rows]
    except (KeyError, TypeError):
        return None


def _fsync_tree(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())


def _prune(index_dir: Path, keep: set[str]) -> None:
    """Remove old versions and leftovers of interrupted builds, keeping the previous one.

    The previous version stays for readers that loaded it a moment ago.
    """
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name not in keep)
    for old in versions[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-v-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
