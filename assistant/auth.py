"""Optional login for intranet deployment: user names with salted scrypt password hashes.

One user per line, ``name:hash``; blank lines and lines starting with ``#``
are ignored.  The hash is ``scrypt$<n>$<r>$<p>$<salt hex>$<key hex>``
(``hashlib.scrypt``, 16-byte random salt, 32-byte key)::

    # users.txt
    wangli:scrypt$16384$8$1$6f1c…$9a3e…

Where the users come from (the first that is set wins):

1. ``assistant serve --users FILE``;
2. the environment variable ``ASSISTANT_USERS``, the same ``name:hash``
   entries separated by newlines or ``;``;
3. ``users.txt`` in the data folder (``$ASSISTANT_DATA_DIR``, by default
   ``~/.local/share/jiceng-assistant/``), which ``assistant users add NAME``
   writes.

Passwords are never stored or logged; ``assistant users add`` asks for them
(or reads one line from stdin with ``--password-stdin``) and stores the hash.

Example::

    >>> from assistant.auth import hash_password, verify_password
    >>> h = hash_password("换成你的密码")
    >>> verify_password("换成你的密码", h), verify_password("wrong", h)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Callable

from assistant.config import get_settings
from assistant.errors import InputError, storage_error
from assistant.fsutil import atomic_write
from assistant.feedback import data_dir

log = logging.getLogger(__name__)

USERS_ENV = "ASSISTANT_USERS"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD_CHARS = 8


def default_users_file() -> Path:
    return data_dir() / "users.txt"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(key)
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def parse_users(text: str, source: str) -> dict[str, str]:
    """``name:hash`` entries (newline- or ``;``-separated) → {name: hash}; errors name the line."""
    users: dict[str, str] = {}
    for n, line in enumerate(re.split(r"[\n;]", text), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not _NAME.match(name) or not stored.startswith("scrypt$") or stored.count("$") != 5:
            raise InputError(
                f"{source} 第 {n} 项格式不对：应为“用户名:scrypt$…”（用 assistant users add 用户名 生成）。"
            )
        users[name] = stored
    return users


def load_users(path: str | Path | None = None) -> tuple[dict[str, str], str | None]:
    """(users, where they came from); ({}, None) when no login is configured."""
    if path:
        path = Path(path).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"无法读取用户文件 {path}：{exc.strerror or exc}") from None
        users = parse_users(text, str(path))
        if not users:
            raise InputError(f"用户文件 {path} 里没有用户。请先运行：assistant users add 用户名 --users {path}")
        return users, str(path)
    from_env = (get_settings().users or "").strip()
    if from_env:
        return parse_users(from_env, f"环境变量 {USERS_ENV}"), USERS_ENV
    default = default_users_file()
    if default.is_file():
        users = parse_users(default.read_text(encoding="utf-8"), str(default))
        return users, (str(default) if users else None)
    return {}, None


def make_auth(users: dict[str, str]):
    """A Gradio ``auth`` callable checking names and passwords against ``users``."""

    def check(name: str, password: str) -> bool:
        stored = users.get(name)
        if stored is None:
            verify_password(password, _DUMMY)  # same work either way: no name probing by timing
            return False
        return verify_password(password, stored)

    return check


_DUMMY = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * 16}${'00' * 32}"


class LoginThrottle:
    """Back-off after failed logins, per user name and per client address.

    The first ``free_user`` failures for a name (``free_address`` for an
    address) cost nothing; after that each failure doubles the wait before
    the next attempt is even checked (1 s, 2 s, 4 s … at most ``cap``), and a
    refused attempt costs no password hashing.  Nothing is locked for ever:
    the wait never exceeds ``cap``, failures are forgotten ``forget`` seconds
    after the last one, and an address where the name logged in before is
    exempt from that name's back-off (a guesser elsewhere cannot lock its
    owner out; the address's own back-off still applies).

    >>> t = LoginThrottle(free_user=2, clock=lambda: 100.0)
    >>> t.failed("wangli", "10.0.0.9"); t.wait("wangli", "10.0.0.9")
    0.0
    >>> t.failed("wangli", "10.0.0.9"); t.wait("wangli", "10.0.0.9")
    1.0
    """

    def __init__(
        self,
        free_user: int = 5,
        free_address: int = 20,
        base: float = 1.0,
        cap: float = 300.0,
        forget: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = {"user": free_user, "address": free_address}
        self.base, self.cap, self.forget, self.clock = base, cap, forget, clock
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}  # (kind, key) -> (count, last failure)
        self._known: set[tuple[str, str]] = set()  # (user, address) that logged in successfully
        self._lock = threading.Lock()

    def _wait(self, kind: str, key: str, now: float) -> float:
        count, last = self._failures.get((kind, key), (0, 0.0))
        if not count:
            return 0.0
        if now - last > self.forget:
            del self._failures[(kind, key)]
            return 0.0
        over = count - self.free[kind]
        if over < 0:
            return 0.0
        return max(0.0, last + min(self.cap, self.base * 2**over) - now)

    def wait(self, user: str, address: str) -> float:
        """Seconds before ``user`` may try again from ``address`` (0.0: now)."""
        with self._lock:
            now = self.clock()
            by_address = self._wait("address", address, now)
            by_user = 0.0 if (user, address) in self._known else self._wait("user", user, now)
            return max(by_address, by_user)

    def failed(self, user: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            for kind, key in (("user", user), ("address", address)):
                count, _ = self._failures.get((kind, key), (0, 0.0))
                self._failures[(kind, key)] = (count + 1, now)
            counts = self._failures[("user", user)][0], self._failures[("address", address)][0]
        log.warning(
            "failed login for user %r from %s (%d failures for the name, %d from the address); next attempt in %.1f s",
            user, address, *counts, self.wait(user, address),
        )

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop(("user", user), None)
            self._known.add((user, address))


def add_user(name: str, password: str, path: str | Path | None = None) -> Path:
    """Add or replace ``name`` in the users file (written atomically); returns the file's path."""
    if not _NAME.match(name or ""):
        raise InputError(f"用户名“{name}”不可用：只能含字母、数字、汉字和 . _ - @，最长 64 个字符。")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"密码太短（{len(password)} 位），至少需要 {MIN_PASSWORD_CHARS} 位。")
    path = Path(path).expanduser() if path else default_users_file()
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else ["# 基层治理案例问答助手的登录用户（用户名:口令散列）"]
    lines = [x for x in lines if x.partition(":")[0].strip() != name]
    lines.append(f"{name}:{hash_password(password)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, "\n".join(lines) + "\n", mode=0o600)  # hashes are still secrets
    except OSError as exc:
        raise storage_error(exc, path, fix="或用 --users 写到其他位置") from None
    return path


def is_loopback(host: str) -> bool:
    import ipaddress

    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
