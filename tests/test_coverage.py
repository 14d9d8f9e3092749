"""The coverage judgement (有 / 部分 / 没有) on the real corpus and index, and through the command line.

The judgement reads the live index: a script added with ``assistant add`` that
covers a former gap turns that question to 有 without retraining anything.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from assistant.answer import Answerer
from assistant.chunking import Passage
from assistant.config import get_settings
from assistant.coverage import (
    DURATION, FIGURE, FULL, MONEY, NONE, PARTIAL, STRONG, WEAK, Concept, CoverageJudge, Place, addresses, asks_money, decide,
    _asking_clauses, _names, _norm, in_passing, money_said, named_by, procedure_terms, said_in, scattered, short_of_money,
)
from assistant.grounding import GAP_CONFIDENCE, PROCEDURE_NOTE, WORDING_CONFIDENCE
from assistant.links import UNASKED_SHARE, paraphrase_level
from assistant.stores.base import Manifest
from assistant.retrieval import HybridSearcher, is_lookup

from conftest import CORPUS_DIR, INDEX_DIR, ROOT

WIFI = "社区里的公共Wi-Fi总是断，找谁修？"


@pytest.fixture(scope="module")
def searcher():
    return HybridSearcher.from_settings(get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR))


@pytest.fixture(scope="module")
def answerer(searcher):
    mp = pytest.MonkeyPatch()
    for name in ("ASSISTANT_LLM_BASE_URL", "ASSISTANT_LLM_MODEL", "ASSISTANT_LLM_API_KEY"):
        mp.delenv(name, raising=False)
    yield Answerer(searcher, get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR))
    mp.undo()


@pytest.fixture(scope="module")
def judge(searcher):
    return CoverageJudge(searcher.index.passages, searcher.index.cases)


def judged(judge, searcher, question):
    return judge.judge(question, searcher.search(question, 8))


# ---------------------------------------------------------------------------
# the pieces


def test_a_list_item_or_a_bracket_is_a_mention_in_passing():
    s = "动态管理独居高龄老人、残疾人、社区矫正人员等10类重点关爱群体"
    at = s.index("矫正")
    assert in_passing(s, at, at + 2)
    s = "这些指标为公共服务设施(如公共服务中心、村民大食堂等)的落地提供了保障"
    at = s.index("食堂")
    assert in_passing(s, at, at + 2)
    s = "在办白事上依然保留着不少老规矩、老传统"  # a clause before a list is no list item
    assert not in_passing(s, 1, 4)
    s = "升级后的村级大食堂,日均服务超100人次"
    assert not in_passing(s, s.index("食堂"), s.index("食堂") + 2)
    # brackets that give the facts themselves (clauses with figures) are no aside
    s = '更关键的是试行"卖稻谷"变"卖大米"(湿谷加工后价格从1、5元/斤涨到5元/斤,1628亩良田年增收约200万元)。'
    assert not in_passing(s, s.index("加工"), s.index("加工") + 2)
    assert Place("p", "", (s,)).strength([(FIGURE, "价格")]) == WEAK


def test_a_heading_names_what_its_brackets_enumerate_only_in_passing():
    # 民益's "1、老年群体(独居、纯老、高龄、困难户、精神疾病患者)" is about the elderly: a question about a mentally
    # ill neighbour is not discussed there because the bracket lists the group
    text = "建立物业日巡、居委随访、志愿周访的三重机制。"
    section = ("二、\"三个一\"工作法具体实践", "1、老年群体(独居、纯老、高龄、困难户、精神疾病患者)")
    place = Place.of([Passage("sj2025-12", 0, len(text), text, section, "t")])
    assert place.strength([("精神疾病",)], "精神疾病") == 0
    assert place.strength([("老年群体",)], "老年群体") == STRONG
    assert place.strength([("三重机制",)], "三重机制") == WEAK


def test_concepts_drop_question_request_and_everyday_words_and_keep_english_whole(judge):
    got = {c.text: c for c in judge.concepts(WIFI)}
    assert "wi-fi" in got and got["wi-fi"].noun
    assert not {"怎么", "谁", "找", "修"} & set(got)
    got = {c.text: c for c in judge.concepts("有没有什么办法把种粮收益提上去？")}
    assert "办法" not in got and "种粮" in got
    got = {c.text: c for c in judge.concepts("老人诉求合理，居委能帮到什么程度？有没有慢功夫？")}
    assert "程度" not in got and "功夫" not in got  # how much, how: not what
    got = {c.text: c for c in judge.concepts("社区治安巡逻队怎么组建")}
    assert got["组建"].action and not got["巡逻队"].action  # how, not what
    got = {c.text: c for c in judge.concepts("居民有事就打热线，怎么把诉求先接到社区里来？")}
    assert not got["诉求"].action  # the object of 把 is what the question is about
    got = {c.text: c for c in judge.concepts("明天上海会下雨吗")}
    assert "上海" not in got and "明天" not in got  # a place and a time say nothing about the topic


def test_concepts_drop_where_and_how_the_story_went_and_keep_what_a_procedure_is_for(judge):
    # 镇上 locates the question (jieba tags it a verb) and 专门 is an adverb it tags a noun: m014's
    # 没有 named "镇上专门" as what the scripts miss
    got = {c.text: c for c in judge.concepts("小区想铺条便民小道，镇上有没有专门给这类小区的钱可以申请？")}
    assert "镇上" not in got and "专门" not in got and {"便民", "小道"} <= set(got)
    # a verb with a directional complement in the story says how it went (坐上去); asked, it is the matter
    got = {c.text: c for c in judge.concepts("长椅用了二十年，木头都烂了，老人坐上去不安全。")}
    assert "坐上去" not in got and "长椅" in got
    got = {c.text: c for c in judge.concepts("楼栋群里有人发广告，把人踢出去会不会被投诉？")}
    assert "踢出去" in got and got["踢出去"].asked
    # what a procedure verb is for is what is asked (理赔), not how (an action after the question word)
    got = {c.text: c for c in judge.concepts("骑手摔伤了，新职业伤害保障怎么申请理赔？")}
    assert got["理赔"].focal and got["理赔"].asked


def test_concepts_drop_conjunctions_and_question_particles_jieba_tags_as_content_words(judge):
    # j039 was 没有 "…就算…规矩": 就算 is a conjunction (jieba: a verb) and 规矩 the kind of measure asked for
    got = {c.text: c for c in judge.concepts("这次就算调解好了，以后这种自己栽的树怎么管，能不能立个规矩？")}
    assert "就算" not in got and "规矩" not in got and "调解" in got
    # jieba's dictionary holds 有用吗: f045's follow-up was 没有 "定个规矩有用吗？…"
    got = {c.text: c for c in judge.concepts("定个规矩有用吗？怎么让他们愿意照做？（动迁 搭棚 烧饭）")}
    assert not any(w.endswith("吗") for w in got) and {"动迁", "搭棚"} <= set(got)
    got = {c.text: c for c in judge.concepts("这种事以后肯定还会冒出来，能不能一次性立个规矩？")}
    assert "肯定" not in got


def test_concepts_drop_a_tentative_verb_said_twice_and_a_way_called_a_road(judge):
    # followups_r5 b034 was "不在案例库的范围内" for "…先顶一顶" (jieba: a noun it does not know); the blind
    # follow-up gaps set's a030 was 没有 "压一压车量"; b013 was 没有 "门路" (a way asked for, as 路子 and 门道 are)
    got = {c.text: c for c in judge.concepts("在新桩装好之前,有什么临时办法先顶一顶?")}
    assert "顶一顶" not in got and "装好" in got
    got = {c.text: c for c in judge.concepts("想靠收费压一压车量，这种按辆分档收的，第一辆、第二辆一般各收多少？")}
    assert not any("压一压" in w for w in got) and "收费" in got
    got = {c.text: c for c in judge.concepts("补种的钱后来是怎么省下来的?有什么门路?")}
    assert "门路" not in got and "补种" in got


def test_concepts_drop_how_it_should_end_and_praise_of_a_way(judge):
    # 信服 after the people to win over says how the vote should end (u050 was refused on 信服);
    # 两全 praises the way asked for (jieba tags it a noun): neither is what the question is about
    got = {c.text: c for c in judge.concepts("投票的征询和票箱这块怎么搞才能让大家信服？")}
    assert "信服" not in got and {"征询", "票箱"} <= set(got)
    got = {c.text: c for c in judge.concepts("老人在绿化带里种菜，拔了又种，有没有两全的办法？")}
    assert "两全" not in got and "种菜" in got
    # the asker's worry is how they feel about it: "担心施工队…" was named as a part the scripts miss
    got = {c.text: c for c in judge.concepts("村民建新房，担心施工队偷工减料，村里怎么把关？")}
    assert "担心" not in got and "施工队" in got
    got = {c.text: c for c in judge.concepts("让居民满意的垃圾分类怎么搞")}
    assert "满意" not in got and "垃圾分类" in got


def test_a_verb_and_the_one_character_noun_after_it_are_the_thing_asked(judge, searcher):
    # jieba cuts 进门码 into 进门 (a verb: how) + 码; joined, it is the noun asked for, which no script names
    got = {c.text: c for c in judge.concepts("外卖小哥老被门岗拦，能不能给他们办个进门码？")}
    assert "进门码" in got and got["进门码"].noun and got["进门码"].asked and "进门" not in got
    assert {c.text for c in judge.concepts("快递柜怎么管")} >= {"快递柜"}
    got = judged(judge, searcher, "外卖小哥进小区送餐老被门岗拦，能不能给他们办个进门码？")
    assert got.level == NONE and "进门码" in "".join(got.uncovered)


def test_a_concept_is_found_under_its_synonyms_and_parts(judge):
    assert ("加装电梯",) in judge.alternatives("加梯")  # taxonomy synonym
    assert ("积分", "兑换") in judge.alternatives("积分兑换")  # parts together in one sentence
    assert ("产证",) in judge.alternatives("房产证")  # the compound's head word
    # a synonym is named as the word is: 加梯 by 加装电梯's head 电梯, as 加装电梯 itself is
    assert ("电梯",) in judge.alternatives("加装电梯") and ("电梯",) in judge.alternatives("加梯")
    assert ("村",) in judge.alternatives("村子") and ("宅",) in judge.alternatives("宅子")  # the noun suffix of speech
    # who does it, named by what they do: the asker's 施工队 is the script's 施工方 (t043 was 没有 "担心施工队、扯皮")
    assert ("施工",) in judge.alternatives("施工队") and ("保洁",) in judge.alternatives("保洁员")
    assert ("居民",) not in judge.alternatives("居民方")  # not by a word most scripts use


def test_a_builder_named_otherwise_than_the_script_does_is_the_same_builder(answerer):
    # holdout_r11 t043 (written blind): 黄桥's 保障金 makes the 施工方 answer for the house's quality
    got = answerer.ask("村民集中建新房，担心施工队偷工减料、出了问题扯皮，村里怎么把关？", use_llm=False)
    assert got.coverage != NONE and got.citations[0].case_id == "sj2025-16"
    assert "保障金" in got.answer


def test_a_place_that_misses_the_head_of_what_is_asked_gives_no_partial(judge):
    # 残疾人就业: a place about 残疾人 that never says 就业 is about its modifier, not about what is asked
    heads = {c.text: c.modifier for c in judge.concepts("残疾人就业该怎么帮他们")}
    assert heads == {"残疾人": "", "就业": "残疾人"}
    asked = [Concept("残疾人", 5.0, True, True), Concept("就业", 4.0, True, True, modifier="残疾人")]
    assert decide(asked, [{"残疾人": STRONG, "就业": 0}], question="残疾人就业该怎么帮他们").level == NONE
    # its head merely mentioned there: a part of it is covered
    assert decide(asked, [{"残疾人": STRONG, "就业": WEAK}], question="残疾人就业该怎么帮他们").level == PARTIAL
    # both missing (租金损失 at a place about 群租 and 房东): a part the place leaves out, as before
    asked = [Concept("群租", 5.0, True, True), Concept("房东", 5.0, True, True), Concept("租金", 4.0, True, True),
             Concept("损失", 3.0, True, True, modifier="租金")]
    held = {"群租": STRONG, "房东": STRONG, "租金": 0, "损失": 0}
    assert decide(asked, [held], question="群租以后房东的租金损失怎么办").level == PARTIAL


def test_decide_on_hand_made_places():
    def c(text, asked=True, weight=5.0, vocabulary=False, common=False):
        return Concept(text, weight, asked, True, common=common, vocabulary=vocabulary)

    # one place discusses all the question names
    got = decide([c("停车")], [{"停车": WEAK}, {"停车": STRONG}], question="停车怎么管", labels=["a", "b"])
    assert got.level == FULL and got.place == "b"
    # the place discusses more than it misses: 部分, the missed part named in the user's words
    got = decide([c("群租"), c("整治"), c("租金")], [{"群租": STRONG, "整治": STRONG, "租金": 0}], question="群租整治后租金怎么算")
    assert got.level == PARTIAL and got.uncovered == ("租金",)
    # an asked concept mentioned once is missed, and said to be touched on only briefly
    got = decide([c("加梯"), c("分摊")], [{"加梯": STRONG, "分摊": WEAK}], question="加梯怎么分摊")
    assert got.level == PARTIAL and got.uncovered == ("分摊",) and got.briefly == ("分摊",)
    # a place that misses more than it discusses does not address the question: one topic word is not enough
    pets = [c("宠物", asked=False, weight=5.5), c("粪便", asked=False, weight=5.3), c("满地", asked=False, weight=5.2)]
    got = decide(pets, [{"宠物": STRONG, "粪便": 0, "满地": 0}] * 3, question="小区宠物粪便满地都是")
    assert got.level == NONE and got.uncovered == ("宠物粪便满地",)  # 宠物 says which 粪便, though discussed
    # a scene-setting word two scripts use is wording, not a gap; an asked one is not excused
    scene = [c("外卖", asked=False), c("骑手", asked=False, vocabulary=True), c("驿站")]
    assert decide(scene, [{"外卖": STRONG, "骑手": 0, "驿站": STRONG}], question="外卖骑手想要驿站怎么建").level == FULL
    asked = [c("加梯"), c("流程", vocabulary=True)]
    assert decide(asked, [{"加梯": STRONG, "流程": 0}], question="加梯要走什么流程").level == PARTIAL
    # all it asks and two thirds of what it describes: the rest is scene detail, no 部分 line
    chairs = [c("楼道", asked=False), c("凳子", asked=False), c("挡路", asked=False, weight=4.0)]
    got = decide(chairs, [{"楼道": STRONG, "凳子": STRONG, "挡路": 0}], question="老人把凳子搬到楼道里，挡路，有什么办法")
    assert got.level == FULL and not got.uncovered
    # a third of it missing is a part the scripts leave out; so is anything it asks
    chargers = [c("充电桩", asked=False), c("车位", asked=False), c("油车", asked=False, weight=5.5)]
    assert decide(chargers, [{"充电桩": STRONG, "车位": STRONG, "油车": 0}], question="充电车位被油车占了怎么管").level == PARTIAL
    lift = [c("加梯", asked=False), c("分摊", asked=False), c("电费", weight=3.0)]
    assert decide(lift, [{"加梯": STRONG, "分摊": STRONG, "电费": 0}], question="加梯以后电费怎么算").level == PARTIAL
    # ... unless all it asks is missed there and in no script's words: the place only sets the scene
    unheard = [c("加梯", asked=False), c("分摊", asked=False), dataclasses.replace(c("电费", weight=3.0), unheard=True)]
    got = decide(unheard, [{"加梯": STRONG, "分摊": STRONG, "电费": 0}], question="加梯以后电费怎么算")
    assert got.level == NONE and got.uncovered == ("电费",)
    # a word inside another of the question's words is said once: the 骑手 a place discusses is its 外卖骑手
    # (r15's n013 was 有 on a passage about riders' rest stops: "…门岗不让外卖骑手骑车进去…骑手和保安天天吵…")
    riders = [c("外卖骑手", asked=False, weight=6.3), c("骑手", asked=False, weight=6.1), c("骑车", asked=False, weight=5.5)]
    got = decide(riders, [{"外卖骑手": STRONG, "骑手": STRONG, "骑车": 0}], question="门岗不让外卖骑手骑车进去，骑手天天吵")
    assert got.level == PARTIAL and got.uncovered == ("外卖骑手骑车进去",)  # (外卖骑手 says who rides in)
    assert decide(riders[:1] + riders[2:], [{"外卖骑手": STRONG, "骑车": 0}], question="外卖骑手骑车进小区").level == PARTIAL
    # nothing to go by; only the scripts' everyday words; off-domain
    assert decide([], [], question="怎么办").level == NONE
    assert decide([c("社区", common=True)], [], question="社区怎么办").level == FULL
    got = decide([c("下雨")], [{"下雨": 0}], off_domain=True, question="会下雨吗")
    assert got.level == NONE and got.off_domain


def test_a_place_addresses_a_question_when_it_discusses_more_than_it_misses():
    def c(text, weight, asked=False):
        return Concept(text, weight, asked, True)

    long = [c("群租", 6.3), c("隔断", 5.8), c("整治", 5.0, True), c("床位", 5.8), c("治安案件", 7.2)]
    assert addresses(long, {"群租": STRONG, "隔断": STRONG, "整治": STRONG, "床位": WEAK})
    assert not addresses(long, {"群租": STRONG, "整治": WEAK})


def test_a_users_wording_is_matched_by_its_characters_in_order_within_a_clause():
    assert scattered("废车", "清理小区废弃车辆")  # 废车 ~ 废弃车辆
    assert scattered("占位", "外来车辆占车位")  # 占位 ~ 占车位
    assert not scattered("废车", "废弃,车辆")  # not across a clause
    assert not scattered("废车", "废弃的旧自行车")  # not spread too far
    assert not scattered("车废", "废弃车辆")  # in order


# ---------------------------------------------------------------------------
# the questions


def test_wifi_is_not_covered(judge, searcher):
    got = judged(judge, searcher, WIFI)
    assert got.level == NONE and not got.off_domain and got.uncovered == ("Wi-Fi",)
    assert "wi-fi" in got.topics and "wi-fi" in got.focal


def test_weather_is_off_domain(judge, searcher):
    got = judged(judge, searcher, "明天上海会下雨吗")
    assert got.level == NONE and got.off_domain


def test_a_village_matter_no_script_covers_is_not_off_domain(answerer):
    # no word of it is the scripts' (村里 is a place word to jieba): still a village's affairs, so the answer says
    # what the scripts do not cover and points to the nearest cases, instead of "不在案例库的范围内"
    got = answerer.ask("村里有人在田头烧秸秆，怎么管？", use_llm=False)
    assert got.coverage == NONE and not got.off_domain
    assert got.answer.startswith(f"这 {len(answerer.searcher.index.cases)} 篇讲稿没有讲到") and "秸秆" in got.answer
    assert got.references


def test_a_canteen_question_rests_on_the_passages_that_speak_of_canteens(judge, searcher):
    # two passages run canteens (东石村's 社区食堂, 黄桥村's 村级大食堂) and their linked questions ask about them:
    # whatever the level, the judgement rests on a place that holds 食堂, never on a passage about something else
    got = judged(judge, searcher, "社区想办老年食堂，怎么弄？")
    assert "食堂" in got.covered and got.place.split()[0] in ("sj2025-16", "sj2025-17")


def test_a_partly_covered_question_names_its_uncovered_part_in_the_users_words(judge, searcher):
    got = judged(judge, searcher, "飞线充电整治以后电瓶车的保险怎么买")
    assert got.level == PARTIAL and got.uncovered == ("保险",) and not got.off_domain
    assert {"飞线充电", "电瓶车"} <= set(got.covered) and got.place


def test_a_users_wording_the_scripts_spell_otherwise_is_found_in_the_place(judge, searcher):
    question = "外面的车老来小区占位怎么管"
    hits = searcher.search(question, 8)
    got = judge.judge(question, hits)
    assert got.level == FULL
    place = next(judge.place(h) for h in hits if judge.place(h).label == got.place)
    texts = (place.heading, *place.links, *place.sentences)
    assert not any("占位" in t for t in texts)  # the scripts never write 占位 there …
    assert any(scattered("占位", t) for t in texts)  # … but 占车位 and the like


def test_an_uncovered_question_in_the_scripts_words_is_none_not_off_domain(judge, searcher):
    # 湿垃圾 is the scripts' vocabulary (垃圾分类 is everywhere): the point, 破袋率, is in none of them
    got = judged(judge, searcher, "湿垃圾破袋率怎么提高")
    assert got.level == NONE and not got.off_domain and got.uncovered == ("垃圾破袋率",)  # 垃圾 says which 破袋率


def test_a_partial_as_close_to_the_passages_as_answered_questions_are_is_full(judge, searcher, answerer):
    # 开荒 is in no script, so the words alone make this 部分 ("关于开荒，讲稿中没有涉及"), although
    # 黄桥's 一分田菜园 answers it: retrieval is sure enough that the missing word is wording
    question = "农民集中居住以后没地方种菜了，就在绿化带里开荒，怎么解决？"
    hits = searcher.search(question, 8)
    assert judge.judge(question, hits).level == PARTIAL
    got = judge.judge(question, hits, near=True)
    assert got.level == FULL and got.uncovered == () and got.place
    answer = answerer.ask(question, use_llm=False)
    assert answer.confidence >= WORDING_CONFIDENCE
    assert answer.coverage == FULL and answer.uncovered == [] and "讲稿中没有涉及" not in answer.answer


def test_a_partial_far_from_the_passages_is_none(judge, searcher, answerer):
    # the places discuss 车位 and 开发商 but not 外人; retrieval finds the question farther from them than all
    # but a few answerable questions get, so the missing part is what is asked, not wording
    question = "开发商要把小区地下车位卖给外人，怎么办？"
    hits = searcher.search(question, 8)
    assert judge.judge(question, hits).level == PARTIAL
    assert judge.judge(question, hits, remote=True).level == NONE
    assert judge.judge(question, hits, remote=True, follows=True).level == PARTIAL  # a follow-up leans on its turns
    answer = answerer.ask(question, use_llm=False)
    assert answer.confidence < GAP_CONFIDENCE
    assert answer.coverage == NONE and not answer.answered and answer.uncovered == ["外人"]
    assert "这 21 篇讲稿没有讲到“外人”" in answer.answer and "可参考" in answer.answer


def test_a_partial_farther_from_the_passages_keeps_naming_what_is_not_covered(answerer):
    answer = answerer.ask("飞线充电整治以后电瓶车的保险怎么买", use_llm=False)
    assert GAP_CONFIDENCE <= answer.confidence < WORDING_CONFIDENCE
    assert answer.coverage == PARTIAL and answer.uncovered == ["保险"]
    assert "关于保险，讲稿中没有涉及" in answer.answer


def test_a_question_whose_concepts_the_first_place_discusses_is_covered_however_far_retrieval_says(judge, searcher):
    question = "楼道堆物，老人舍不得扔，怎么办？"
    for far in (False, True):  # the retrieval distance does not override the concepts in the scripts' words
        got = judge.judge(question, searcher.search(question, 8), far=far)
        assert got.level == FULL, far
    assert {"楼道", "堆物"} <= set(got.covered)


@pytest.mark.parametrize(
    "question, terms",
    [
        ("低保怎么申请", ["申请"]),
        ("社保卡丢了去哪里补办", ["补办"]),
        ("成立业委会要走什么流程", ["流程"]),
        ("社区想办个日间照料中心，需要哪些条件？", ["条件"]),
        ("宅基地退出补偿标准是多少", ["标准"]),
        # designing a process or setting a fee is a question of practice, not a procedure to look up
        ("从收集居民想法到业主大会表决，中间的流程应该怎么设计？", []),
        ("后来收费标准怎么定的？", []),
        ("别的楼也跑来要求移树怎么办？", []),
    ],
)
def test_a_procedure_is_what_a_question_asks_to_look_up_or_to_apply_for(question, terms):
    assert [w for w, _ in procedure_terms(question)] == terms


@pytest.mark.parametrize("question", ["低保怎么申请", "自治金项目怎么申请", "残疾证怎么申请办理"])
def test_a_procedure_the_scripts_do_not_give_is_none_however_well_they_know_its_subject(answerer, question):
    # the scripts speak of 申请 and 办理 (of other things) and of 自治 everywhere: not of applying for these
    got = answerer.ask(question, use_llm=False)
    assert got.coverage == NONE and not got.answered and got.judgement.asks_procedure
    assert PROCEDURE_NOTE in got.answer and not got.citations


def test_a_gap_named_by_its_procedure_word_alone_is_named_in_the_users_words(answerer):
    got = answerer.ask("社区想办个日间照料中心，需要哪些条件？", use_llm=False)
    assert got.coverage == NONE and got.uncovered == ["社区想办个日间照料中心，需要哪些条件"]
    assert got.answer.startswith("这 21 篇讲稿没有讲到“社区想办个日间照料中心，需要哪些条件”。")


def test_how_an_obstacle_goes_is_not_what_the_question_is_about(judge, searcher):
    # 死活 (jieba: a verb) insists, 不签字 says how the residents resist: the lift and the ground floor are the matter
    got = judged(judge, searcher, "加装电梯，一楼死活不签字怎么办")
    assert got.level == FULL and not got.uncovered
    assert {c.text for c in got.concepts} == {"加装电梯", "一楼"}


def test_several_days_in_a_description_is_a_count_not_the_question(judge):
    # 几天 describes (several days); the question is asked by 怎么 in the last clause
    concepts = {c.text: c for c in judge.concepts("家属在楼下搭棚、摆几天酒席，邻居有意见，怎么引导？")}
    assert not concepts["酒席"].asked and not concepts["搭棚"].asked
    # where 几 is the only question word, it asks
    assert {c.text: c for c in judge.concepts("酒席要摆几天？")}["酒席"].asked


def test_a_figure_asked_for_is_given_only_by_a_figure_beside_what_it_counts():
    # 多少比例: a share near 比例, not a count elsewhere in the sentence
    place = Place("p", "", ("协商资金分摊比较难,我们前后修改了6次,最终确定了居民接受的出资比例", "电梯加装工作稳步推进"))
    assert place.strength([(FIGURE, "比例")]) == 0
    place = Place("p", "", ("通过平移,全村宅基地面积减量 5.16 公顷,减量比例高达 31%",))
    assert place.strength([(FIGURE, "比例")]) == WEAK  # one sentence gives a figure: that is an answer
    # 多久: a length of time, whatever the sentence says it of
    place = Place("p", "", ("经过整整3年时间,社区垃圾分类准确率不断提升",))
    assert place.strength([(DURATION,)]) == WEAK
    assert Place("p", "", ("社区垃圾分类准确率不断提升",)).strength([(DURATION,)]) == 0
    for said in ("前后用了3个多月", "坚持了十余年", "半年多时间", "接诉即办→原则上5个工作日内办"):
        assert Place("p", "", (said,)).strength([(DURATION,)]) == WEAK, said
    # a price asked for (收费定多少) is given by a sum said of what the question names
    place = Place("p", "", ("要求电瓶车充电桩不要赚钱,设定1元充六小时,并按分钟计算",))
    assert place.strength([(MONEY, "充电桩")]) == WEAK
    assert place.strength([(FIGURE, "收费")]) == 0
    assert Place("p", "", ("充电桩建成后共有32个车位",)).strength([(MONEY, "充电桩")]) == 0


def test_a_count_of_people_said_in_words_is_a_figure():
    place = Place("p", "", ('"一号蛇伤散"已传承70余年,救治近千人,现从治疗蛇咬伤拓展到带状疱疹治疗',))
    assert place.strength([(FIGURE, "救治")]) == WEAK
    assert Place("p", "", ("坚持了十余年",)).strength([(FIGURE,)]) == WEAK


def test_a_name_a_script_coined_is_one_concept_and_one_sentence_discusses_it(judge, answerer):
    judge._prepare()
    assert "一号蛇伤散" in judge._coined  # jieba: 一号/蛇/伤散
    assert "野河浜" in judge._coined  # jieba: 野/河浜, nouns one of which a single character
    assert "停车难" not in judge._coined  # several scripts say it: the scripts' shared words
    assert "板凳课堂" not in judge._coined  # jieba knows its pieces: cut as usual
    assert "能花多少钱" not in judge._coined  # quoted speech, not a name
    assert "一号蛇伤散" in [c.text for c in judge.concepts("一号蛇伤散救治过多少人？")]
    # the script names it once per passage: the question is about that script, not off-domain
    got = answerer.ask("一号蛇伤散救治过多少人？", use_llm=False).judgement
    assert got.level == "full" and not got.off_domain


def test_the_figure_a_question_asks_for_and_what_it_counts(judge):
    def quantities(question):
        return {c.text: c.counts for c in judge.concepts(question) if c.quantity}

    assert quantities("加装电梯要多少比例的业主同意才能报？") == {"多少": ("比例",)}
    assert quantities("宅基地退出补偿标准是多少") == {"多少": ("标准",)}
    assert quantities("祥东社区居民、商户众筹了多少钱？") == {"多少钱": ()}  # a sum: any sum of the place
    assert quantities("换了几部电梯？")
    # 几 with a unit of time asks how long, as 多久 does: whatever it is said of
    assert quantities("平常报修又该几天内办完？") == {"几天": ()}
    assert quantities("这个流程要走几个月？") == {"几个月": ()}
    priced = {c.text: c.priced for c in judge.concepts("电瓶车充电桩收费定多少合适？") if c.quantity}
    assert "充电桩" in priced["多少"]  # 定多少: a price, said of the charging point or its fee
    # 几 in a describing clause is "several", and 好几/没多久 are no questions
    assert not quantities("社区里有几个五十出头的失业居民，天天在家闲着，居委会能帮他们做点啥？")
    assert not quantities("村宅周边乱堆乱放，整治完没多久又回潮，怎么搞长效？")
    assert not quantities("垃圾分类推了好几年，居民还是随手乱扔，怎么办？")


def test_a_question_for_a_figure_the_scripts_do_not_give_is_none(answerer):
    # the lift scripts discuss 加装电梯 and 比例 (of cost sharing), never the share of owners who must agree
    got = answerer.ask("加装电梯要多少比例的业主同意才能报？", use_llm=False)
    assert got.coverage == NONE and not got.answered
    assert got.answer.startswith("这 21 篇讲稿没有讲到“加装电梯要多少比例的业主同意才能报”。")
    # the figures the scripts do give are answers
    for question in (
        "蓝天二村2017到2019年排摸出多少辆僵尸车？", "祥东社区居民、商户众筹了多少钱？建了哪些设施？", "电瓶车充电桩收费定多少合适？",
    ):
        got = answerer.ask(question, use_llm=False)
        assert got.coverage == FULL and got.answered, question
    # how long: the script tells the case's timeline once ("通过3个多月、6次协调会"), not in each passage
    got = answerer.ask("窗前的树让孩子花粉过敏，居民要求移树，这事前后要多久？", use_llm=False)
    assert got.coverage != NONE
    # ... and 几天 asks the same (祥东: "30分钟内响应到位", "原则上5个工作日内办")
    got = answerer.ask("小区里水管爆了、整栋楼停电这种急事，居委会和物业要多久到现场？平常报修又该几天内办完？", use_llm=False)
    assert got.coverage == FULL and got.answered
    # a figure asked of a topic outside the scripts: the figures the scripts give elsewhere do not cover it
    got = answerer.ask("上海到北京高铁要几个小时", use_llm=False)
    assert got.coverage == NONE and got.uncovered == ["高铁"] and "几" not in got.judgement.covered


def test_a_figure_or_procedure_not_covered_is_named_by_the_clause_asking_for_it(answerer):
    got = answerer.ask("住宅专项维修资金的账户快用完了，续筹要走什么手续、要多少户业主签字同意？", use_llm=False)
    assert got.coverage == NONE
    assert "要多少户业主签字同意" in got.uncovered and "要走什么手续" in "、".join(got.uncovered)
    assert "多少" not in got.uncovered and "手续" not in got.uncovered


def test_a_missed_noun_is_named_with_the_noun_it_modifies(answerer):
    got = answerer.ask("社区矫正人员平时谁来盯", use_llm=False)
    assert got.coverage == NONE and got.uncovered == ["矫正人员"]  # not "矫正": 人员 heads it, however common


def test_how_good_is_no_topic(judge):
    words = {c.text for c in judge.concepts("加梯费用各楼层怎么分摊比较合理？")}
    assert "合理" not in words and {"加梯", "分摊"} <= words  # 比较合理: a judgement of how good
    assert "服气" not in {c.text for c in judge.concepts("宅基地怎么分大家才服气")}


def test_any_and_even_are_no_question_words(judge):
    asked = {c.text: c.asked for c in judge.concepts("新来的社工什么都不懂，怎么带？")}
    assert asked == {"社工": False}  # 什么都: "anything", the clause sets the scene
    assert {c.text: c.asked for c in judge.concepts("哪怕居民反对，电梯怎么装")}["居民"] is False


def test_a_verb_with_a_complement_tells_how_not_what(judge):
    words = {c.text for c in judge.concepts("停车费怎么定，能把外来车挡住，宅基地租给企业收多少租金")}
    assert "挡住" not in words and "租给" not in words and {"停车费", "租金"} <= words


def test_a_question_after_the_last_question_mark_still_asks(judge):
    asked = {c.text: c.asked for c in judge.concepts("社工证怎么报考？考出来有补贴吗")}
    assert asked["补贴"]  # "…有补贴吗" asks, though the user left out its question mark
    assert {c.text for c in judge.concepts("积分超市怎么办？一年要花多少") if c.quantity} == {"多少"}
    # text after the last mark that asks nothing describes
    assert not {c.text: c.asked for c in judge.concepts("停车难怎么办？我们小区有三千户居民")}["居民"]


def test_a_sum_paid_is_given_only_beside_what_it_is_paid_for(judge):
    # "能赔多少": a sum said of what the question is about, not any figure of the place
    quantity = next(c for c in judge.concepts("快递员送件摔伤了，能赔多少") if c.quantity)
    assert quantity.priced and not quantity.counts
    assert judge.ways(quantity, []) and all(MONEY in w for w in judge.ways(quantity, []))
    # with its unit ("多少钱") any sum of the place may be the sum, not any figure
    quantity = next(c for c in judge.concepts("总共投了多少钱") if c.quantity)
    assert judge.ways(quantity, []) == [(MONEY,)]
    quantity = next(c for c in judge.concepts("总共建了多少个") if c.quantity)
    assert judge.ways(quantity, []) == [(FIGURE,)]


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("小区想办个老年食堂，场地和钱从哪来？", "钱从哪"),
        ("装监控的钱谁出", "钱谁出"),
        ("修桥的钱怎么凑", "钱怎么凑"),
        ("电梯维保费谁来承担？", "费谁来承担"),
        ("这事到底谁来出钱", "谁来出钱"),
        ("台风天大树倒了砸坏业主的车,这个损失谁来赔?", "谁来赔"),  # who pays for a damage
        ("拖车时刮了蹭了，车主要我们赔，这个账算谁头上？", "算谁头上"),
        ("花了多少钱", None),  # a sum, not who pays
        ("怎么跟物业谈服务", None),
    ],
)
def test_who_pays_is_asked_for_like_a_figure(judge, question, asks):
    funding = [c for c in judge.concepts(question) if c.funding]
    assert [c.text for c in funding] == ([asks] if asks else [])
    assert all(c.quantity and c.asked and c.weight == 0 for c in funding)


def test_who_pays_is_answered_only_where_a_place_speaks_of_money_with_what_is_paid_for(answerer):
    # 黄桥's 村级大食堂 runs a canteen and never says who paid for it: the question asks what is not there
    got = answerer.ask("小区想办个老年食堂，场地和钱从哪来？", use_llm=False)
    assert got.coverage == NONE and got.uncovered == ["小区想办个老年食堂，场地和钱从哪来"]
    # 三湘四季's 危桥改造 tells how the money for the bridge was raised (创新筹资模式)
    got = answerer.ask("修桥的钱怎么凑", use_llm=False)
    assert got.coverage == FULL
    # a linked question asking the same in other words still stands for it (泰晤士小镇's 座椅 for 长椅: 认领方出资)
    got = answerer.ask("小区公共区域的长椅用了十几年都坏了,业委会说该物业修,物业说该业委会牵头,钱到底谁出?", use_llm=False)
    assert got.coverage == FULL


def test_a_figure_not_given_is_no_wording_a_linked_question_can_stand_for(answerer):
    # the 外卖 script's linked question asks how to explain the 职业伤害 insurance; what it pays is nowhere
    got = answerer.ask("骑手送外卖路上摔伤了，职业伤害保障怎么参保、能赔多少钱？", use_llm=False)
    assert got.coverage == NONE
    got = answerer.ask("社工证怎么报考？", use_llm=False)  # an exam to apply for is a procedure
    assert got.coverage == NONE


def test_a_figure_or_rule_of_a_city_the_scripts_never_name_is_none(judge, searcher):
    # the scripts are Songjiang's: another city's subsidy or sorting categories are not in them
    for question in ("宁波加装电梯政府补贴多少", "厦门垃圾分类要分几类？"):
        got = judged(judge, searcher, question)
        assert got.level == NONE and got.uncovered == (question.rstrip("？"),), question
    # a how-to question from there is still answered from the scripts' experience
    assert judged(judge, searcher, "我们在宁波，加装电梯一楼死活不签字怎么办").level == FULL
    assert judge.places_elsewhere("宁波加装电梯政府补贴多少") == ["宁波"]
    assert judge.places_elsewhere("松江区加装电梯补贴多少") == []


def test_how_quoted_spans_treat_a_word():
    quotes = ["动态管理独居高龄老人、残疾人、困境儿童等重点群体。", "教师党员专门帮困境儿童,周末给孩子答疑。"]
    assert said_in("困境儿童", quotes[:1]) == WEAK  # a list item only
    assert said_in("困境儿童", quotes) == WEAK  # one sentence says it: touched on, not gone into
    assert said_in("困境儿童", quotes, enough=1) == STRONG  # enough for a figure asked for
    assert said_in("困境儿童", [quotes[1], "困境儿童的家长也来了。"]) == STRONG
    assert said_in("留守儿童", quotes) == 0


def test_a_part_the_answer_quotes_is_not_called_uncovered(answerer):
    # the place the judgement rests on misses 树龄; the block quoted tells the tree's age ("百年古树"):
    # no "关于树龄，讲稿只是顺带提到" under it
    got = answerer.ask("银杏古树的树龄有多少？", use_llm=False)
    assert got.coverage == FULL and not got.uncovered and "关于树龄" not in got.answer


def test_two_uncovered_things_joined_by_and_are_named_with_the_and(judge, searcher):
    got = judged(judge, searcher, "我们楼加装的电梯用了两年了，每年的维保费和电费在各楼层之间该怎么分摊？")
    assert got.level != FULL
    assert any("和电费" in u for u in got.uncovered) and "保费电费" not in "".join(got.uncovered)


def test_a_paraphrase_of_a_linked_question_is_covered_in_words_the_scripts_never_use(searcher):
    # 湿谷, 种粮, 挣钱: no word of the scripts, so by words alone the question is off-domain; a passage
    # whose linked question is as alike as a paraphrase makes it 有 all the same
    question = "湿谷卖不上价，种粮怎么多挣钱"
    judge = CoverageJudge(searcher.index.passages, searcher.index.cases, paraphrase=0.95)
    hits = searcher.search(question, 8)
    assert judge.judge(question, hits).level == NONE
    top = hits[0]
    alike = [dataclasses.replace(top, parts={**top.parts, "link_dense": 0.96}), *hits[1:]]
    got = judge.judge(question, alike)
    assert got.level == FULL and got.place.startswith(top.case.id)
    # the weather is not asked by any link
    weather = "明天松江会下雨吗"
    assert judge.judge(weather, searcher.search(weather, 8)).level == NONE


def test_words_a_place_holds_together_are_no_off_domain_question(answerer):
    # 过敏 is said once in the 一棵树 passage, 移走 in its linked questions: the place holds both, it is in domain
    got = answerer.ask("孩子对窗前那棵树过敏，能移走吗", use_llm=False).judgement
    assert not got.off_domain and got.level != NONE
    # one word a linked question shares is not enough (下雨 in "下雨积水，找谁来修")
    got = answerer.ask("明天松江会下雨吗", use_llm=False).judgement
    assert got.off_domain and got.level == NONE


def test_a_term_of_the_scripts_makes_a_question_in_domain_wherever_it_stands(answerer):
    got = answerer.ask("沿街小饭馆用液化气罐，安全检查重点查哪些", use_llm=False)
    assert got.coverage == NONE and not got.judgement.off_domain  # 沿街: the scripts' word, though no concept
    assert got.answer.startswith("这 21 篇讲稿没有讲到")


def test_a_procedure_a_script_discusses_with_its_subject_is_covered(judge, searcher):
    # 高乐: "迁移前必须经区绿化局审批", "为何审批要3个月" — 审批 together with 迁移 in one sentence
    got = judged(judge, searcher, "小区里的树要迁移，要走什么审批？")
    assert got.level == FULL and "审批" in got.covered and not got.asks_procedure


@pytest.mark.parametrize(
    "question",
    ["小区停车位不够，外来车辆多怎么办？", "楼道里飞线充电怎么治理？", "业主大会投票率不够怎么办", "宅基地平移归并是怎么推进的？"],
)
def test_covered_questions_are_not_refused(judge, searcher, question):
    assert judged(judge, searcher, question).level != NONE


def test_a_new_index_is_judged_without_any_training(tmp_path, judge):
    """Nothing is fitted to the bundled corpus: an empty judge over other cases knows nothing of them."""
    other = CoverageJudge([], {})
    assert other.concepts("停车位不够") and other.example_questions() == []


# ---------------------------------------------------------------------------
# through the command line: ask --json, gaps, and a script that closes a gap


def cli(*args, env=None, cwd=ROOT):
    e = dict(os.environ, HF_HUB_OFFLINE="1")
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, env=e, cwd=cwd, timeout=600
    )


WIFI_SCRIPT = """---
title: 让社区公共Wi-Fi不再掉线
author: 李明
role: 党支部书记
town: 岳阳街道
community: 新风居民区
---
一、公共Wi-Fi为什么总是断
社区公共Wi-Fi覆盖了小区广场、睦邻点和活动室，但是经常断网，居民反映找不到人修。
我们排摸发现，公共Wi-Fi的设备由街道采购，维护合同却在运营商手里，居委会、物业都说不归自己管。
二、我们的做法
第一步，理清公共Wi-Fi归谁修：居委会牵头召开协调会，明确运营商负责设备维修，物业负责机房供电，居委会负责收集报修。
第二步，建立公共Wi-Fi报修群：居民发现断网就在群里报修，网格员当天登记、转给运营商，维修结果在群里公示。
第三步，请运营商每月上门巡检一次公共Wi-Fi设备，老旧路由器统一更换。
三、成效
公共Wi-Fi报修从每月二十多次降到三次，居民说现在断网找谁修心里有数了。
"""


@pytest.fixture
def library(tmp_path):
    """The bundled corpus and its shipped index, copied: the test adds a script to them."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    index = tmp_path / "index"
    shutil.copytree(INDEX_DIR, index, ignore=shutil.ignore_patterns("milvus.db"))
    return corpus, index, tmp_path / "data"


def test_ask_json_for_each_state_and_the_gaps_it_records(library):
    corpus, index, data = library
    dirs = ["--corpus-dir", str(corpus), "--index-dir", str(index)]
    env = {"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_FEEDBACK_URL": ""}
    expect = {WIFI: (NONE, False), "飞线充电整治以后电瓶车的保险怎么买": (PARTIAL, True), "小区停车位不够，外来车辆多怎么办？": (FULL, True)}
    for question, (level, answered) in expect.items():
        r = cli("ask", question, "--json", *dirs, env=env)
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert d["coverage"] == level and d["answered"] is answered, question
        assert isinstance(d["uncovered"], list) and bool(d["uncovered"]) == (level != FULL)
        if level == NONE:
            assert d["citations"] == [] and 1 <= len(d["references"]) <= 2
            assert d["answer"].startswith("这 21 篇讲稿没有讲到") and "可参考" in d["answer"]
    r = cli("ask", "明天上海会下雨吗", *dirs, env=env)  # the plain text answer
    assert r.returncode == 0 and r.stdout.startswith("这个问题不在案例库的范围内") and "出处" not in r.stdout

    r = cli("gaps", env=env)
    assert r.returncode == 0, r.stderr
    assert "Wi-Fi  1 次" in r.stdout and "保险" in r.stdout and "停车" not in r.stdout
    assert WIFI in r.stdout
    r = cli("gaps", "--json", "--since", "2000-01-01", env=env)
    topics = {t["topic"]: t for t in json.loads(r.stdout)}
    assert topics["Wi-Fi"]["count"] == 1 and topics["Wi-Fi"]["none"] == 1 and topics["Wi-Fi"]["questions"] == [WIFI]
    assert json.loads(cli("gaps", "--json", "--since", "2999-01-01", env=env).stdout) == []
    out = data / "gaps.csv"
    r = cli("gaps", "--out", str(out), env=env)
    assert r.returncode == 0 and "已导出" in r.stdout
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:2] == ["话题", "次数"] and any(row[0] == "Wi-Fi" for row in rows[1:])
    r = cli("gaps", "--since", "昨天", env=env)
    assert r.returncode == 2 and "年-月-日" in r.stderr and "Traceback" not in r.stderr
    # --no-record: nothing more is recorded
    before = cli("gaps", "--json", env=env).stdout
    assert cli("ask", WIFI, "--no-record", *dirs, env=env).returncode == 0
    assert cli("gaps", "--json", env=env).stdout == before


def test_a_script_added_later_turns_a_former_gap_into_covered(library, tmp_path):
    corpus, index, data = library
    dirs = ["--corpus-dir", str(corpus), "--index-dir", str(index)]
    env = {"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_FEEDBACK_URL": ""}
    before = json.loads(cli("ask", WIFI, "--json", "--no-record", *dirs, env=env).stdout)
    assert before["coverage"] == NONE
    script = tmp_path / "wifi.md"
    script.write_text(WIFI_SCRIPT, encoding="utf-8")
    r = cli("add", str(script), *dirs, env=env)
    assert r.returncode == 0, r.stderr
    after = json.loads(cli("ask", WIFI, "--json", "--no-record", *dirs, env=env).stdout)
    assert after["coverage"] == FULL and after["answered"] and after["uncovered"] == []
    assert any("Wi-Fi" in c["case_title"] and "李明" in c["author"] for c in after["citations"])


# ---------------------------------------------------------------------------
# a question a link already asks


def test_the_paraphrase_level_is_how_alike_links_of_different_scripts_get():
    rng = np.random.default_rng(7)
    v = rng.normal(size=(40, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cases = [f"c{i % 4}" for i in range(40)]
    level = paraphrase_level(v, cases)
    sims = v @ v.T
    nearest = [max(sims[i, j] for j in range(40) if cases[j] != cases[i]) for i in range(40)]
    assert level == pytest.approx(float(np.quantile(nearest, 0.9)), abs=1e-4)
    assert paraphrase_level(v[:10], cases[:10]) == 0.0  # too few links to tell
    assert paraphrase_level(v, ["c0"] * 40) == 0.0  # one script: nothing to compare with


def test_the_shipped_index_knows_its_paraphrase_level(answerer):
    manifest = answerer.searcher.index.manifest
    assert isinstance(manifest, Manifest) and 0.9 < manifest.link_paraphrase < 0.99
    assert answerer.judge.paraphrase == manifest.link_paraphrase


# ---------------------------------------------------------------------------
# a 部分 no linked question asks


PARCEL = "快递包裹堆在楼道门口，怎么管理？"  # the places discuss 楼道堆物; none of their linked questions asks about parcels


def test_the_unasked_level_is_how_alike_the_least_alike_different_questions_get(answerer):
    rng = np.random.default_rng(7)
    v = rng.normal(size=(40, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cases = [f"c{i % 4}" for i in range(40)]
    sims = v @ v.T
    nearest = [max(sims[i, j] for j in range(40) if cases[j] != cases[i]) for i in range(40)]
    assert paraphrase_level(v, cases, UNASKED_SHARE) == pytest.approx(float(np.quantile(nearest, 0.25)), abs=1e-4)
    manifest = answerer.searcher.index.manifest
    assert 0.85 < manifest.link_unasked < manifest.link_paraphrase
    assert answerer.judge.unasked == manifest.link_unasked


def test_a_partial_that_no_linked_question_asks_is_none(searcher, answerer):
    hits = answerer.search(PARCEL, [])
    words_only = CoverageJudge(searcher.index.passages, searcher.index.cases, links=searcher.index.links,
                               paraphrase=answerer.judge.paraphrase)
    assert words_only.judge(PARCEL, hits).level == PARTIAL  # 堆 and 楼道 are discussed, 包裹 is not
    assert max(h.parts.get("link_dense", 0.0) for h in hits) < answerer.judge.unasked
    got = answerer.judge.judge(PARCEL, hits)
    assert got.level == NONE and "包裹" in "".join(got.uncovered)
    answer = answerer.ask(PARCEL, use_llm=False)
    assert answer.coverage == NONE and not answer.answered and answer.citations == []
    assert answer.answer.startswith("这 21 篇讲稿没有讲到") and "包裹" in answer.answer.split("\n")[0]
    # a follow-up leans on the turns before it: no link is expected to ask it whole
    assert answerer.judge.judge(PARCEL, hits, follows=True).level == PARTIAL


def test_the_links_speak_only_for_scripts_that_have_links(searcher, answerer):
    hits = answerer.search(PARCEL, [])
    assert answerer.judge.asked_by_no_link(PARCEL, hits)
    # the first hit's script added without an LLM (no links): its passages are judged by their words alone
    others = [link for link in searcher.index.links if link.case_id != hits[0].case.id]
    judge = CoverageJudge(searcher.index.passages, searcher.index.cases, links=others,
                          paraphrase=answerer.judge.paraphrase, unasked=answerer.judge.unasked)
    assert not judge.asked_by_no_link(PARCEL, hits)
    assert judge.judge(PARCEL, hits).level == PARTIAL
    # a look-up searches only the links users made, so the bundled links say nothing about it
    lookup = "快递包裹堆在楼道门口，多少天要清一次？"
    assert is_lookup(lookup)
    # a statement of the situation asks nothing a link could ask (the opening turn of a conversation)
    statement = "小区两个片区之间有座木桥，木板烂了钢筋都露出来。维修基金因为前一届业委会的官司被冻住了。"
    assert not answerer.judge.asked_by_no_link(statement, answerer.search(statement, []))
    assert not answerer.judge.asked_by_no_link(lookup, answerer.search(lookup, []))


FIRE = "楼道里的灭火器过期了，该谁来换？"


def test_a_question_a_user_links_to_a_passage_is_covered_next_time(library):
    corpus, index, data = library
    dirs = ["--corpus-dir", str(corpus), "--index-dir", str(index)]
    env = {"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_FEEDBACK_URL": ""}
    before = json.loads(cli("ask", FIRE, "--json", "--no-record", *dirs, env=env).stdout)
    assert before["coverage"] == NONE  # the scripts never speak of extinguishers
    anchor = "提升居民对消防的认识,使小区飞线大为减少"
    r = cli("links", "add", "sj2025-01", FIRE, "--anchor", anchor, "--user", "王丽", *dirs, env=env)
    assert r.returncode == 0, r.stderr
    for question in (FIRE, "楼道里灭火器过期了，应该由谁负责更换？"):  # the same question, and in other words
        after = json.loads(cli("ask", question, "--json", "--no-record", *dirs, env=env).stdout)
        assert after["coverage"] == FULL and after["answered"], question
        assert after["citations"] and after["citations"][0]["case_id"] == "sj2025-01"


def test_when_it_happened_is_no_concept(judge):
    # 过段时间 (jieba: a noun) tells the story's time; the question is about disputes flaring up again
    words = [c.text for c in judge.concepts("我们是个几万人的大型保障房社区，邻里纠纷调解好了，过段时间又闹起来，怎么防止反复？")]
    assert "过段时间" not in words and "调解" in words


def test_riders_kept_out_at_the_gate_are_no_matter_of_the_scripts(answerer):
    # holdout_r15 n013 (written blind): the scripts serve riders on the street (驿站, 爱心公厕), never at a gate
    got = answerer.ask("小区门岗不让外卖骑手骑车进去送餐，骑手和保安天天吵，这个规矩该怎么定？", use_llm=False)
    assert got.coverage == NONE and not got.citations


def test_a_funeral_said_the_everyday_way_is_the_scripts_matter_of_funerals(judge):
    # holdout_r17 i052 (written blind) was 没有: 停灵 and 摆酒 are what 平复苑's 丧事操办公约 is about
    assert ("丧事",) in judge.alternatives("停灵") and ("丧事",) in judge.alternatives("摆酒")


@pytest.mark.parametrize(
    "question, asks",
    [
        ("宅基地平移建房，农户钱不够怎么办", True),
        ("社区没钱请老师开课，怎么办", True),
        ("村里资金压力大，路灯怎么修", True),
        ("修桥的钱怎么凑？", True),
        ("换电梯的钱谁来出", True),
        ("小区停车位不够怎么办", False),
        ("值钱的东西被当垃圾扔了怎么办", False),
    ],
)
def test_a_question_about_money_says_where_it_comes_from_or_that_it_is_short(question, asks):
    assert asks_money(question) is asks


def test_how_a_sentence_speaks_of_money():
    assert money_said("创新推出参照上海市经济适用房贷款标准的信用贷款产品") == 2
    assert money_said("政府补贴30%(6万)") == 2
    assert money_said("缴纳每户2万元保障金由村委会保管") == 1  # a sum, not where money was found
    assert money_said("组织农户通过二次抓阄公平确定新区块划分") == 0
    assert short_of_money("为解决部分村民建房资金压力,我们主动对接银行") and not short_of_money("政府补贴30%")


def test_an_age_and_a_pronoun_are_no_concepts(judge):
    # r14's j060 named "出头" and r10's n035 "人家" as parts the scripts leave out (tune halves)
    assert "出头" not in [c.text for c in judge.concepts("辖区里五十岁出头、学历不高的失业居民挺多，我们能帮他们做点什么？")]
    assert "人家" not in [c.text for c in judge.concepts("车比车位多好几百辆，能不能跟旁边商场人家借车位用？")]


def test_a_dictated_question_asks_in_its_last_clauses(judge):
    """Spaces said as commas part clauses (a question dictated to the phone); one space parting a search-box
    query's topic from what it asks leaves the query asked whole (eval/holdout_r20.jsonl, r21: tune halves)."""
    spoken = "我们的楼组长平均快七十岁了 线上投票的链接发下去一大半弄不来 都要找家里小孩帮忙 这个你们怎么弄的"
    assert [spoken[a:b] for a, b in _asking_clauses(spoken)] == ["这个你们怎么弄的"]
    typed = "宅基地平移 老房拆除补偿怎么算"
    assert [typed[a:b] for a, b in _asking_clauses(typed)] == [typed]
    # ... but a gap is named phrase by phrase: not "燃气报警器免费申请"
    q = "老人家燃气报警器 免费安装怎么申请"
    names = [n for n, _ in _names(q, [c for c in judge.concepts(q) if c.focal])]
    assert len(names) == 2 and not any("报警器" in n and "申请" in n for n in names), names


def test_words_that_say_how_are_no_concepts(judge):
    """A negated wish (不想自己掏腰包), 不 before a word jieba reads as a noun (不花钱), a conjunction (免得) and a
    locative (街面上) tell how or where, not what the question is about (tune halves: answerable refused 19 → 15
    with the other changes of session 19)."""
    def words(q):
        return [c.text for c in judge.concepts(q)]

    assert "掏腰包" not in words("换一部要二十来万，剩下的钱从哪来？居民都不想自己掏腰包")
    assert "花钱" not in words("有没有不花钱把绿化补上的门路？")
    assert "免得" not in words("想给居委定个响应时限，免得居民在群里喊了几天没人回")
    assert "街面上" not in words("外卖小哥歇个脚都难，街面上能帮他们做点啥")
    assert "签字" not in words("加装电梯，一楼死活不签字怎么办")  # as before


def test_a_word_jieba_does_not_know_is_no_name(judge):
    """jieba tags words it does not know as people's names (承重墙, 安全检查): one opening with no common surname is a
    word of the question; 老王 and a story's "关了门" are not."""
    def words(q):
        return [c.text for c in judge.concepts(q)]

    assert "承重墙" in words("居民装修想拆承重墙 居委怎么制止")
    assert "老王" not in words("楼里老王天天在楼道堆纸板怎么办")
    assert "关了门" not in words("好几任老板开饭店，都因为油烟被业主投诉关了门，再有人来开店怎么帮他")


def test_how_a_figure_is_reckoned_asks_for_one(answerer):
    """怎么算 asks for a figure: a script that names 补偿 without one does not answer "补偿怎么算"."""
    assert any(c.quantity for c in answerer.judge.concepts("老房拆除补偿怎么算"))
    got = answerer.ask("宅基地平移 老房拆除补偿怎么算", use_llm=False)
    assert got.coverage == "none", got.answer[:200]
    got = answerer.ask("居民装修想拆承重墙 居委怎么制止", use_llm=False)
    assert got.coverage == "none" and "承重墙" in "".join(got.uncovered), got.answer[:200]


def test_a_gap_is_named_in_the_users_words(judge):
    """A gap's content words with the few characters of the user's between them ("补偿才肯签字", not "补偿签字"), and
    no quotation mark or bracket whose partner the span cut off (blind round 33: glued names read as nonsense)."""
    q = "一楼住户要求给补偿才肯签字"
    names = [n for n, _ in _names(q, [c for c in judge.concepts(q) if c.text in ("补偿", "签字")])]
    assert names == ["补偿才肯签字"], names
    q = "社区想办个“宝宝屋”托育点，需要什么资质？"
    names = [n for n, _ in _names(q, [c for c in judge.concepts(q) if c.text in ("宝宝", "托育点")])]
    assert names and all(n.count("“") == n.count("”") for n in names), names


def test_a_place_holds_the_opening_of_the_section_above_it(judge, searcher, answerer):
    """A measure told in a subsection ("3、创新筹资模式") is about the matter its section opens with ("…二期与三期
    之间有一座木桥…" under "(四)危桥改造"): the place of the subsection's passage holds that opening, and a question
    telling the matter in those words is answered, not refused for 木桥 (eval/holdout_r23.jsonl, tune half)."""
    passages = searcher.index.passages
    at = next(i for i, p in enumerate(passages) if "资金拼盘" in p.text)
    assert "木桥" not in passages[at].text and len(passages[at].section) >= 2
    hit = next(h for h in searcher.search("修桥的钱怎么凑", 8) if h.passage.id == passages[at].id)
    place = judge.place(hit)
    assert place.strength(judge.alternatives("木桥"), "木桥") >= WEAK
    got = answerer.ask(
        "小区二期和三期之间有座木桥，十几年了桥面木板都烂了，维修资金因为前届业委会的官司被冻结，业主大会征询也没通过，"
        "修桥的钱怎么凑、质量谁来盯？",
        use_llm=False,
    )
    assert got.coverage != "none" and "木桥" not in "".join(got.uncovered), got.answer[:200]
    assert "党总支班子带头捐款" in "".join(c.quote for c in got.citations)
    # the opening of the top section ("二、社区治理案例") is no part of every place below it
    top = [i for i, p in enumerate(passages) if len(p.section) == 1]
    assert all(judge._intro(i) == [] for i in top)


def test_a_limit_asked_with_ji_is_a_figure(judge, answerer):
    """几 after 最多/至少 asks for a limit, with a question mark or not ("一间房最多能住几个人，怎么答"); 几 saying
    "a few" ("小区里有几个老人", "要不要几家一起弄") asks for none."""
    def asked(q):
        return [c.text for c in judge.concepts(q) if c.quantity]

    assert asked("房东反问按规定一间房最多能住几个人，怎么答") == ["几"]
    assert asked("一年至少要参加几次社区活动？社区怎么反馈") == ["几"]
    assert asked("小区里有几个老人，怎么照顾") == []
    assert asked("要不要几家一起弄，怎么弄") == []
    got = answerer.ask("12345工单：居民举报楼上一套房住了十几个人，居委去查，房东反问按规定一间房最多能住几个人，怎么答", use_llm=False)
    assert got.coverage == "none", got.answer[:200]


def test_what_the_user_heard_is_no_concept(judge):
    """听说 / 据说 report what the user heard: "这 21 篇讲稿没有讲到“听说”" was the answer (eval/holdout_r22.jsonl)."""
    words = [c.text for c in judge.concepts("村民来问：家里老宅空着没人住，听说别的村能统一租给企业收租金，我们村能不能也牵头这么弄？")]
    assert "听说" not in words and "老宅" in words
    assert "据说" not in [c.text for c in judge.concepts("据说有的小区给楼组长发补贴，怎么发")]


def test_a_sum_asked_with_its_unit_is_answered_by_a_sum(judge, answerer):
    """多少钱 asks for a sum of money: a count of households or years in the place does not give it, a sum with
    余 or 多 before its unit does ("共众筹资金23万余元")."""
    concept = next(c for c in judge.concepts("一年大概要花多少钱") if c.quantity)
    assert judge.ways(concept, []) == [(MONEY,)]
    assert money_said("共众筹资金23万余元,在小区建设了2个休闲长廊") and not money_said("共有1200余户居民")
    got = answerer.ask("小区景观河一到夏天就发臭长水藻 想请第三方公司定期来清 一年大概要花多少钱 一个月清几次才够", use_llm=False)
    assert got.coverage == "none", got.answer[:200]
    assert answerer.ask("祥东社区居民、商户众筹了多少钱？建了哪些设施？", use_llm=False).coverage == "full"


def test_who_asks_is_no_part_of_the_question(judge, answerer):
    """A label before a colon ("房管所：…", "12345工单：…") or the asker's introduction ("我是网格员。…") says who
    asks or passes the matter on: a place that never names a 房管所 lacks no part of the question. The lift
    question below was refused as "没有讲到“房管所”" (eval/holdout_r24.jsonl); its words still count where said."""
    question = "房管所：辖区一个小高层小区8部电梯用了十六年要整体更新，一部按20万算，政府补30%后剩下的十几万，居委最后是从哪儿解决的？"
    concepts = {c.text: c for c in judge.concepts(question)}
    assert concepts["房管所"].lead and not concepts["电梯"].lead
    assert "是从" not in concepts  # 是从哪儿: how the clause is built, not what it is about
    assert judge.concepts("我是网格员。小区绿地里有人种菜，怎么劝？")[0].lead
    assert not any(c.lead for c in judge.concepts("有人问：垃圾分类积分怎么设计？") if c.text not in "有人问")
    assert not any(c.lead for c in judge.concepts("业委会怎么换届：有什么流程？"))  # a question before it
    got = answerer.ask(question, use_llm=False)
    assert got.coverage == "full" and "房管所" not in got.answer, got.answer[:200]


def test_what_someone_else_said_is_no_question():
    """A question quoted after a verb of saying is someone else's: "老爷叔说“…凭什么…”" asks nothing of the
    assistant (eval/holdout_r25.jsonl: its 老爷 and 物业费 were named as parts no script covers)."""
    text = _norm("有个老爷叔说“我交了物业费凭什么还要我来分”。有没有社区是慢慢把分类习惯养出来的？")
    assert [text[a:b] for a, b in _asking_clauses(text)] == ["有没有社区是慢慢把分类习惯养出来的?"]
    text = _norm("店主哭着来问我们：“我是按规定开的店，为什么开不下去？”店已经开起来的，怎么先帮她保住经营？")
    assert [text[a:b] for a, b in _asking_clauses(text)] == ["怎么先帮她保住经营?"]
    text = _norm("“红色业委会”怎么搞？")  # a quoted name is no speech
    assert [text[a:b] for a, b in _asking_clauses(text)] == [text]


def test_a_gap_is_named_by_what_is_asked(answerer):
    """A long message tells its story, then asks. When what it asks is missed, the gap is named by the
    sentences that ask (and the one right before them, which sets their matter), not by the story's
    details: "没有讲到“水龙头发黄”" says nothing of what was asked (eval/holdout_r25.jsonl: 冰柜, 蜘蛛网)."""
    story, asked = Concept("冰柜", 6.6, False, True), Concept("名义", 4.6, True, True)
    question = "车库里有人放冰柜，电线拉得像蜘蛛网。居民想正规用电。请问是以谁的名义去立户的？"
    assert named_by(question, [story, asked]) == [asked]
    assert named_by(question, [story]) == [story]  # nothing asked is missed: the story is the matter
    figure = Concept("多少", 0.0, True, True, quantity=True)
    assert named_by(question, [story, figure]) == [story, figure]  # a figure alone names nothing
    got = answerer.ask(
        "我们小区是九十年代的老公房，楼顶水箱好几年没人管。上个月有居民说水龙头放出来的水发黄，还有细小的沉淀，"
        "群里吵了好几天。物业说清洗要花钱，业委会说没有这笔预算。想问问二次供水的水箱按规定多久要清洗消毒一次？"
        "水质检测报告该由谁出？",
        use_llm=False,
    )
    assert got.coverage == "none" and got.uncovered, got.answer[:200]
    assert not any("水龙头" in u or "沉淀" in u for u in got.uncovered), got.uncovered


def test_a_gap_is_named_with_the_noun_that_says_which(judge):
    """The noun right before a missed one says which it is, however discussed: 台账报表, 维修资金账户, not 报表, 账户
    (blind round 40); a locative (家里) or an asking word (问问) does not."""
    q = "居委会就几个人，台账报表一大堆，怎么减负？"
    assert [n for n, _ in _names(q, [c for c in judge.concepts(q) if c.text == "报表"])] == ["台账报表"]
    q = "维修资金账户快见底了，每户按什么标准交？"
    assert [n for n, _ in _names(q, [c for c in judge.concepts(q) if c.text == "账户"])] == ["维修资金账户"]
    q = "家里宽带老是断，找谁修？"
    assert [n for n, _ in _names(q, [c for c in judge.concepts(q) if c.text == "宽带"])] == ["宽带"]


def test_a_count_is_no_concept(judge):
    """"想请教两件事" counts what is asked; 两件事 (a jieba dictionary noun) was named as a part no script covers. Nor is
    a word jieba glued to the verb of an A-not-A question ("分房时分不分": 时分) one."""
    assert "两件事" not in {c.text for c in judge.concepts("想请教两件事：店已经开起来的，怎么先帮她保住经营？")}
    words = {c.text for c in judge.concepts("离婚后回娘家的女儿，分房时分不分？")}
    assert "时分" not in words and "分房" in words
