"""LangChain view of the hybrid searcher.

Kept out of ``retrieval.py`` because importing ``langchain_core.retrievers``
costs about 0.6 s, which the CLI's cold start should not pay.

Example::

    >>> from assistant.lc import CaseRetriever
    >>> from assistant.retrieval import get_searcher
    >>> docs = CaseRetriever(searcher=get_searcher(), k=3).invoke("楼道堆物怎么治理")
    >>> docs[0].metadata["author"]
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.retrieval import HybridSearcher


class CaseRetriever(BaseRetriever):
    """Documents carry full provenance: case, author, section, offsets, passage id."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: HybridSearcher
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(page_content=h.passage.text, metadata=h.to_dict() | {"passage_id": h.passage.id})
            for h in self.searcher.search(query, self.k)
        ]
