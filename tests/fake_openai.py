"""A small OpenAI-compatible chat-completions server for tests (127.0.0.1 only).

Each test scripts what the next requests get::

    with FakeOpenAI() as server:
        server.script(Reply("蓝天二村拆除了地锁[1]。"), Status(429))
        settings = get_settings(llm_base_url=server.base_url, llm_model="fake")
        ...
        server.requests[0]["body"]["messages"]   # what the client sent

When the script runs out, the last action repeats.  The server handles at
most ``max_requests`` requests and stops at ``close()``; a slow action waits
on the stop event, so no thread outlives the test.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable


@dataclass
class Reply:
    """Stream ``text`` in pieces of ``piece`` characters, then finish normally."""

    text: str
    piece: int = 4
    delay: float = 0.0  # pause between pieces


@dataclass
class Dynamic:
    """Build the reply from the request body: ``make(body) -> text`` (e.g. quote passage [1])."""

    make: Callable[[dict], str]


@dataclass
class Status:
    """Answer with an HTTP error status and an OpenAI-style error body."""

    code: int
    message: str = "error"


@dataclass
class Slow:
    """Send nothing for ``seconds`` (bounded by the server's stop event), then reply."""

    seconds: float
    text: str = "太迟了。"


@dataclass
class Malformed:
    """A 200 response whose event data is not JSON."""


@dataclass
class Empty:
    """A well-formed stream with no content at all."""


@dataclass
class Cut:
    """Stream the first half of ``text``, then drop the connection mid-body."""

    text: str


Action = Reply | Dynamic | Status | Slow | Malformed | Empty | Cut


class _QuietServer(HTTPServer):
    def handle_error(self, request, client_address) -> None:
        # a client that gave up (timeout test) leaves a broken pipe: expected, not news
        pass


def unused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (for 'connection refused')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeOpenAI:
    def __init__(self, max_requests: int = 200) -> None:
        self.requests: list[dict] = []
        self._actions: list[Action] = [Reply("好的。")]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._max = max_requests
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.timeout = 0.05
        self._thread = threading.Thread(target=self._loop, name="fake-openai", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *actions: Action) -> None:
        with self._lock:
            self._actions = list(actions)

    def _next(self) -> Action:
        with self._lock:
            return self._actions.pop(0) if len(self._actions) > 1 else self._actions[0]

    def _loop(self) -> None:
        while not self._stop.is_set() and len(self.requests) < self._max:
            self._httpd.handle_request()  # returns after at most `timeout` when idle

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- request handling --------------------------------------------------

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                action = server._next()
                if isinstance(action, Dynamic):
                    action = Reply(action.make(body))
                if isinstance(action, Slow):
                    server._stop.wait(action.seconds)
                    action = Reply(action.text)
                if isinstance(action, Status):
                    return self._json(action.code, {"error": {"message": action.message, "type": "fake", "code": action.code}})
                if isinstance(action, Malformed):
                    return self._stream([b"data: {this is not json\n\n", b"data: [DONE]\n\n"])
                if isinstance(action, Empty):
                    return self._stream([_event(None, "stop"), b"data: [DONE]\n\n"])
                if isinstance(action, Cut):
                    half = action.text[: len(action.text) // 2]
                    return self._stream([_event(half, None)], cut=True)
                pieces = [action.text[i : i + action.piece] for i in range(0, len(action.text), action.piece)]
                events = [_event(p, None) for p in pieces] + [_event(None, "stop"), b"data: [DONE]\n\n"]
                return self._stream(events, delay=action.delay)

            def _json(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, events: list[bytes], delay: float = 0.0, cut: bool = False) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for e in events:
                    if delay:
                        server._stop.wait(delay)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(e), e))
                    self.wfile.flush()
                if cut:
                    # drop the connection without the terminating chunk
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler


def _event(content: str | None, finish: str | None) -> bytes:
    delta = {} if content is None else {"role": "assistant", "content": content}
    payload = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"
