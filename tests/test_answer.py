"""Extractive answers, refusal and follow-ups with the real default model on the shipped index."""

from __future__ import annotations

import gc
import json
import re
import shutil
import weakref

import pytest

from assistant.answer import FULL, NONE, PARTIAL, Answerer, Conversation, get_answerer
from assistant.grounding import MAX_REFERENCES, OUT_OF_SCOPE
from assistant.cli import main
from assistant.config import get_settings
from assistant.errors import InputError
from assistant.evaluation import evaluate_answers
from assistant.extractive import BLOCK_LINE, RESULT_LINE
from assistant.retrieval import HybridSearcher, is_lookup
from assistant.ui.render import PARTIAL_LINE
from assistant.roles import get_role_model

from conftest import CORPUS_DIR, INDEX_DIR, ROOT

DEV = [json.loads(x) for x in (ROOT / "eval" / "dev.jsonl").read_text("utf-8").splitlines() if x.strip()]
KEYS = ["question", "answered", "coverage", "uncovered", "mode", "answer", "citations", "references", "notices"]
CITATION_KEYS = ["n", "case_id", "case_title", "author", "section", "quote", "start", "end"]


@pytest.fixture(scope="module")
def answerer(monkeypatch_module):
    settings = get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR)
    return Answerer(HybridSearcher.from_settings(settings), settings)


@pytest.fixture(scope="module")
def monkeypatch_module():
    # no LLM in these tests, whatever the developer's environment says
    mp = pytest.MonkeyPatch()
    for name in ("ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_LLM_API_KEY"):
        mp.delenv(name, raising=False)
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def dev_answers(answerer):
    return [(item, answerer.ask(item["question"])) for item in DEV]


def test_every_citation_is_verbatim_at_its_offsets(answerer, dev_answers):
    n = 0
    for _, a in dev_answers:
        for c in a.citations:
            case = answerer.searcher.index.cases[c.case_id]
            assert case.text[c.start : c.end] == c.quote
            assert c.case_title == case.title and c.author == case.author_line
            assert "（" in c.author  # role and community travel with the name
            n += 1
    assert n > 150  # blocks quote whole spans: fewer, longer citations than sentence by sentence


def blocks_of(a) -> list[list]:
    """The citations of each block of an extractive answer: [measure…, result?] per community."""
    by_n = {c.n: c for c in a.citations}
    out: list[list] = []
    lines = a.answer.split("\n")
    if a.coverage == PARTIAL:  # the first line names what the scripts do not cover, then the lead
        assert lines[0].startswith("关于") and "讲稿" in lines[0] and "[" not in lines[0]
        lines = lines[1:]
    lines = lines[1:]
    for line in lines:
        cited = [by_n[int(n)] for n in re.findall(r"\[(\d+)\]", line)]
        if BLOCK_LINE.match(line):
            out.append(cited)
        else:
            assert RESULT_LINE.match(line) and len(cited) == 1, line
            out[-1].append(cited[0])
    return out


def test_extractive_answers_are_one_block_per_community(answerer, dev_answers):
    answered = [a for item, a in dev_answers if a.answered]
    assert len(answered) >= 75
    for a in answered:
        assert a.mode == "extractive"
        assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))
        lines = a.answer.split("\n")
        if a.coverage == PARTIAL:  # a 部分 answer opens with what the scripts do not cover
            assert PARTIAL_LINE.match(lines[0]), lines[0]
            lines = lines[1:]
        assert "原文摘录" in lines[0] and "[" not in lines[0]  # the lead line names the communities, quotes nothing
        for c in a.citations:
            assert f"{c.quote}[{c.n}]" in a.answer  # every quote is followed by its marker
        blocks = blocks_of(a)
        assert 1 <= len(blocks) <= 3
        cases = [b[0].case_id for b in blocks]
        assert len(set(cases)) == len(cases), a.question  # one block per community
        heads = [x for x in lines[1:] if BLOCK_LINE.match(x)]
        for n, (line, block) in enumerate(zip(heads, blocks), 1):
            case = answerer.searcher.index.cases[block[0].case_id]
            assert line.startswith(f"{n}. {case.community}")  # who/where first
            assert all(c.case_id == case.id for c in block)
        assert len(a.answer) <= 1200, a.question


def test_a_block_quotes_contiguous_sentences_in_script_order(answerer, dev_answers):
    """The measure is one contiguous span of the script (split only at paragraph and passage
    boundaries), trimmed at sentence boundaries; the result, if any, reports a number."""
    for _, a in dev_answers:
        if not a.answered:
            continue
        for block in blocks_of(a):
            case = answerer.searcher.index.cases[block[0].case_id]
            result = block[-1] if len(block) > 1 and f"成效：{block[-1].quote}" in a.answer else None
            measure = [c for c in block if c is not result]
            for x, y in zip(measure, measure[1:]):
                assert x.end <= y.start and case.text[x.end : y.start].strip() == "", (a.question, x.quote, y.quote)
            first, last = measure[0], measure[-1]
            assert case.text[last.end - 1] in "。！？!?；;…\"”’')）】》" or last.end == len(case.text) or case.text[last.end] == "\n"
            # what precedes it ends a sentence, a clause ("为此," cut off) or a list marker ("一是", "2、")
            before = re.sub(r"(?:[一二三四五六七八九十]是|第[一二三四五六七八九十]+步?)$", "。", case.text[max(0, first.start - 8) : first.start])
            assert not before or before[-1] in "。！？!?；;…\"”’')）】》,，:：、\n", (a.question, before, first.quote[:10])
            if result is not None:
                assert re.search(r"\d", result.quote) and not measure[0].start <= result.start < measure[-1].end


# Openers that lean on a sentence the reader does not see; a page marker is a PDF leftover.
DANGLING = ("例如", "比如", "为此", "对此", "因此", "所以", "于是", "同时", "此外", "另外", "通过这些", "通过以上", "通过上述",
            "针对这", "针对此", "针对上述", "了解情况后", "在此基础上", "这样", "这也", "这些", "此外", "但", "而且", "并且",
            "其次", "最后", "然后", "接着", "随后", "他们", "也", "还")


def test_no_block_starts_with_a_dangling_connective_or_holds_a_page_marker(dev_answers):
    """Over every dev answer: each block's first quote reads on its own; no quote carries a page marker."""
    starts = 0
    for item, a in dev_answers:
        assert not re.search(r"【\s*P\s*\d+\s*】|\*\*", a.answer), a.question
        if not a.answered:
            continue
        for block in blocks_of(a):
            start = block[0].quote
            assert not start.startswith(DANGLING), (a.question, start[:20])
            starts += 1
    assert starts >= 100


def test_the_lead_line_names_what_the_communities_did_in_their_own_words(answerer):
    a = answerer.ask("老小区里有人装地锁占公共车位，怎么清理？")
    lead = a.answer.split("\n")[0]
    case = answerer.searcher.index.cases[a.citations[0].case_id]
    named = re.findall(r"“(.+?)”", lead)
    assert named and any(named[0] in s.title for s in case.sections)  # a heading of the script, verbatim
    assert "地锁" in named[0]


def test_answer_is_relevant(answerer):
    a = answerer.ask("老小区里有人装地锁占公共车位，怎么清理？")
    assert a.answered
    assert a.citations[0].case_id == "sj2025-01"  # 蓝天二村 removed 146 locks
    assert "地锁" in a.answer and "蓝天二村" in a.answer


@pytest.mark.parametrize(
    "question",
    ["股票怎么开户？", "下周会有台风吗？", "怎么学好英语口语？", "明天上海会下雨吗"],
)
def test_off_domain_questions_are_out_of_scope_with_example_questions(answerer, question):
    a = answerer.ask(question)
    assert not a.answered and a.coverage == NONE and a.off_domain
    assert a.answer.startswith(OUT_OF_SCOPE)
    assert a.citations == [] and a.references == []
    examples = [x for x in a.answer.splitlines() if x.startswith("· ")]
    assert len(examples) == 3
    # the example questions come from topics the scripts share, and the scripts do cover them
    for line in examples:
        assert answerer.ask(line[2:]).coverage != NONE


@pytest.mark.parametrize(
    "question, topic",
    [("社区里的公共Wi-Fi总是断，找谁修？", "Wi-Fi"), ("低保怎么申请", "低保"), ("湿垃圾破袋率怎么提高", "破袋率")],
)
def test_in_domain_question_the_scripts_do_not_cover_says_so_first(answerer, question, topic):
    a = answerer.ask(question)
    n = len(answerer.searcher.index.cases)
    assert not a.answered and a.coverage == NONE and not a.off_domain
    first = a.answer.splitlines()[0]
    assert first.startswith(f"这 {n} 篇讲稿没有讲到") and topic in first and topic in a.uncovered[0]
    # no numbered citations: the nearest cases are 可参考 references, clearly separated
    assert a.citations == [] and not re.search(r"\[\d+\]", a.answer)
    assert 1 <= len(a.references) <= MAX_REFERENCES
    assert len({r.case_id for r in a.references}) == len(a.references)
    body = a.answer.split("\n\n", 1)[1]
    assert body.startswith("可参考")
    for r in a.references:
        case = answerer.searcher.index.cases[r.case_id]
        assert case.text[r.start : r.end] == r.quote and f"《{r.case_title}》" in body and r.why in body
    assert a.gap() == {
        "question": question, "coverage": "none", "concepts": a.judgement.focal,
        "topics": [u.lower() for u in a.uncovered], "uncovered": a.uncovered,
    }


def test_partly_covered_question_answers_the_covered_part_and_names_the_rest(answerer):
    a = answerer.ask("飞线充电整治以后电瓶车的保险怎么买")
    assert a.answered and a.coverage == PARTIAL and a.uncovered == ["保险"]
    assert a.citations and "飞线" in a.answer
    assert a.answer.splitlines()[0] == "关于保险，讲稿中没有涉及。"  # first: eval/blind/round20
    b = answerer.ask("社区想办老年食堂，怎么弄？")  # two scripts run canteens: what they say is quoted first
    assert "食堂" in b.citations[0].quote


def test_covered_question_is_full_and_not_a_gap(answerer):
    a = answerer.ask("小区停车位不够，外来车辆多怎么办？")
    assert a.answered and a.coverage == "full" and a.uncovered == [] and a.references == []
    assert a.gap() is None


def test_a_follow_up_does_not_repeat_what_its_question_already_heard_the_scripts_lack(answerer):
    conv = Conversation()
    first = answerer.ask("飞线充电整治以后电瓶车的保险怎么买", conv, use_llm=False)
    assert first.coverage == "partial" and "关于保险，讲稿中没有涉及。" in first.answer
    again = answerer.ask("他们要是一直闹呢", conv, use_llm=False)  # carries the first question, gap and all
    assert again.coverage == "partial" and again.uncovered == first.uncovered
    assert "讲稿中没有涉及" not in again.answer and again.citations


def test_a_follow_up_that_points_back_to_a_group_is_answered_in_the_conversation(answerer):
    # followups_r4 e032 (written blind): "对这帮人…" names 物业 and runs long, but asks about the people the
    # 道闸 answer spoke of; read alone it was 没有 "肯定压不住"
    conv = Conversation()
    first = answerer.ask("小区装了道闸开始收停车费，可有一批老住户就是不交，天天跟保安吵，车照样往里开。", conv, use_llm=False)
    assert "拒不缴费的车主进行现场教育" in first.answer
    then = answerer.ask("对这帮人后来是怎么弄的？光靠物业肯定压不住吧。", conv, use_llm=False)
    assert then.follows and then.coverage != NONE
    assert "拒不缴费的车主进行现场教育" in then.answer


def test_a_funeral_named_as_people_say_it_is_the_conversations_topic(answerer):
    # followups_r4 e028 (written blind): jieba's dictionary tags 丧事 a verb, so "…定个丧事简办的公约" left the
    # conversation's topic at 老人, and "光有公约怕没人守…" was searched with 老人 (平复苑's 平安课堂); 丧事 / 白事 /
    # 红白事 / 大操大办 are now the taxonomy's words for 移风易俗, as 丧葬 and 红白喜事 were
    conv = Conversation()
    answerer.ask("小区里老人过世，家里还按村里老规矩在楼下搭棚摆酒，邻居意见很大。", conv, use_llm=False)
    second = answerer.ask("我们打算跟居民商量定个丧事简办的公约。", conv, use_llm=False)
    assert "丧事" in second.topic
    then = answerer.ask("光有公约怕没人守，还能配点什么措施？", conv, use_llm=False)
    assert then.follows and "丧事" in then.search_question
    assert "对遵守丧事简办公约的居民进行一定的现金奖励" in then.answer


def test_a_follow_up_to_a_not_covered_question_is_judged_on_its_own(answerer):
    chat = Conversation()
    first = answerer.ask("社区里的公共Wi-Fi总是断，找谁修？", chat)
    assert first.coverage == NONE
    a = answerer.ask("那停车位不够呢？", chat)
    assert a.search_question == a.question  # nothing carried over from the 没有 turn
    assert a.coverage != NONE and "wi-fi" not in a.search_question.lower()
    assert len(chat.turns) == 2 and chat.turns[0].coverage == NONE


def test_refusal_rates_on_dev_set(dev_answers):
    unanswerable = [a for item, a in dev_answers if not item["answerable"]]
    answerable = [a for item, a in dev_answers if item["answerable"]]
    assert sum(not a.answered for a in unanswerable) / len(unanswerable) >= 0.75
    assert sum(not a.answered for a in answerable) / len(answerable) <= 0.10


def test_every_dev_question_outside_the_scripts_is_not_covered(answerer):
    """The 8 unanswerable dev questions (个税, 高考, 科创板, 台风 …) are 没有, without citations."""
    for item in DEV:
        if not item["answerable"]:
            a = answerer.ask(item["question"])
            assert a.coverage == NONE and not a.answered and a.citations == [], item["question"]


def test_refusal_rates_on_short_held_out_questions(answerer):
    """eval/short.jsonl: 60 short questions (0/30 and 20/30 refused before the coverage judgement).

    With it: 5/30 answerable questions refused (their one specific word is a paraphrase the scripts
    never use: 废车 for 僵尸车, 宅子, 唱戏 …) and 23/30 unanswerable ones; the issue's targets are
    ≤ 0.05 and ≥ 0.85 (eval/coverage_results.md).
    """
    items = [json.loads(x) for x in (ROOT / "eval" / "short.jsonl").read_text("utf-8").splitlines() if x.strip()]
    report = evaluate_answers(answerer.ask, items, answerer.searcher.index.passages)
    assert report.counts["refused_answerable"] == report.counts["refused_unanswerable"] == 30
    assert report.metrics["refused_answerable"] <= 0.2
    assert report.metrics["refused_unanswerable"] >= 0.75


def test_first_block_holds_evidence_on_dev_set(answerer):
    """The first community's block holds a gold evidence string (0.725 when written; today's
    first group line 0.7625); its first quote lies in a gold-evidence passage (0.725; 0.65 without roles)."""
    report = evaluate_answers(answerer.ask, DEV, answerer.searcher.index.passages)
    assert report.metrics["first_block_evidence"] >= 0.68
    assert report.metrics["top_sentence_evidence"] >= 0.68


def test_how_to_answer_leads_with_a_measure_not_the_problem(answerer):
    # the script's sentence on this problem ("在办白事上依然保留着不少老规矩…搭棚、烧饭") echoes the
    # question most; the lead must be what the community did about it
    a = answerer.ask("农民上楼以后，有人在小区里搭棚办白事、摆酒席，居委会该怎么引导？")
    assert a.answered
    lead = a.citations[0].quote
    assert "老规矩" not in lead
    assert get_role_model().role(lead) in ("做法", "成效"), lead
    assert a.citations[0].case_id == "sj2025-19"  # 平复苑, whose 板凳课堂 took up the 白事 rules


def test_fact_questions_are_told_by_their_asking_clause():
    assert is_lookup("湖畔天地小区实际登记了多少辆车？车位缺口有多大？")
    assert is_lookup("蓝天二村排摸出多少辆僵尸车？剩下不肯开走的怎么处理的？")
    assert not is_lookup("商业街旁边几个公共停车场是免费的，结果被车长期霸着，怎么整治？")
    assert not is_lookup("网格该怎么划、每个网格配哪些人？")
    assert not is_lookup("小区停车难怎么办")
    # 好几年, 十几年 describe: a statement of how long, not a look-up
    assert not is_lookup("老电梯用了十几年，换新钱从哪来")
    assert not is_lookup("楼道堆物，反反复复好几年了")
    assert is_lookup("电梯换了几部？")


def test_json_shape(answerer):
    d = answerer.ask("楼道里飞线充电怎么治理？").to_dict()
    assert list(d) == KEYS
    assert d["mode"] == "extractive" and d["answered"] is True and isinstance(d["notices"], list)
    assert all(list(c) == CITATION_KEYS for c in d["citations"])
    json.dumps(d, ensure_ascii=False)


def test_follow_up_keeps_the_topic_and_prefers_the_cited_cases(answerer):
    chat = Conversation()
    first = answerer.ask("宅基地平移建房，农户钱不够怎么办？", chat)
    assert first.answered and {"宅基地", "平移"} <= set(chat.turns[-1].topic)
    cited = chat.turns[-1].cases
    a = answerer.ask("那钱从哪里来？", chat)
    # the conversation's topic is carried, not the question's incidental words ("以后 房子 分配 过去")
    assert a.search_question.startswith("那钱从哪里来？（") and "宅基地" in a.search_question
    assert any("上一轮" in n for n in a.notices)
    assert a.answered and a.citations[0].case_id == cited[0]  # the case already cited answers first
    assert "电梯" not in a.answer and "漏水" not in a.answer
    assert len(chat.turns) == 2


def test_follow_up_moves_on_instead_of_repeating(answerer):
    chat = Conversation()
    first = answerer.ask("加装电梯，一楼死活不签字怎么办", chat)
    again = answerer.ask("他要是一直不签呢", chat)
    # it names nothing of its own, so it presses the last question on: carried whole, 不签字 included
    assert again.answered and again.search_question == "他要是一直不签呢（加装电梯，一楼死活不签字怎么办）"
    assert again.answer != first.answer
    assert again.citations[0].quote != first.citations[0].quote
    # not the 签约仪式 block again: nothing of the last answer's first block leads this one
    opened = [c for c in first.citations if c.case_id == first.citations[0].case_id]
    lead = again.citations[0]
    assert not any(c.case_id == lead.case_id and c.start <= lead.start < c.end for c in opened)
    assert "签约仪式" not in lead.quote


def test_follow_up_answered_by_the_quoted_block_gets_the_part_that_answers(answerer):
    chat = Conversation()
    first = answerer.ask("老公房想加装电梯，一楼二楼不想出钱，高楼层又嫌摊得太多，出资比例一直定不下来。", chat)
    assert "谈不拢" in first.citations[0].quote  # the first answer already says who steps in
    again = answerer.ask("谈不拢谁出面？", chat)
    # the block opens at the sentence that names what is asked (出面), not where the last one opened
    assert again.citations[0].quote.startswith('"谈不拢"了再由居委会出面协商')
    assert again.citations[0].case_id == first.citations[0].case_id
    assert any("上一轮已引用" in n for n in again.notices)


def test_a_follow_up_the_earlier_quote_answers_best_gets_it_again_and_says_so(answerer):
    # the last answer's block already holds how the merchants were won over (最美商户, 商户自律联盟);
    # every passage not quoted yet scores far below it (extractive.STILL_ANSWERS): moving on would
    # lead with a weaker one (泰之家 service stations), so the block is said again, with a notice
    chat = Conversation()
    first = answerer.ask("沿街饭店、民宿油烟扰民、无证经营，我们和部门定了公约，商户不买账。", chat)
    again = answerer.ask("后来商户怎么愿意配合的？", chat)
    assert again.follows and again.citations[0].case_id == first.citations[0].case_id
    lead = "".join(c.quote for c in again.citations if c.case_id == again.citations[0].case_id)
    assert "最美商户" in lead
    assert any("仍是上一轮引用的原文" in n for n in again.notices)


def test_a_follow_up_does_not_quote_again_what_earlier_turns_of_the_matter_quoted(answerer):
    chat = Conversation()
    answerer.ask("小区群租整治搞了一轮，隔断拆了不少。", chat)
    answerer.ask("房东一开始抵触，是怎么做通工作的？", chat)
    assert chat.turns[-1].follows
    third = answerer.ask("拆完过一阵又偷偷隔回去，怎么盯住？", chat)
    said = [(c, a, b) for t in chat.turns[:2] for c, a, b in t.spans]
    lead = third.citations[0]
    assert not any(c == lead.case_id and a <= lead.start and lead.end <= b for c, a, b in said)


def test_a_follow_up_the_scripts_say_nothing_more_on_gets_the_block_again_and_says_so(answerer):
    chat = Conversation()
    first = answerer.ask("沿街烧烤店油烟熏到楼上居民，商户同意把排烟口改到楼顶，可二楼开酒店的怕噪音影响生意，一直卡着。", chat)
    again = answerer.ask("最后两家是怎么谈拢的？", chat)
    assert again.answered and again.citations  # not an empty answer
    if again.citations[0].quote == first.citations[0].quote:
        assert any("仍是上一轮引用的原文" in n for n in again.notices)


def test_a_question_naming_no_matter_keeps_the_topic_after_a_none_answer(answerer):
    from assistant.answer import Turn

    chat = Conversation()
    chat.turns = [Turn("老小区居民乱种树挡光，有户要求移树，别人反对。", "", "", coverage=NONE, topic=["移树", "老小区"])]
    hits = answerer.searcher.search("最后怎么协调的，反对的人怎么说服？", 8)
    # after a 没有 answer it is not a follow-up, but it names no matter of its own: the matter stays
    assert answerer.topic_after("最后怎么协调的，反对的人怎么说服？", hits, chat, False)[:2] == ["移树", "老小区"]
    assert "移树" not in answerer.topic_after("小区停车位不够怎么办？", answerer.searcher.search("小区停车位不够怎么办？", 8), chat, False)


def test_the_quoted_spans_of_a_matter_stop_at_the_question_that_opened_it():
    from assistant.answer import Turn

    chat = Conversation()
    chat.turns = [
        Turn("a", "a", "", spans=[("c1", 0, 10)]),
        Turn("b", "b", "", spans=[("c2", 0, 10)]),  # a new matter
        Turn("c", "c", "", spans=[("c2", 20, 30)], follows=True),
        Turn("d", "d", "", spans=[("c3", 5, 9)], follows=True),
    ]
    assert chat.quoted() == [("c3", 5, 9), ("c2", 20, 30), ("c2", 0, 10)]


def test_a_repeated_first_block_is_said_to_be_one():
    from assistant.answer import said_before
    from assistant.citations import Citation

    def cite(n, case, s, e):
        return Citation(case, "", "x" * (e - s), s, e, n)

    shown = [("c1", 0, 50), ("c2", 0, 20)]
    assert said_before([cite(1, "c1", 0, 50), cite(2, "c2", 0, 20)], shown)[0].startswith("第 1 条仍是上一轮引用的原文")
    assert "上一轮已引用" in said_before([cite(1, "c1", 10, 30)], shown)[0]
    assert said_before([cite(1, "c1", 40, 60)], shown) == []  # reads on past the earlier quote
    assert said_before([cite(1, "c3", 0, 5)], shown) == [] and said_before([], shown) == []


def test_a_follow_up_that_changes_topic_is_a_new_question(answerer):
    chat = Conversation()
    answerer.ask("小区停车位不够，外来车辆多怎么办？", chat)
    b = answerer.ask("对了，楼道堆物怎么治理？", chat)
    assert b.search_question == "楼道堆物怎么治理？" and not any("上一轮" in n for n in b.notices)
    assert "堆物" in b.answer
    c = answerer.ask("农村红白喜事大操大办，丧事还搭棚摆酒，村里怎么引导移风易俗？", chat)
    assert c.search_question == c.question
    d = answerer.ask("村里呢？", chat)  # short: leans on the conversation
    assert d.search_question != d.question and "移风易俗" in d.search_question


@pytest.mark.parametrize("question", ["", "   \n", "字" * 3000])
def test_bad_questions_are_input_errors(answerer, question):
    with pytest.raises(InputError):
        answerer.ask(question)


def test_cli_ask_json(capsys, monkeypatch_module):
    code = main(["ask", "楼道里飞线充电怎么治理？", "--json", "--index-dir", str(INDEX_DIR), "--corpus-dir", str(CORPUS_DIR)])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert list(d) == KEYS and d["citations"]


def test_cli_ask_text_and_empty_question(capsys, monkeypatch_module):
    assert main(["ask", "楼道里飞线充电怎么治理？", "--index-dir", str(INDEX_DIR), "--corpus-dir", str(CORPUS_DIR)]) == 0
    out = capsys.readouterr().out
    assert "出处：" in out and "[1]" in out
    assert main(["ask", "  ", "--index-dir", str(INDEX_DIR)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and "问题是空的" in err


def test_get_answerer_follows_the_index_version_and_frees_the_old_one(tmp_path, monkeypatch_module):
    """A published version replaces the process-wide answerer; the old one and its searcher can be freed
    (they were kept for ever when answerers were keyed by id(searcher))."""
    index = tmp_path / "index"
    current = (INDEX_DIR / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.copytree(INDEX_DIR / current, index / current)
    (index / "CURRENT").write_text(current + "\n", encoding="utf-8")
    settings = get_settings(corpus_dir=CORPUS_DIR, index_dir=index)
    first = get_answerer(settings)
    assert get_answerer(settings) is first
    other = get_answerer(get_settings(corpus_dir=CORPUS_DIR, index_dir=index, llm_timeout=5))  # same searcher
    assert other is not first and other.searcher is first.searcher
    first.ask("楼道里飞线充电怎么治理？")  # the statistics over the old index are computed and held
    old_answerer, old_searcher = weakref.ref(first), weakref.ref(first.searcher)

    # an update publishes a new version (here: the same content under a new name)
    shutil.copytree(index / current, index / "v-next")
    (index / "CURRENT").write_text("v-next\n", encoding="utf-8")
    second = get_answerer(settings)
    assert second is not first and second.searcher.index.version == "v-next"
    assert get_answerer(settings) is second
    del first, other
    gc.collect()
    assert old_answerer() is None and old_searcher() is None


def test_a_new_question_after_a_lift_question_is_not_a_follow_up():
    # the lift answer quotes 蓝天二村, whose script also speaks of parking elsewhere:
    # only the sections the answer quoted count as the conversation's context
    from assistant.answer import Conversation, ask

    chat = Conversation()
    ask("加梯费用怎么分摊", conversation=chat, use_llm=False)
    parking = ask("小区停车位不够，外来车辆多，怎么办？", conversation=chat, use_llm=False)
    assert parking.search_question == "小区停车位不够，外来车辆多，怎么办？"
    assert parking.coverage == "full" and not parking.uncovered


def test_the_same_question_again_gets_the_same_answer():
    from assistant.answer import Conversation, ask

    chat = Conversation()
    first = ask("加装电梯时低层住户反对，怎么协调？", conversation=chat, use_llm=False)
    again = ask("加装电梯时低层住户反对，怎么协调？", conversation=chat, use_llm=False)
    assert [c.quote for c in again.citations] == [c.quote for c in first.citations]


def test_a_follow_up_outside_the_scripts_words_continues_the_matter_if_the_scripts_then_cover_it(answerer):
    # "施工队偷工减料怎么防？" shares no word with 宅基地平移建房 and, read alone, is outside the scripts'
    # vocabulary; in this conversation it asks about the construction the 黄桥 case supervises
    chat = Conversation()
    answerer.ask("我们村要整村搞宅基地平移、集中建房，村民最担心的就是钱和房子质量。", chat, use_llm=False)
    answerer.ask("钱不够的农户怎么办？", chat, use_llm=False)
    a = answerer.ask("施工队偷工减料怎么防？", chat, use_llm=False)
    assert a.answered and a.follows and a.search_question.startswith("施工队偷工减料怎么防？（")
    assert not (a.judgement and a.judgement.off_domain)
    # a question the scripts do not cover however it is read stays a new matter, and 没有
    other = answerer.ask("孩子高考志愿填报有什么技巧？", chat, use_llm=False)
    assert other.coverage == NONE and not other.follows and other.search_question == "孩子高考志愿填报有什么技巧？"


def test_a_follow_up_gap_is_named_in_the_users_words_not_the_carried_topic(answerer):
    chat = Conversation()
    answerer.ask("我们社区跟景区连在一起，广场上三十来张休息椅子都坏了，业委会说该物业修，物业说该业委会牵头，拖了好久。", chat, use_llm=False)
    answerer.ask("那换椅子的钱最后谁出？", chat, use_llm=False)
    a = answerer.ask("现在换掉多少了？", chat, use_llm=False)
    assert "（" in a.search_question  # searched with the conversation's topic ...
    assert all("（" not in u and "业委会" not in u for u in a.uncovered)  # ... named in the user's own words
    if a.coverage == NONE:
        assert "（" not in a.answer.split("\n")[0]


@pytest.mark.parametrize("said, opens", [("你好", "您好！"), ("谢谢！", "不客气。"), ("谢谢你们的帮助", "不客气。"), ("好的", "好的。")])
def test_a_greeting_or_thanks_is_answered_in_kind_and_leaves_the_conversation_as_it_was(answerer, said, opens):
    chat = Conversation()
    answerer.ask("加装电梯，一楼死活不签字怎么办", chat, use_llm=False)
    reply = answerer.ask(said, chat, use_llm=False)
    # it used to be a follow-up that searched the lift question again and quoted it as 有
    assert not reply.answered and reply.social and reply.answer.startswith(opens) and not reply.citations
    assert reply.gap() is None  # no content gap for trainers
    assert len(chat.turns) == 1
    nxt = answerer.ask("他要是一直不签呢", chat, use_llm=False)  # the matter carries on
    assert nxt.follows and nxt.answered
    # a question that merely starts like one is a question
    assert not answerer.ask("你好，加装电梯一楼不同意怎么办？", use_llm=False).social


@pytest.mark.parametrize(
    "typed, read",
    [
        ("我是网格员。小区里遛狗不拴绳怎么办？", "小区里遛狗不拴绳怎么办？"),
        ("我是一名社工，老人过世家属要在楼下搭棚怎么办", "老人过世家属要在楼下搭棚怎么办"),
        ("我是居委会主任！加梯一楼不签字怎么办", "加梯一楼不签字怎么办"),
        ("我是无产证小区的书记，物业没人监督怎么办", "我是无产证小区的书记，物业没人监督怎么办"),  # a place they name stays
        ("我是网格员。", "我是网格员。"),  # nothing after it: left as typed
        ("我是说停车费太贵了", "我是说停车费太贵了"),
        # a greeting, an address and asking leave to ask open many a message to a trainer
        ("老师您好，想请教一下，小区停车难怎么办", "小区停车难怎么办"),
        ("大家好，我是村书记。村里垃圾分类怎么搞", "村里垃圾分类怎么搞"),
        ("老师好！我是一名社工，想问个问题：独居老人怎么探访", "独居老人怎么探访"),
        ("麻烦问下，群租房怎么整治？", "群租房怎么整治？"),
        ("请问小区停车难怎么办", "小区停车难怎么办"),
        ("老师资源从哪找", "老师资源从哪找"),  # an address is followed by a pause or a greeting
        ("咨询服务怎么开展", "咨询服务怎么开展"),
        ("问题是这样的：加梯一楼不签", "问题是这样的：加梯一楼不签"),
        ("老师，您好", "老师，您好"),  # nothing after it: left for the greeting's reply
    ],
)
def test_the_askers_introduction_is_who_asks_not_what_about(typed, read):
    from assistant.answer import without_introduction

    assert without_introduction(typed) == read


def test_an_introduced_question_names_no_post_as_a_gap(answerer):
    # holdout_r17 i038 (written blind) named "经理" as a part the scripts leave out
    got = answerer.ask("我是物业经理。老小区楼梯底下有好多小架空层，被几户人家堆东西、装门上锁成了私房。能不能统一收回来出租？要找哪个部门批？", use_llm=False)
    assert got.coverage == NONE and not any("经理" in u for u in got.uncovered)
    assert "讲稿没有讲到" in got.answer.splitlines()[0] and "经理" not in got.answer.splitlines()[0]
    assert got.question.startswith("我是物业经理")  # retrieval still reads who asks (a 村书记's question is a village's)


def test_courtesy_is_dropped_before_anything_reads_the_question():
    from assistant.answer import without_courtesy

    assert without_courtesy("老师您好，想请教一下，小区停车难怎么办") == "小区停车难怎么办"
    assert without_courtesy("我是网格员。老人摔倒怎么办") == "我是网格员。老人摔倒怎么办"  # who asks stays for retrieval


def test_asking_leave_to_ask_is_no_part_of_the_matter(answerer):
    # read as the question's own words, "请教" was named as a part the scripts leave out
    got = answerer.ask("老师您好，想请教一下，小区停车难怎么办", use_llm=False)
    assert got.coverage == "full" and "请教" not in got.answer and got.citations


def test_a_question_saying_the_money_is_short_is_answered_with_where_money_was_found(answerer):
    # issue 13's example: 黄桥村's 信用贷款 passage was 10th in retrieval, below the passages that echo
    # 宅基地平移建房, and the answer quoted its 公示 and 抓阄
    got = answerer.ask("宅基地平移建房，农户钱不够怎么办", use_llm=False)
    assert got.coverage == FULL
    assert got.citations[0].case_id == "sj2025-16" and "贷款" in got.citations[0].quote


def test_a_follow_up_asking_for_the_money_is_answered_from_the_script_of_the_matter(answerer):
    # it was 没有 ("没有讲到“那钱从哪里来”"): no sentence naming 宅基地 speaks of money, the 信用贷款 one
    # (under "抓好'摸着石头过河'的关键阶段") names neither 宅基地 nor 平移
    chat = Conversation()
    answerer.ask("宅基地平移归并，村里怎么做的", chat, use_llm=False)
    got = answerer.ask("那钱从哪里来？", chat, use_llm=False)
    assert got.follows and got.coverage == FULL
    assert got.citations[0].case_id == "sj2025-16" and "贷款" in got.citations[0].quote
