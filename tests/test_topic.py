"""The focal topic of a question and whether a follow-up stays on it (real corpus statistics, shipped index)."""

from __future__ import annotations

import pytest

from assistant.config import get_settings
from assistant.extractive import CorpusStats
from assistant.retrieval import HybridSearcher
from assistant.topic import TopicFinder

from conftest import CORPUS_DIR, INDEX_DIR


@pytest.fixture(scope="module")
def topics():
    searcher = HybridSearcher.from_settings(get_settings(corpus_dir=CORPUS_DIR, index_dir=INDEX_DIR))
    return TopicFinder(CorpusStats(searcher.index.passages))


@pytest.mark.parametrize(
    "question, expected",
    [
        ("宅基地平移建房，农户钱不够怎么办？", {"宅基地", "平移"}),
        ("加装电梯，一楼死活不签字怎么办", {"加装电梯"}),
        ("老小区装了电子道闸，可好多车主就是不交停车费，硬往里闯，保安也拦不住。", {"电子道闸", "停车费"}),
        ("动迁小区里群租四百多户，一套房隔成好多间，还有做日租的", {"群租"}),
    ],
)
def test_focal_words_name_the_matter(topics, question, expected):
    got = topics.focal(question)
    assert expected <= set(got), got
    assert len(got) <= 3


def test_incidental_words_are_not_the_topic(topics):
    # the old carry took the rarest words: "以后 房子 分配 过去"; counting, negating and filler words never count
    for word in ("以后", "过去", "好几", "不肯", "一百", "平均", "干脆", "怎么办"):
        assert topics.topicality(word) == 0.0, word
    assert topics.topicality("宅基地") > topics.topicality("房子")
    assert topics.focal("那钱从哪里来？") == []
    # with the passages that answered it, only words the scripts use there count (besides taxonomy words)
    assert "几千辆" not in topics.focal("小区几千辆电瓶车，一个充电桩都没有", within="电瓶车充电桩安装")


@pytest.mark.parametrize(
    "question",
    ["那钱从哪里来？", "他要是一直不签呢", "村里呢？", "要多久？", "最后定了啥？", "那些死活不交的呢？"],
)
def test_follow_ups_lean_on_the_topic(topics, question):
    assert topics.follows(question, ["宅基地", "平移", "建房"])


def test_a_question_of_its_own_matter_opens_a_new_topic(topics):
    topic = ["停车费", "车位"]
    assert not topics.follows("对了，楼道堆物怎么治理？", topic)  # a topic-change opener with a matter of its own
    assert not topics.follows("换个事，老小区好多人私装地锁占车位，怎么拆？", ["群租房", "底数"])
    assert not topics.follows("农村红白喜事大操大办，丧事还搭棚摆酒，村里怎么引导移风易俗？", topic)
    assert topics.follows("对了，那收费标准怎么定？", topic)  # the opener alone does not change the matter
    assert topics.follows("小区停车费后来涨到多少了，外面的车还进来吗？", topic)  # shares the topic's word
    assert not topics.follows("任何问题", [])  # no topic yet: nothing to follow


def test_a_group_pointed_back_to_continues_the_conversation(topics):
    # e032 (written blind): after the 道闸 answer "对这帮人…" asks about the people that answer spoke of
    topic = ["道闸", "停车费", "保安"]
    assert topics.follows("对这帮人后来是怎么弄的？光靠物业肯定压不住吧。", topic)
    assert topics.follows("审批那一堆材料，总不能让老人家自己一趟趟去跑吧？", ["花粉", "过敏", "枇杷树"])
    # a question of its own about other people still opens a new matter
    assert not topics.follows("农村红白喜事大操大办，丧事还搭棚摆酒，村里怎么引导移风易俗？", topic)


def test_a_message_that_opens_with_but_answers_what_was_just_said(topics):
    # m016 (written blind): "可一收费就怕…" after the 闲置用房 question was a new question (no word of the topic,
    # over 20 characters) and led with another community's 联席会议
    topic = ["跆拳道", "绘画", "培训", "闲置"]
    for q in ("可一收费就怕居民说居委会拿公共场地赚钱，合作哪家、收多少钱，谁来拍板比较稳妥？",
              "但是居民代表会议上有人坚决反对，说占用公共资源，这种情况后来怎么说服的？",
              "不过要是业委会也不同意，街道那边一般会怎么协调各方的意见呢"):
        assert topics.follows(q, topic), q
    # 可以 / 可能 / 可不可以 open a question of their own, as before
    assert not topics.follows("可以讲讲农村红白喜事大操大办、丧事搭棚摆酒，村里怎么引导移风易俗？", topic)
    assert not topics.follows("可不可以说说农村红白喜事大操大办、丧事搭棚摆酒，村里怎么引导移风易俗", topic)


def test_an_opener_that_announces_a_new_matter_is_not_searched(topics):
    assert topics.without_opener("对了，楼道堆物怎么治理？") == "楼道堆物怎么治理？"
    assert topics.without_opener("说个别的，农村保洁费老是收不上来，有什么办法？").startswith("农村保洁费")
    assert topics.without_opener("对了，那呢？") == "对了，那呢？"  # nothing of its own after it: kept as asked
    assert topics.without_opener("楼道堆物怎么治理？") == "楼道堆物怎么治理？"
    for opener in ("另外问个事：", "顺便问一下，", "还有个事儿，", "再问一个问题：", "另外，"):
        assert topics.without_opener(opener + "村里的水稻一直卖湿谷，有没有村子自己加工成大米卖的？").startswith("村里的水稻"), opener
    assert topics.without_opener("另外那些不交的呢？") == "另外那些不交的呢？"  # points back: no matter of its own
    # "再问个别的，…" was searched as "别的，…": the opener takes 别的 / 其他 with it
    for opener in ("再问个别的，", "问个别的事：", "再问一个其他问题："):
        assert topics.without_opener(opener + "高楼有人往下扔东西，有什么技术手段？").startswith("高楼"), opener


def test_a_mid_length_question_follows_when_the_passages_being_read_speak_of_it(topics):
    context = '加梯工作小组前期"打头阵",做了出资意向排摸。"谈不拢"了再由居委会出面协商。'
    question = "出资比例一直谈不拢，到时候谁出面协调？"
    assert topics.follows(question, ["加装电梯"], context)
    assert not topics.follows(question, ["宅基地"], "黄桥村宅基地平移")
