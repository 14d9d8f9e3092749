"""Tests for assistant.lexical (jieba + user dictionary + bm25s)."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant.lexical import STOPWORDS_PATH, USERDICT_PATH, LexicalIndex, LexicalIndexError, tokenize

# Short passages copied (lightly trimmed) from the corpus.
SNIPPETS = [
    # 0 parking
    "老旧小区停车难问题十分突出,一到下班时间,进出拥堵的现象,抢占车位吵架的声音,乱停乱放形成的矛盾,让小区居民意见很大。",
    # 1 flying-wire charging
    "整治飞线充电:蓝天二村由于没有充电桩,加上几千辆电瓶车,飞线充电现象非常普遍,整个小区高峰时有近五百根飞线。",
    # 2 lift installation
    "中山街道第一部加装电梯:楼道住户组成了加梯工作小组,与居委会工作人员一起开始了后续的意见征询、协商资金分摊比例等工作。",
    # 3 homestead consolidation
    "宅基地是农民安身立命之本,平移工作直接关系到家家户户的切身利益。全过程践行四议两公开制度,确保村民的知情权。",
    # 4 delivery riders / new employment groups
    "外卖骑手的工作节奏快,很难集中、固定休息,暖新商户成为服务新就业群体的暖心驿站和友好街区的服务窗口。",
    # 5 owners' committee
    "组建红色业委会,党总支书记兼任业委会副主任,业委会党支部由社区老党员担任书记,形成老中青三代党员的人才梯队。",
    # 6 lift replacement
    "8 部电梯历时一年,圆满完工。电梯更新极大提升了居民的生活品质和安全感。",
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(SNIPPETS)


def _top(index: LexicalIndex, query: str, k: int = 3) -> list[int]:
    return [i for i, _ in index.search(query, k)]


def test_data_files_are_well_formed() -> None:
    entries = [line.split() for line in USERDICT_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(entries) >= 150
    for parts in entries:
        assert len(parts) == 3 and parts[1].isdigit() and int(parts[1]) > 0, parts
    words = [p[0] for p in entries]
    assert len(words) == len(set(words))
    stop = set(STOPWORDS_PATH.read_text(encoding="utf-8").split())
    assert {"怎么", "怎么办", "如何", "什么", "我们"} <= stop
    # domain content words must never be stopwords
    assert not stop & {"小区", "社区", "居民", "物业", "电梯", "停车", "党员", "业委会", "治理"}


@pytest.mark.parametrize(
    "term",
    ["业委会", "飞线充电", "宅基地", "新就业群体", "三驾马车", "红色业委会", "楼组长", "老旧小区", "在职党员",
     "无产证", "平移归并", "积分制", "人居环境", "外卖骑手", "快递小哥", "微网格", "加装电梯", "电梯更新"],
)
def test_dictionary_terms_stay_whole(term: str) -> None:
    assert term in tokenize(f"关于{term}的做法")


def test_sub_words_are_emitted_for_recall() -> None:
    tokens = tokenize("加装电梯")
    assert {"加装", "电梯", "加装电梯"} <= set(tokens)
    assert {"就业", "群体", "新就业群体"} <= set(tokenize("新就业群体"))
    assert {"集中居住", "相对集中居住"} <= set(tokenize("相对集中居住"))  # 4-char sub-word of a 6-char term
    assert "老旧" in tokenize("老旧小区")


def test_stopwords_punctuation_dropped_numbers_kept() -> None:
    tokens = tokenize("我们小区飞线充电很严重,怎么办?有什么好办法吗？")
    for w in ("我们", "怎么", "怎么办", "什么", "吗", "，", "?", "？"):
        assert w not in tokens
    assert {"小区", "飞线充电", "严重"} <= set(tokens)
    assert tokenize("2022年有80%居民同意") == ["2022", "年", "80", "居民", "同意"]


def test_normalisation() -> None:
    assert tokenize("ＡＢＣ　１２３") == ["abc", "123"]  # full-width -> NFKC, lower-case
    assert tokenize("1+3+N工作模式")[0] == "1+3+n"
    assert tokenize("") == [] and tokenize("   ，。！") == [] and tokenize("怎么办？") == []


def test_tokenize_thread_safe() -> None:
    texts = SNIPPETS * 8
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(tokenize, texts))
    assert results == [tokenize(t) for t in texts]


def test_partial_query_finds_compound(index: LexicalIndex) -> None:
    top = _top(index, "电梯")
    assert set(top[:2]) == {2, 6}
    assert _top(index, "加装电梯")[0] == 2
    assert _top(index, "电梯更新")[0] == 6


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我们小区停车难怎么办？", 0),
        ("电瓶车飞线充电有什么办法", 1),
        ("农村宅基地平移怎么做", 3),
        ("如何服务外卖骑手和快递小哥", 4),
        ("新就业群体", 4),
        ("红色业委会怎么组建", 5),
        ("业委会", 5),
    ],
)
def test_ranking_sanity(index: LexicalIndex, query: str, expected: int) -> None:
    assert _top(index, query)[0] == expected


def test_search_contract(index: LexicalIndex) -> None:
    assert len(index) == len(SNIPPETS)
    assert index.search("", 5) == []
    assert index.search("怎么办？", 5) == []  # only stopwords
    assert index.search("量子计算机", 5) == []  # no known tokens
    assert index.search("电梯", 0) == []
    hits = index.search("小区 电梯 业委会 宅基地", 100)  # k larger than corpus
    assert 0 < len(hits) <= len(SNIPPETS)
    scores = [s for _, s in hits]
    assert all(s > 0 for s in scores) and scores == sorted(scores, reverse=True)
    assert all(isinstance(i, int) and isinstance(s, float) for i, s in hits)
    assert len(index.search("小区 电梯 业委会 宅基地", 2)) == 2


def test_build_empty_corpus_raises() -> None:
    with pytest.raises(LexicalIndexError):
        LexicalIndex.build([])
    with pytest.raises(LexicalIndexError):
        LexicalIndex.build(["。。", "怎么办？"])
    assert LexicalIndex.build(["。。", "加装电梯"]).search("电梯", 5)[0][0] == 1  # empty docs are fine


def test_save_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert len(loaded) == len(index)
    assert loaded.vocabulary == index.vocabulary
    for q in ["电梯", "停车难", "新就业群体", "红色业委会 党员", "宅基地", "无关内容"]:
        assert loaded.search(q, 5) == index.search(q, 5)


def test_load_missing_raises(tmp_path: Path) -> None:
    with pytest.raises(LexicalIndexError, match="missing"):
        LexicalIndex.load(tmp_path / "nope")


@pytest.mark.parametrize("victim", ["lexical_meta.json", "vocab.index.json", "params.index.json",
                                    "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"])
@pytest.mark.parametrize("damage", ["delete", "garbage", "truncate"])
def test_corrupt_files_raise(index: LexicalIndex, tmp_path: Path, victim: str, damage: str) -> None:
    d = tmp_path / "lex"
    index.save(d)
    f = d / victim
    if damage == "delete":
        f.unlink()
    elif damage == "garbage":
        f.write_bytes(b"\x00not an index\xff")
    else:
        f.write_bytes(f.read_bytes()[: max(1, f.stat().st_size // 2)])
    with pytest.raises(LexicalIndexError):
        LexicalIndex.load(d)


def test_inconsistent_meta_raises(index: LexicalIndex, tmp_path: Path) -> None:
    d = tmp_path / "lex"
    index.save(d)
    meta = json.loads((d / "lexical_meta.json").read_text())
    meta["n_docs"] += 1
    (d / "lexical_meta.json").write_text(json.dumps(meta))
    with pytest.raises(LexicalIndexError, match="inconsistent"):
        LexicalIndex.load(d)


def test_search_on_1000_docs_returns_finite_ranked_scores() -> None:
    text = Path(__file__).resolve().parents[1].joinpath(
        "corpus", "songjiang_yixian_daoshi_2025-10_jianggao.txt").read_text(encoding="utf-8")
    paras = [p for p in text.split("\n") if len(p.strip()) > 20]
    docs = (paras * (1000 // len(paras) + 1))[:1000]
    idx = LexicalIndex.build(docs)
    for q in ["老旧小区停车难怎么办", "加装电梯资金分摊", "飞线充电", "新就业群体服务", "宅基地平移归并"]:
        hits = idx.search(q, 10)
        assert len(hits) == 10
        assert np.isfinite([s for _, s in hits]).all()


def test_document_weights_sum_to_the_bm25_score(index: LexicalIndex) -> None:
    """What the Milvus store stores: per document, each term's BM25 contribution.
    A query's count vector dotted with them is the score the index computes itself."""
    weights = index.document_weights()
    terms = index.terms()
    assert len(weights) == len(SNIPPETS) and len(set(terms)) == len(terms) and "" not in terms
    assert all(0 <= t < len(terms) and w > 0 for row in weights for t, w in row.items())
    for query in ["电梯 电梯 更新", "红色业委会 党员", "小区停车难", "量子计算机"]:
        tokens = tokenize(query)
        counts: dict[int, int] = {}
        for t in index.term_ids(tokens):
            counts[t] = counts.get(t, 0) + 1
        expected = index.scores_of_tokens(tokens)
        got = [sum(n * row.get(t, 0.0) for t, n in counts.items()) for row in weights]
        assert got == pytest.approx(expected.tolist(), rel=1e-6, abs=1e-7)
    assert terms == [t for t, _ in sorted(index.vocabulary.items(), key=lambda x: x[1]) if t]


def test_fingerprint_follows_the_statistics(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    assert LexicalIndex.load(tmp_path / "lex").fingerprint() == index.fingerprint()
    assert LexicalIndex.build(SNIPPETS).fingerprint() == index.fingerprint()
    # one more document changes every weight (document count, average length, frequencies)
    assert LexicalIndex.build(SNIPPETS + ["社区食堂"]).fingerprint() != index.fingerprint()
