"""Question–passage links: the bundled data, anchors that survive re-chunking and rebuilds,
adding and removing links (refused when bad, changing nothing), the CLI, and links an LLM
writes for new scripts (checked against the scripted server tests/fake_openai.py).

The stores' side (both backends answer the link routes alike) is in test_store_contract.py;
the UI's (a linked question changes the next answer) in test_ui_handlers.py and test_ui_browser.py.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from assistant import cli, indexing
from assistant.chunking import MAX_CHARS, chunk_cases
from assistant.config import get_settings
from assistant.corpus import load_corpus
from assistant.indexing import build_index
from assistant.ingest import add_documents
from assistant.linker import add_link, list_links, measure_passages, parse_reply, remove_link
from assistant.links import (
    ADDED_FILE,
    ANCHOR_MAX,
    ANCHOR_MIN,
    MAX_PER_PASSAGE,
    QUESTION_MAX,
    CaseText,
    LinkError,
    load_links,
    normalise,
    resolve,
)
from assistant.retrieval import HybridSearcher, is_lookup
from assistant.stores import open_store
from assistant.stores.base import staleness
from assistant.stores.files import current_dir

from conftest import CORPUS_DIR, CORPUS_FILE, FakeEmbedder
from fake_openai import Dynamic, FakeOpenAI, Reply, unused_port

CJK = re.compile(r"[\u4e00-\u9fff]")


def _span_overlap(span: tuple[int, int], p) -> int:
    return min(span[1], p.end) - max(span[0], p.start)


# ---------------------------------------------------------------------------
# the bundled links


@pytest.fixture(scope="module")
def bundled():
    return load_links(CORPUS_DIR)


def test_bundled_links_are_well_formed(bundled, cases):
    assert len(bundled) == 888
    assert len({link.id for link in bundled}) == len(bundled)
    by_case = {c.id: CaseText(c) for c in cases}
    for link in bundled:
        assert link.source == "bundled" and link.file == "links.jsonl"
        assert 4 <= len(link.question) <= QUESTION_MAX and CJK.search(link.question)
        assert ANCHOR_MIN <= len(normalise(link.anchor)) <= ANCHOR_MAX
        assert by_case[link.case_id].count(link.anchor) == 1, link  # verbatim and unique in its case
    # every case has links, and a linked passage has at least two questions
    resolved, unresolved = resolve(bundled, cases, chunk_cases(cases))
    assert not unresolved
    assert {r.link.case_id for r in resolved} == {c.id for c in cases}
    per_passage: dict[int, int] = {}
    for r in resolved:
        per_passage[r.passage] = per_passage.get(r.passage, 0) + 1
    assert min(per_passage.values()) >= 2


@pytest.mark.parametrize("max_chars", [MAX_CHARS, 90, 150, 400])
def test_every_link_resolves_to_the_passage_holding_its_anchor_after_rechunking(bundled, cases, max_chars):
    passages = chunk_cases(cases, max_chars)
    resolved, unresolved = resolve(bundled, cases, passages)
    assert not unresolved and len(resolved) == len(bundled)
    texts = {c.id: CaseText(c) for c in cases}
    for r in resolved:
        span = texts[r.link.case_id].find(r.link.anchor)
        assert span is not None
        mine = passages[r.passage]
        assert mine.case_id == r.link.case_id
        best = max(_span_overlap(span, p) for p in passages if p.case_id == mine.case_id)
        assert _span_overlap(span, mine) == best > 0
        if span[0] >= mine.start and span[1] <= mine.end:  # wholly inside: the anchor is in the passage's text
            assert normalise(r.link.anchor) in normalise(mine.text)


# ---------------------------------------------------------------------------
# links in a built index


@pytest.fixture
def linked(workdir: Path):
    """The bundled corpus and its links in a work folder, built with the fake embedder."""
    shutil.copy(CORPUS_DIR / "links.jsonl", workdir / "corpus" / "links.jsonl")
    settings = get_settings(corpus_dir=workdir / "corpus", index_dir=workdir / "index")
    embedder = FakeEmbedder()
    report = build_index(settings, embedder)
    return settings, embedder, report


def _holds_anchor(index, links) -> None:
    by_id = {link.id: link for link in links}
    cases = index.cases
    for row in index.links:
        link = by_id[row.id]
        span = CaseText(cases[link.case_id]).find(link.anchor)
        mine = index.passages[row.passage]
        best = max(_span_overlap(span, p) for p in index.passages if p.case_id == link.case_id)
        assert mine.case_id == link.case_id and _span_overlap(span, mine) == best > 0


def test_links_survive_a_rebuild_with_another_chunker(linked, monkeypatch):
    settings, embedder, first = linked
    links = load_links(settings.corpus_dir)
    assert (first.n_links, first.links_embedded, first.links_unresolved) == (888, 888, 0)
    index = open_store(settings).load(embedder.id)
    _holds_anchor(index, links)
    again = build_index(settings, embedder)
    assert (again.n_links, again.links_embedded, again.embedded) == (888, 0, 0)  # everything reused
    # passages of at most 120 characters: every link still lifts the passage holding its anchor
    monkeypatch.setattr(indexing, "chunk_cases", functools.partial(chunk_cases, max_chars=120))
    rechunked = build_index(settings, embedder)
    assert rechunked.n_passages > first.n_passages * 1.5
    assert (rechunked.n_links, rechunked.links_embedded, rechunked.links_unresolved) == (888, 0, 0)
    index = open_store(settings).load(embedder.id)
    _holds_anchor(index, links)


@pytest.fixture
def fake_model(monkeypatch) -> FakeEmbedder:
    """The CLI's jobs use the fake embedder the work folder was built with."""
    embedder = FakeEmbedder()
    monkeypatch.setattr(indexing, "get_embedder", lambda *a, **k: embedder)
    return embedder


def test_a_changed_links_file_makes_the_index_stale_and_status_counts_links(linked, fake_model, capsys):
    settings, embedder, _ = linked
    args = ["--corpus-dir", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    manifest = open_store(settings).read_manifest()
    assert staleness(settings, manifest, embedder.id) == []
    path = settings.corpus_dir / "links.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one link fewer
    assert staleness(settings, manifest, embedder.id) == ["关联问题已变化"]
    capsys.readouterr()
    assert cli.main(["index", "status", *args]) == 1
    out = capsys.readouterr().out
    assert "关联问题 888 条" in out and "关联问题已变化" in out


# ---------------------------------------------------------------------------
# adding a link: refused when bad, and nothing changes


def _target(settings):
    cases = load_corpus(settings.corpus_dir)
    passages = chunk_cases(cases)
    return next(p for p in passages if "共拆除地锁146把" in p.text)


BAD = [
    ("empty question", dict(question="   "), "关联问题是空的"),
    ("question too long", dict(question="怎么" * 41), "关联问题太长"),
    ("question too short", dict(question="停车"), "关联问题太短"),
    ("unknown case", dict(case_id="sj2025-99"), "没有编号为 sj2025-99 的案例"),
    ("not a passage", dict(start=3, end=7), "所选段落不在这个案例中"),
    ("no passage chosen", dict(start=None, end=None), "请选择要关联的段落"),
    ("anchor not found", dict(anchor="这句话根本不在讲稿里面出现过的"), "找不到锚点"),
    ("anchor not unique", dict(anchor="加强巡查排摸统计,持续整治僵尸车辆"), "出现了 2 次"),
    ("anchor too short", dict(anchor="地锁"), "锚点原文应为"),
]


@pytest.mark.parametrize("label, change, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_link_is_refused_in_chinese_and_changes_nothing(linked, label, change, message):
    settings, embedder, _ = linked
    target = _target(settings)
    version = current_dir(settings.index_dir)
    files = {p.name: p.read_bytes() for p in settings.corpus_dir.iterdir()}
    kwargs = dict(question="邻居私装地锁占车位，怎么拆才不吵架？", start=target.start, end=target.end)
    kwargs.update({k: v for k, v in change.items() if k != "case_id"})
    if "anchor" in change:
        kwargs.pop("start"), kwargs.pop("end")
    with pytest.raises(LinkError, match=message) as info:
        add_link(settings, change.get("case_id", target.case_id), embedder=embedder, **kwargs)
    assert CJK.search(str(info.value)) and "Traceback" not in str(info.value)
    assert current_dir(settings.index_dir) == version
    assert {p.name: p.read_bytes() for p in settings.corpus_dir.iterdir()} == files
    assert not (settings.corpus_dir / ADDED_FILE).exists()


def test_a_duplicate_of_a_bundled_link_is_refused(linked):
    settings, embedder, _ = linked
    bundled = next(link for link in load_links(settings.corpus_dir) if link.case_id == "sj2025-01")
    version = current_dir(settings.index_dir)
    with pytest.raises(LinkError, match=f"已经关联到这个段落了（编号 {bundled.id}）"):
        add_link(settings, bundled.case_id, " " + bundled.question + " ", anchor=bundled.anchor, embedder=embedder)
    assert current_dir(settings.index_dir) == version and not (settings.corpus_dir / ADDED_FILE).exists()


def test_a_link_is_stored_with_who_and_when_and_changes_the_search(linked):
    settings, embedder, first = linked
    # a passage of another script than the one the question's words point to
    target = next(
        p for p in chunk_cases(load_corpus(settings.corpus_dir))
        if p.case_id == "sj2025-12" and "网格" in p.text and len(p.text) > 150
    )
    question = "邻居私装地锁占车位，怎么拆才不吵架？"
    before = HybridSearcher(open_store(settings).load(embedder.id), embedder).search(question, k=10)
    assert target.key not in [h.passage.key for h in before]
    report = add_link(settings, target.case_id, question, start=target.start, end=target.end, user="wangli",
                      embedder=embedder)
    (stored,) = [json.loads(line) for line in (settings.corpus_dir / ADDED_FILE).read_text("utf-8").splitlines()]
    assert stored["question"] == question and stored["source"] == "user" and stored["user"] == "wangli"
    assert stored["created_at"] and stored["case_id"] == target.case_id
    assert normalise(stored["anchor"]) in normalise(target.text)
    assert report.build.n_links == first.n_links + 1 and report.build.links_embedded == 1
    after = HybridSearcher(open_store(settings).load(embedder.id), embedder).search(question, k=3)
    lifted = next(h for h in after if h.passage.key == target.key)
    assert lifted.parts.get("link_words") and lifted.parts.get("link_chars")
    anonymous = add_link(settings, target.case_id, "地锁拆了又装回去怎么办", start=target.start, end=target.end,
                         embedder=embedder)
    assert anonymous.link.user == "匿名"
    listed = list_links(settings, "user")
    assert [item.link.question for item in listed] == [question, "地锁拆了又装回去怎么办"]
    assert all(item.passage is not None and item.passage.key == target.key for item in listed)
    removed = remove_link(settings, report.link.id, embedder=embedder)
    assert removed.build.n_links == first.n_links + 1
    assert [item.link.id for item in list_links(settings, "user")] == [anonymous.link.id]


def test_cli_links_add_list_remove(linked, fake_model, capsys):
    settings, embedder, _ = linked
    args = ["--corpus-dir", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    anchor = "共拆除地锁146把,有效提高了小区停车位的利用效率"
    add = ["links", "add", "sj2025-01", "地锁拆不动，城管物业一起上行吗", "--anchor", anchor, "--user", "李四"]
    assert cli.main(["links", "add", "sj2025-01", "", "--anchor", anchor, *args]) == 2
    assert "关联问题是空的" in capsys.readouterr().err
    assert cli.main([*add, *args]) == 0
    out = capsys.readouterr().out
    assert "已关联" in out and "关联问题：889 条（新向量化 1）" in out
    assert cli.main(["links", "list", "--source", "user", "--json", *args]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["user"] == "李四" and item["passage"]["section"] and "146把" in item["passage"]["text"]
    assert cli.main(["links", "list", *args]) == 0
    assert "共 889 条" in capsys.readouterr().out
    assert cli.main(["links", "remove", "no-such", *args]) == 2
    assert "没有编号为 no-such 的关联问题" in capsys.readouterr().err
    assert cli.main(["links", "remove", item["id"], *args]) == 0
    assert "已删除关联问题" in capsys.readouterr().out
    assert cli.main(["links", "list", "--source", "user", *args]) == 0
    assert "没有来源为 user 的关联问题" in capsys.readouterr().out


def test_look_ups_are_told_from_how_to_questions():
    assert is_lookup("湖畔天地小区实际登记了多少辆车？")
    assert is_lookup("首届业委会是哪一年成立的？")
    assert not is_lookup("外来车辆多，车位不够，怎么办？")
    assert not is_lookup("商业街旁边几个公共停车场是免费的，车停满了，怎么整治？")  # asks how


# ---------------------------------------------------------------------------
# links an LLM writes for a new script (assistant add)


def _passages_of(prompt: str) -> list[str]:
    return re.findall(r"^\[(\d+)\] (.+)$", prompt, flags=re.M)


def _good_reply(body: dict) -> str:
    """Two good questions per passage, plus lines every check must drop."""
    prompt = body["messages"][-1]["content"]
    lines = []
    for n, text in _passages_of(prompt):
        plain = unicodedata.normalize("NFKC", text)
        excerpt = plain[: min(len(plain), 22)]
        lines += [f"{n}|{excerpt}|村民垃圾乱倒，有什么办法让他们主动分类？",
                  f"{n}|{excerpt}|垃圾分类积分能换些什么东西"]
        lines += [f"{n}|这段话根本不是原文里面的句子啊|党员怎么分片包干上门宣传？"]  # excerpt made up
        lines += [f"{n}|{excerpt}|好"]  # question too short
        lines += [f"{n}|{excerpt}|村民垃圾乱倒，有什么办法让他们主动分类？"]  # duplicate
        lines += [f"{n}|{excerpt}|问题{i}：怎么让分类准确率一直保持下去" for i in range(MAX_PER_PASSAGE)]  # over the cap
    lines.append("99|不存在的段落编号的原文摘录|这个问题没有段落")
    return "好的，以下是关联问题：\n" + "\n".join(lines)


@pytest.fixture
def empty_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return tmp_path


def _add_docx(root: Path, **llm) -> object:
    from test_ingest import make_docx

    path = make_docx(root / "新建村垃圾分类.docx")
    settings = get_settings(corpus_dir=root / "corpus", index_dir=root / "index", llm_timeout=5, **llm)
    return settings, add_documents([path], settings, embedder=FakeEmbedder())


def test_measure_passages_are_the_ones_describing_what_was_done():
    cases = load_corpus(CORPUS_DIR)
    passages = chunk_cases(cases)
    picked = measure_passages(passages)
    assert 0.4 < len(picked) / len(passages) < 0.8
    linked = {r.passage for r in resolve(load_links(CORPUS_DIR), cases, passages)[0]}
    keys = {p.key for p in picked}
    share = sum(passages[i].key in keys for i in linked) / len(linked)
    assert share > 0.85  # the passages the bundled links' writers chose, read by the role model


def test_add_with_an_llm_writes_checked_links(empty_corpus):
    with FakeOpenAI() as server:
        server.script(Dynamic(_good_reply))
        settings, report = _add_docx(empty_corpus, llm_base_url=server.base_url, llm_model="fake")
        prompt = server.requests[0]["body"]["messages"][-1]["content"]
    assert report.added and report.build is not None and not report.errors
    assert "关联问题" in prompt and "段落编号|" in prompt and "积分" in prompt
    written = report.links
    assert written is not None and written.notice is None
    n_passages = len(_passages_of(prompt))
    assert n_passages >= 1
    # two good questions per passage survive; made-up excerpts, short questions, duplicates,
    # questions over the per-passage cap and unknown passage numbers do not
    assert len(written.links) == n_passages * MAX_PER_PASSAGE
    assert written.rejected == n_passages * (3 + 2) + 1
    assert {link.source for link in written.links} == {"llm"}
    stored = load_links(settings.corpus_dir)
    assert [link.id for link in stored] == [link.id for link in written.links]
    assert report.build.n_links == len(written.links) and report.build.links_unresolved == 0
    case = next(iter(open_store(settings).load(FakeEmbedder.id).cases.values()))
    text = CaseText(case)
    assert all(text.count(link.anchor) == 1 for link in stored)


def test_add_with_a_garbage_reply_adds_the_script_without_links(empty_corpus):
    with FakeOpenAI() as server:
        server.script(Reply("抱歉，我无法完成这个任务。\n1|随便写写|好"))
        settings, report = _add_docx(empty_corpus, llm_base_url=server.base_url, llm_model="fake")
    assert report.added and report.build is not None and report.build.n_links == 0
    assert report.links is not None and report.links.links == [] and "不符合格式" in report.links.notice
    assert not (settings.corpus_dir / ADDED_FILE).exists()


def test_add_with_the_llm_down_adds_the_script_without_links(empty_corpus, capsys):
    settings, report = _add_docx(empty_corpus, llm_base_url=f"http://127.0.0.1:{unused_port()}/v1", llm_model="m")
    assert report.added and report.build is not None and report.build.n_links == 0
    assert "大模型生成关联问题失败" in report.links.notice
    assert not (settings.corpus_dir / ADDED_FILE).exists()


def test_add_without_an_llm_asks_nothing(empty_corpus):
    settings, report = _add_docx(empty_corpus)
    assert report.added and report.links is None and report.build.n_links == 0


def test_parse_reply_keeps_only_checked_lines(cases):
    case = next(c for c in cases if c.id == "sj2025-01")
    passages = chunk_cases([case])
    target = next(p for p in passages if "共拆除地锁146把" in p.text)
    other = next(p for p in passages if p is not target and len(p.text) > 60)
    reply = "\n".join([
        "1|共拆除地锁146把|地锁拆完以后车位怎么分",  # good, excerpt used as the anchor (15+ chars? no: too short)
        "1|对小区地锁进行了拆除|私装地锁怎么拆",  # good
        "2|共拆除地锁146把|地锁拆了多少",  # excerpt not in passage 2
        "1|共 拆 除 地 锁 1 4 6 把|地锁清理后怎么防反弹",  # spaces ignored
        "无编号的一行|原文|问题",
    ])
    links, rejected = parse_reply(reply, case, [target, other], passages, [])
    assert [link.question for link in links] == ["地锁拆完以后车位怎么分", "私装地锁怎么拆", "地锁清理后怎么防反弹"]
    assert rejected == 2
    text = CaseText(case)
    for link in links:
        span = text.find(link.anchor)
        assert span and target.start <= span[0] and span[1] <= target.end


def test_corpus_readme_names_the_links_file():
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert "links.jsonl" in readme and CORPUS_FILE.name in readme
