"""The Milvus store: the same vectors and the same BM25 weights as the local store, in Milvus.

Chosen with ``ASSISTANT_STORE=milvus``; ``ASSISTANT_MILVUS_URI`` is a Milvus
server or cluster (``http://host:19530``) or a local folder ending in
``.db`` for the embedded engine milvus-lite (the default,
``<index dir>/milvus.db``).  Two collections, named after
``ASSISTANT_MILVUS_COLLECTION`` (default ``jiceng``):

``jiceng_passages``
    one row per passage: ``pid`` (primary key, :func:`passage_id`),
    ``case_id``, ``town``, ``community_type``, ``tags`` (array), ``lexfp``
    (the lexical statistics its weights were computed with), ``dense`` (the
    embedding) and two sparse vectors, ``words`` and ``chars``, holding the
    passage's BM25 contribution per term exactly as the local index computes
    it (:meth:`assistant.lexical.LexicalIndex.document_weights`).  A question
    becomes a sparse vector of its term counts, so the inner product *is* our
    BM25 score.  Each route is one ``search`` (inner product; the dense index
    is exact, ``FLAT``), with the metadata filter pushed down: the candidates
    and scores are those of the local store.
``jiceng_links``
    one row per question–passage link (:mod:`assistant.links`), the same
    fields over the link's *question*, plus ``target``: the ``pid`` of the
    passage it lifts (the ``link_*`` routes search here and return that passage).
``jiceng_meta``
    documents split into parts a VARCHAR can hold, keyed by digest: each case
    record, each route's vocabulary (term → sparse dimension, one per
    collection), the passages' problem shares and the links' records; and the
    manifest (``pid == "manifest"``) naming them, written last.

Sparse dimensions stay attached to their term for the collections' lifetime
(new terms get new ones), so a reader of the previous version still matches
the right terms while an update runs.  BM25 weights depend on corpus
statistics (document count, average length, document frequencies): when they
change, every row is written again (``rewritten``); a sync with nothing
changed writes nothing.

An update is built locally first (parse, chunk, embed only what changed,
publish ``index/``), then synchronised: rows first, then the documents, then
the manifest, then rows and documents no longer named are deleted.  Readers
(every ``assistant serve`` sharing the engine) load the cases named by the
manifest, re-chunk them (the chunker is deterministic and versioned in the
manifest) and map search hits by ``pid``; they notice a new manifest within
:data:`RECHECK_SECONDS` and reload, while a hit on a row they do not know is
skipped.

Every call is bounded by ``ASSISTANT_MILVUS_TIMEOUT``; a failed call
reconnects once (the engine may have restarted) and otherwise raises
:class:`StoreUnavailable` with a message for the user.

Example::

    >>> from assistant.stores import open_store
    >>> store = open_store(get_settings(store="milvus"))   # doctest: +SKIP
    >>> library = store.load(embedder.id)                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from assistant.chunking import CHUNKER_VERSION, chunk_cases
from assistant.config import Secret, Settings
from assistant.errors import AssistantError, IndexProblem, InputError, StoreUnavailable
from assistant.lexical import LexicalIndex
from assistant.stores.base import (
    BUILD_CMD,
    LEXICAL_ROUTES,
    LINK_ROUTES,
    BuiltIndex,
    Facets,
    Filters,
    Library,
    LinkRow,
    Manifest,
    PublishReport,
    Query,
    Store,
    SyncReport,
    case_facets,
    case_from_dict,
    shares_if_current,
)
from assistant.stores.files import FilesStore

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # 3: a links collection; 2: our BM25 weights as sparse vectors (1: Milvus's own BM25 analyzers)
PART_CHARS = 15_000  # JSON per meta row: ≤ 60,000 bytes of UTF-8, under VARCHAR's 65,535
INSERT_BATCH = 256
RECHECK_SECONDS = 2.0  # how stale a reader's idea of the live version may get
DENSE_INDEX = "FLAT"  # exact, like the local store below IVF_FROM passages
# manifest keys that change with every build even when the content does not
_VOLATILE = ("version", "built_at", "build_seconds", "reused_vectors", "file_sizes")


def milvus_uri(settings: Settings) -> str:
    return settings.milvus_uri or str(settings.index_dir / "milvus.db")


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


def passage_id(key: str, case_id: str, facets: Facets) -> str:
    """The primary key of a passage: its content plus the facets it is filtered on,
    so a corrected town or a new tag re-writes the row while unchanged rows stay."""
    raw = f"{key}|{case_id}|{facets.town}|{facets.community_type}|{','.join(facets.tags)}"
    return _digest(raw)


def link_row_id(key: str, target: str, source: str) -> str:
    """The primary key of a link row: its question's content, the passage row it lifts and its source."""
    return _digest(f"{key}|{target}|{source}")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# the connection


class MilvusConnection:
    """A connection to the Milvus collections of one case library (shared by a process's stores)."""

    def __init__(self, uri: str, collection: str = "jiceng", timeout: float = 10.0, token: Secret | None = None) -> None:
        self.uri = uri
        self.passages_name = f"{collection}_passages"
        self.links_name = f"{collection}_links"
        self.meta_name = f"{collection}_meta"
        self.timeout = timeout
        self.token = token
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> "MilvusConnection":
        return cls(milvus_uri(settings), settings.milvus_collection, settings.milvus_timeout, settings.milvus_token)

    @property
    def where(self) -> str:
        """The URI without any credentials, for messages."""
        uri = self.uri
        if "@" in uri and "://" in uri:
            scheme, rest = uri.split("://", 1)
            uri = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return uri

    @property
    def local(self) -> bool:
        """milvus-lite in a folder of this machine (served from a thread of this process)."""
        return self.uri.endswith(".db") and "://" not in self.uri

    def _connect(self):
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise InputError(
                "使用 Milvus 需要安装 pymilvus 和 milvus-lite：pip install -e '.[milvus]'"
            ) from None
        for name in ("pymilvus", "milvus_lite"):  # their retries and traces: errors reach us as exceptions
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if self.local:
            Path(self.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # like the LLM key, the credentials are read when connecting and never kept in settings or logs
        token = (self.token.value() if self.token else None) or ""
        return MilvusClient(uri=self.uri, token=token, timeout=self.timeout)

    def client(self):
        with self._lock:
            if self._client is None:
                try:
                    client = self._connect()
                    # a restarted engine may hold the collections released (milvus-lite always does)
                    for name in (self.passages_name, self.links_name, self.meta_name):
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
            if self.local:
                # release the in-process engine so the next connection starts it afresh
                try:
                    from milvus_lite import server_manager_instance

                    server_manager_instance.release_server(self.uri)
                except Exception:  # noqa: BLE001
                    pass

    def _unavailable(self, exc: BaseException) -> str:
        detail = " ".join(str(exc).split())[:200]
        # milvus-lite logs its DataDirLockedError and pymilvus reports "Open local milvus failed"
        if self.local and ("lock" in detail.lower() or "open local milvus failed" in detail.lower()):
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
                        f"Milvus（{self.where}）中缺少案例库的集合，索引不完整。请运行：{BUILD_CMD}"
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

    # ------------------------------------------------------------ schema

    def exists(self) -> bool:
        return all(bool(self.call("has_collection", name)) for name in (self.meta_name, self.passages_name, self.links_name))

    def create(self, dim: int) -> None:
        from pymilvus import DataType

        client = self.client()
        for name, target in ((self.passages_name, False), (self.links_name, True)):
            s = client.create_schema(auto_id=False, enable_dynamic_field=False)
            s.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=64)
            if target:  # a link row: the passage row it lifts, and who wrote the link
                s.add_field("target", DataType.VARCHAR, max_length=64)
                s.add_field("source", DataType.VARCHAR, max_length=32)
            s.add_field("case_id", DataType.VARCHAR, max_length=256)
            s.add_field("town", DataType.VARCHAR, max_length=256)
            s.add_field("community_type", DataType.VARCHAR, max_length=32)
            s.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=128, max_length=64)
            s.add_field("lexfp", DataType.VARCHAR, max_length=64)
            s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
            for route in LEXICAL_ROUTES:
                s.add_field(route, DataType.SPARSE_FLOAT_VECTOR)
            ip = client.prepare_index_params()
            ip.add_index("dense", index_type=DENSE_INDEX, metric_type="IP")
            for route in LEXICAL_ROUTES:
                ip.add_index(route, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            self.call("create_collection", name, schema=s, index_params=ip)

        m = client.create_schema(auto_id=False, enable_dynamic_field=False)
        m.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=128)
        m.add_field("payload", DataType.VARCHAR, max_length=65_535)
        m.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        mp = client.prepare_index_params()
        mp.add_index("dummy", index_type="AUTOINDEX", metric_type="L2")
        self.call("create_collection", self.meta_name, schema=m, index_params=mp)

    def drop(self) -> None:
        for name in (self.passages_name, self.links_name, self.meta_name):
            if self.call("has_collection", name):
                self.call("drop_collection", name)

    # ----------------------------------------------------------- reading

    def live_manifest(self) -> dict | None:
        """The live manifest, or None when nothing was published yet."""
        if not self.call("has_collection", self.meta_name):
            return None
        rows = self.call("get", self.meta_name, ids=["manifest"], output_fields=["payload"])
        if not rows:
            return None
        try:
            live = json.loads(rows[0]["payload"])
        except (KeyError, ValueError, TypeError):
            live = None
        if not isinstance(live, dict) or "version" not in live:
            raise IndexProblem(f"Milvus 中的索引清单已损坏（{self.where}）。请运行：{BUILD_CMD}")
        return live

    def read_documents(self, kind: str, records: list[dict]) -> list[str]:
        """The texts of documents written by :meth:`write_document`, in the order of ``records``."""
        ids = [_part_id(kind, r["digest"], i) for r in records for i in range(r["parts"])]
        payload: dict[str, str] = {}
        for start in range(0, len(ids), 200):
            for row in self.call("get", self.meta_name, ids=ids[start:start + 200], output_fields=["payload"]):
                payload[row["pid"]] = row["payload"]
        missing = [i for i in ids if i not in payload]
        if missing:
            raise IndexProblem(
                f"Milvus 中缺少 {len(missing)} 条索引记录（{self.where}），索引不完整。请运行：{BUILD_CMD}"
            )
        return ["".join(payload[_part_id(kind, r["digest"], i)] for i in range(r["parts"])) for r in records]

    def vectors(self, pids: list[str]) -> dict[str, np.ndarray]:
        rows = self.call("get", self.passages_name, ids=list(pids), output_fields=["dense"])
        return {r["pid"]: np.asarray(r["dense"], dtype=np.float32) for r in rows}

    def count(self, collection: str | None = None) -> int:
        stats = self.call("get_collection_stats", collection or self.passages_name)
        return int(stats.get("row_count", 0))

    def rows(self, collection: str | None = None) -> dict[str, str]:
        """Primary key -> lexical fingerprint of every row of the passages (or the links) collection."""
        out: dict[str, str] = {}
        it = self.call("query_iterator", collection or self.passages_name, batch_size=4000, filter='pid != ""',
                       output_fields=["pid", "lexfp"])
        try:
            while True:
                batch = it.next()
                if not batch:
                    break
                out.update((r["pid"], r.get("lexfp", "")) for r in batch)
        finally:
            it.close()
        return out

    def all_pids(self, collection: str | None = None) -> set[str]:
        return set(self.rows(collection))

    # ----------------------------------------------------------- writing

    def write_document(self, kind: str, text: str, known: set[str]) -> tuple[dict, int]:
        """Store ``text`` in parts keyed by its digest (unless ``known``): its record, and the parts written."""
        digest = _digest(text)
        parts = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        record = {"digest": digest, "parts": len(parts)}
        if digest in known:
            return record, 0
        rows = [{"pid": _part_id(kind, digest, n), "payload": part, "dummy": [0.0, 0.0]} for n, part in enumerate(parts)]
        for start in range(0, len(rows), 16):
            self.call("upsert", self.meta_name, rows[start:start + 16])
        return record, len(rows)


def _part_id(kind: str, digest: str, n: int) -> str:
    return f"{kind}:{digest}:{n}"


def _documents(manifest: dict | None) -> Iterable[tuple[str, dict]]:
    """(kind, record) of every document a manifest names."""
    if not manifest:
        return
    for record in manifest.get("cases", []):
        yield "case", record
    for record in (manifest.get("vocab") or {}).values():
        yield "vocab", record
    if manifest.get("shares"):
        yield "shares", manifest["shares"]
    for record in (manifest.get("link_vocab") or {}).values():
        yield "vocab", record
    if manifest.get("links"):
        yield "links", manifest["links"]


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


_connections: dict[tuple, MilvusConnection] = {}
_connections_lock = threading.Lock()


def shared_connection(settings: Settings) -> MilvusConnection:
    """One connection per URI and collection in this process."""
    key = (milvus_uri(settings), settings.milvus_collection, settings.milvus_timeout)
    with _connections_lock:
        if key not in _connections:
            _connections[key] = MilvusConnection.from_settings(settings)
        return _connections[key]


_versions: dict[tuple, tuple[float, str | None]] = {}


# ---------------------------------------------------------------------------
# the store


class MilvusStore(Store):
    """The case library in Milvus; after :meth:`load`, the loaded version's keys and vocabularies."""

    kind = "milvus"
    corpus_optional = True  # web workers need neither index/ nor corpus/

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.conn = shared_connection(settings)
        self._live: dict | None = None
        self._pids: list[str] = []
        self._position: dict[str, int] = {}
        self._vocab: dict[str, dict[str, int]] = {}  # route -> term -> sparse dimension (passages, links)
        self._n_links = 0

    @property
    def label(self) -> str:
        return "Milvus 中的"

    @property
    def where(self) -> str:
        return self.conn.where

    @property
    def pids(self) -> list[str]:
        """Primary keys of the loaded version's passages, in passage order."""
        return list(self._pids)

    # ------------------------------------------------------------ reading

    def read_manifest(self) -> Manifest:
        live = self.conn.live_manifest()
        if live is not None and not self.conn.call("has_collection", self.conn.passages_name):
            raise IndexProblem(f"Milvus（{self.where}）中缺少段落集合，索引不完整。请运行：{BUILD_CMD}")
        if live is None:
            raise IndexProblem(
                f"Milvus（{self.where}）中还没有案例库。请运行：{BUILD_CMD}（或 assistant index export --to-milvus URI）"
            )
        if live.get("schema_version") != SCHEMA_VERSION:
            raise IndexProblem(
                f"Milvus（{self.where}）中的案例库是旧版本程序写入的。请运行：{BUILD_CMD}（或 assistant index export --to-milvus URI）"
            )
        try:
            manifest = Manifest.from_dict(live)
        except TypeError as exc:
            raise IndexProblem(f"Milvus 中的索引清单不完整（{exc}）。请运行：{BUILD_CMD}") from None
        if manifest.chunker_version != CHUNKER_VERSION:
            raise IndexProblem(f"Milvus 中的索引与当前配置不符（段落切分程序版本不同）。请运行：{BUILD_CMD}")
        self._live = live
        return manifest

    def _load(self, manifest: Manifest) -> Library:
        live = self._live
        assert live is not None, "read_manifest comes first"
        try:
            cases = {}
            for text in self.conn.read_documents("case", live["cases"]):
                case = case_from_dict(json.loads(text))
                cases[case.id] = case
            vocab = dict(zip(LEXICAL_ROUTES, self.conn.read_documents("vocab", [live["vocab"][r] for r in LEXICAL_ROUTES])))
            if live.get("links"):
                link_vocab = self.conn.read_documents("vocab", [live["link_vocab"][r] for r in LEXICAL_ROUTES])
                vocab.update(zip(LINK_ROUTES[1:], link_vocab))
                (links_text,) = self.conn.read_documents("links", [live["links"]])
                link_records = json.loads(links_text)
            else:
                link_records = []
            (shares,) = self.conn.read_documents("shares", [live["shares"]])
            self._vocab = {route: {t: i for i, t in enumerate(json.loads(text))} for route, text in vocab.items()}
            share_list = json.loads(shares)
        except (KeyError, ValueError, TypeError) as exc:
            raise IndexProblem(f"Milvus 中的索引记录已损坏（{self.where}：{exc}）。请运行：{BUILD_CMD}") from None
        passages = chunk_cases(list(cases.values()))
        facets = case_facets(cases.values())
        pids = [passage_id(p.key, p.case_id, facets[p.case_id]) for p in passages]
        if len(passages) != live.get("n_passages") or _digest("\n".join(pids)) != live.get("pids_digest"):
            raise IndexProblem(f"Milvus 中的段落与案例记录对不上（{self.where}）。请运行：{BUILD_CMD}")
        self._pids = pids
        self._position = {pid: i for i, pid in enumerate(pids)}
        try:
            links = [LinkRow.from_dict(dict(r, passage=self._position[r["target"]])) for r in link_records]
        except (KeyError, ValueError, TypeError):
            raise IndexProblem(f"Milvus 中的关联问题与段落对不上（{self.where}）。请运行：{BUILD_CMD}") from None
        if len(links) != live.get("n_links", 0):
            raise IndexProblem(f"Milvus 中关联问题的条数与清单不符（{self.where}）。请运行：{BUILD_CMD}")
        self._n_links = len(links)
        shares_now = shares_if_current(share_list, manifest, len(passages))
        version = live["version"]
        library = Library(self, Path(self.where) / version, version, manifest, cases, passages, [], shares_now, facets)
        library.links = links
        return library

    def _route(
        self, name: str, query: Query, depth: int, filters: Filters | None, allowed: np.ndarray | None
    ) -> Iterable[tuple[int, float]]:
        link = name in LINK_ROUTES
        field = name.removeprefix("link_")  # the collections share their field names
        if link:
            collection, key, limit = self.conn.links_name, "target", self.link_depth(depth, self._n_links)
            if not limit:
                return []
        else:
            collection, key, limit = self.conn.passages_name, "pid", depth
        if field == "dense":
            data: list = [query.vector.tolist()]
        else:
            vocab = self._vocab.get(name, {})
            counts = Counter(vocab[t] for t in query.tokens(name) if t in vocab)
            if not counts:
                return []  # no known term: BM25 finds nothing, as in the local store
            data = [{int(i): float(c) for i, c in counts.items()}]
        expr = filter_expr(filters)
        if link and query.link_sources is not None:
            only = f"source in {json.dumps(list(query.link_sources), ensure_ascii=False)}"
            expr = f"({expr}) and {only}" if expr else only
        res = self.conn.call(
            "search", collection, data=data, anns_field=field, limit=limit, filter=expr,
            search_params={"metric_type": "IP"}, output_fields=[key],
        )
        out = []
        for hit in res[0] if res else []:
            pid = hit.get(key) or (hit.get("entity") or {}).get(key) or (None if link else hit.get("id"))
            pos = self._position.get(pid) if pid else None
            if pos is not None:  # else a row of a version this reader has not loaded yet
                out.append((pos, float(hit["distance"])))
        return out

    def vector(self, i: int) -> np.ndarray | None:
        pid = self._pids[i]
        return self.conn.vectors([pid]).get(pid)

    def published_version(self) -> str | None:
        """The live version, checked at most every RECHECK_SECONDS per process."""
        key = (self.conn.uri, self.conn.passages_name)
        now = time.monotonic()
        seen = _versions.get(key)
        if seen and now - seen[0] < RECHECK_SECONDS:
            return seen[1]
        try:
            live = self.conn.live_manifest()
        except AssistantError as exc:
            log.warning("cannot check the Milvus version: %s", exc)
            return seen[1] if seen else None
        version = live["version"] if live else None
        _versions[key] = (now, version)
        return version

    def status(self, local: Manifest) -> tuple[dict, list[str]]:
        live = self.conn.live_manifest()
        try:
            count = self.conn.count() if live else 0
        except IndexProblem:  # the passages collection is gone: "not in sync"
            count = 0
        try:
            n_links = self.conn.count(self.conn.links_name) if live else 0
        except IndexProblem:
            n_links = -1
        in_sync = bool(
            live and live.get("schema_version") == SCHEMA_VERSION and live.get("corpus_hash") == local.corpus_hash
            and live.get("n_passages") == local.n_passages == count
            and live.get("n_links", 0) == local.n_links == n_links
            and live.get("links_digests", {}) == local.links_digests
        )
        info = {"uri": self.where, "collection": self.conn.passages_name,
                "version": live["version"] if live else None, "passages": count, "links": n_links, "in_sync": in_sync}
        return {"milvus": info}, [] if in_sync else [f"Milvus（{self.where}）与本地索引不一致"]

    # ---------------------------------------------------------- publishing

    def publish(self, built: BuiltIndex, progress: Callable[[int, int], None] | None = None) -> PublishReport:
        """Publish to ``index/`` first (a complete local copy, and the vectors the next build
        reuses), then bring Milvus up to it.  If Milvus fails here the local index is complete:
        building again embeds nothing and only repeats the synchronisation."""
        report = FilesStore(self.settings).publish(built)
        try:
            report.sync = self.sync(built, progress)
        except StoreUnavailable as exc:
            raise StoreUnavailable(
                f"{exc} 本地索引已更新；Milvus 恢复后再运行一次 {BUILD_CMD} 即可完成同步（无需重新向量化）。"
            ) from None
        return report

    def sync(self, built: BuiltIndex, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Make the collections hold ``built``, writing only what changed."""
        t0 = time.perf_counter()
        conn = self.conn
        dim = int(built.vectors.shape[1])
        live = self._usable_live(built.manifest.embedder_id, dim)
        facets = case_facets(built.cases)
        pids = [passage_id(p.key, p.case_id, facets[p.case_id]) for p in built.passages]
        if len(set(pids)) != len(pids):
            raise IndexProblem("有内容完全相同的段落重复出现，无法写入 Milvus。请检查语料中是否有重复的讲稿。")
        lids = [link_row_id(r.key, pids[r.passage], r.source) for r in built.links]
        if len(set(lids)) != len(lids):
            raise IndexProblem("同一个关联问题重复关联到同一段落，无法写入 Milvus。请运行 assistant links list 检查。")

        passages = _Rows(
            conn.passages_name, pids, [p.case_id for p in built.passages], built.vectors,
            {route: built.lexical(route) for route in LEXICAL_ROUTES}, targets=None,
        )
        links = _Rows(
            conn.links_name, lids, [r.case_id for r in built.links], built.link_vectors,
            {route: built.lexical(f"link_{route}") for route in LEXICAL_ROUTES} if built.links else {},
            targets=[pids[r.passage] for r in built.links], sources=[r.source for r in built.links],
        )
        terms, ids = self._vocabularies(passages.lexical, live, "vocab", conn.passages_name)
        link_terms, link_ids = self._vocabularies(links.lexical, live, "link_vocab", conn.links_name)
        inserted, rewritten, written_rows, stale_passages = self._write_rows(passages, ids, facets, live, progress)
        self._write_rows(links, link_ids, facets, live, None)

        known = {r["digest"] for _, r in _documents(live)}
        written = 0
        records = []
        for case in built.cases:
            record, n = conn.write_document("case", json.dumps(case.to_dict(), ensure_ascii=False, sort_keys=True), known)
            records.append(dict(record, id=case.id))
            written += n
        vocab, link_vocab = {}, {}
        for route in LEXICAL_ROUTES:
            vocab[route], n = conn.write_document("vocab", json.dumps(terms[route], ensure_ascii=False), known)
            written += n
            link_vocab[route], n = conn.write_document("vocab", json.dumps(link_terms[route], ensure_ascii=False), known)
            written += n
        shares, n = conn.write_document("shares", json.dumps([round(float(x), 6) for x in built.shares]), known)
        written += n
        link_records = [dict(r.to_dict(), target=pids[r.passage]) for r in built.links]
        for record in link_records:
            del record["passage"]  # a position in this build's passages; readers map ``target``
        links_doc, n = conn.write_document("links", json.dumps(link_records, ensure_ascii=False), known)
        written += n
        manifest = dict(built.manifest.to_dict(), cases=records, vocab=vocab, shares=shares, lexfp=passages.lexfp,
                        pids_digest=_digest("\n".join(pids)), n_passages=len(pids), schema_version=SCHEMA_VERSION,
                        dim=dim, link_vocab=link_vocab, links=links_doc, n_links=len(lids),
                        lids_digest=_digest("\n".join(lids)))
        if live is None or _content(manifest) != _content(live):
            manifest["version"] = f"m-{time.time_ns()}"
            conn.call("upsert", conn.meta_name,
                      [{"pid": "manifest", "payload": json.dumps(manifest, ensure_ascii=False), "dummy": [0.0, 0.0]}])
            # the new version is live: drop what it no longer names
            named = {_part_id(k, r["digest"], n) for k, r in _documents(manifest) for n in range(r["parts"])}
            old = {_part_id(k, r["digest"], n) for k, r in _documents(live) for n in range(r["parts"])}
            if old - named:
                conn.call("delete", conn.meta_name, ids=sorted(old - named))
        stale_links = self._delete_stale(links)
        deleted = self._delete_stale(passages, stale_passages)
        if written_rows or deleted or stale_links or written:
            for name in (conn.passages_name, conn.links_name, conn.meta_name):
                try:
                    conn.call("flush", name)
                except StoreUnavailable:
                    raise
                except Exception as exc:  # noqa: BLE001 - an engine without flush persists on its own
                    log.info("flush not supported: %s", exc)
        return SyncReport(conn.where, conn.passages_name, inserted, rewritten, deleted,
                          len(pids) - inserted - rewritten, round(time.perf_counter() - t0, 2))

    def _write_rows(
        self, rows: "_Rows", ids: dict[str, np.ndarray], facets: dict[str, Facets], live: dict | None,
        progress: Callable[[int, int], None] | None,
    ) -> tuple[int, int, int, list[str]]:
        """Upsert the rows that are new or whose BM25 weights changed: (inserted, rewritten, written, stale keys)."""
        conn = self.conn
        have = conn.rows(rows.collection)
        todo = [i for i, pid in enumerate(rows.pids) if have.get(pid) != rows.lexfp]
        inserted = sum(rows.pids[i] not in have for i in todo)
        weights = {route: index.document_weights() for route, index in rows.lexical.items()} if todo else {}
        for start in range(0, len(todo), INSERT_BATCH):
            batch = []
            for i in todo[start:start + INSERT_BATCH]:
                f = facets[rows.case_ids[i]]
                assert rows.vectors is not None
                row = {"pid": rows.pids[i], "case_id": rows.case_ids[i], "town": f.town,
                       "community_type": f.community_type, "tags": list(f.tags), "lexfp": rows.lexfp,
                       "dense": np.asarray(rows.vectors[i], dtype=np.float32).tolist()}
                if rows.targets is not None:
                    row["target"] = rows.targets[i]
                    row["source"] = rows.sources[i]
                for route in LEXICAL_ROUTES:
                    row[route] = {int(ids[route][t]): w for t, w in weights[route][i].items()}
                batch.append(row)
            conn.call("upsert", rows.collection, batch)
            if progress:
                progress(min(start + INSERT_BATCH, len(todo)), len(todo))
        rows.stale = sorted(set(have) - set(rows.pids))
        return inserted, len(todo) - inserted, len(todo), rows.stale

    def _delete_stale(self, rows: "_Rows", stale: list[str] | None = None) -> int:
        stale = rows.stale if stale is None else stale
        for start in range(0, len(stale), 1000):
            self.conn.call("delete", rows.collection, ids=stale[start:start + 1000])
        return len(stale)

    def _usable_live(self, embedder_id: str, dim: int) -> dict | None:
        """The live manifest when its collections can be updated in place; else recreate them (None)."""
        conn = self.conn
        exists = conn.exists()
        try:
            live = conn.live_manifest() if exists else None
        except IndexProblem:
            live = None
        if exists and live is not None and live.get("schema_version") == SCHEMA_VERSION \
                and live.get("dim") == dim and live.get("embedder_id") == embedder_id:
            return live
        if exists:
            if live is None:
                why = "没有可用的索引清单（上次同步可能中断）"
            elif live.get("schema_version") != SCHEMA_VERSION:
                why = f"由旧版本程序写入（结构版本 {live.get('schema_version')}，现为 {SCHEMA_VERSION}）"
            else:
                why = f"存放的是另一个向量模型的向量（{live.get('embedder_id')}，{live.get('dim')} 维）"
            log.warning("Milvus（%s）中的集合 %s、%s %s：将删除并重建。", conn.where, conn.passages_name,
                        conn.meta_name, why)
        conn.drop()
        conn.create(dim)
        return None

    def _vocabularies(
        self, lexical: dict[str, LexicalIndex], live: dict | None, kind: str, collection: str,
    ) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
        """Per lexical route of one collection: the stored vocabulary (manifest key ``kind``)
        extended by the new terms, and local term id -> sparse dimension.

        A term keeps its dimension for the collections' lifetime, so the rows a reader
        of the previous version scores mean the same terms to it while an update runs.
        """
        terms: dict[str, list[str]] = {}
        ids: dict[str, np.ndarray] = {}
        stored: list[list[str]] = [[] for _ in LEXICAL_ROUTES]
        if live is not None and live.get(kind):
            try:
                stored = [json.loads(t) for t in self.conn.read_documents("vocab", [live[kind][r] for r in LEXICAL_ROUTES])]
            except (IndexProblem, KeyError, ValueError, TypeError):
                # a damaged vocabulary cannot be extended: every row is written again with a fresh one
                stored = [[] for _ in LEXICAL_ROUTES]
                self.conn.call("delete", collection, filter='pid != ""')
        for route, old in zip(LEXICAL_ROUTES, stored):
            dims = {t: i for i, t in enumerate(old)}
            vocabulary = list(old)
            local = lexical[route].terms() if route in lexical else []
            mapping = np.empty(len(local), dtype=np.int64)
            for i, term in enumerate(local):
                if term not in dims:
                    dims[term] = len(vocabulary)
                    vocabulary.append(term)
                mapping[i] = dims[term]
            terms[route], ids[route] = vocabulary, mapping
        return terms, ids


class _Rows:
    """The rows of one collection a sync writes: passages, or links (``targets``: the passage rows they lift)."""

    def __init__(
        self, collection: str, pids: list[str], case_ids: list[str], vectors: np.ndarray | None,
        lexical: dict[str, LexicalIndex], targets: list[str] | None, sources: list[str] | None = None,
    ) -> None:
        self.collection = collection
        self.sources = sources or []
        self.pids = pids
        self.case_ids = case_ids
        self.vectors = vectors
        self.lexical = lexical
        self.targets = targets
        self.lexfp = _digest("".join(index.fingerprint() for index in lexical.values()))[:16] if lexical else ""
        self.stale: list[str] = []


def _content(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k not in _VOLATILE}
