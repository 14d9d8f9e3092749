"""The bundled compilation parses into 21 cases with their metadata and sections."""

from __future__ import annotations

import re

import pytest

from assistant.corpus import CorpusError, clean_line, load_corpus, parse_compilation, strip_artefacts

from conftest import CORPUS_FILE

# Authors and titles as the body text gives them (not the OCR-damaged table of contents).
EXPECTED = [
    ("沈东", '红色业委会撬动老旧小区治理——蓝天二村"党建引领、人民共建"实践之路'),
    ("姚丽丽", '解码小镇如家:泰晤士小镇党建引领"三区"治理的烟火故事'),
    ("俞祝玲", "三驾马车同向发力,共同破解停车难题"),
    ("张叶", '从"平行线"到"同心圆":解锁在职党员参与社区治理的"金地密码"'),
    ("赵敏勇", '以"一棵树"的迁移实践 看基层治理的温度与深度'),
    ("陈君英", "党建引领圆梦换梯——松石苑小区电梯更新案例分享"),
    ("赵晨", "党建引领聚合力众治共管暖民心"),
    ("沈春欢", '丰富"全过程人民民主"基层实践"奥园四制"破解万人特大型社区治理难题'),
    ("姜丽娜", '文旅融合赋能乡村振兴——长溇村"三产联动"实践样本'),
    ("周静", '祥东社区"党建引领微网善治"工作法'),
    ("陈越", '借"力"做好无产证社区治理加减法'),
    ("陈晓燕", '"三个一"工作法——民益社区"绣花功夫"破难题的实践"针法"'),
    ("金春", '九亭镇亭南居民区:以党建"牵引力"激发自治共治"源动力",探索分片区业委会换届改选模式'),
    ("沈春峰", "打造艺术乡村,共创最美洙桥"),
    ("顾华丽", '党建引领下的乡村治理创新 鲁星村"三元共治"模式的实践与启示'),
    ("蒋苏叶", "坚守底线 尊重民意 科学规划 分步实施——黄桥村整村宅基地平移归并的实践与思考"),
    ("徐浩", "聚焦共享共治共赢 构建新农村建设新模式"),
    ("周春雨", "时光里,共成长——大居治理的探索与实践"),
    ("施英", '"小板凳"绘就社区治理"大文章"'),
    ("朱佳燕", '党建引领精准"三步法" 答好街区治理新课题'),
    ("顾文彬", "新力量•新融合 共绘发展同心圆"),
]


def test_twenty_one_cases_with_pinned_authors_and_titles(cases):
    assert [(c.author, c.title) for c in cases] == EXPECTED


def test_ids_are_stable_and_unique(cases):
    assert [c.id for c in cases] == [f"sj2025-{n:02d}" for n in range(1, 22)]


def test_metadata(cases):
    by = {c.author: c for c in cases}
    assert (by["沈东"].town, by["沈东"].community, by["沈东"].community_type, by["沈东"].role) == (
        "中山街道", "蓝天二村", "居民区", "党总支书记",
    )
    assert by["姚丽丽"].role is None and by["姚丽丽"].community == "泰晤士小镇"
    assert (by["沈春峰"].community, by["沈春峰"].community_type, by["沈春峰"].role) == ("洙桥村", "村", "党总支书记")
    assert by["蒋苏叶"].town == "泖港镇"  # the author line starts with 松江区
    assert (by["朱佳燕"].community, by["朱佳燕"].community_type) == ("第三街区", "街区")
    assert by["顾文彬"].town is None and by["顾文彬"].community_type == "街区"
    assert by["周静"].role == "党支部书记"
    assert {c.community_type for c in cases} == {"居民区", "村", "街区"}
    assert sum(c.community_type == "村" for c in cases) == 5


def test_instructors_including_those_on_the_last_paragraph_line(cases):
    assert all(c.instructor and c.instructor.startswith("区委党校") for c in cases)
    by = {c.author: c for c in cases}
    assert by["沈东"].instructor == "区委党校教研室主任、副教授徐文震"
    # these two scripts end with the instructor on the same line as the last paragraph
    assert by["姜丽娜"].instructor.endswith("郑迎")
    assert "指导老师" not in by["姜丽娜"].text and "指导老师" not in by["陈晓燕"].text
    assert by["姜丽娜"].text.rstrip().endswith("谢谢大家!")


def test_cover_preface_and_toc_are_skipped(cases):
    text = "".join(c.text for c in cases)
    assert "编者" not in text and "目 录" not in text
    assert "训练营采用" not in text  # preface
    assert cases[0].text.startswith("习近平总书记高度重视基层治理工作")


def test_section_tree(cases):
    by = {c.author: c for c in cases}
    shen = by["沈东"]
    top = [s.title for s in shen.sections if s.level == 1]
    assert top[:2] == ["一、老旧小区治理非常难,难在何处?", "二、组建红色业委会,红在哪里?"]
    sub = [s for s in shen.sections if s.title.startswith("(一) 坚持以人民为中心") or s.title == "(一)坚持以人民为中心的理念"]
    assert sub and sub[0].path[0].startswith("四、")
    steps = [s.title for s in by["张叶"].sections if s.title.startswith("第")]
    assert steps[:4] == [
        '第一步:排数据——给党员画张"能量图谱"',
        '第二步:听声音——搭个"说话的台子"',
        '第三步:碰火花——开个"头脑风暴会"',
        '第四步:搭平台——建个"供需对接站"',
    ]
    for c in cases:
        for s in c.sections:
            assert 0 <= s.start <= s.end <= len(c.text)
            assert c.text[s.start :].startswith(s.title.rstrip("。:：")[:10])
    assert sum(len(c.sections) > 0 for c in cases) >= 20


def test_a_scripts_own_ordinals_are_headings_and_a_numbered_sentence_is_not(cases):
    by = {c.author: c for c in cases}
    fruits = [s for s in by["张叶"].sections if "颗" in s.title[:4]]
    # "第三颗果:"1+1"伙伴卡——…" was glued to the paragraph after it, and the 1+1 passage filed under a list
    # item ("3、金地小区的信主任也是律师,…") that the answers then showed as the community's heading
    assert [s.title[:4] for s in fruits] == ["第一颗:", "第二颗果", "第三颗果", "第四颗果", "第五颗果"]
    assert all(s.level == 2 and s.path[0].startswith("三、") for s in fruits)
    items = [s for s in by["张叶"].sections if s.title.startswith("1、定期参加")]
    assert items and items[0].path[1].startswith("第一颗")  # its numbered items nest under it
    assert not any("信主任" in s.title or "倪主任" in s.title for s in by["张叶"].sections)
    assert not any(s.title.endswith(";") for c in cases for s in c.sections)


def test_page_breaks_and_stray_spaces_are_repaired(cases):
    shen = cases[0].text
    # a sentence broken across a page break is one sentence again
    assert "公建配套差,历史遗留问题多" in shen
    assert "为价值目标,及时解决基层群众的操心事" in shen
    # stray spaces inside numbers and words
    assert "开辟了600余个" in shen and "2020年12月成立的业委会党支部" in shen
    assert not re.search(r"\d [年月日个%]", "".join(c.text for c in cases))


def test_every_body_line_stays_quotable(cases):
    """Repairs only remove whitespace and PDF leftovers: every original line is in its case once
    whitespace, the page marker, Markdown bold and list dashes are ignored."""
    raw = CORPUS_FILE.read_text(encoding="utf-8").splitlines()
    squeezed = [re.sub(r"\s+", "", c.text) for c in cases]
    whole = "\n".join(squeezed)
    missing = []
    for line in raw[84:]:
        s = re.sub(r"^-|【P\d+】|\*\*", "", re.sub(r"\s+", "", line))
        if len(s) < 8 or "指导老师" in s:
            continue
        if s not in whole and not any(s.startswith(re.sub(r"\s+", "", c.title)[:8]) for c in cases):
            missing.append(line[:40])
    # only title and author lines are not body text
    assert len(missing) <= 25, missing[:5]
    assert all(not m.startswith(("一、", "我们", "在")) for m in missing)


def test_pdf_leftovers_are_removed_with_offsets_consistent(cases):
    text = "".join(c.text for c in cases)
    assert "【P" not in text and "**" not in text
    assert not any(c.text[p.start] in "-•" for c in cases for p in c.paragraphs)
    lu = next(c for c in cases if c.author == "顾华丽")
    # the page marker sat inside a sentence: the sentence reads on
    assert "着力开发用钓湾老街,区级各部门也依托2024年" in lu.text
    # headings that were wrapped in ** or opened by a list dash are headings again
    assert any(s.title.startswith("二是业主意见不统一") for c in cases for s in c.sections)
    for c in cases:
        for p in c.paragraphs:
            assert "\n" not in c.text[p.start : p.end]
        for s in c.sections:
            assert c.text[s.start :].startswith(s.title.rstrip("。:：")[:10])


def test_strip_artefacts():
    assert strip_artefacts("着力开发老街,【P15】区级各部门") == "着力开发老街,区级各部门"
    assert strip_artefacts("党总支**不把在职党员当外人**给他们") == "党总支不把在职党员当外人给他们"
    assert strip_artefacts("- 2、设议事平台") == "2、设议事平台"
    for page in ("15", " - 15 - ", "第 15 页", "15/120"):
        assert strip_artefacts(page) == ""
    # the author's own brackets, numbers and labels stay
    for keep in ("【第一步】排数据", "(P3)停车场", "2021年6月10日", "第三个关键词是法", "[1]"):
        assert strip_artefacts(keep) == keep


def test_a_page_number_line_inside_a_sentence_is_dropped_and_the_sentence_joined():
    raw = "标题\n中山街道蓝天二村居民区党总支书记沈东\n我们先开了居民会议,\n- 12 -\n再请律师**释法**。【P3】\n(指导老师:某某)"
    case = parse_compilation(raw, "x.txt", "x")[0]
    assert case.text == "我们先开了居民会议,再请律师释法。"


def test_clean_line_keeps_spaces_between_latin_words():
    assert clean_line("2022 年 open Day 活动") == "2022年open Day活动"
    assert clean_line("  \t") == ""


def test_garbled_document_gives_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="作者行"):
        parse_compilation("这不是讲稿\n\n只是一段话。", "x.txt", "x")
    bad = tmp_path / "bad.txt"
    bad.write_bytes("标题\n中山街道蓝天二村居民区党总支书记沈东\n正文".encode("gbk"))
    with pytest.raises(CorpusError, match="UTF-8"):
        load_corpus(tmp_path)
    with pytest.raises(CorpusError, match="没有文档"):
        load_corpus(tmp_path / "empty")
