"""How a block is built: its anchor, where it stops, how it opens (real model, shipped index, no LLM)."""

from __future__ import annotations

import re

from assistant.extractive import _new_item_after, _restates, dangling_opener, item_number


def first_block(a) -> str:
    """The quotes of the answer's first community, joined."""
    line = a.answer.split("\n")[1]
    assert line.startswith("1. ")
    return "".join(c.quote for c in a.citations if f"{c.quote}[{c.n}]" in line)


RESULT = "截至目前,文涵路商业街月亮河沿街商铺3个停车场的智能道闸系统全部完成安装调试,正式投入运行。"


def test_a_result_a_name_or_an_inline_heading_does_not_anchor_a_how_to_block(answerer):
    ex = answerer.extractor
    assert ex.roles_of(RESULT)["成效"] > ex.roles_of(RESULT)["做法"]
    assert not ex.can_anchor(RESULT, fact=False)  # what came of the measure, not the measure
    assert ex.can_anchor(RESULT, fact=True)  # ... which is what a look-up asks for
    assert not ex.can_anchor("二陆家风堂(平复苑6号楼道)。", fact=False)  # a name
    assert not ex.can_anchor('健全"服务监督"体系。', fact=False)  # an inline heading
    assert ex.can_anchor("最终经征询,同意使用维修资金。", fact=False)  # short, but a measure
    assert not ex.can_anchor("通过" + "协商" * 200 + "。", fact=False)  # a run-on paragraph


def test_a_how_to_block_leads_with_the_measure_not_its_result(answerer):
    # 第三街区's passage ends with the result sentence, which echoes the question most
    # (停车场, 商业街); the block must give the 方案 that led to it
    a = answerer.ask("商业街旁边几个公共停车场是免费的，结果被车长期霸着，顾客来了没地方停，商户生意受影响，怎么整治？")
    assert a.answered
    assert not a.citations[0].quote.startswith("截至目前")
    assert "差异化停车收费" in first_block(a)


def test_a_block_stops_before_the_next_item_of_the_script(answerer):
    a = answerer.ask("楼上漏水把楼下墙泡发霉了，几家人互相推，居委会怎么快速查到源头，以后这类纠纷又怎么有章可循？")
    block = first_block(a)
    assert "《漏水纠纷处置流程》" in block
    assert "三级响应" not in block  # the script's next point (联席会议 for complex disputes)
    a = answerer.ask("社区公共区域的休息座椅坏了，业委会说该物业修，物业说该业委会牵头，钱谁出一直定不下来，怎么办？")
    block = first_block(a)
    assert "爱心座椅认领" in block and "第三重挑战" not in block


def test_a_block_reads_on_through_a_list_it_has_started(answerer):
    # "一是…;二是…。三是…" is one measure in three steps, not three points
    a = answerer.ask("地下车库里堆了一大堆没人要的破电瓶车、自行车，占地方还有隐患，怎么清又不侵犯车主权益？")
    block = first_block(a)
    assert "一是" in block and "二是物业对废弃" in block and "保留车主权益" in block
    # ... and so is "职能部门:…;居委会:…;业委会:…;物业:…"
    a = answerer.ask("邻居窗前的树要移走，涉及绿化审批，居委会、业委会、物业各管什么？")
    block = first_block(a)
    assert block.startswith("职能部门") and "居委会:牵头意见征询" in block and "物业:执行迁移" in block


def test_a_speaker_is_not_a_new_point(answerer):
    # '最开始商户抵触:"管那么多干嘛?…"' goes on with the measure (the 最美商户 contest)
    a = answerer.ask("街面上餐饮店油烟大、周末促销把音响开到最大，商户觉得我们多管闲事，硬管又管不动。有没有让商家自己约束自己的办法？")
    block = first_block(a)
    assert "《三区融合公约》" in block and "最美商户" in block


def test_item_numbers():
    assert item_number("二是物业对废弃车辆进行登记。") == (2, ("一是",))
    assert item_number("第三重挑战:资源分散。") == (3, ("第二",))
    assert item_number("（二）建立议事会。") == (2, ("(一)", "（一）"))
    assert item_number("12、建立台账。") == (12, ("11、", "11．", "11."))
    assert item_number("③入户走访。") == (3, ("②",))
    assert item_number("一是通过旧车换物。") == (1, ())
    assert item_number("文化服务融隔阂:一是开设社区学堂。") is None


def test_a_block_does_not_read_back_out_of_the_item_it_opens_with():
    assert _new_item_after("介于第一部电梯的成功,2023年开启了第二台。", '24个旧改问题清单:聚焦百姓关切,围绕"24个旧改问题清单"。')
    assert not _new_item_after("二是就业支持赋能,帮助完善简历。", "三是网格力量联动,促进邻里互助。")  # the same list
    assert _new_item_after("有人把车停楼道。", "三是网格力量联动,促进邻里互助。")
    assert not _new_item_after("职能部门(绿化、城管):负责合法性审核;", "居委会:牵头意见征询、公示协调;")
    assert not _new_item_after("为推进移风易俗,推动建立四三工作法。", "一是坚持三问察民情。")  # its lead-in
    assert not _new_item_after("经现场确认,关闭了水表阀门。", "上午9:00左右,业主回家打开门。")  # a time, not a label


def test_an_opener_that_names_the_problem_is_cut():
    s = "为破解这一难题,居民区党总支主动跨前,邀请商户认领座椅。"
    assert s[dangling_opener(s) :] == "居民区党总支主动跨前,邀请商户认领座椅。"
    assert dangling_opener("为了解决停车难,我们新建了立体车库。") is None  # names its own aim


def test_a_block_restates_a_quote_only_from_where_that_quote_began():
    p = None
    shown = [("c1", 100, 300)]
    assert _restates("c1", [(100, 200, p), (200, 300, p)], shown)  # the same block again
    assert not _restates("c1", [(150, 300, p)], shown)  # the part of it that answers, from a later sentence
    assert not _restates("c1", [(100, 350, p)], shown)  # reads on past it
    assert not _restates("c2", [(100, 300, p)], shown)


def _passages(text: str, cuts: list[int], section: tuple[str, ...] = ("一、做法",)) -> list:
    from assistant.chunking import Passage

    bounds = [0, *cuts, len(text)]
    return [Passage("c", a, b, text[a:b], section, "t") for a, b in zip(bounds, bounds[1:])]


def test_a_citation_mark_stands_at_a_sentence_end_not_at_the_index_s_seam():
    from assistant.extractive import running

    text = '建立"1+3+X"模式:"1"即党组织;"3"即三驾马车。实行奖励机制。对简办的居民给予奖励。现已完工,可正常使用。第二台电梯也已完成。'
    inside = text.index('3"即')  # the index cut a sentence at a clause, before an opening quote
    heading = text.index("对简办")  # ... right after an inline heading (one short clause)
    sentence = text.index("第二台")  # ... at the end of a sentence of two clauses
    ps = _passages(text, [inside, heading, sentence])
    pieces = [(p.start, p.end, p) for p in ps]
    got = running(text, pieces)
    assert [text[s:e] for s, e, _ in got] == [text[:sentence], text[sentence:]]
    assert got[0][2] is ps[0]  # the merged piece keeps its first passage (its section label)
    # not across a paragraph, nor across a section
    para = "第一段说的做法。\n第二段另说一件事,也很长。"
    nl = para.index("\n")
    ps = _passages(para, [nl + 1])
    assert len(running(para, [(0, nl, ps[0]), (nl + 1, len(para), ps[1])])) == 2
    one, two = _passages(text, [inside])
    other = type(two)("c", two.start, two.end, two.text, ("二、成效",), "t")
    assert len(running(text, [(one.start, one.end, one), (other.start, other.end, other)])) == 2


def test_an_answer_quotes_a_sentence_the_index_cut_as_one(answerer):
    # 东石's "1+3+X" sentence runs over two passages of the index; the mark stood between '"' and '3"即'
    a = answerer.ask("几个村的村民平移到同一个集中居住点，大家还是各认各的村，有事都回原村找，这个新点该由谁来管、怎么搭架子？")
    assert a.answered
    assert not re.search(r'[;；]"\[\d+\]', a.answer)
    quote = next(c.quote for c in a.citations if '"1"即' in c.quote)
    assert '"3"即' in quote


def test_a_look_up_quotes_the_figures_a_rhetorical_question_states(answerer):
    # 西林塔: "以一部电梯20万元为例,政府补贴30%(6万),剩下14万从哪里支出?" states the figures asked for
    # before it asks; a look-up quotes it (a how-to answer still skips the script's rhetorical questions)
    a = answerer.ask("小高层电梯用了十六年，想整体换新。一部电梯大概要多少钱？政府能补多少？", use_llm=False)
    assert a.answered
    quoted = "".join(c.quote for c in a.citations)
    assert "政府补贴30%(6万)" in quoted and "补贴15万/部" in quoted
    how = answerer.ask("老小区电梯老出故障，想整体换新，钱从哪里来，怎么推动？", use_llm=False)
    assert not any(c.quote.rstrip().endswith(("?", "？")) for c in how.citations[:1])
