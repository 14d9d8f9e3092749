"""What the stores share: metadata filters and the facets they filter on.

Two stores hold the searchable passages (README, "Scaling out"):

- ``faiss`` (default): the versioned folder under ``index/``, FAISS for
  vectors and two local BM25 indexes (jieba words, character n-grams);
- ``milvus``: one Milvus collection holding passages, metadata, dense
  vectors and Milvus's own BM25 full-text search (:mod:`assistant.milvus_store`).

Both filter by the case's town/street, community type and topic tags.  A
case's facets are computed from its text the same way its card's are
(:func:`assistant.cards.case_tags`), so ``assistant cases --tag 停车`` and
``assistant search --tag 停车`` agree.

Example::

    >>> from assistant.store import Filters
    >>> Filters(town="岳阳街道", tag="停车").describe()
    '街镇=岳阳街道，话题=停车'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable

from assistant.corpus import Case
from assistant.errors import InputError

TYPES = ("居民区", "村", "街区")


@dataclass(frozen=True)
class Filters:
    town: str | None = None
    community_type: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        for name in ("town", "community_type", "tag"):
            value = getattr(self, name)
            if value is not None:
                value = str(value).strip() or None
                object.__setattr__(self, name, value)
        if self.community_type and self.community_type not in TYPES:
            raise InputError(f"社区类型（{self.community_type}）只能是 {'、'.join(TYPES)} 之一。")

    @property
    def empty(self) -> bool:
        return not (self.town or self.community_type or self.tag)

    def describe(self) -> str:
        parts = [
            f"{label}={value}"
            for label, value in (("街镇", self.town), ("类型", self.community_type), ("话题", self.tag))
            if value
        ]
        return "，".join(parts)


@dataclass(frozen=True)
class Facets:
    town: str
    community_type: str
    tags: tuple[str, ...]

    def matches(self, f: Filters) -> bool:
        return (
            (not f.town or self.town == f.town)
            and (not f.community_type or self.community_type == f.community_type)
            and (not f.tag or f.tag in self.tags)
        )


def case_facets(cases: Iterable[Case]) -> dict[str, Facets]:
    """Town, type and every taxonomy tag of each case (what filters match on)."""
    from assistant.cards import case_tags, load_taxonomy

    taxonomy = load_taxonomy()
    return {
        c.id: Facets(c.town or "", c.community_type or "", tuple(case_tags(c, taxonomy)))
        for c in cases
    }


def resolve_tag(filters: Filters) -> Filters:
    """A tag given by one of its synonyms (车位 → 停车) becomes its taxonomy name."""
    if not filters.tag:
        return filters
    from assistant.cards import load_taxonomy

    return Filters(filters.town, filters.community_type, load_taxonomy().tag(filters.tag).name)


def passage_id(key: str, case_id: str, facets: Facets) -> str:
    """The Milvus primary key of a passage: its content plus the facets it is filtered on,
    so a corrected town or a new tag re-writes the row while unchanged rows stay."""
    raw = f"{key}|{case_id}|{facets.town}|{facets.community_type}|{','.join(facets.tags)}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()
