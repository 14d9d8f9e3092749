"""The Milvus store: passages, metadata, dense vectors and BM25 in one collection.

Chosen with ``ASSISTANT_STORE=milvus``; ``ASSISTANT_MILVUS_URI`` is a Milvus
server or cluster (``http://host:19530``) or a local folder ending in
``.db`` for the embedded engine milvus-lite (the default,
``<index dir>/milvus.db``).  Two collections, named after
``ASSISTANT_MILVUS_COLLECTION`` (default ``jiceng``):

``jiceng_passages``
    one row per passage: ``pid`` (primary key, see
    :func:`assistant.store.passage_id`), ``case_id``, ``town``,
    ``community_type``, ``tags`` (array), ``words`` (title, headings and text,
    analysed by Milvus's jieba tokenizer with our dictionary and stopwords),
    ``chars`` (the character unigrams and bigrams of the same text, each
    spelt as an ASCII token so any tokenizer keeps it whole), ``dense``
    (the embedding) and two sparse fields that Milvus's BM25 functions fill
    from ``words`` and ``chars``.  A search is one ``hybrid_search`` of
    three requests (dense, BM25 words, BM25 characters) fused inside the
    engine by reciprocal rank (RRF), with the metadata filter pushed down.
    The hits come back with their vectors, so the searcher re-scores the
    candidates with the same score fusion as the local store (see
    ``HybridSearcher._fused_in_milvus``).
``jiceng_meta``
    the manifest (``pid == "manifest"``) and each case record as JSON, split
    into parts a VARCHAR can hold; keyed by the record's digest, so a new
    version's cases are written before the manifest that names them.

An update is built locally first (parse, chunk, embed only what changed,
publish ``index/``), then synchronised: rows of new passages are inserted,
the new manifest replaces the old in one upsert, then rows no longer named
are deleted.  Readers (every ``assistant serve`` sharing the engine) load
the cases named by the manifest, re-chunk them (the chunker is
deterministic and versioned in the manifest) and map search hits by
``pid``; they notice a new manifest within :data:`RECHECK_SECONDS` and
reload, while a hit on a row they do not know is skipped.

Every call is bounded by ``ASSISTANT_MILVUS_TIMEOUT``; a failed call
reconnects once (the engine may have restarted) and otherwise raises
:class:`StoreUnavailable` with a message for the user.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.milvus_store import MilvusStore
    >>> store = MilvusStore.from_settings(get_settings(store="milvus"))  # doctest: +SKIP
    >>> store.sync_from_index(get_settings())                           # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.config import Settings
from assistant.errors import AssistantError, IndexProblem, InputError, StoreUnavailable
from assistant.store import Facets, Filters, case_facets, passage_id

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PART_CHARS = 15_000  # case JSON per meta row: ≤ 60,000 bytes of UTF-8, under VARCHAR's 65,535
MAX_WORDS_BYTES = 16_384
MAX_CHARS_BYTES = 65_535
INSERT_BATCH = 256
RECHECK_SECONDS = 2.0  # how stale a reader's idea of the live version may get
RRF_K = 10  # rank constant of the engine's fusion, which picks the candidates the searcher re-scores


def _chars_field(text: str) -> str:
    """Character n-grams spelt as ASCII tokens (``z`` + UTF-8 hex): the standard
    tokenizer of Milvus and of milvus-lite both keep such a token whole."""
    from assistant.lexical import tokenize_chars

    return " ".join("z" + g.encode("utf-8").hex() for g in tokenize_chars(text))


def _words_field(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore").rsplit(" ", 1)[0]


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a Milvus string literal with escapes


def filter_expr(f: Filters | None) -> str:
    """A Milvus boolean expression for the filters ('' when there are none)."""
    if f is None or f.empty:
        return ""
    parts = []
    if f.town:
        parts.append(f"town == {_quote(f.town)}")
    if f.community_type:
        parts.append(f"community_type == {_quote(f.community_type)}")
    if f.tag:
        parts.append(f"array_contains(tags, {_quote(f.tag)})")
    return " and ".join(parts)


def _analyzer_params() -> dict:
    from assistant import lexical

    lexical._init()
    words = []
    for line in lexical.USERDICT_PATH.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split()
        if parts and not parts[0].startswith("#"):
            words.append(unicodedata.normalize("NFKC", parts[0]).lower())
    # "_default_" keeps jieba's own dictionary beside ours on a Milvus server
    return {
        "tokenizer": {"type": "jieba", "dict": ["_default_", *words], "mode": "search"},
        "filter": [{"type": "stop", "stop_words": sorted(lexical._stopwords)}],
    }


@dataclass
class SyncReport:
    inserted: int
    deleted: int
    kept: int
    seconds: float


class MilvusStore:
    """A connection to the Milvus collections of one case library."""

    def __init__(self, uri: str, collection: str = "jiceng", timeout: float = 10.0) -> None:
        self.uri = uri
        self.passages_name = f"{collection}_passages"
        self.meta_name = f"{collection}_meta"
        self.timeout = timeout
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, uri: str | None = None) -> "MilvusStore":
        return cls(uri or milvus_uri(settings), settings.milvus_collection, settings.milvus_timeout)

    @property
    def where(self) -> str:
        """The URI without any credentials, for messages."""
        uri = self.uri
        if "@" in uri and "://" in uri:
            scheme, rest = uri.split("://", 1)
            uri = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return uri

    # ------------------------------------------------------------ connection

    def _connect(self):
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise InputError(
                "使用 Milvus 需要安装 pymilvus 和 milvus-lite：pip install -e '.[milvus]'"
            ) from None
        import jieba

        jieba.setLogLevel(logging.WARNING)  # milvus-lite's analyzer loads jieba: no "Building prefix dict" chatter
        for name in ("pymilvus", "milvus_lite"):  # their retries and traces: errors reach us as exceptions
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if self.uri.endswith(".db") and "://" not in self.uri:
            Path(self.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # like the LLM key, the credentials are read at call time and never stored in settings or logs
        token = os.environ.get("ASSISTANT_MILVUS_TOKEN", "")
        return MilvusClient(uri=self.uri, token=token, timeout=self.timeout)

    def client(self):
        with self._lock:
            if self._client is None:
                try:
                    client = self._connect()
                    # a restarted engine may hold the collections released (milvus-lite always does)
                    for name in (self.passages_name, self.meta_name):
                        if client.has_collection(name, timeout=self.timeout):
                            client.load_collection(name, timeout=self.timeout)
                    self._client = client
                except AssistantError:
                    raise
                except Exception as exc:  # noqa: BLE001 - pymilvus/grpc raise many types
                    raise StoreUnavailable(self._unavailable(exc)) from None
            return self._client

    def reset(self) -> None:
        """Forget the connection (the next call reconnects)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - it is being dropped anyway
                pass
            if self.uri.endswith(".db") and "://" not in self.uri:
                # milvus-lite serves a .db folder from a thread of this process:
                # release it so the next connection starts it afresh
                try:
                    from milvus_lite import server_manager_instance

                    server_manager_instance.release_server(self.uri)
                except Exception:  # noqa: BLE001
                    pass

    def _unavailable(self, exc: BaseException) -> str:
        detail = " ".join(str(exc).split())[:200]
        local = self.uri.endswith(".db") and "://" not in self.uri
        # milvus-lite logs its DataDirLockedError and pymilvus reports "Open local milvus failed"
        if local and ("lock" in detail.lower() or "open local milvus failed" in detail.lower()):
            return (
                f"案例库暂时无法访问：Milvus Lite 数据目录 {self.where} 正被另一个进程使用。"
                "多个进程共用一个案例库时，请改用 Milvus 服务（ASSISTANT_MILVUS_URI=http://主机:19530）。"
            )
        return f"案例库暂时无法访问（Milvus {self.where} 连接失败：{detail}）。请稍后再试，或联系管理员检查 Milvus 服务。"

    def call(self, name: str, *args, **kwargs):
        """``client.<name>(...)`` bounded by the timeout; reconnects once if the engine went away."""
        kwargs.setdefault("timeout", self.timeout)
        for attempt in (1, 2):
            client = self.client()
            try:
                return getattr(client, name)(*args, **kwargs)
            except AssistantError:
                raise
            except Exception as exc:  # noqa: BLE001 - pymilvus/grpc raise many types
                if _missing_collection(exc):
                    raise IndexProblem(
                        f"Milvus（{self.where}）中缺少案例库的集合，索引不完整。请运行：assistant index build"
                    ) from None
                if _is_logic_error(exc):
                    raise
                log.warning("Milvus %s failed (attempt %d): %s", name, attempt, exc)
                self.reset()
                if attempt == 2:
                    raise StoreUnavailable(self._unavailable(exc)) from None
        raise AssertionError("unreachable")

    def ping(self) -> None:
        self.call("list_collections")

    # --------------------------------------------------------------- schema

    def exists(self) -> bool:
        return bool(self.call("has_collection", self.meta_name)) and bool(
            self.call("has_collection", self.passages_name)
        )

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client()
        s = client.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=64)
        s.add_field("case_id", DataType.VARCHAR, max_length=256)
        s.add_field("town", DataType.VARCHAR, max_length=256)
        s.add_field("community_type", DataType.VARCHAR, max_length=32)
        s.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=128, max_length=64)
        s.add_field("words", DataType.VARCHAR, max_length=MAX_WORDS_BYTES, enable_analyzer=True,
                    analyzer_params=_analyzer_params())
        s.add_field("chars", DataType.VARCHAR, max_length=MAX_CHARS_BYTES, enable_analyzer=True,
                    analyzer_params={"tokenizer": "standard"})
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        s.add_field("sparse_words", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("sparse_chars", DataType.SPARSE_FLOAT_VECTOR)
        s.add_function(Function(name="bm25_words", function_type=FunctionType.BM25,
                                input_field_names=["words"], output_field_names=["sparse_words"]))
        s.add_function(Function(name="bm25_chars", function_type=FunctionType.BM25,
                                input_field_names=["chars"], output_field_names=["sparse_chars"]))
        ip = client.prepare_index_params()
        ip.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
        ip.add_index("sparse_words", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        ip.add_index("sparse_chars", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.call("create_collection", self.passages_name, schema=s, index_params=ip)

        m = client.create_schema(auto_id=False, enable_dynamic_field=False)
        m.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=128)
        m.add_field("payload", DataType.VARCHAR, max_length=65_535)
        m.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        mp = client.prepare_index_params()
        mp.add_index("dummy", index_type="AUTOINDEX", metric_type="L2")
        self.call("create_collection", self.meta_name, schema=m, index_params=mp)

    def drop(self) -> None:
        for name in (self.passages_name, self.meta_name):
            if self.call("has_collection", name):
                self.call("drop_collection", name)

    # --------------------------------------------------------------- reading

    def manifest(self) -> dict | None:
        """The live manifest, or None when nothing was exported yet."""
        if not self.call("has_collection", self.meta_name):
            return None
        rows = self.call("get", self.meta_name, ids=["manifest"], output_fields=["payload"])
        if not rows:
            return None
        try:
            return json.loads(rows[0]["payload"])
        except (KeyError, ValueError, TypeError):
            raise IndexProblem(f"Milvus 中的索引清单已损坏（{self.where}）。请运行：assistant index build") from None

    def version(self) -> str | None:
        m = self.manifest()
        return m["version"] if m else None

    def read_cases(self, manifest: dict) -> list[dict]:
        """The case records the manifest names, in its order."""
        ids = [f"case:{c['digest']}:{i}" for c in manifest["cases"] for i in range(c["parts"])]
        payload: dict[str, str] = {}
        for start in range(0, len(ids), 200):
            for row in self.call("get", self.meta_name, ids=ids[start:start + 200], output_fields=["payload"]):
                payload[row["pid"]] = row["payload"]
        missing = [i for i in ids if i not in payload]
        if missing:
            raise IndexProblem(
                f"Milvus 中缺少 {len(missing)} 条案例记录（{self.where}），索引不完整。请运行：assistant index build"
            )
        out = []
        for c in manifest["cases"]:
            text = "".join(payload[f"case:{c['digest']}:{i}"] for i in range(c["parts"]))
            out.append(json.loads(text))
        return out

    def search(
        self,
        words: str,
        qvec: np.ndarray,
        depth: int,
        filters: Filters | None = None,
        routes: tuple[str, ...] = ("dense", "words", "chars"),
    ) -> list[tuple[str, float, np.ndarray]]:
        """``(pid, RRF score, dense vector)`` best first: one hybrid search fused inside Milvus."""
        from pymilvus import AnnSearchRequest, RRFRanker

        expr = filter_expr(filters)
        data = {
            "dense": ([np.asarray(qvec, dtype=np.float32).tolist()], "dense", {"metric_type": "IP"}),
            "words": ([_words_field(words)], "sparse_words", {"metric_type": "BM25"}),
            "chars": ([_chars_field(words)], "sparse_chars", {"metric_type": "BM25"}),
        }
        reqs = []
        for name in routes:
            vec, field, params = data[name]
            if name != "dense" and not vec[0].strip():
                continue
            reqs.append(AnnSearchRequest(data=vec, anns_field=field, param=params, limit=depth, expr=expr or None))
        res = self.call(
            "hybrid_search", self.passages_name, reqs, ranker=RRFRanker(RRF_K), limit=depth,
            output_fields=["pid", "dense"],
        )
        out = []
        for h in res[0] if res else []:
            entity = h.get("entity") or {}
            pid = h.get("pid") or entity.get("pid") or h.get("id")
            out.append((pid, float(h["distance"]), np.asarray(entity["dense"], dtype=np.float32)))
        return out

    def vectors(self, pids: list[str]) -> dict[str, np.ndarray]:
        rows = self.call("get", self.passages_name, ids=list(pids), output_fields=["dense"])
        return {r["pid"]: np.asarray(r["dense"], dtype=np.float32) for r in rows}

    def count(self) -> int:
        stats = self.call("get_collection_stats", self.passages_name)
        return int(stats.get("row_count", 0))

    def all_pids(self) -> set[str]:
        out: set[str] = set()
        it = self.call("query_iterator", self.passages_name, batch_size=4000, filter='pid != ""', output_fields=["pid"])
        try:
            while True:
                batch = it.next()
                if not batch:
                    break
                out.update(r["pid"] for r in batch)
        finally:
            it.close()
        return out

    # --------------------------------------------------------------- writing

    def sync_from_index(self, settings: Settings, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Make the collections match the live local index (``index/``) without embedding anything."""
        from assistant.index import current_dir, load_index

        if current_dir(settings.index_dir) is None:
            raise IndexProblem(f"没有找到本地索引（{settings.index_dir}）。请先运行：assistant index build")
        local = load_index(_faiss(settings), check_stale=False, embedder=_NoEmbedder(settings))
        assert local.vectors is not None, "the local FAISS index always holds its vectors"
        vectors = local.vectors.reconstruct_n(0, local.vectors.ntotal)
        return self.sync(local.manifest.__dict__, local.cases, local.passages, vectors, progress=progress)

    def sync(self, manifest: dict, cases: dict, passages: list, vectors: np.ndarray,
             progress: Callable[[int, int], None] | None = None) -> SyncReport:
        t0 = time.perf_counter()
        dim = int(vectors.shape[1])
        exists = self.exists()
        live = self.manifest() if exists else None
        if live and (live.get("dim") != dim or live.get("embedder_id") != manifest["embedder_id"]
                     or live.get("schema_version") != SCHEMA_VERSION):
            log.warning("Milvus collections hold another embedder or schema: recreating them")
            live, exists = None, False
        if not exists:
            self.drop()
            self._create(dim)
        facets = case_facets(cases.values())
        pids = [passage_id(p.key, p.case_id, facets[p.case_id]) for p in passages]
        if len(set(pids)) != len(pids):
            raise IndexProblem("有内容完全相同的段落重复出现，无法写入 Milvus。请检查语料中是否有重复的讲稿。")
        have = self.all_pids()
        todo = [i for i, pid in enumerate(pids) if pid not in have]
        for start in range(0, len(todo), INSERT_BATCH):
            rows = [self._row(passages[i], pids[i], facets[passages[i].case_id], vectors[i])
                    for i in todo[start:start + INSERT_BATCH]]
            self.call("insert", self.passages_name, rows)
            if progress:
                progress(min(start + INSERT_BATCH, len(todo)), len(todo))

        records, meta_rows = [], []
        known = {c["digest"] for c in (live or {}).get("cases", [])}
        for case in cases.values():
            text = json.dumps(case.to_dict(), ensure_ascii=False, sort_keys=True)
            digest = _digest(text)
            parts = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
            records.append({"id": case.id, "digest": digest, "parts": len(parts)})
            if digest not in known:
                meta_rows += [{"pid": f"case:{digest}:{n}", "payload": part, "dummy": [0.0, 0.0]}
                              for n, part in enumerate(parts)]
        for start in range(0, len(meta_rows), 16):
            self.call("upsert", self.meta_name, meta_rows[start:start + 16])
        version = f"m-{time.time_ns()}"
        new_manifest = dict(manifest, version=version, cases=records, pids_digest=_digest("\n".join(pids)),
                            n_passages=len(passages), schema_version=SCHEMA_VERSION, dim=dim)
        self.call("upsert", self.meta_name, [{"pid": "manifest", "payload": json.dumps(new_manifest, ensure_ascii=False),
                                              "dummy": [0.0, 0.0]}])
        # the new version is live: drop what it no longer names
        stale = sorted(have - set(pids))
        for start in range(0, len(stale), 1000):
            self.call("delete", self.passages_name, ids=stale[start:start + 1000])
        old_records = {f"case:{c['digest']}:{n}" for c in (live or {}).get("cases", []) for n in range(c["parts"])}
        new_records = {f"case:{c['digest']}:{n}" for c in records for n in range(c["parts"])}
        if old_records - new_records:
            self.call("delete", self.meta_name, ids=sorted(old_records - new_records))
        try:
            self.call("flush", self.passages_name)
            self.call("flush", self.meta_name)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - an engine without flush persists on its own
            log.info("flush not supported: %s", exc)
        return SyncReport(len(todo), len(stale), len(pids) - len(todo), round(time.perf_counter() - t0, 2))

    @staticmethod
    def _row(p, pid: str, f: Facets, vector: np.ndarray) -> dict:
        return {
            "pid": pid,
            "case_id": p.case_id,
            "town": f.town,
            "community_type": f.community_type,
            "tags": list(f.tags),
            "words": _clip(_words_field(p.index_text), MAX_WORDS_BYTES),
            "chars": _clip(_chars_field(p.index_text), MAX_CHARS_BYTES),
            "dense": np.asarray(vector, dtype=np.float32).tolist(),
        }


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _missing_collection(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "collection" in text and ("not exist" in text or "not found" in text)


def _is_logic_error(exc: BaseException) -> bool:
    """A request Milvus understood and refused (bad schema, bad filter): reconnecting won't help."""
    try:
        from pymilvus.exceptions import MilvusException
    except ImportError:
        return False
    if not isinstance(exc, MilvusException):
        return False
    text = str(exc).lower()
    return not any(w in text for w in ("unavailable", "connect", "deadline", "timeout", "closed", "channel", "fail to"))


def milvus_uri(settings: Settings) -> str:
    return settings.milvus_uri or str(settings.index_dir / "milvus.db")


def _faiss(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, store="faiss")


class _NoEmbedder:
    """Stands in for the embedder when only stored vectors are read (no model load)."""

    def __init__(self, settings: Settings) -> None:
        from assistant.index import read_manifest

        m = read_manifest(_faiss(settings))
        self.id, self.dim = m.embedder_id, m.dim

    def embed_documents(self, texts, progress=None):  # pragma: no cover - never called
        raise AssertionError("no embedding during export")

    def embed_query(self, text):  # pragma: no cover - never called
        raise AssertionError("no embedding during export")


_stores: dict[tuple, MilvusStore] = {}
_stores_lock = threading.Lock()


def shared_store(settings: Settings) -> MilvusStore:
    """One connection per URI and collection in this process."""
    key = (milvus_uri(settings), settings.milvus_collection, settings.milvus_timeout)
    with _stores_lock:
        if key not in _stores:
            _stores[key] = MilvusStore.from_settings(settings)
        return _stores[key]


def load_from_milvus(settings: Settings, embedder, check_stale: bool = True):
    """A :class:`assistant.index.LoadedIndex` whose passages are searched in Milvus."""
    from assistant.chunking import CHUNKER_VERSION, chunk_cases
    from assistant.index import BUILD_CMD, LoadedIndex, Manifest, _case_from_dict, incompatibility, outdatedness

    store = shared_store(settings)
    live = store.manifest()
    if live is not None and not store.call("has_collection", store.passages_name):
        raise IndexProblem(f"Milvus（{store.where}）中缺少段落集合，索引不完整。请运行：{BUILD_CMD}")
    if live is None:
        raise IndexProblem(
            f"Milvus（{store.where}）中还没有案例库。请运行：{BUILD_CMD}（或 assistant index export --to-milvus URI）"
        )
    try:
        known = {f.name for f in fields(Manifest)}
        manifest = Manifest(**{k: v for k, v in live.items() if k in known})
    except TypeError as exc:
        raise IndexProblem(f"Milvus 中的索引清单不完整（{exc}）。请运行：{BUILD_CMD}") from None
    reasons = incompatibility(manifest, embedder.id)
    if live.get("chunker_version") != CHUNKER_VERSION:
        reasons.append("段落切分程序版本不同")
    if reasons:
        raise IndexProblem(f"Milvus 中的索引与当前配置不符（{'；'.join(reasons)}）。请运行：{BUILD_CMD}")
    cases = {}
    for d in store.read_cases(live):
        case = _case_from_dict(d)
        cases[case.id] = case
    passages = chunk_cases(list(cases.values()))
    facets = case_facets(cases.values())
    pids = [passage_id(p.key, p.case_id, facets[p.case_id]) for p in passages]
    if len(passages) != live.get("n_passages") or _digest("\n".join(pids)) != live.get("pids_digest"):
        raise IndexProblem(f"Milvus 中的段落与案例记录对不上（{store.where}）。请运行：{BUILD_CMD}")
    stale = outdatedness(settings, manifest) if check_stale and settings.corpus_dir.is_dir() else []
    index = LoadedIndex(
        Path(store.where) / live["version"], manifest, cases, passages, None, None, None, stale, milvus=store, pids=pids
    )
    index._facets = facets
    return index


def published_version(settings: Settings) -> str | None:
    """The live version in Milvus, checked at most every RECHECK_SECONDS per process."""
    key = (milvus_uri(settings), settings.milvus_collection)
    now = time.monotonic()
    seen = _versions.get(key)
    if seen and now - seen[0] < RECHECK_SECONDS:
        return seen[1]
    try:
        version = shared_store(settings).version()
    except AssistantError as exc:
        log.warning("cannot check the Milvus version: %s", exc)
        return seen[1] if seen else None
    _versions[key] = (now, version)
    return version


_versions: dict[tuple, tuple[float, str | None]] = {}
