"""Build, check and load the on-disk index.

Layout of ``index/``::

    CURRENT                 name of the live version (replaced atomically)
    v-<stamp>/manifest.json corpus hash, parser/chunker versions, embedder id and dim, file sizes
    v-<stamp>/cases.json    case records (the text the UI shows and citations point into)
    v-<stamp>/passages.json passages with their content keys and problem shares (sentence roles)
    v-<stamp>/vectors.faiss FAISS index of the passage vectors (inner product on unit vectors)
    v-<stamp>/lexical/      BM25 index over jieba tokens
    v-<stamp>/chars/        BM25 index over character unigrams and bigrams

A build writes a new version folder completely, then swaps ``CURRENT`` with
``os.replace``: a reader sees either the old index or the new one, never half
of one, and a build that dies leaves the old index in place.  Vectors of
passages whose content did not change are copied from the previous version
instead of being embedded again.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.index import build_index, load_index
    >>> build_index(get_settings())          # doctest: +SKIP
    >>> idx = load_index(get_settings())
    >>> len(idx.passages)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import faiss
import numpy as np

from assistant import corpus as corpus_mod
from assistant.chunking import CHUNKER_VERSION, Passage, chunk_cases
from assistant.config import Settings
from assistant.corpus import Case, CorpusError, Paragraph, Section
from assistant.embedding import Embedder, get_embedder
from assistant.errors import IndexProblem, InputError
from assistant.lexical import LexicalIndex, LexicalIndexError
from assistant.roles import model_fingerprint, problem_share

if TYPE_CHECKING:
    from assistant.milvus_store import MilvusStore

FORMAT_VERSION = 1
_FILES = ("cases.json", "passages.json", "vectors.faiss")
BUILD_CMD = "assistant index build"


@dataclass
class Manifest:
    format_version: int
    corpus_hash: str
    corpus_files: list[str]
    parser_version: str
    chunker_version: str
    embedder_id: str
    dim: int
    n_cases: int
    n_passages: int
    built_at: str
    build_seconds: float
    reused_vectors: int
    file_sizes: dict[str, int]
    corpus_digests: dict[str, str] = field(default_factory=dict)  # file -> sha256: what changed on disk
    roles_model: str = ""  # fingerprint of the role model the passages' problem shares were computed with

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)


@dataclass
class LoadedIndex:
    """Everything retrieval needs, in memory.

    With the FAISS store the vectors and both BM25 indexes are here; with the
    Milvus store they stay in Milvus (``milvus``), and ``pids`` maps passage
    positions to Milvus primary keys.
    """

    path: Path
    manifest: Manifest
    cases: dict[str, Case]
    passages: list[Passage]
    vectors: faiss.Index | None
    lexical: LexicalIndex | None  # BM25 over jieba words
    chars: LexicalIndex | None  # BM25 over character n-grams
    stale_reasons: list[str]  # the corpus moved on since the build: still usable, but outdated
    milvus: "MilvusStore | None" = None
    pids: list[str] | None = None
    _facets: dict | None = field(default=None, repr=False)
    _position: dict | None = field(default=None, repr=False)
    problem_share: np.ndarray | None = None  # per passage, see assistant.roles.problem_share

    @property
    def store(self) -> str:
        return "milvus" if self.milvus is not None else "faiss"

    @property
    def version(self) -> str:
        return self.path.name

    def facets(self) -> dict:
        """Case id → :class:`assistant.store.Facets` (computed once)."""
        if self._facets is None:
            from assistant.store import case_facets

            self._facets = case_facets(self.cases.values())
        return self._facets

    def allowed(self, filters) -> np.ndarray:
        """Boolean mask of the passages whose case matches ``filters``."""
        facets = self.facets()
        ok = {cid for cid, f in facets.items() if f.matches(filters)}
        return np.fromiter((p.case_id in ok for p in self.passages), dtype=bool, count=len(self.passages))

    def position(self, pid: str) -> int | None:
        """Passage position of a Milvus primary key."""
        if self._position is None:
            self._position = {p: i for i, p in enumerate(self.pids or [])}
        return self._position.get(pid)

    def vector(self, i: int) -> np.ndarray | None:
        """The stored embedding of passage ``i`` (None when the store cannot give it back)."""
        if self.milvus is not None:
            assert self.pids is not None
            return self.milvus.vectors([self.pids[i]]).get(self.pids[i])
        assert self.vectors is not None, "a FAISS-store index always holds its vectors"
        try:
            return np.asarray(self.vectors.reconstruct(i), dtype=np.float32)
        except RuntimeError:
            return None


# ---------------------------------------------------------------------------
# reading


def current_dir(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return index_dir / name if name else None


def read_manifest(settings: Settings) -> Manifest:
    version = current_dir(settings.index_dir)
    if version is None or not (version / "manifest.json").is_file():
        raise IndexProblem(f"没有找到索引（{settings.index_dir}）。请先运行：{BUILD_CMD}")
    try:
        return Manifest.read(version / "manifest.json")
    except (OSError, ValueError, TypeError) as exc:
        raise IndexProblem(f"索引清单已损坏（{version / 'manifest.json'}：{exc}）。请运行：{BUILD_CMD}") from None


def incompatibility(manifest: Manifest, embedder_id: str) -> list[str]:
    """Reasons why the index cannot be searched at all with this configuration."""
    reasons = []
    if manifest.embedder_id != embedder_id:
        reasons.append(f"索引用的向量模型是 {manifest.embedder_id}，当前配置为 {embedder_id}")
    if manifest.format_version != FORMAT_VERSION:
        reasons.append("索引格式版本不同")
    return reasons


def outdatedness(settings: Settings, manifest: Manifest) -> list[str]:
    """Reasons why a searchable index no longer reflects the corpus on disk."""
    reasons = []
    files = corpus_mod.corpus_files(settings.corpus_dir)
    if corpus_mod.corpus_hash(files) != manifest.corpus_hash:
        reasons.append("语料目录中的文档已变化")
    if manifest.parser_version != corpus_mod.PARSER_VERSION or manifest.chunker_version != CHUNKER_VERSION:
        reasons.append("解析/切分程序版本已更新")
    return reasons


def staleness(settings: Settings, manifest: Manifest, embedder_id: str) -> list[str]:
    """All reasons (in Chinese) why the index no longer matches corpus and configuration."""
    return outdatedness(settings, manifest) + incompatibility(manifest, embedder_id)


def corpus_changes(settings: Settings, manifest: Manifest) -> dict[str, list[str]]:
    """Files added, changed and deleted on disk since the index was built."""
    now = {p.name: corpus_mod.file_digest(p) for p in corpus_mod.corpus_files(settings.corpus_dir)}
    then = manifest.corpus_digests
    return {
        "added": sorted(set(now) - set(then)),
        "changed": sorted(n for n in set(now) & set(then) if now[n] != then[n]),
        "deleted": sorted(set(then) - set(now)),
    }


def load_index(settings: Settings, embedder: Embedder | None = None, check_stale: bool = True) -> LoadedIndex:
    """Load the live index.

    A corrupt index, or one built with another embedder, is refused with the
    command that fixes it.  An index the corpus has moved on from is still
    loaded (readers keep answering while an update is under way); its
    ``stale_reasons`` say why it is outdated.
    """
    embedder = embedder or get_embedder(settings.embedder, settings.query_instruction)
    if settings.store == "milvus":
        from assistant.milvus_store import load_from_milvus

        return load_from_milvus(settings, embedder, check_stale)
    manifest = read_manifest(settings)
    version = current_dir(settings.index_dir)
    assert version is not None
    reasons = incompatibility(manifest, embedder.id)
    if reasons:
        raise IndexProblem(f"索引与当前配置不符（{'；'.join(reasons)}）。请运行：{BUILD_CMD}")
    stale = outdatedness(settings, manifest) if check_stale else []
    for name, size in manifest.file_sizes.items():
        p = version / name
        if not p.is_file() or p.stat().st_size != size:
            raise IndexProblem(f"索引文件 {p} 缺失或不完整。请运行：{BUILD_CMD}")
    try:
        cases = {c["id"]: _case_from_dict(c) for c in json.loads((version / "cases.json").read_text("utf-8"))}
        rows = json.loads((version / "passages.json").read_text("utf-8"))
        passages = [Passage.from_dict(d) for d in rows]
        vectors = prepare_for_search(faiss.read_index(str(version / "vectors.faiss")))
        lexical = LexicalIndex.load(version / "lexical")
        chars = LexicalIndex.load(version / "chars")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, LexicalIndexError) as exc:
        raise IndexProblem(f"索引文件已损坏（{exc}）。请运行：{BUILD_CMD}") from None
    n = len(passages)
    if vectors.ntotal != n or len(lexical) != n or len(chars) != n or vectors.d != manifest.dim:
        raise IndexProblem(f"索引各部分的条数不一致。请运行：{BUILD_CMD}")
    index = LoadedIndex(version, manifest, cases, passages, vectors, lexical, chars, stale)
    index.problem_share = _stored_shares(rows, manifest)
    return index


def _stored_shares(rows: list[dict], manifest: Manifest) -> np.ndarray | None:
    """The passages' problem shares, when computed with the role model in use (else retrieval computes them)."""
    if manifest.roles_model != model_fingerprint():
        return None
    try:
        return np.array([r["problem_share"] for r in rows], dtype=np.float32)
    except (ValueError, KeyError, TypeError):
        return None


def _case_from_dict(d: dict) -> Case:
    d = dict(d)
    d["paragraphs"] = [Paragraph(p["start"], p["end"], p["heading_level"], tuple(p["path"])) for p in d["paragraphs"]]
    d["sections"] = [
        Section(s["title"], s["level"], s["start"], s["end"], tuple(s["path"]), s["inline"]) for s in d["sections"]
    ]
    return Case(raw_text="", **d)


# ---------------------------------------------------------------------------
# building

# Exact search costs ~22 ms per 100k passages on two cores, about the price of
# the query embedding; past this size an inverted-file index keeps search
# small.  `assistant bench speed` measured IVF (nprobe 32) at recall@10 0.99
# of exact search at 65k passages, 1 ms a query instead of 14-27 ms; HNSW lost
# more recall on the near-duplicate passages a growing corpus has.
IVF_FROM = 50_000
IVF_NPROBE = 32


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


@dataclass
class BuildReport:
    path: Path
    n_cases: int
    n_passages: int
    embedded: int
    reused: int
    seconds: float
    milvus: object | None = None  # SyncReport when ASSISTANT_STORE=milvus


def _previous_vectors(settings: Settings, embedder_id: str) -> dict[str, np.ndarray]:
    """Content key -> vector from the live index, when it was built with the same embedder."""
    try:
        manifest = read_manifest(settings)
        version = current_dir(settings.index_dir)
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


def _previous_shares(settings: Settings) -> dict[str, float]:
    """Content key -> problem share from the live index, when computed with the current role model."""
    try:
        manifest = read_manifest(settings)
        version = current_dir(settings.index_dir)
        if version is None or manifest.roles_model != model_fingerprint():
            return {}
        return {p["key"]: p["problem_share"] for p in json.loads((version / "passages.json").read_text("utf-8"))}
    except (IndexProblem, OSError, ValueError, KeyError, TypeError):
        return {}


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Parse, chunk, embed (reusing unchanged vectors) and publish a new index version."""
    t0 = time.perf_counter()
    embedder = embedder or get_embedder(settings.embedder, settings.query_instruction)
    files = corpus_mod.corpus_files(settings.corpus_dir)
    try:
        cases = corpus_mod.load_corpus(settings.corpus_dir)
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    if not cases:
        raise InputError(f"语料目录 {settings.corpus_dir} 中没有案例，无法建立索引。")
    passages = chunk_cases(cases)
    keys = [p.key for p in passages]
    reuse = _previous_vectors(settings, embedder.id)
    todo = [i for i, k in enumerate(keys) if k not in reuse]
    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in reuse:
            vectors[i] = reuse[k]
    if todo:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, len(todo))

        vectors[todo] = embedder.embed_documents([passages[i].index_text for i in todo], progress=tick)
    lexical = LexicalIndex.build([p.index_text for p in passages], "jieba")
    chars = LexicalIndex.build([p.index_text for p in passages], "chars")
    old_shares = _previous_shares(settings)
    shares = [old_shares[k] if k in old_shares else round(problem_share(p.text), 4) for p, k in zip(passages, keys)]

    settings.index_dir.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.time_ns()}-{os.getpid()}"  # sortable and unique
    tmp = settings.index_dir / f".tmp-{name}"
    final = settings.index_dir / name
    try:
        tmp.mkdir()
        (tmp / "cases.json").write_text(
            json.dumps([c.to_dict() for c in cases], ensure_ascii=False), encoding="utf-8"
        )
        (tmp / "passages.json").write_text(
            json.dumps(
                [dict(p.to_dict(), key=k, problem_share=x) for p, k, x in zip(passages, keys, shares)],
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        faiss.write_index(vector_index(vectors), str(tmp / "vectors.faiss"))
        lexical.save(tmp / "lexical")
        chars.save(tmp / "chars")
        seconds = round(time.perf_counter() - t0, 2)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            corpus_hash=corpus_mod.corpus_hash(files),
            corpus_files=[p.name for p in files],
            corpus_digests={p.name: corpus_mod.file_digest(p) for p in files},
            parser_version=corpus_mod.PARSER_VERSION,
            chunker_version=CHUNKER_VERSION,
            embedder_id=embedder.id,
            dim=embedder.dim,
            n_cases=len(cases),
            n_passages=len(passages),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build_seconds=seconds,
            reused_vectors=len(passages) - len(todo),
            file_sizes={n: (tmp / n).stat().st_size for n in _FILES},
            roles_model=model_fingerprint(),
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest.__dict__, ensure_ascii=False, indent=1), "utf-8")
        _fsync_tree(tmp)
        tmp.rename(final)
        _publish(settings.index_dir, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(settings.index_dir, keep={name})
    report = BuildReport(final, len(cases), len(passages), len(todo), len(passages) - len(todo), seconds)
    if settings.store == "milvus":
        report.milvus = _sync_milvus(settings, manifest.__dict__, cases, passages, vectors)
    return report


def _sync_milvus(settings: Settings, manifest: dict, cases: list[Case], passages: list[Passage], vectors):
    """Bring the Milvus collections up to the version just published locally.

    If Milvus fails here the local index is already complete: running the
    build again embeds nothing and only repeats the synchronisation.
    """
    from assistant.milvus_store import MilvusStore, StoreUnavailable

    store = MilvusStore.from_settings(settings)
    try:
        return store.sync(manifest, {c.id: c for c in cases}, passages, vectors)
    except StoreUnavailable as exc:
        raise StoreUnavailable(
            f"{exc} 本地索引已更新；Milvus 恢复后再运行一次 {BUILD_CMD} 即可完成同步（无需重新向量化）。"
        ) from None


def _fsync_tree(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())


def _publish(index_dir: Path, name: str) -> None:
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
    with open(pointer_tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")


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


def status(settings: Settings) -> dict:
    """What is indexed and whether it matches the corpus and configuration."""
    embedder = get_embedder(settings.embedder, settings.query_instruction)
    manifest = read_manifest(settings)
    out: dict[str, Any] = {
        "index": str(current_dir(settings.index_dir)),
        "manifest": manifest.__dict__,
        "stale_reasons": staleness(settings, manifest, embedder.id),
        "changes": corpus_changes(settings, manifest),
    }
    if settings.store == "milvus":
        from assistant.milvus_store import MilvusStore

        store = MilvusStore.from_settings(settings)
        live = store.manifest()
        count = _milvus_count(store) if live else 0
        out["milvus"] = {
            "uri": store.where,
            "collection": store.passages_name,
            "version": live["version"] if live else None,
            "passages": count,
            "in_sync": bool(live and live.get("corpus_hash") == manifest.corpus_hash
                            and live.get("n_passages") == manifest.n_passages == count),
        }
        if not out["milvus"]["in_sync"]:
            out["stale_reasons"].append(f"Milvus（{store.where}）与本地索引不一致")
    return out


def _milvus_count(store) -> int:
    try:
        return store.count()
    except IndexProblem:  # the passages collection is gone: status says "not in sync"
        return 0


def stderr_progress() -> Callable[[int, int], None]:
    """A tqdm progress bar on stderr for embedding."""
    from tqdm import tqdm

    bar: list = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc="向量化段落", unit="段", file=sys.stderr))
        bar[0].update(done - bar[0].n)
        if done >= total:
            bar[0].close()

    return update
