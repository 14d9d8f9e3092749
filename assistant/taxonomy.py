"""Topic tags and the parties of a case, from the curated ``assistant/data/taxonomy.json``.

The taxonomy names each topic (停车, 加装电梯, 宅基地 …) with its synonyms
and the parties that appear in disputes (居民, 物业, 业委会 …).  A case
carries a tag when the tag's words recur in its text or appear in its title
or a heading (:func:`case_tags`); the same tags drive the cards, the case
filters of search and the similar-case ranking, so ``assistant cases --tag
停车`` and ``assistant search --tag 停车`` agree.  A tag given by one of its
synonyms resolves to its name (:func:`resolve_tag`: 车位 → 停车).

Example::

    >>> from assistant.corpus import load_corpus
    >>> from assistant.taxonomy import case_tags, load_taxonomy, resolve_tag
    >>> taxonomy = load_taxonomy()
    >>> resolve_tag("飞线充电")
    '充电/飞线'
    >>> list(case_tags(load_corpus("corpus")[0], taxonomy))[:3]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.corpus import Case
from assistant.errors import InputError

TAXONOMY_PATH = Path(__file__).resolve().parent / "data" / "taxonomy.json"
DEFAULT_MIN_COUNT = 3


@dataclass(frozen=True)
class Tag:
    name: str
    synonyms: tuple[str, ...]
    min_count: int = DEFAULT_MIN_COUNT
    kind: bool = False  # names a kind of community (动迁安置, 无产证 …), not a problem
    related: tuple[str, ...] = ()  # tags about the same matter (加装电梯 ~ 电梯更新)
    phrases: tuple[tuple[str, str], ...] = ()  # (community type, how a person names such a community)

    def phrase(self, community_type: str) -> str | None:
        """How a person names a community of this kind and type: 动迁安置 → "动迁安置小区" for a 居民区."""
        return dict(self.phrases).get(community_type)

    @property
    def pattern(self) -> re.Pattern:
        return _alternation((self.name, *self.synonyms))

    def count(self, text: str) -> int:
        """Non-overlapping occurrences of the name or any synonym (longest first)."""
        return sum(1 for _ in self.pattern.finditer(text))


@lru_cache(maxsize=None)
def _alternation(words: tuple[str, ...]) -> re.Pattern:
    words = tuple(sorted({w for w in words if w and "/" not in w}, key=len, reverse=True))
    return re.compile("|".join(re.escape(w) for w in words))


@dataclass(frozen=True)
class Taxonomy:
    tags: tuple[Tag, ...]
    roles: tuple[Tag, ...]
    not_methods: frozenset[str]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tags]

    def tag(self, name: str) -> Tag:
        """The tag called ``name`` (or having it as a synonym); InputError lists valid tags."""
        for t in self.tags:
            if name == t.name:
                return t
        for t in self.tags:
            if name in t.synonyms:
                return t
        raise InputError(f"没有标签“{name}”。可用的标签：{'、'.join(self.names)}")

    def match(self, text: str) -> dict[str, int]:
        """Tags mentioned in ``text`` (a user's description), with counts."""
        return {t.name: n for t in self.tags if (n := t.count(text))}


@lru_cache(maxsize=4)
def load_taxonomy(path: str | Path = TAXONOMY_PATH) -> Taxonomy:
    data = json.loads(Path(path).read_text(encoding="utf-8"))

    def tags(key: str) -> tuple[Tag, ...]:
        return tuple(
            Tag(
                d["name"],
                tuple(d.get("synonyms", ())),
                int(d.get("min_count", DEFAULT_MIN_COUNT)),
                bool(d.get("kind", False)),
                tuple(d.get("related", ())),
                tuple(sorted(d.get("phrases", {}).items())),
            )
            for d in data.get(key, ())
        )

    return Taxonomy(tags("tags"), tags("roles"), frozenset(data.get("not_methods", ())))


def resolve_tag(name: str, taxonomy: Taxonomy | None = None) -> str:
    """The taxonomy name of a tag given by its name or a synonym (车位 → 停车); InputError lists valid tags."""
    return (taxonomy or load_taxonomy()).tag(name).name


def case_tags(case: Case, taxonomy: Taxonomy) -> dict[str, int]:
    """Tags of a case with their counts, most frequent first.

    A tag applies when it occurs ``min_count`` times in the text or at least
    once in the title or a heading (what the script is organised around).
    """
    heads = case.title + "\n" + "\n".join(s.title for s in case.sections)
    found = {}
    for t in taxonomy.tags:
        n = t.count(case.text)
        if n >= t.min_count or (n and t.count(heads)):
            found[t.name] = n + 3 * t.count(heads)
    return dict(sorted(found.items(), key=lambda x: -x[1]))
