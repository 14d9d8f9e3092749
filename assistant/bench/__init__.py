"""Benchmarks: retrieval quality against peer recipes, and speed as the corpus grows.

- :mod:`assistant.bench.quality` (``assistant bench quality``): our retriever
  against two widely copied recipes (:mod:`assistant.bench.peers`) on the
  same cases with the same embedder, so only the recipe differs;
- :mod:`assistant.bench.speed` (``assistant bench speed``): index build
  throughput, cold start, warm latency, and memory and latency at 1x the
  corpus and on synthetic 10x/100x corpora (:mod:`assistant.bench.synthetic`,
  one process per size: :mod:`assistant.bench.scale`), plus the speed and
  recall of approximate FAISS indexes; :mod:`assistant.bench.speed_report`
  writes the tables and plots.

Both write a Markdown table, a JSON file and a PNG plot into the folder given
with ``--out-dir`` (default ``<data dir>/bench``, see
:func:`assistant.bench.common.default_out_dir`), never into the package.

Example::

    >>> from pathlib import Path
    >>> from assistant.bench.quality import format_quality, run_quality, write_quality
    >>> result = run_quality(Path("eval/dev.jsonl"))        # doctest: +SKIP
    >>> write_quality(result, Path("bench"))                # doctest: +SKIP
"""
