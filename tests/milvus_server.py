"""A throwaway Milvus-protocol server for tests: milvus-lite's pure-Python gRPC server.

``running_milvus(data_dir)`` starts ``milvus-lite server`` (installed beside
the interpreter) as a subprocess on a free port of 127.0.0.1, waits (at most
:data:`START_TIMEOUT_S`) until a ``pymilvus.MilvusClient`` can list
collections, and yields a :class:`MilvusServer`:

- ``.uri``: ``http://127.0.0.1:PORT``;
- ``.stop()``: SIGKILL, as a crash would (the data folder keeps what was flushed);
- ``.start()``: start again on the same port and data folder, and wait until ready;
- ``.freeze()`` / ``.thaw()``: SIGSTOP / SIGCONT, a server that hangs and recovers.

The server is always killed when the ``with`` block ends.  Tests skip when
pymilvus or milvus-lite is not installed (``pip install -e '.[milvus]'``).

Example::

    with running_milvus(tmp_path / "milvus") as server:
        settings = get_settings(store="milvus", milvus_uri=server.uri)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ui_server import free_port

START_TIMEOUT_S = 30
INSTALL_HINT = "pip install -e '.[milvus]' (pymilvus and milvus-lite)"


def closed_port() -> int:
    """A port of 127.0.0.1 nobody listens on (free a moment ago)."""
    return free_port()


def server_executable() -> Path:
    """The ``milvus-lite`` command of this interpreter's environment (skips when missing)."""
    pytest.importorskip("pymilvus", reason="pymilvus is not installed: " + INSTALL_HINT)
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed: " + INSTALL_HINT)
    exe = Path(sys.executable).with_name("milvus-lite")
    if not os.access(exe, os.X_OK):
        pytest.skip(f"{exe} not found: " + INSTALL_HINT)
    return exe


def ping(uri: str, timeout: float = 2.0) -> None:
    """List the collections once (raises when the server does not answer)."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri, timeout=timeout)
    try:
        client.list_collections(timeout=timeout)
    finally:
        with contextlib.suppress(Exception):
            client.close()


class MilvusServer:
    """One ``milvus-lite server`` process on a fixed port and data folder."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.exe = server_executable()
        self.data_dir = Path(data_dir)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.log = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "MilvusServer":
        """Start (again) on the same port and data folder; return once it answers."""
        if self.running:
            return self
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.exe), "server", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C of the test run does not reach it; we kill it ourselves
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last: BaseException | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited with {self.proc.returncode}:\n{self._tail()}")
            try:
                ping(self.uri, timeout=2)
                return
            except Exception as exc:  # noqa: BLE001 - pymilvus/grpc raise many types while starting
                last = exc
                time.sleep(0.2)  # bounded polling
        raise RuntimeError(f"milvus-lite server not ready in {START_TIMEOUT_S}s ({last}):\n{self._tail()}")

    def _tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def freeze(self) -> None:
        """SIGSTOP: the port stays open but nothing answers (a hung server)."""
        assert self.proc is not None and self.running
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        """SIGKILL the server (a crash: no shutdown, the port closes at once) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)  # also ends a frozen one
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


@contextlib.contextmanager
def running_milvus(data_dir: Path, port: int | None = None):
    """Yield a started :class:`MilvusServer` on 127.0.0.1; it is killed when the block ends."""
    server = MilvusServer(data_dir, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
