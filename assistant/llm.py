"""Optional LLM: any OpenAI-compatible chat endpoint through LangChain's ``ChatOpenAI``.

Configured by environment variables (README, "Pointing it at an LLM"; docs/how-it-works.md)::

    ASSISTANT_LLM_BASE_URL   e.g. http://127.0.0.1:11434/v1 (Ollama), https://api.deepseek.com/v1
    ASSISTANT_LLM_MODEL      e.g. qwen2.5:7b, deepseek-chat, qwen-plus
    ASSISTANT_LLM_API_KEY    read here at call time only; never stored in Settings, logged or printed
    ASSISTANT_LLM_TIMEOUT    seconds (default 30): the whole call, streaming included, ends by then

Everything that can go wrong (connection refused, timeout, 401, 429, 5xx,
malformed or empty reply, a stream that stops halfway) becomes an
:class:`LLMError` whose message is one Chinese sentence for the user; callers
fall back to an answer that needs no LLM.

Shared by every feature that talks to the LLM (answers, discussion prompts)::

    >>> from assistant.config import get_settings
    >>> from assistant.llm import complete, llm_configured, render_prompt
    >>> settings = get_settings()
    >>> if llm_configured(settings):  # doctest: +SKIP
    ...     text = complete(
    ...         [("system", render_prompt("answer_system", settings)), ("user", "你好")],
    ...         settings,
    ...         on_token=lambda t: print(t, end="", flush=True),
    ...     )
"""

from __future__ import annotations

import queue
import re
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

from assistant.config import Settings
from assistant.errors import AssistantError, InputError

API_KEY_ENV = "ASSISTANT_LLM_API_KEY"
# Local servers (Ollama, vLLM, llama.cpp) ignore the key, but the OpenAI client insists on one.
_NO_KEY = "not-needed"

Message = Union[tuple[str, str], dict]


class LLMError(AssistantError):
    """The LLM call failed; ``str(error)`` says what happened, in Chinese.

    ``kind`` is a stable English tag for tests and logs: ``connection``,
    ``timeout``, ``auth``, ``rate_limit``, ``server``, ``bad_reply``,
    ``empty``, ``cut``, ``config``.
    """

    exit_code = 4

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def llm_configured(settings: Settings) -> bool:
    """True when both ``ASSISTANT_LLM_BASE_URL`` and ``ASSISTANT_LLM_MODEL`` are set."""
    return bool(settings.llm_base_url and settings.llm_model)


# ---------------------------------------------------------------------------
# prompt templates

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def load_prompt(name: str, settings: Settings) -> str:
    """The raw text of ``prompts/<name>.md`` (InputError naming the file when missing)."""
    path = Path(settings.prompts_dir) / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise InputError(f"找不到提示词模板 {path}（ASSISTANT_PROMPTS_DIR={settings.prompts_dir}）。") from None


def render_prompt(name: str, settings: Settings, **values: object) -> str:
    """``prompts/<name>.md`` with every ``{{key}}`` replaced by ``values[key]``.

    Substitution is a single pass, so braces or ``{{…}}`` inside a value (a
    passage, a user's question) are inserted literally, never expanded.  A
    placeholder without a value is a bug in the caller and raises KeyError.
    """
    template = load_prompt(name, settings)
    missing = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise KeyError(f"prompt {name!r} needs values for {missing}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


# ---------------------------------------------------------------------------
# the call

_warm = threading.Lock()
_warmed = False


def warm_up() -> None:
    """Import the OpenAI client stack in a background thread.

    ``langchain_openai`` takes seconds to import on a cold two-core machine;
    starting it while retrieval runs hides most of that.
    """
    global _warmed
    with _warm:
        if _warmed:
            return
        _warmed = True

    def load() -> None:
        try:
            import langchain_openai  # noqa: F401
        except ImportError:  # reported properly by chat_model()
            pass

    threading.Thread(target=load, name="llm-warm-up", daemon=True).start()


def chat_model(settings: Settings, timeout: float | None = None):
    """A ``ChatOpenAI`` for the configured endpoint (streaming, no retries)."""
    if not llm_configured(settings):
        raise LLMError("未配置大模型：请设置 ASSISTANT_LLM_BASE_URL 和 ASSISTANT_LLM_MODEL。", "config")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise LLMError("未安装 langchain-openai：请运行 pip install langchain-openai。", "config") from None

    assert settings.llm_model is not None, "llm_configured() checked that the model is set"
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        # pydantic turns the str into a SecretStr; the signature mypy derives from the field does not say so
        api_key=settings.llm_api_key.value() or _NO_KEY,  # type: ignore[arg-type]
        streaming=True,
        timeout=timeout or settings.llm_timeout,
        # A retry would double the user's wait; the caller falls back instead.
        max_retries=0,
        temperature=0.2,
    )


def _to_messages(messages: Iterable[Message]):
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "human": HumanMessage, "assistant": AIMessage, "ai": AIMessage}
    out = []
    for m in messages:
        role, content = (m["role"], m["content"]) if isinstance(m, dict) else m
        if role not in kinds:
            raise ValueError(f"message role {role!r} must be one of {sorted(kinds)}")
        out.append(kinds[role](content=content))
    return out


def complete(
    messages: Sequence[Message],
    settings: Settings,
    on_token: Callable[[str], None] | None = None,
    *,
    timeout: float | None = None,
) -> str:
    """Stream a chat completion and return the whole reply text.

    ``messages`` are ``(role, content)`` pairs or ``{"role", "content"}`` dicts
    (roles: system, user, assistant).  ``on_token`` receives each streamed
    piece as it arrives.  The call ends within ``timeout`` seconds
    (default ``settings.llm_timeout``) however the server behaves: the stream
    is read in a worker thread and abandoned at the deadline.

    Raises :class:`LLMError` with a Chinese message on every failure,
    including an empty reply and a stream that stopped before the model
    said it was finished.
    """
    limit = float(timeout or settings.llm_timeout)
    model = chat_model(settings, timeout=limit)
    lc_messages = _to_messages(messages)
    events: queue.Queue = queue.Queue()
    stop = threading.Event()

    def worker() -> None:
        try:
            for chunk in model.stream(lc_messages):
                if stop.is_set():
                    return
                events.put(("chunk", chunk))
            events.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            events.put(("error", exc))

    threading.Thread(target=worker, name="llm-stream", daemon=True).start()
    deadline = time.monotonic() + limit
    pieces: list[str] = []
    finished = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout_error(limit)
            try:
                kind, item = events.get(timeout=remaining)
            except queue.Empty:
                raise _timeout_error(limit) from None
            if kind == "error":
                raise map_error(item, received=bool(pieces)) from item
            if kind == "end":
                break
            text = _chunk_text(item)
            if text:
                pieces.append(text)
                if on_token:
                    on_token(text)
            if (getattr(item, "response_metadata", None) or {}).get("finish_reason"):
                finished = True
    finally:
        stop.set()
    reply = "".join(pieces)
    if not finished:
        raise LLMError("大模型的回答中途中断（数据流未正常结束）。", "cut")
    if not reply.strip():
        raise LLMError("大模型返回了空回答。", "empty")
    return reply


def _chunk_text(chunk) -> str:
    content = getattr(chunk, "content", "")
    if isinstance(content, str):
        return content
    # content blocks (some providers): keep the text parts
    return "".join(b.get("text", "") for b in content if isinstance(b, dict))


def _timeout_error(limit: float) -> LLMError:
    # ``limit`` is what was left of the deadline (3.93533…): people read whole seconds
    return LLMError(f"大模型在 {max(1, round(limit))} 秒内没有答完（超时，可用 ASSISTANT_LLM_TIMEOUT 调整）。", "timeout")


def _chain(exc: BaseException | None) -> list[BaseException]:
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def map_error(exc: BaseException, received: bool = False) -> LLMError:
    """Translate an exception from the OpenAI client / LangChain into an LLMError.

    ``received``: some of the reply had already arrived, so a dropped
    connection means the stream stopped halfway.  Transport errors are
    recognised by class name because the OpenAI client's HTTP library
    differs between versions (httpx, httpx2).
    """
    if isinstance(exc, LLMError):
        return exc
    import openai

    names = {type(e).__name__ for e in _chain(exc)}
    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APITimeoutError) or any("Timeout" in n for n in names):
        return LLMError("连接大模型超时（可用 ASSISTANT_LLM_TIMEOUT 调整）。", "timeout")
    if isinstance(exc, openai.AuthenticationError) or status in (401, 403):
        return LLMError(f"大模型拒绝了访问（HTTP {status or 401}）：请检查 ASSISTANT_LLM_API_KEY。", "auth")
    if isinstance(exc, openai.RateLimitError) or status == 429:
        return LLMError("大模型请求过于频繁或额度已用完（HTTP 429），请稍后再试。", "rate_limit")
    if isinstance(exc, openai.NotFoundError) or status == 404:
        return LLMError(
            "大模型服务找不到该接口或模型（HTTP 404）：请检查 ASSISTANT_LLM_BASE_URL 和 ASSISTANT_LLM_MODEL。", "config"
        )
    if isinstance(exc, openai.APIStatusError) and status is not None:
        if status >= 500:
            return LLMError(f"大模型服务出错（HTTP {status}），请稍后再试。", "server")
        return LLMError(f"大模型拒绝了请求（HTTP {status}）。", "server")
    if isinstance(exc, (openai.APIConnectionError, ConnectionError)) or names & {"RemoteProtocolError", "ReadError"}:
        if received or "RemoteProtocolError" in names:
            return LLMError("大模型的回答中途中断（连接被关闭）。", "cut")
        return LLMError("无法连接大模型服务：请检查 ASSISTANT_LLM_BASE_URL 是否正确、服务是否已启动。", "connection")
    if isinstance(exc, (ValueError, KeyError, TypeError, openai.APIResponseValidationError)):
        # json.JSONDecodeError is a ValueError: the server sent something that is not a chat completion
        return LLMError("大模型返回了无法解析的内容。", "bad_reply")
    return LLMError(f"调用大模型失败（{type(exc).__name__}）。", "server")
