"""What every store shares: the :class:`Store` interface, the loaded :class:`Library`, filters and manifests.

A store keeps a built index somewhere and searches it.  Two implement it
(docs/deploy.md, "Scaling out"):

- :class:`assistant.stores.files.FilesStore` (``ASSISTANT_STORE=faiss``, the
  default): versioned folders under ``index/``, FAISS for the vectors and two
  local BM25 indexes;
- :class:`assistant.stores.milvus.MilvusStore` (``ASSISTANT_STORE=milvus``):
  the same vectors and the same BM25 weights in Milvus collections shared by
  many web workers.

Both answer every route with the same candidates and the same scores, so
:mod:`assistant.retrieval` fuses them without knowing which store it has.
A route is one way of finding candidate passages for a question:

``dense``  inner product of the question's and the passages' unit vectors;
``words``  BM25 over jieba words (:func:`assistant.lexical.tokenize`);
``chars``  BM25 over character unigrams and bigrams (:func:`assistant.lexical.tokenize_chars`);
``link_dense``, ``link_words``, ``link_chars``
           the same three over the *link questions* (:mod:`assistant.links`):
           short practitioner questions each tied to the passage that answers
           it; a link found lifts its passage, and a passage reached through
           several links keeps its best score.

A new route is a new name in :data:`ROUTES` plus a ``_route`` branch in each
store: the shared work of :meth:`Store.routes` (filters, depth,
de-duplication to the best score per passage, ordering) and the fusion in
retrieval stay as they are.

Example::

    >>> from assistant.stores import open_store
    >>> store = open_store(get_settings())                       # doctest: +SKIP
    >>> library = store.load(embedder.id)                        # doctest: +SKIP
    >>> store.routes(library, Query("停车难", embedder.embed_query), depth=100)["words"][:2]  # doctest: +SKIP
    [(412, 13.9), (87, 12.1)]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Callable, ClassVar, Iterable

import numpy as np

from assistant import corpus as corpus_mod
from assistant.chunking import CHUNKER_VERSION, Passage
from assistant.config import Settings
from assistant.corpus import COMMUNITY_TYPES, Case, CorpusEdit, Paragraph, Section
from assistant.errors import IndexProblem, InputError
from assistant.lexical import LexicalIndex, tokenize, tokenize_chars
from assistant.links import links_digests
from assistant.roles import model_fingerprint
from assistant.taxonomy import case_tags, load_taxonomy, resolve_tag

ROUTES = ("dense", "words", "chars", "link_dense", "link_words", "link_chars")
LEXICAL_ROUTES = ("words", "chars")  # the BM25 routes, each over its own analyzer
LINK_ROUTES = ("link_dense", "link_words", "link_chars")  # over the link questions
LINK_FANOUT = 3  # a link route looks at this many links per passage it may return (several links share a passage)
FORMAT_VERSION = 1
BUILD_CMD = "assistant index build"

Ranking = list[tuple[int, float]]  # (passage position, raw score), best first


# ---------------------------------------------------------------------------
# filters


@dataclass(frozen=True)
class Filters:
    """Keep only the cases of a town/street, a community type and/or a topic tag.

    >>> Filters(town="岳阳街道", tag="停车").describe()
    '街镇=岳阳街道，话题=停车'
    """

    town: str | None = None
    community_type: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        for name in ("town", "community_type", "tag"):
            value = getattr(self, name)
            if value is not None:
                value = str(value).strip() or None
                object.__setattr__(self, name, value)
        if self.community_type and self.community_type not in COMMUNITY_TYPES:
            raise InputError(f"社区类型（{self.community_type}）只能是 {'、'.join(COMMUNITY_TYPES)} 之一。")

    @property
    def empty(self) -> bool:
        return not (self.town or self.community_type or self.tag)

    def resolved(self) -> "Filters":
        """The same filters with the tag given by its taxonomy name (车位 → 停车)."""
        return self if not self.tag else Filters(self.town, self.community_type, resolve_tag(self.tag))

    def describe(self) -> str:
        parts = [
            f"{label}={value}"
            for label, value in (("街镇", self.town), ("类型", self.community_type), ("话题", self.tag))
            if value
        ]
        return "，".join(parts)


@dataclass(frozen=True)
class Facets:
    """What filters match on, per case."""

    town: str
    community_type: str
    tags: tuple[str, ...]

    def matches(self, f: Filters) -> bool:
        return (
            (not f.town or self.town == f.town)
            and (not f.community_type or self.community_type == f.community_type)
            and (not f.tag or f.tag in self.tags)
        )


def case_facets(cases: Iterable[Case]) -> dict[str, Facets]:
    """Town, type and every taxonomy tag of each case, computed from its text the same way
    its card's tags are, so ``assistant cases --tag 停车`` and ``assistant search --tag 停车`` agree."""
    taxonomy = load_taxonomy()
    return {
        c.id: Facets(c.town or "", c.community_type or "", tuple(case_tags(c, taxonomy)))
        for c in cases
    }


# ---------------------------------------------------------------------------
# manifest


@dataclass
class Manifest:
    """What a built index was built from (stored with it by every store)."""

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
    file_sizes: dict[str, int]  # every file of the version folder (path inside it) -> bytes
    corpus_digests: dict[str, str] = field(default_factory=dict)  # file -> sha256: what changed on disk
    roles_model: str = ""  # fingerprint of the role model the passages' problem shares were computed with
    file_sha256: dict[str, str] = field(default_factory=dict)  # the small files' checksums (`index status`)
    links_digests: dict[str, str] = field(default_factory=dict)  # links file -> sha256 (assistant.links)
    n_links: int = 0  # links indexed (each tied to a passage)
    links_unresolved: int = 0  # links whose anchor no passage holds (case removed, text changed)
    link_embedding: str = ""  # how link questions were embedded: "query" or "document"
    link_paraphrase: float = 0.0  # cosine from which a question asks what a link asks (assistant.links.paraphrase_level)
    link_unasked: float = 0.0  # cosine below which it asks nothing a link asks (the same, at links.UNASKED_SHARE)

    @classmethod
    def from_dict(cls, data: object) -> "Manifest":
        """The manifest fields of ``data`` (a store may keep more keys beside them), their types checked.

        A damaged manifest raises TypeError naming the field (``"file_sizes": []`` is not a mapping).
        """
        if not isinstance(data, dict):
            raise TypeError(f"清单应为 JSON 对象，实为 {_json_type(data)}")
        values = {}
        for f in fields(cls):
            if f.name not in data:
                continue  # a missing required field: the constructor names it
            value = data[f.name]
            expected = _MANIFEST_TYPES.get(str(f.type))
            if expected is not None and not expected[0](value):
                raise TypeError(f"字段 {f.name} 应为{expected[1]}，实为 {_json_type(value)}")
            values[f.name] = value
        try:
            return cls(**values)
        except TypeError as exc:
            missing = sorted({f.name for f in fields(cls)} - set(values))
            raise TypeError(f"缺少字段 {'、'.join(missing)}" if missing else str(exc)) from None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _json_type(value: object) -> str:
    names = {dict: "对象", list: "列表", str: "字符串", bool: "布尔值", int: "整数", float: "小数", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# field annotation -> (check, what it should be); a field of another type is not checked
_MANIFEST_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "int": (_is_int, "整数"),
    "float": (lambda v: _is_int(v) or isinstance(v, float), "数字"),
    "str": (lambda v: isinstance(v, str), "字符串"),
    "list[str]": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "字符串列表"),
    "dict[str, int]": (
        lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_int(x) and x >= 0 for k, x in v.items()),
        "“文件名: 字节数”的对象",
    ),
    "dict[str, str]": (
        lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()),
        "“名称: 字符串”的对象",
    ),
}


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
    if links_digests(settings.corpus_dir) != manifest.links_digests:
        reasons.append("关联问题已变化")
    return reasons


def staleness(settings: Settings, manifest: Manifest, embedder_id: str) -> list[str]:
    """All reasons (in Chinese) why the index no longer matches corpus and configuration."""
    return outdatedness(settings, manifest) + incompatibility(manifest, embedder_id)


def case_from_dict(d: dict) -> Case:
    """A case record as stored by :meth:`Case.to_dict` (the raw text is not kept)."""
    d = dict(d)
    d["paragraphs"] = [Paragraph(p["start"], p["end"], p["heading_level"], tuple(p["path"])) for p in d["paragraphs"]]
    d["sections"] = [
        Section(s["title"], s["level"], s["start"], s["end"], tuple(s["path"]), s["inline"]) for s in d["sections"]
    ]
    return Case(raw_text="", **d)


def shares_if_current(shares: list | None, manifest: Manifest, n: int) -> np.ndarray | None:
    """Stored problem shares, when computed with the role model in use (else retrieval computes them)."""
    if shares is None or manifest.roles_model != model_fingerprint() or len(shares) != n:
        return None
    try:
        return np.array(shares, dtype=np.float32)
    except (ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------
# what is published and what is loaded


@dataclass(frozen=True)
class LinkRow:
    """A link as an index keeps it: the question and the position of the passage it lifts."""

    id: str
    question: str
    case_id: str
    source: str
    passage: int  # position in the version's passages
    key: str  # content key of the question's vector (equal keys: the vector is reused)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "LinkRow":
        return cls(str(d["id"]), str(d["question"]), str(d["case_id"]), str(d["source"]), int(d["passage"]),
                   str(d["key"]))


@dataclass
class BuiltIndex:
    """A complete index, ready to publish: what :func:`assistant.indexing.build_index` produces."""

    manifest: Manifest
    cases: list[Case]
    passages: list[Passage]
    vectors: np.ndarray  # unit vectors, one row per passage
    words: LexicalIndex  # BM25 over jieba words
    chars: LexicalIndex  # BM25 over character n-grams
    shares: list[float]  # per passage, see assistant.roles.problem_share
    # corpus files to write/delete together with this version (``assistant add``/``remove``): the
    # local store applies it when the version is complete, just before switching to it
    corpus_edit: CorpusEdit | None = None
    links: list[LinkRow] = field(default_factory=list)
    link_vectors: np.ndarray | None = None  # unit vectors, one row per link (None: no links)
    link_words: LexicalIndex | None = None  # BM25 over the link questions' jieba words (None: no links)
    link_chars: LexicalIndex | None = None  # BM25 over their character n-grams

    def lexical(self, route: str) -> LexicalIndex:
        """The BM25 index of a lexical route (over passages, or over link questions for ``link_*``)."""
        index = {"words": self.words, "chars": self.chars, "link_words": self.link_words,
                 "link_chars": self.link_chars}.get(route)
        if index is None:
            raise ValueError(f"{route!r} is not a BM25 route of this index")
        return index


@dataclass
class SyncReport:
    """What a shared store wrote to catch up with a published index."""

    where: str  # the store's address, without credentials
    collection: str
    inserted: int  # rows of new passages
    rewritten: int  # rows kept but written again: their BM25 weights changed with the corpus statistics
    deleted: int
    kept: int  # rows left as they were
    seconds: float


@dataclass
class PublishReport:
    path: Path  # the version folder under index/ (every build lands there first)
    version: str
    sync: SyncReport | None = None  # what a shared store wrote after it


@dataclass(eq=False)
class Library:
    """A loaded index version: everything retrieval needs besides the routes themselves."""

    store: "Store"
    path: Path  # where it was loaded from (a version folder, or the store's address and version)
    version: str
    manifest: Manifest
    cases: dict[str, Case]
    passages: list[Passage]
    stale_reasons: list[str]  # the corpus moved on since the build: still usable, but outdated
    problem_share: np.ndarray | None = None  # per passage, see assistant.roles.problem_share
    _facets: dict[str, Facets] | None = field(default=None, repr=False)
    links: list[LinkRow] = field(default_factory=list)  # the indexed links, in link-route order

    def facets(self) -> dict[str, Facets]:
        """Case id → :class:`Facets` (computed once)."""
        if self._facets is None:
            self._facets = case_facets(self.cases.values())
        return self._facets

    def allowed(self, filters: Filters) -> np.ndarray:
        """Boolean mask of the passages whose case matches ``filters``."""
        facets = self.facets()
        ok = {cid for cid, f in facets.items() if f.matches(filters)}
        return np.fromiter((p.case_id in ok for p in self.passages), dtype=bool, count=len(self.passages))

    def vector(self, i: int) -> np.ndarray | None:
        """The stored embedding of passage ``i`` (None when the store cannot give it back)."""
        return self.store.vector(i)

    def link_passages(self) -> np.ndarray:
        """Position of each link's passage, in link order."""
        return np.fromiter((link.passage for link in self.links), dtype=np.int64, count=len(self.links))


class Query:
    """A question as the routes see it: text, embedding and tokens, each computed on first use.

    ``link_sources`` restricts the link routes to links of those sources
    (``("user",)``); None: every link.
    """

    def __init__(
        self, text: str, embed: Callable[[str], object], link_sources: tuple[str, ...] | None = None
    ) -> None:
        self.text = text
        self._embed = embed
        self.link_sources = link_sources

    @cached_property
    def vector(self) -> np.ndarray:
        return np.asarray(self._embed(self.text), dtype=np.float32)

    @cached_property
    def words(self) -> list[str]:
        return tokenize(self.text)

    @cached_property
    def chars(self) -> list[str]:
        return tokenize_chars(self.text)

    def tokens(self, route: str) -> list[str]:
        """The question's tokens for a BM25 route ("words", "chars" and their ``link_`` twins)."""
        analyzer = route.removeprefix("link_")
        if analyzer not in LEXICAL_ROUTES:
            raise ValueError(f"{route!r} is not a BM25 route")
        return self.words if analyzer == "words" else self.chars

    def computed_vector(self) -> np.ndarray | None:
        """The embedding if a route needed it, without computing it otherwise."""
        return self.__dict__.get("vector")


# ---------------------------------------------------------------------------
# the interface


class Store(ABC):
    """Where a built index is kept, and how its passages are searched.

    A store object serves the one version it loaded (``load``); ``publish``
    and ``published_version`` speak of the store's location as a whole.  The
    public methods do the work every store shares; an implementation writes
    ``read_manifest``, ``_load``, ``_route``, ``vector``, ``publish`` and ``published_version``.
    """

    kind: ClassVar[str]
    route_names: ClassVar[tuple[str, ...]] = ROUTES
    corpus_optional: ClassVar[bool] = False  # True: readers may run without the corpus folder

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded = False

    # ------------------------------------------------------------ loading

    def load(self, embedder_id: str, check_stale: bool = True) -> Library:
        """The published version, refused with the command that fixes it when it is damaged or was
        built with another embedder; one the corpus has moved on from loads, with its ``stale_reasons``."""
        if self._loaded:  # a store serves one version: a second load gets a store of its own
            return type(self)(self.settings).load(embedder_id, check_stale)
        manifest = self.read_manifest()
        reasons = incompatibility(manifest, embedder_id)
        if reasons:
            raise IndexProblem(f"{self.label}索引与当前配置不符（{'；'.join(reasons)}）。请运行：{BUILD_CMD}")
        library = self._load(manifest)
        if check_stale and (not self.corpus_optional or self.settings.corpus_dir.is_dir()):
            library.stale_reasons = outdatedness(self.settings, manifest)
        self._loaded = True
        return library

    @property
    def label(self) -> str:
        """How messages name where the index is ("" for the local folder, "Milvus 中的" …)."""
        return ""

    @abstractmethod
    def read_manifest(self) -> Manifest:
        """The manifest of the published version (IndexProblem when there is none or it is damaged)."""

    @abstractmethod
    def _load(self, manifest: Manifest) -> Library:
        """Read the version ``manifest`` describes (cases, passages) and prepare its routes."""

    # ---------------------------------------------------------- searching

    def routes(
        self,
        library: Library,
        query: Query,
        depth: int,
        filters: Filters | None = None,
        names: Iterable[str] | None = None,
    ) -> dict[str, Ranking]:
        """Each route's top ``depth`` ``(passage position, raw score)``, best first.

        Only passages whose case matches ``filters``; each passage once (its
        best score); ties in passage order, so every store lists the same
        candidates in the same order.
        """
        names = self.route_names if names is None else tuple(names)
        unknown = [n for n in names if n not in self.route_names]
        if unknown:
            raise ValueError(f"unknown routes {unknown}; this store offers {self.route_names}")
        assert library.store is self, "a store searches the library it loaded"
        allowed = None
        if filters is not None and not filters.empty:
            allowed = library.allowed(filters)
            if not allowed.any():
                return {name: [] for name in names}
        depth = min(depth, len(library.passages))
        out: dict[str, Ranking] = {}
        for name in names:
            best: dict[int, float] = {}
            for pos, score in self._route(name, query, depth, filters, allowed):
                if (allowed is None or allowed[pos]) and score > best.get(pos, -np.inf):
                    best[pos] = score
            out[name] = sorted(best.items(), key=lambda hit: (-hit[1], hit[0]))[:depth]
        return out

    @abstractmethod
    def _route(
        self, name: str, query: Query, depth: int, filters: Filters | None, allowed: np.ndarray | None
    ) -> Iterable[tuple[int, float]]:
        """Up to ``depth`` candidates of route ``name`` among the ``allowed`` passages (all when None).

        A link route yields the passages of its ``link_depth(depth)`` best links
        (a passage may come more than once: :meth:`routes` keeps its best score).
        """

    @staticmethod
    def link_depth(depth: int, n_links: int) -> int:
        """How many links a link route looks at to return up to ``depth`` passages."""
        return min(n_links, depth * LINK_FANOUT)

    @abstractmethod
    def vector(self, i: int) -> np.ndarray | None:
        """The stored embedding of passage ``i`` of the loaded version."""

    # --------------------------------------------------------- publishing

    @abstractmethod
    def publish(self, built: BuiltIndex, progress: Callable[[int, int], None] | None = None) -> PublishReport:
        """Make ``built`` the version every reader of this store loads next."""

    @abstractmethod
    def published_version(self) -> str | None:
        """The version a reader would load now (None when nothing is published)."""

    def status(self, local: Manifest) -> tuple[dict, list[str]]:
        """What ``assistant index status`` adds for this store, and why it may be out of step with ``local``."""
        return {}, []
