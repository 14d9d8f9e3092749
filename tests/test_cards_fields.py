"""Card fields (issue 14): what a problem, a measure and an outcome is not, on the real scripts.

The figures against eval/cards_gold.jsonl are printed by eval/cards_eval.py (eval/cards_eval.md).
"""

from __future__ import annotations

import re

from assistant.cards import LESSONS, MEASURES, OUTCOMES, SITUATION, asks, heading_role


def test_a_heading_names_its_part_only_with_a_word_for_a_kind_of_part():
    assert heading_role("二、具体做法:三个关键词") == MEASURES
    assert heading_role('二、"六大路径"破解治理难题') == MEASURES
    assert heading_role("三、工作成效") == OUTCOMES
    assert heading_role("四、实践感悟") == LESSONS  # lessons first: a reflection on practice
    assert heading_role("三、启示与思考") == LESSONS
    assert heading_role("一、社区概况与治理挑战") == SITUATION
    assert heading_role("二、组建红色业委会,红在哪里?") is None  # read by its sentences
    assert heading_role("三、基层治理见实效,实在何方?") is None
    assert heading_role("二、融合各力,巧破社区治理裉节") == MEASURES
    assert heading_role('一、为什么"党建引领"是破解裉节的核心密码?') is None  # a heading that asks argues its point


def test_part_roles_follow_the_headings_that_name_them(cards):
    parts = {p.title: p.role for p in cards["sj2025-06"].story.parts}
    assert parts["二、具体做法:三个关键词"] == MEASURES and parts["三、工作成效"] == OUTCOMES
    assert parts["四、实践感悟"] == LESSONS
    # the card's measures come from the part named 具体做法, its problem from before it
    story = cards["sj2025-06"].story
    measures_part = next(p for p in story.parts if p.title.startswith("二、具体做法"))
    assert any(measures_part.start <= m.citation.start < measures_part.end for m in cards["sj2025-06"].measures)
    assert all(c.end <= measures_part.start for c in cards["sj2025-06"].problem)


def test_a_quoted_or_indirect_question_is_part_of_a_statement():
    assert asks("如何破解停车难?")
    assert asks("业委会为什么没人报名,怎样才能选出来")
    assert not asks('专门组织他们围绕"如何推动在职党员与社区实现双向奔赴"这一关键议题展开深入讨论')
    assert not asks("对已化解的矛盾实行回访,了解问题是否彻底解决。")


def test_problems_are_not_lead_ins_rhetorical_questions_or_general_statements(cards):
    for card in cards.values():
        for c in card.problem:
            assert not re.search(r"表现在.方面|是不是|每个社区|带来了?(?:巨大的|诸多)?挑战|复杂性源于", c.quote), (card.case_id, c.quote)
    # 蓝天二村: the particular difficulties, not the speaker's lead-in to them
    assert not any("小社会" in c.quote for c in cards["sj2025-01"].problem)
    # 长溇村, 洙桥村: a difficulty denied is not a problem met
    assert not any(re.search(r"早已不是|没有阻挡", c.quote) for card in cards.values() for c in card.problem)
    # 东石村: not what集中居住 brings to governance in general
    assert not any("应运而生" in c.quote for c in cards["sj2025-17"].problem)


def test_measures_are_not_the_opening_an_incident_step_or_a_lesson(cards):
    clock = re.compile(r"\d{1,2}[:：]\d{2}|\d+月\d+日|凌晨")
    for card in cards.values():
        story = card.story
        has_measure_part = any(p.role == MEASURES for p in story.parts)
        for m in card.measures:
            part = next(p for p in story.parts if p.start <= m.citation.start < max(p.end, p.start + 1))
            assert part.role != LESSONS, (card.case_id, m.citation.quote)
            if has_measure_part:
                assert part.title or part.role != SITUATION, (card.case_id, m.citation.quote)
            assert not clock.search(m.citation.quote), (card.case_id, m.citation.quote)
    # 祥东's burst water main is told step by step; the steps are not measures
    assert not any("上午9:00" in m.citation.quote or "17:07" in m.citation.quote for m in cards["sj2025-10"].measures)
    # a paragraph may give two measures, but a card lists each sentence once
    for card in cards.values():
        starts = [m.citation.start for m in card.measures]
        assert len(starts) == len(set(starts)), card.case_id


def test_a_figure_that_is_not_a_result_is_not_an_outcome_however_sure_the_role_model_is(cards):
    """What a role model trained without the script reads as 成效 (eval/cards_eval.md, loco): the country's
    urbanisation rate, the speaker's career, a tariff, an application filed."""
    from dataclasses import replace

    from assistant.cards import Story, extract_outcomes

    for case_id, needle in [
        ("sj2025-20", "城镇化率"),
        ("sj2025-11", "工作了10年"),
        ("sj2025-03", "每小时5元"),
        ("sj2025-11", "提交申请"),
    ]:
        card = cards[case_id]
        story = card.story
        sure = [replace(s, p=(0.0, 0.0, 0.0, 1.0, 0.0)) if needle in s.text else s for s in story.sentences]
        assert sure != story.sentences, needle
        got = extract_outcomes(Story(story.case, sure, story.parts), card.rarity, limit=50)
        assert got and not any(needle in o.quote for o in got), (case_id, needle)


def test_outcomes_are_this_communitys_results(cards):
    for card in cards.values():
        for o in card.outcomes:
            assert not re.search(r"我国|全国|城镇化率|工作了\d+年|我参与、见证|每小时\d+元|封顶|提交申请", o.quote), (card.case_id, o.quote)
    assert all(card.outcomes for card in cards.values())  # every script reports a result


def _with_probs(story, needle: str, p: tuple[float, ...]):
    """The story with the sentences containing ``needle`` read with role probabilities ``p``."""
    from dataclasses import replace

    from assistant.cards import Story

    sentences = [replace(s, p=p) if needle in s.text else s for s in story.sentences]
    assert sentences != story.sentences, needle
    return Story(story.case, sentences, story.parts)


def test_a_rate_per_unit_is_not_an_outcome_unless_it_moved(cards):
    """A subsidy, a fine or a fee per unit ("补贴15万/部") is a rule set; a price that rose is a result."""
    from assistant.cards import extract_outcomes

    sure = (0.0, 0.0, 0.0, 1.0, 0.0)
    card = cards["sj2025-06"]
    got = extract_outcomes(_with_probs(card.story, "15万/部", sure), card.rarity, limit=50)
    assert got and not any("15万/部" in o.quote for o in got)
    card = cards["sj2025-09"]
    got = extract_outcomes(_with_probs(card.story, "涨到5元/斤", sure), card.rarity, limit=50)
    assert any("涨到5元/斤" in o.quote for o in got)


def test_a_count_of_machines_and_a_change_in_quotation_marks_are_results():
    from assistant.cards import _QTY, _done

    assert _QTY.search("8部电梯历时一年,圆满完工。")
    assert _done('硬是在边角空置区域"抠"出了11个新车位。')


def test_an_outcome_is_shown_when_it_reads_surely_as_a_result(cards):
    """Fewer but surer: a figure read as 成效 only a little more than as 背景/问题 (a need, a problem told
    with a figure) is left out when the card has surer results, and is the card's one outcome when it has none."""
    from assistant.cards import OUTCOME_MARGIN, extract_outcomes

    card = cards["sj2025-10"]  # 祥东: several results with figures
    assert len(card.outcomes) >= 3
    doubtful = (0.3, 0.2, 0.0, 0.5, 0.0)  # read as 成效, but 成效 - (背景 + 问题) = 0 <= OUTCOME_MARGIN
    assert doubtful[3] - doubtful[0] - doubtful[1] <= OUTCOME_MARGIN
    needle = card.outcomes[0].quote[:12]
    got = extract_outcomes(_with_probs(card.story, needle, doubtful), card.rarity)
    assert got and not any(needle in o.quote for o in got)
    # every candidate doubtful: the weightiest alone
    from dataclasses import replace

    from assistant.cards import Story

    story = card.story
    flat = Story(story.case, [replace(s, p=doubtful) for s in story.sentences], story.parts)
    assert len(extract_outcomes(flat, card.rarity)) == 1


def test_a_further_problem_is_shown_only_when_read_surely_as_one(cards):
    from assistant.cards import PROBLEM_SURE, extract_problems

    card = cards["sj2025-08"]  # 奥园: two problem sentences
    assert len(card.problem) == 2
    weak = (0.2, PROBLEM_SURE - 0.1, 0.15, 0.1, 0.05)  # still read as 问题 (its likeliest role, above PROBLEM_MIN)
    shown = extract_problems(card.story, card.rarity)
    # weaken whichever of the two is not the weightiest: the card then shows one problem
    for c in shown:
        got = extract_problems(_with_probs(card.story, c.quote[:15], weak), card.rarity)
        if len(got) == 1:
            assert got[0].quote != c.quote
            break
    else:
        raise AssertionError("weakening neither problem sentence left one")


def test_a_sentence_is_shown_once_on_a_card(cards):
    """A sentence the card shows as its problem or outcome is not listed again as a measure."""
    for card in cards.values():
        others = {c.start for c in card.problem} | {o.citation.start for o in card.outcomes}
        assert not others & {m.citation.start for m in card.measures}, card.case_id


def test_new_problems_and_challenges_in_general_are_not_a_problem(cards):
    for card in cards.values():
        assert not any(re.search(r"产生新问题新挑战|带来了?(?:巨大的|诸多)?挑战", c.quote) for c in card.problem), card.case_id


def test_a_result_told_inside_a_measure_is_the_outcome_when_none_is_read_as_one(cards):
    """湖畔天地 tells its result in a measure sentence ("抠"出了11个新车位, issue 14); the card shows it, not the
    opening's summary."""
    assert any("11个新车位" in o.quote for o in cards["sj2025-03"].outcomes)


def test_the_speakers_own_feeling_is_not_the_communitys_problem(cards):
    """"我却一度高兴不起来" (砖桥), "我那会儿忙得脚不沾地" (金地艺境): the speaker's state, however surely read as
    问题; "我所管辖的3个小区都是无产证小区" says the estates' situation ("我" as possessor, not a feeling)."""
    from assistant.cards import _SPEAKER_STATE, extract_problems

    assert not any("高兴不起来" in c.quote for c in cards["sj2025-11"].problem)
    sure = (0.0, 1.0, 0.0, 0.0, 0.0)
    card = cards["sj2025-04"]
    got = extract_problems(_with_probs(card.story, "我那会儿忙得脚不沾地", sure), card.rarity)
    assert got and not any("脚不沾地" in c.quote for c in got)
    assert not _SPEAKER_STATE.search("因为我所管辖的3个小区都是无产证小区,存在天然的治理短板")
    assert _SPEAKER_STATE.search("10年的社区工作,去过许多社区调研,但我感觉泰晤士的复杂度,绝对排得上名次。")


def _measures_with(card, needle: str):
    """The card's measures when the sentences containing ``needle`` are read surely as 做法."""
    from assistant.cards import extract_measures
    from assistant.roles import get_role_model

    story = _with_probs(card.story, needle, (0.0, 0.0, 1.0, 0.0, 0.0))
    return extract_measures(story, get_role_model(), card.rarity, shown=card.problem + [o.citation for o in card.outcomes])


def test_a_paragraph_saying_what_is_to_be_done_gives_no_measure(cards):
    """洙桥村's "如何更美" part sets out plans: "需系统梳理…资源,…例如通过吸引村民入驻建立非遗工坊" and, in the same
    paragraph, "例如发展景观农业…": what must be done, not what was done."""
    card = cards["sj2025-14"]
    for needle in ("需系统梳理非遗", "例如发展景观农业", "在人员专业能力提升方面"):
        assert not any(needle in m.citation.quote for m in _measures_with(card, needle)), needle
    # a measure taken is still one, however its paragraph is phrased elsewhere in the script
    assert any("百姓戏台" in m.citation.quote for m in card.measures)


def test_a_priority_or_an_aim_announced_is_not_a_measure(cards):
    for case_id, needle in [
        ("sj2025-16", "作为重中之重"), ("sj2025-21", "旨在"), ("sj2025-07", "作为头号任务"), ("sj2025-13", "的重要一环")
    ]:
        got = _measures_with(cards[case_id], needle)
        assert got and not any(needle in m.citation.quote for m in got), (case_id, needle)


def test_a_part_headed_as_the_background_gives_no_measure(cards):
    """奥园's "一、背景情况" tells how the project came about ("2023年,九里亭街道以…为契机"); a role model that reads it as
    做法 (leave-one-case-out, eval/cards_eval.md) does not make it a measure."""
    card = cards["sj2025-08"]
    got = _measures_with(card, "九里亭街道以上海市")
    assert got and not any("九里亭街道以上海市" in m.citation.quote for m in got)


def test_a_sentence_naming_a_concrete_act_weighs_more_as_a_measure():
    """A measure is an act done to something (成立, 召开, 制定, 安装, 上门 …); an overview names none."""
    from assistant.cards import ACT_BONUS, Rarity, Sentence, _measure_weight

    rarity = Rarity([["成立了楼道三人小组。", "发挥党员带头作用。"]])
    p = (0.0, 0.0, 1.0, 0.0, 0.0)
    act = Sentence(0, 10, "成立了楼道三人小组。", p, 0, ("¶0",), 0)
    overview = Sentence(0, 9, "发挥党员带头作用。", p, 0, ("¶0",), 0)
    assert ACT_BONUS > 1
    assert _measure_weight(act, rarity) == ACT_BONUS * _measure_weight(overview, rarity)  # equal specificity (one script)


def test_a_line_announcing_the_lessons_opens_them(cards):
    """亭南 closes its part 三 with "最后,对我万人大型社区自治共治心得启示:" and three lessons ("一是抓实关键少数…
    充分发挥党员优势…"); read as 做法 by a model that has not seen the script, they are still lessons, not measures."""
    card = cards["sj2025-13"]
    for needle in ("充分发挥党员优势", "凝聚治理群力"):
        got = _measures_with(card, needle)
        assert got and not any(needle in m.citation.quote for m in got), needle
    assert any("猫岛" in m.citation.quote for m in card.measures)  # the part's measures before the lead-in stay


def test_the_lead_of_a_part_divided_into_sub_sections_is_not_a_measure(cards):
    """蓝天二村's part "二、组建红色业委会,红在哪里?" opens with "在街道党工委的正确领导和大力支持下,我们红色业委会走进
    百姓家,…去梳理急需解决的问题" before its sub-sections tell the measures; 韵意六村's with "大型居住社区治理涉及硬件配套、服务供给…多个维度": they introduce the measures.  Read surely
    as 做法, they still are not measures; the sub-sections' measures stay."""
    from assistant.cards import _part_leads

    for case_id, needle in [("sj2025-01", "我们红色业委会走进百姓家"), ("sj2025-18", "大型居住社区治理涉及")]:
        card = cards[case_id]
        leads = _part_leads(card.story)
        s = next(s for s in card.story.sentences if needle in s.text)
        assert s.start < leads[s.part]  # before the first sub-heading of its part
        got = _measures_with(card, needle)
        assert got and not any(needle in m.citation.quote for m in got), case_id
        assert any(m.citation.start > leads[s.part] for m in got if card.story.parts[s.part].start <= m.citation.start < card.story.parts[s.part].end)
    # on every card: no measure before the first sub-heading of a part divided into sub-sections
    for card in cards.values():
        leads = _part_leads(card.story)
        for m in card.measures:
            k = next(i for i, p in enumerate(card.story.parts) if p.start <= m.citation.start < p.end)
            assert m.citation.start >= leads.get(k, -1), (card.case_id, m.citation.quote)
