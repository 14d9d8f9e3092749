"""The web UI on the Milvus store, through its API (gradio_client).

The shipped index is exported into a Milvus-protocol server (milvus-lite's
server, a separate process), the UI is started on it with no local index,
and a user asks.  Then the engine dies: the user is told that the case
library is temporarily unavailable (no hang, no traceback), the case
library tab keeps working from what was loaded, and once the engine is back
the same UI answers again without a restart.
"""

from __future__ import annotations

import json

import pytest

from conftest import CORPUS_DIR, INDEX_DIR
from milvus_server import running_milvus
from ui_server import free_port

pytestmark = pytest.mark.slow

QUESTION = "加装电梯时低层住户反对，怎么协调？"


def _answer(result) -> dict | None:
    return next((x for x in result if isinstance(x, dict) and "citations" in x), None)


def _text(result) -> str:
    return json.dumps(result, ensure_ascii=False)


def test_ui_answers_from_milvus_and_says_when_the_library_is_unavailable(tmp_path):
    from gradio_client import Client

    from assistant.config import get_settings
    from assistant.feedback import FeedbackStore
    from assistant.indexing import export_to_milvus
    from assistant.ui import build_app, launch

    with running_milvus(tmp_path / "milvus") as server:
        source = get_settings(index_dir=INDEX_DIR, corpus_dir=CORPUS_DIR)
        export_to_milvus(source, server.uri)  # reads the shipped index, writes only to Milvus

        # a web worker with no local index at all: everything comes from Milvus
        settings = get_settings(
            index_dir=tmp_path / "no-index", corpus_dir=CORPUS_DIR, store="milvus", milvus_uri=server.uri,
            milvus_timeout=3,
        )
        app = build_app(settings, FeedbackStore(tmp_path / "feedback.db"))
        port = free_port()
        launch(app, "127.0.0.1", port, block=False, quiet=True)
        try:
            api = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(tmp_path))
            first = _answer(api.predict(QUESTION, api_name="/ask"))
            assert first and first["answered"] and first["citations"]
            assert any("电梯" in c["quote"] or "加梯" in c["quote"] for c in first["citations"])

            server.stop()  # the engine crashes
            down = api.predict(QUESTION, api_name="/ask")
            assert "案例库暂时无法访问" in _text(down) and "Traceback" not in _text(down)
            assert "三驾马车" in api.predict("sj2025-03", api_name="/case")  # loaded cases still open

            server.start()  # back on the same port: the same UI reconnects
            again = _answer(api.predict(QUESTION, api_name="/ask"))
            assert again and [c["quote"] for c in again["citations"]] == [c["quote"] for c in first["citations"]]
        finally:
            app.close()
