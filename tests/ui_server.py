"""Start the web UI in-process on 127.0.0.1 for tests, over copies of the corpus and index.

The copies keep uploads and feedback out of the checkout; the server stops
when the context exits (Gradio's own request loop, bounded by ``close()``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from conftest import CORPUS_DIR, INDEX_DIR


@dataclass
class RunningUI:
    url: str
    settings: object
    store: object
    app: object


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_data(root: Path) -> tuple[Path, Path]:
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(CORPUS_DIR, corpus)
    index.mkdir()
    current = (INDEX_DIR / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.copytree(INDEX_DIR / current, index / current)
    shutil.copy(INDEX_DIR / "CURRENT", index / "CURRENT")
    return corpus, index


@contextlib.contextmanager
def running_ui(root: Path, **overrides):
    from assistant.config import get_settings
    from assistant.feedback import FeedbackStore
    from assistant.ui import build_app, launch

    corpus, index = copy_data(root)
    settings = get_settings(corpus_dir=corpus, index_dir=index, **overrides)
    store = FeedbackStore(root / "data" / "feedback.db")
    app = build_app(settings, store)
    port = free_port()
    launch(app, "127.0.0.1", port, block=False, quiet=True)
    try:
        yield RunningUI(f"http://127.0.0.1:{port}/", settings, store, app)
    finally:
        app.close()
