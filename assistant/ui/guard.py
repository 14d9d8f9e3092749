"""What stands in front of the web UI when login is on: an ASGI middleware around Gradio's app.

Two things Gradio does not do by itself:

* **The login page exposes nothing.**  Gradio renders ``GET /`` for a
  visitor who is not logged in with the full API description embedded
  (``window.gradio_api_info``: every endpoint with its example values, which
  here means case ids, tags and towns), although ``/gradio_api/info`` itself
  answers 401.  The guard empties it on the login page; a logged-in page is
  left as it is.
* **Failed logins are throttled** (:class:`assistant.auth.LoginThrottle`):
  ``POST /login`` is refused with 429 and a Chinese message while the user
  name or the client address has to wait, without checking the password;
  every failure is logged.

Example::

    >>> from starlette.middleware import Middleware
    >>> Middleware(LoginGuard, throttle=LoginThrottle())   # launch(app_kwargs={"middleware": [...]})  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

from assistant.auth import LoginThrottle

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_LOGIN_BODY = 64 * 1024  # a login form is a name and a password
_API_INFO = re.compile(rb"window\.gradio_api_info = [^<]*</script>")  # toorjson escapes every "<" inside
_LOGIN_PAGE = b'"auth_required":true'


def client_address(scope: Scope) -> str:
    """The client's address; behind a reverse proxy on this machine, the one it forwarded."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    if local:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-for" and value.strip():
                return value.decode("latin-1").split(",")[-1].strip()
    return peer


class LoginGuard:
    """ASGI middleware: throttles ``POST /login`` and empties the API description on the login page."""

    def __init__(self, app: Callable, throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "").rstrip("/")
        method = scope.get("method")
        if method == "POST" and path.endswith("/login"):
            await self._login(scope, receive, send)
        elif method == "GET":  # the login page is "/", but Gradio renders it for other pages too
            await self._page(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # ------------------------------------------------------------------ login

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_LOGIN_BODY:
                await _json(send, 413, {"detail": "登录请求过大。"})
                return
            if not message.get("more_body"):
                break
        user = (parse_qs(body.decode("utf-8", "replace")).get("username") or [""])[0].strip()
        address = client_address(scope)
        wait = self.throttle.wait(user, address)
        if wait > 0:
            seconds = math.ceil(wait)
            log.warning("login for user %r from %s refused: %d s of back-off left", user, address, seconds)
            await _json(
                send, 429, {"detail": f"登录失败次数过多，请 {seconds} 秒后再试。"}, [(b"retry-after", str(seconds).encode())]
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def watch(message: Message) -> None:
            # counted before the client hears the answer, so its next attempt already sees it
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self.throttle.succeeded(user, address)
                elif message["status"] in (400, 401, 403):
                    self.throttle.failed(user, address)
            await send(message)

        await self.app(scope, replay, watch)

    # ------------------------------------------------------------ login page

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
                if not kind.startswith(b"text/html"):
                    await send(message)  # not a page: streamed through untouched
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if _LOGIN_PAGE in body:
                body = _API_INFO.sub(b"window.gradio_api_info = {};</script>", body)
            kept = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send(dict(start, headers=[*kept, (b"content-length", str(len(body)).encode())]))
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


async def _json(send: Send, status: int, payload: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                    *(headers or [])],
    })
    await send({"type": "http.response.body", "body": body})
