"""How much do question–passage links help retrieval?  Weights and embedding mode, tuned on a split.

The link routes (``link_dense``, ``link_words``, ``link_chars``: the link
questions of ``corpus/links*.jsonl``, see :mod:`assistant.links`) are
weighed against the passage routes on fixed halves of the question files,
never on the whole:

- tune: ``eval/dev.jsonl`` questions with an odd number (q001, q003, …) and
  the answerable questions (label full/partial) of ``eval/coverage.jsonl``
  with ``half == "tune"``;
- test: the even-numbered dev questions and the coverage questions with
  ``half == "test"``, reported once for the chosen setting.

Printed for each setting: evidence within 600 / 1,200 characters (see
``assistant eval``) on every split.  The link questions were written from the
passages, never from these question files (corpus/README.md).

Usage::

    python eval/links_eval.py                     # the live index (index/), links as built
    python eval/links_eval.py --grid              # the weight grid on the tune half
    python eval/links_eval.py --documents         # link questions re-embedded as documents (in memory)
    python eval/links_eval.py --test              # the chosen setting on every split, test halves included
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import get_settings  # noqa: E402
from assistant.embedding import get_embedder  # noqa: E402
from assistant.evaluation import evaluate, read_questions  # noqa: E402
from assistant.retrieval import DEFAULT_WEIGHTS, HybridSearcher  # noqa: E402
from assistant.stores.files import FilesStore  # noqa: E402


def splits() -> dict[str, list[dict]]:
    dev = read_questions(ROOT / "eval" / "dev.jsonl")
    cov = [q for q in read_questions(ROOT / "eval" / "coverage.jsonl") if q.get("label") in ("full", "partial")]
    odd = lambda q: int("".join(ch for ch in q["id"] if ch.isdigit())) % 2 == 1  # noqa: E731
    return {
        "dev": dev,
        "dev-tune(odd)": [q for q in dev if odd(q)],
        "dev-test(even)": [q for q in dev if not odd(q)],
        "cov-tune": [q for q in cov if q.get("half") == "tune"],
        "cov-test": [q for q in cov if q.get("half") == "test"],
    }


def weights(link_dense: float, link_lex: float) -> dict[str, float]:
    return dict(DEFAULT_WEIGHTS, link_dense=link_dense, link_words=link_lex, link_chars=link_lex)


def row(label: str, searcher: HybridSearcher, sets: dict[str, list[dict]], names: list[str]) -> str:
    cells = []
    for name in names:
        m = evaluate(searcher.search, sets[name]).metrics
        cells.append(f"{m['evidence@600ch']:.3f}/{m['evidence@1200ch']:.3f}")
    return f"{label:<34}" + "".join(f"{c:>17}" for c in cells)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    ap.add_argument("--corpus-dir", default=str(ROOT / "corpus"))
    ap.add_argument("--grid", action="store_true", help="weight grid on the tune half only")
    ap.add_argument("--documents", action="store_true", help="embed the link questions as documents instead")
    ap.add_argument("--test", action="store_true", help="also the test halves (once, for the chosen setting)")
    args = ap.parse_args()

    settings = get_settings(index_dir=args.index_dir, corpus_dir=args.corpus_dir)
    embedder = get_embedder(settings.embedder, settings.query_instruction)
    built = FilesStore(settings).read_built()
    if not built.links:
        sys.exit("the index has no links: run assistant index build")
    mode = built.manifest.link_embedding
    if args.documents:
        built.link_vectors = embedder.embed_documents([r.question for r in built.links])
        mode = "document"
    library = FilesStore.from_built(built, settings)
    sets = splits()
    print(f"{len(built.links)} links, embedded as {mode} vectors; cells: evidence within 600 / 1,200 characters")
    if args.grid:
        names = ["dev-tune(odd)", "cov-tune"]
        print(f"{'link weights (dense, words+chars)':<34}" + "".join(f"{n:>17}" for n in names))
        for d in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
            for lex in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
                if d or lex or (d, lex) == (0.0, 0.0):
                    print(row(f"{d:.2f}, {lex:.2f}", HybridSearcher(library, embedder, weights=weights(d, lex)), sets, names))
        return 0
    names = list(sets) if args.test else ["dev-tune(odd)", "cov-tune"]
    print(f"{'setting':<34}" + "".join(f"{n:>17}" for n in names))
    print(row("without links", HybridSearcher(library, embedder, weights=weights(0.0, 0.0)), sets, names))
    print(row("with links (DEFAULT_WEIGHTS)", HybridSearcher(library, embedder), sets, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
