"""Where the built index is kept and searched: one interface, two stores.

:func:`open_store` is the only place that reads ``settings.store``; everything
else talks to the :class:`~assistant.stores.base.Store` it returns.

Example::

    >>> from assistant.config import get_settings
    >>> from assistant.stores import open_store
    >>> store = open_store(get_settings())      # FilesStore (default) or MilvusStore
    >>> library = store.load(embedder.id)       # doctest: +SKIP
"""

from __future__ import annotations

from assistant.config import Settings
from assistant.stores.base import Store


def open_store(settings: Settings) -> Store:
    """The store ``settings`` name (cheap: nothing is read until ``load``)."""
    if settings.store == "milvus":
        from assistant.stores.milvus import MilvusStore

        return MilvusStore(settings)
    from assistant.stores.files import FilesStore

    return FilesStore(settings)
