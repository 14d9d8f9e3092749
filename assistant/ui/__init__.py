"""The web UI (Gradio Blocks): four tabs, 问答 / 找相似案例 / 培训讨论题 / 案例库.

* :mod:`assistant.ui.handlers`: the event handlers, plain functions over a
  :class:`~assistant.ui.handlers.Backend`, returning small dataclasses
  (no Gradio: call them from tests and scripts);
* :mod:`assistant.ui.render`: the HTML they return;
* :mod:`assistant.ui.app`: :func:`build_app` (components and wiring only) and :func:`launch`.

The names of :mod:`assistant.ui.app` are imported from here on first use, so
importing :mod:`assistant.ui.handlers` does not load Gradio.

Example::

    >>> from assistant.ui import build_app, launch
    >>> app = build_app()                              # doctest: +SKIP
    >>> launch(app, host="127.0.0.1", port=7860)       # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.ui.app import (
        CONCURRENCY_EXTRACTIVE,
        CONCURRENCY_LLM,
        HEAD,
        QUEUE_MAX,
        build_app,
        launch,
        launch_options,
        theme,
    )

__all__ = [
    "CONCURRENCY_EXTRACTIVE", "CONCURRENCY_LLM", "HEAD", "QUEUE_MAX", "build_app", "launch", "launch_options", "theme",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from assistant.ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'assistant.ui' has no attribute {name!r}")
