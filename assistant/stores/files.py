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

import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import faiss
import numpy as np

from assistant.chunking import Passage
from assistant.config import Settings, get_settings
from assistant.corpus import CORPUS_DIR_FIX, Case
from assistant.errors import IndexProblem, StorageError, storage_error
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

log = logging.getLogger(__name__)

# A version folder's name: publish() writes v-<time_ns>-<pid>; any "v-" name without a path in it is accepted
VERSION_NAME = re.compile(r"^v-[0-9A-Za-z][0-9A-Za-z_-]*$")
_PUBLISHED_NAME = re.compile(r"^v-(\d+)-(\d+)$")
CHECKSUM_MAX_BYTES = 16 * 1024 * 1024  # files up to this size get a sha256 in the manifest
INDEX_DIR_FIX = "或用 --index-dir（环境变量 ASSISTANT_INDEX_DIR）指定可写的索引目录"

# Exact search costs ~22 ms per 100k passages on two cores, about the price of
# the query embedding; past this size an inverted-file index keeps search
# small.  `assistant bench speed` measured IVF (nprobe 32) at recall@10 0.99
# of exact search at 65k passages, 1 ms a query instead of 14-27 ms; HNSW lost
# more recall on the near-duplicate passages a growing corpus has.
IVF_FROM = 50_000
IVF_NPROBE = 32


def current_dir(index_dir: Path) -> Path | None:
    """The live version folder named by ``index_dir/CURRENT`` (None when there is no CURRENT).

    A CURRENT that is not UTF-8 text or does not name a version folder
    (``v-`` and letters, digits, ``-`` or ``_``: never a path outside
    ``index/``) raises IndexProblem with the command that repairs it.
    """
    pointer = Path(index_dir) / "CURRENT"
    try:
        raw = pointer.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise IndexProblem(f"索引指针 {pointer} 已损坏（是一个目录）。请运行：{BUILD_CMD}") from None
    except OSError as exc:
        raise storage_error(exc, pointer, writing=False, fix=INDEX_DIR_FIX) from None
    repair = f"请运行：{BUILD_CMD}（会复用完好版本中的向量）"
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IndexProblem(f"索引指针 {pointer} 已损坏（不是 UTF-8 文本）。{repair}") from None
    if not VERSION_NAME.match(name):
        shown = name[:40] + ("…" if len(name) > 40 else "")
        raise IndexProblem(f"索引指针 {pointer} 已损坏（“{shown}”不是索引版本目录的名称）。{repair}")
    return Path(index_dir) / name


def version_dirs(index_dir: Path) -> list[Path]:
    """The complete version folders under ``index_dir``, newest first (by build time, not by name)."""
    found = []
    for p in Path(index_dir).glob("v-*"):
        if not VERSION_NAME.match(p.name) or not p.is_dir():
            continue
        m = _PUBLISHED_NAME.match(p.name)
        try:
            when = int(m.group(1)) if m else p.stat().st_mtime_ns  # a folder named by hand: its time on disk
        except OSError:
            continue
        found.append(((when, p.name), p))
    return [p for _, p in sorted(found, reverse=True)]


def read_manifest_at(version: Path) -> Manifest:
    """The manifest of one version folder, its schema checked (IndexProblem when damaged)."""
    path = version / "manifest.json"
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise IndexProblem(f"索引版本 {version} 缺少 manifest.json。请运行：{BUILD_CMD}") from None
    except PermissionError as exc:
        raise storage_error(exc, path, writing=False, fix=INDEX_DIR_FIX) from None
    except (OSError, ValueError, TypeError) as exc:
        raise IndexProblem(f"索引清单已损坏（{path}：{exc}）。请运行：{BUILD_CMD}") from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_damage(version: Path, manifest: Manifest, checksums: bool = True) -> list[str]:
    """What is wrong with the files ``manifest`` lists in ``version`` (missing, other size, other
    checksum), one Chinese line each; ``[]`` when they are as built."""
    damage = []
    for name, size in sorted(manifest.file_sizes.items()):
        p = version / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            damage.append(f"清单中的文件名 {name!r} 不在版本目录内")
            continue
        try:
            actual = p.stat().st_size if p.is_file() else None
        except OSError:
            actual = None
        if actual is None:
            damage.append(f"{p} 缺失")
        elif actual != size:
            damage.append(f"{p} 大小不符（应为 {size} 字节，实为 {actual} 字节）")
        elif checksums and name in manifest.file_sha256:
            try:
                digest = _sha256(p)
            except OSError as exc:
                damage.append(f"{p} 无法读取（{exc.strerror or exc}）")
                continue
            if digest != manifest.file_sha256[name]:
                damage.append(f"{p} 内容与建索引时不同（校验和不符）")
    return damage


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

    reused_from: Path | None = None  # the version stored_vectors() found (it may not be the live one)
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
        if version is None:
            raise IndexProblem(f"没有找到索引（{self.index_dir}）。请先运行：{BUILD_CMD}")
        if not version.is_dir():
            raise IndexProblem(
                f"索引指针 {self.index_dir / 'CURRENT'} 指向的版本 {version.name} 不存在。"
                f"请运行：{BUILD_CMD}（会复用完好版本中的向量）"
            )
        manifest = read_manifest_at(version)
        self._version_dir = version
        return manifest

    def _load(self, manifest: Manifest) -> Library:
        version = getattr(self, "_version_dir", None) or current_dir(self.index_dir)
        assert version is not None, "read_manifest found it"
        damage = file_damage(version, manifest, checksums=False)
        if damage:
            raise IndexProblem(f"索引文件缺失或不完整（{damage[0]}）。请运行：{BUILD_CMD}")
        try:
            cases = {c["id"]: case_from_dict(c) for c in json.loads((version / "cases.json").read_text("utf-8"))}
            rows = json.loads((version / "passages.json").read_text("utf-8"))
            passages = [Passage.from_dict(d) for d in rows]
            vectors = prepare_for_search(faiss.read_index(str(version / "vectors.faiss")))
            words = LexicalIndex.load(version / "lexical")
            chars = LexicalIndex.load(version / "chars")
            links = _read_links(version, manifest)
        except PermissionError as exc:
            raise storage_error(exc, version, writing=False, fix=INDEX_DIR_FIX) from None
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

    def damage(self) -> list[str]:
        """What is wrong with the live version's files (sizes, and checksums of the small ones)."""
        manifest = self.read_manifest()
        return file_damage(self._version_dir, manifest, checksums=True)

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
        """The live version's name (None without CURRENT; IndexProblem when CURRENT is damaged)."""
        live = current_dir(self.index_dir)
        return live.name if live else None

    # ------------------------------------------- what a new build can reuse

    def intact_versions(self) -> Iterator[tuple[Path, Manifest]]:
        """Version folders whose manifest and files are as built: the live one first, then the newest.

        When CURRENT is missing or damaged, or the live version's files are,
        a build can still reuse the vectors of the newest intact folder.
        """
        try:
            live = current_dir(self.index_dir)
        except (IndexProblem, StorageError) as exc:
            log.info("index pointer unusable, looking for an intact version: %s", exc)
            live = None
        others = [v for v in version_dirs(self.index_dir) if v != live]
        for version in ([live] if live is not None else []) + others:
            try:
                manifest = read_manifest_at(version)
            except (IndexProblem, StorageError):
                continue
            if not file_damage(version, manifest):
                yield version, manifest

    def stored_vectors(self, embedder_id: str) -> dict[str, np.ndarray]:
        """Content key -> vector of the newest intact version built with the same embedder."""
        self.reused_from = None
        for version, manifest in self.intact_versions():
            if manifest.embedder_id != embedder_id:
                continue
            try:
                passages = json.loads((version / "passages.json").read_text("utf-8"))
                index = prepare_for_search(faiss.read_index(str(version / "vectors.faiss")))
                if index.ntotal != len(passages):
                    continue
                matrix = index.reconstruct_n(0, index.ntotal)
                found = {p["key"]: matrix[i] for i, p in enumerate(passages)}
            except (OSError, ValueError, KeyError, TypeError, RuntimeError):
                continue
            self.reused_from = version
            return found
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
        """Content key -> problem share of the newest intact version computed with the current role model."""
        for version, manifest in self.intact_versions():
            if manifest.roles_model != model_fingerprint():
                continue
            try:
                return {p["key"]: p["problem_share"] for p in json.loads((version / "passages.json").read_text("utf-8"))}
            except (OSError, ValueError, KeyError, TypeError):
                continue
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
        """Write the version completely, apply the corpus edit that goes with it, then switch CURRENT.

        Any failure (a full disk, a read-only folder, Ctrl+C) removes the new
        folder and undoes the corpus edit: the previous version stays live and
        the corpus as it was.  File-system failures become one StorageError line.
        """
        try:
            return self._publish(built)
        except OSError as exc:
            raise storage_error(exc, self.index_dir, fix=INDEX_DIR_FIX) from None

    def _publish(self, built: BuiltIndex) -> PublishReport:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        name = f"v-{time.time_ns()}-{os.getpid()}"  # sortable and unique
        tmp = self.index_dir / f".tmp-{name}"
        final = self.index_dir / name
        edit = built.corpus_edit
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
            if built.links:
                assert built.link_vectors is not None and built.link_words and built.link_chars
                (tmp / "links.json").write_text(
                    json.dumps([r.to_dict() for r in built.links], ensure_ascii=False), encoding="utf-8"
                )
                faiss.write_index(vector_index(built.link_vectors), str(tmp / "link_vectors.faiss"))
                built.link_words.save(tmp / "link_lexical")
                built.link_chars.save(tmp / "link_chars")
            files = sorted(p for p in tmp.rglob("*") if p.is_file())
            built.manifest.file_sizes = {p.relative_to(tmp).as_posix(): p.stat().st_size for p in files}
            built.manifest.file_sha256 = {
                p.relative_to(tmp).as_posix(): _sha256(p) for p in files if p.stat().st_size <= CHECKSUM_MAX_BYTES
            }
            (tmp / "manifest.json").write_text(
                json.dumps(built.manifest.to_dict(), ensure_ascii=False, indent=1), "utf-8"
            )
            _fsync_tree(tmp)
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            if edit:
                try:
                    edit.apply()
                except OSError as exc:
                    raise storage_error(exc, edit.corpus_dir, fix=CORPUS_DIR_FIX) from None
            try:
                atomic_write(self.index_dir / "CURRENT", name + "\n")
            except BaseException:
                if edit:
                    try:
                        edit.undo()
                    except OSError as exc:  # the corpus cannot be put back: say which file, keep the first error
                        log.error("could not undo the corpus edit after a failed publication: %s", exc)
                raise
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
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
