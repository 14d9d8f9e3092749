"""The checks a drafted handout question passes before it is handed out (round-5 rules).

Blind readers rejected handouts for quotes opening mid-thought ("随之而来的是", "而第二辆", "最终"), quotes cut
before their point, role-play parties backed by the speaker's summary, comparisons of two measures on different
sides of one problem and misspellings of the scripts.  These tests hold the checks to those cases and the
handouts to the checks."""

from __future__ import annotations

import re

import pytest

from assistant import handout_material as hm
from assistant.handout import (
    KINDS,
    PER_KIND,
    QUOTE_CHARS,
    Question,
    build_handout,
    choose,
    generic_bigrams,
    question_faults,
    same_thing,
)
from assistant.citations import Citation
from assistant.quoting import _FOLLOWS_ON, locate, quote_faults, tidy

QUOTE = re.compile(r"“([^”]*)”\[(\d+)\]")


@pytest.fixture(scope="module")
def made(cards):
    """The round-5 reading's handouts (a case of each kind of community and two topics), six questions asked."""
    out = {c: build_handout(cards, case_id=c, n=6) for c in ("sj2025-16", "sj2025-20", "sj2025-03", "sj2025-07")}
    out |= {t: build_handout(cards, topic=t, n=6) for t in ("停车", "新就业群体")}
    return out


@pytest.mark.parametrize(
    "span, sentence, why",
    [
        # the sentence follows on from the one before: quoted alone, its start is missing
        ("第二辆则提高到15元/天", "而第二辆则提高到15元/天,通过提高收费标准,引导居民合理控制车辆数量。", "承接上文"),
        ("随之而来的是维修基金遭到冻结,日常公共维修工作推进困难", "随之而来的是维修基金遭到冻结,日常公共维修工作推进困难。", "承接上文"),
        ("最终在集中居住区周边平整闲置土地,建设了478块菜园", "最终在集中居住区周边平整闲置土地,建设了478块菜园。", "承接上文"),
        # a clause cut out of the middle: what it follows on from is missing (here after its "但")
        ("有时因为站点人数众多没有覆盖到每一位新就业群体", "街区走访时了解到站点也关心新就业群体,但有时因为站点人数众多没有覆盖到每一位新就业群体。", "承接上文"),
        ("结合小区议事规则,研究制定了业委会\"1+N\"的组建模式", "我们邀请华政教授团队进行指导,结合小区议事规则,研究制定了业委会\"1+N\"的组建模式。", "句中截起"),
        # a cause without its consequence
        (
            "三湘四季社区由于人口密度大、流动快,加之历史遗留问题较多",
            "三湘四季社区由于人口密度大、流动快,加之历史遗留问题较多,导致业委会迟迟不能成立。",
            "后半句",
        ),
        # what the last verb turns the thing into is cut
        (
            "我们升级以补水休憩为主的\"请停留1分钟\"服务项目",
            "我们升级以补水休憩为主的\"请停留1分钟\"服务项目,培育为以学习充电为主的\"10分钟\"课堂。",
            "后半句",
        ),
        # a lead-in whose items are in the next sentences
        ("结合实际需求,打造\"益课堂\"特色品牌,包含四个维度", "结合实际需求,打造\"益课堂\"特色品牌,包含四个维度:", "引出的内容"),
        ("业委会换届工作破在眉睫,居民意见很大", "业委会换届工作破在眉睫,居民意见很大。", "错字"),
        # 介于 for 鉴于, 与 for 于 before a date (round 10, reader J)
        ("介于第一部电梯的成功,2023年开启了第二台加装电梯工作,并与2024年完成施工", "介于第一部电梯的成功,2023年开启了第二台加装电梯工作,并与2024年完成施工。", "错字"),
        ("三湘的老大难问题能够得到解决,离不开街道领导的重视和关怀", "三湘的老大难问题能够得到解决,离不开街道领导的重视和关怀。", "套话"),
    ],
)
def test_quote_faults_name_what_readers_rejected(span, sentence, why):
    faults = quote_faults(span, sentence)
    assert any(why in f for f in faults), faults


@pytest.mark.parametrize(
    "span, sentence",
    [
        ("邻里之间,常常因为抢车位而争吵不休,甚至大打出手", "邻里之间,常常因为抢车位而争吵不休,甚至大打出手,多年的和睦关系毁于一旦。"),
        # a frame dropped in front of a statement with its own subject
        ("我们\"巧借东风\",积极协调地下车库320个车位错峰停车", "从外部来看,我们\"巧借东风\",积极协调地下车库320个车位错峰停车。"),
        # "另一方面" is dropped: what follows reads alone
        ("小区长期维持10元/天的低价停车费,吸引大量外来车辆涌入", "另一方面,小区长期维持10元/天的低价停车费,吸引大量外来车辆涌入。"),
    ],
)
def test_quote_faults_pass_what_reads_alone(span, sentence):
    assert quote_faults(span, sentence) == []


def test_every_quote_starts_and_ends_where_the_statement_does(made):
    for h in made.values():
        for q in h.questions:
            for span, n in QUOTE.findall(q.text):
                sentence = h.sources[int(n) - 1][0].quote
                assert len(span) <= QUOTE_CHARS
                assert quote_faults(span, sentence) == [], (span, sentence)
                # no quote opens with a connective, nor sits in a sentence that opens with one
                assert not _FOLLOWS_ON.match(span), span
                a, _ = tidy(sentence)
                assert not _FOLLOWS_ON.match(sentence[a:]), sentence


def test_every_role_play_party_speaks_in_its_own_passage(made):
    """The party is the subject or the speaker of the sentence cited for it (not the speaker's summary of it)."""
    plays = [(h, q) for h in made.values() for q in h.questions if q.kind == "角色扮演"]
    # role-plays stay where the scripts give a party its own voice on the scene (round 9: 湖畔天地's 地下车库产权车主,
    # a fault only, before an unrelated background, is no longer cast: 第三街区's 商户 remains)
    assert len(plays) >= 1
    for h, q in plays:
        assert q.parties
        for party, n in q.parties:
            c, card = h.sources[n - 1]
            subjects = hm.subjects(c.quote)
            assert subjects, (party, c.quote)
            named = {hm.display_name(s.party, s.word, card.community_type) for s in subjects}
            named |= {hm.group_label(c.quote, s.at, s.word) for s in subjects}
            assert any(party == x or party.endswith(x) or x.endswith(party) for x in named), (party, named, c.quote)


def test_comparisons_set_two_ways_of_doing_one_thing_side_by_side(made, cards):
    compares = [(h, q) for h in made.values() for q in h.questions if q.kind == "对比分析"]
    assert len(compares) >= 2  # where two communities did one thing differently (none rather than an unfair pair)
    generic = generic_bigrams(cards)
    for h, q in compares:
        by_case = {}
        for span, n in QUOTE.findall(q.text):
            c, card = h.sources[int(n) - 1]
            by_case.setdefault(c.case_id, (span, card))
        assert len(by_case) == 2, q.text
        (a, ca), (b, cb) = by_case.values()
        assert same_thing(a, ca, b, cb, generic=generic), (a, b)


def test_same_thing_tells_one_measure_from_two_sides_of_a_problem(cards):
    def card(name):
        return next(c for c in cards.values() if name in c.community)

    generic = generic_bigrams(cards)
    lessons = "动员\"老骑手\"现身说法,带教\"萌新骑手\",培育\"小哥帮帮帮\"10分钟课堂项目"
    assert same_thing(lessons, card("第三街区"), "邀请区交通委到\"小哥课堂\"开展交通普法", card("高科技"), generic=generic)
    # two parties acting, nothing done alike
    assert not same_thing(
        "居委会、业委会收集了几个火灾视频,通过居民代表转发至每家每户",
        card("蓝天二村"),
        "居委会、业委会、物业公司和居民代表共同沟通,推动方案落地",
        card("奥园"),
        generic=generic,
    )


def test_no_two_questions_on_one_story_and_no_quote_twice(made):
    for h in made.values():
        spans = [re.sub(r"\s+", "", x) for q in h.questions for x in q.quotes]
        assert len(spans) == len(set(spans))
        cited = [n for q in h.questions for n in q.sources]
        assert len(cited) == len(set(cited))  # one sentence, one question


def test_choose_takes_each_kind_first_and_drops_a_faulty_draft(cards):
    h = build_handout(cards, case_id="sj2025-20", n=6)
    assert 4 <= len(h.questions) <= 6
    kinds = [q.kind for q in h.questions]
    assert set(kinds) == set(KINDS)  # the material has all four: each is asked
    assert all(kinds.count(k) <= PER_KIND for k in KINDS)
    good = h.questions[0]
    c, _ = h.sources[good.sources[0] - 1]
    # the same question quoting the sentence from a clause in its middle, opening on a connective
    bad_span = "最终" + good.quotes[0]
    bad = Question(good.kind, good.text.replace(good.quotes[0], bad_span), good.sources, [bad_span], good.parties)
    assert question_faults(good, h.sources) == []
    assert question_faults(bad, h.sources)
    # a role-play party pointed at a sentence that is not its own
    play = next(q for q in h.questions if q.kind == "角色扮演")
    party, n = play.parties[0]
    other = next(k for k in range(1, len(h.sources) + 1) if k != n and not hm.stances(
        h.sources[k - 1][1], lambda s, c=h.sources[k - 1][0]: s.start == c.start
    ))
    wrong = Question(play.kind, play.text, play.sources, play.quotes, [(party, other)])
    assert any("角色" in f for f in question_faults(wrong, h.sources))
    picked = choose([bad, good], h.sources, 2)
    assert picked == [good]
    assert locate(good.quotes[0], c.quote) is not None


def test_a_topic_handout_asks_each_communitys_situation_once(cards):
    """业委会: 三湘四季's committee that could not be formed is one story, told from two sides in the script."""
    h = build_handout(cards, topic="业委会", n=6)
    leads = [h.sources[q.sources[0] - 1][0].case_id for q in h.questions if q.kind == "情境研讨"]
    assert len(leads) == len(set(leads))
    for q in h.questions:
        if q.kind == "情境研讨":
            assert not re.search(r"调研.*(?:找出|症结)", q.quotes[0])  # the finding is not handed over as the situation


def test_a_party_opening_its_own_clause_may_be_quoted_from_there():
    """"一楼业主不同意(…)" after the speaker's "…的情况一公布," is the owners' own stance; "居民众筹的休闲长廊" after
    "加上" is a thing the residents paid for, cut out of a sentence."""
    from assistant.handout import _party_opens

    sentence = "换电梯的钱要从维修资金帐户中开支的情况一公布,一楼业主不同意(因为根本不用电梯),二楼业主也反对(因为很少用电梯)。"
    assert quote_faults("一楼业主不同意(因为根本不用电梯)", sentence, _party_opens) == []
    cut = "小区新建了健身步道,加上居民众筹的休闲长廊、篮球场等,公共空间成了社区文化加油站。"
    assert quote_faults("居民众筹的休闲长廊、篮球场等,公共空间成了社区文化加油站", cut, _party_opens)


def test_money_granted_from_outside_is_no_outcome_to_reflect_on(cards):
    # both round-5 readers: "超长期特别国债政策支持换梯,补贴15万/部" is a condition given, not a result achieved
    from assistant.handout import build_handout

    h = build_handout(cards, case_id="sj2025-06", n=6)  # 西林塔's 换梯
    assert h.questions and not any("国债" in x for q in h.questions for x in q.quotes)


# ---------------------------------------------------------------------------
# round 5's readers (2/10 and 3/10 usable): what they stopped at


@pytest.mark.parametrize(
    "span, why",
    [
        ("收到问题清单后,街区党支部召开\"JIE事好商量\"议事会", "引文从前文的事情接起"),
        ("首期名额满员后,组织农户通过\"二次抓阄\"公平确定新区块划分", "引文从前文的事情接起"),
        ("主要是我们一些老年人的思想有点\"老古板起\"", "引文承接上文开头"),
        ("业委会后续通过增加停车位项目,达到780个", "引文指向前文"),
        ("在去年走访街区内的外卖站点时,我了解到,外卖骑手的工作节奏快", "引文里的“我”不知是谁"),
        ("邻里互助型(如\"老伙伴\"、\"帮帮乐\",聚焦高龄、独居老人关怀", "引文是列举中的类别名"),
        ("换梯成功,离不开一位关键人物——业委会主任汤飞龙", "引文是对个人的称赞"),
    ],
)
def test_quotes_the_readers_could_not_read_out(span, why):
    from assistant.handout import quote_flaw

    assert quote_flaw(span) == why


def test_quotes_that_read_out_well_pass():
    from assistant.handout import quote_flaw

    for ok in (
        "地下车库产权车主为图方便占用地面公共车位却不缴费,加剧地面车位紧张",
        "我们牵头建立了\"七心桥区域党建联盟\"",  # a community's "我们" is its own voice
        "小区停车从2017年下午四点(1300辆)难停到目前随时能有地方停(超过2000辆)",
    ):
        assert quote_flaw(ok) is None, ok


def test_a_party_is_cast_only_with_its_own_position():
    """Its name, then in its own clause what it wants, fears, refuses or does against the rules; not a state the
    speaker ascribes to it ("业主意见分散"), not a concession ("商铺同意…", the 酒店 worrying after it)."""
    assert hm.own_position("地下车库产权车主为图方便占用地面公共车位却不缴费,加剧地面车位紧张", "车主")
    assert hm.own_position("维修基金被冻结,小区日常维修得不到保障,居民怨声载道", "居民")
    assert hm.own_position("老年人的思想有点\"老古板起\",觉得女儿已经出嫁", "老年人")
    assert not hm.own_position("由于社区分四期开发建设,业主意见分散,共识难以形成", "业主")
    assert not hm.own_position("经居民区前期协调,商铺同意更改排烟口至楼顶,但二楼的酒店担心有噪音影响生意", "商铺")
    assert not hm.own_position("集中居住区道路网络相对复杂,老人、儿童易迷路", "老人")


def test_scenes_comparisons_and_role_plays_a_trainer_would_change(cards):
    from assistant.handout import Question, class_faults

    card = cards["sj2025-16"]
    scene = Question("情境研讨", "摆在面前的情况是：“面对原有宅基地布局分散、利用粗放的问题,改革的核心在于\"减量\"”[1]。", [1],
                     ["面对原有宅基地布局分散、利用粗放的问题,改革的核心在于\"减量\""])
    assert any("解决思路" in f for f in class_faults(scene, []))
    # 村民's 积分 against 志愿者's 积分: the same word, for different people
    a = "我们依据《松江区推广运用乡村治理积分制实施方案》,黄桥村修订完善了《黄桥村积分制管理办法》及配套细则"
    b = "将组织活动、志愿服务、帮扶关爱、环境整治、社区巡查等服务项目纳入奖励、扣分机制,有效促使志愿者将\"积分制\"转化为工作动力"
    compare = Question("对比分析", f"做法是：“{a}”[1]；而做法是：“{b}”[2]。", [1, 2], [a, b], on=("人居环境/积分制",))
    assert "对比的两个做法面向不同的人" in class_faults(compare, [])
    # a role-play party whose situation is another matter than the scene (业委会 vacancy for a 飞线充电 visit)
    from assistant.handout import related

    three = cards["sj2025-07"]
    assert not related(
        "由于社区分四期开发建设,业主意见分散,共识难以形成,导致业委会连续两届换届出现缺位",
        "小区电动自行车保有量大,但缺乏配套的充电桩和专用停车库,\"飞线充电\"和室内充电现象普遍", three,
    )
    # round 9: the two are on one matter (parking) — related() stays true — but the background is not about the
    # party cast, and the party's only trait is a fault: the role-play is turned down by the party checks instead
    assert related("地下车库产权车主为图方便占用地面公共车位却不缴费", "小区长期维持10元/天的低价停车费,吸引大量周边商业区外来车辆涌入", cards["sj2025-03"])
    del card


def test_a_role_play_party_needs_a_concern_and_a_background_about_it(cards):
    """Round 8 (停车, 湖畔天地): 地下车库产权车主 whose only trait is "图方便占位不缴费", set against a background on the
    low fee that draws outside cars: a student cannot play it."""
    from assistant.handout import Question, class_faults

    party = "地下车库产权车主为图方便占用地面公共车位却不缴费,加剧地面车位紧张"
    scene = "小区长期维持10元/天的低价停车费,吸引大量周边商业区外来车辆涌入,挤占业主资源"
    card = cards["sj2025-03"]
    c = card.story.cite(next(s for s in card.story.sentences if party in s.text))
    d = card.story.cite(next(s for s in card.story.sentences if scene in s.text))
    q = Question("角色扮演", f"一名学员扮演地下车库产权车主（“{party}”[1]）。背景是这段经历：“{scene}”[2]。", [1, 2], [party, scene],
                 parties=[("地下车库产权车主", 1)])
    faults = class_faults(q, [(c, card), (d, card)])
    assert any("只写了该方的毛病" in f for f in faults), faults
    assert any("背景讲的不是该方" in f for f in faults), faults
    assert not hm.own_concern(party, "车主")
    assert hm.own_concern("商铺的从业人员反应家住车墩路途遥远,周边没有充电桩,无法满电回家", "从业人员")
    assert hm.own_concern("一楼业主不同意(因为根本不用电梯)", "业主")


def test_a_priority_question_needs_several_parts():
    from assistant.handout import several_parts

    assert not several_parts("小区无地下停车位,且随着居民生活水平提升、人员结构变化,车辆每年以约100辆的速度增长,停车压力与日俱增")
    assert several_parts("结构性三分:本地动迁居民、自购房新上海人、外来务工流动\"新市民\"(占>50%)混居,差异显著")
    assert several_parts("一是停车管理难;二是商户扰民")


def test_a_result_does_not_stop_before_its_final_figure():
    from assistant.handout import cut_before

    s = ("小区原来没有设立停车位,第一次政府主导改造,开辟了600余个,业委会后续通过增加停车位项目,达到780个,"
         "在2022年通过旧改第五次改造,现拥有划线车位1165个,道路宽敞整洁,车辆停放有序")
    assert "后来的数字" in (cut_before("小区原来没有设立停车位,第一次政府主导改造,开辟了600余个", s, scene=False) or "")
    assert cut_before("在2022年通过旧改第五次改造,现拥有划线车位1165个", s, scene=False) is None
    # a label and half a sentence (加装电梯, round 8): "中山街道第一部加装电梯:楼道住户组成了加梯工作小组"
    t = "中山街道第一部加装电梯:楼道住户组成了加梯工作小组,与居委会工作人员一起开始了后续的意见征询、协商资金分摊比例等工作。"
    assert cut_before("中山街道第一部加装电梯:楼道住户组成了加梯工作小组", t, scene=False) == "引文是小标题加半句话"
    assert cut_before(t.rstrip("。"), t, scene=False) is None


def test_a_required_procedure_is_not_piloted_and_a_payment_says_what_for():
    from assistant.handout import Question, class_faults, payment_without_purpose, standing

    assert not standing("全过程践行\"四议两公开\"制度,确保村民的知情权、参与权、决策权和监督权")
    assert standing("落实\"四议共答\"工作制度,经多方讨论、民主协商、党总支审议通过后,以\"两上两下\"方式提交业主大会征询民意、表决方案")
    pay = "申请建房农户与村委会签订委托协议,并缴纳每户2万元保障金由村委会保管"
    assert payment_without_purpose(pay)
    assert not payment_without_purpose("小区长期维持10元/天的低价停车费,吸引大量周边商业区外来车辆涌入")  # a price, not a payment asked
    assert not payment_without_purpose("换电梯的钱要从每家每户维修资金帐户中开支")
    q = Question("情境研讨", f"黄桥村推进这项工作时的一项做法是：“{pay}”[1]。如果有村民不理解，你会怎样解释？", [1], [pay])
    assert any("没说钱用来做什么" in f for f in class_faults(q, []))
    step = "全过程践行\"四议两公开\"制度,确保村民的知情权、参与权、决策权和监督权"
    pilot = Question("反思迁移", f"黄桥村的这一步（“{step}”[1]）…请设计一个“先试点、再推广”的方案。", [1], [step])
    assert any("先试点" in f for f in class_faults(pilot, []))


def test_a_widened_topic_is_titled_for_what_it_covers(cards):
    """加装电梯 (round 8): the handout takes questions from 电梯更新 too; its title and head say so, the reason is for
    the trainer only."""
    from assistant.handout import build_handout, to_markdown

    h = build_handout(cards, topic="加装电梯", n=6)
    md = to_markdown(h)
    assert h.title == "培训讨论题：加装电梯与电梯更新"
    assert "内容较少" not in md and "供参照" not in md
    assert h.trainer_note and "内容较少" in h.trainer_note


def test_no_handout_rather_than_one_that_cannot_be_used(cards):
    """When no draft passes the checks the trainer gets a clear message, not an empty or padded handout (here
    every template asks for something no script has)."""
    from assistant.errors import InputError
    from assistant.handout import KINDS, Template, build_handout

    nothing = {k: [Template("{no_such_material}")] for k in KINDS}
    with pytest.raises(InputError, match="停车.*换一个话题"):
        build_handout(cards, topic="停车", n=6, templates=nothing)


def test_a_thin_topic_still_carries_a_class(cards):
    """加装电梯 (round 5: "开始了后续的…", "离不开一位关键人物", a night patrol were handed out; round 6: one
    question only): at least four questions on 电梯, none of those quotes."""
    from assistant.handout import build_handout

    h = build_handout(cards, topic="加装电梯", n=6)
    text = "\n".join(q.text for q in h.questions)
    # round 8: three (the 换电梯 scene quoted without its turn, "但是维修资金的使用规定是法定的", is no longer handed out)
    assert len(h.questions) >= 3 and all("电梯" in "".join(q.quotes) or "加梯" in "".join(q.quotes) or "换梯" in "".join(q.quotes) for q in h.questions)
    assert not re.search(r"离不开|巡逻", text)
    # "后续" only after a clause of the quote's own that says what came first (round 9: the whole 加梯 sentence)
    assert not any(re.match(r"[^，,]*后续", x) for q in h.questions for x in q.quotes)


def test_the_trainer_is_told_which_kinds_are_missing(cards):
    from assistant.handout import KINDS, build_handout

    h = build_handout(cards, case_id="sj2025-16", n=6)
    missing = [k for k in KINDS if all(q.kind != k for q in h.questions)]
    assert missing  # 黄桥's script: no party speaks for itself, no community serves the same people the same way
    assert h.trainer_note and all(f"【{k}】" in h.trainer_note for k in missing)
    assert not any("本讲义未出" in line for line in h.summary)  # not in what the class gets


def test_a_time_span_is_no_untold_event_and_a_step_is_no_scene():
    from assistant.handout import Question, class_faults, quote_flaw

    assert quote_flaw("电梯工作16年以后,故障频发") != "引文从前文的事情接起"  # how long, not after what
    assert quote_flaw("改造完成以后,居民出行方便了") == "引文从前文的事情接起"
    span = "为切实解决商户\"充电难\"问题,街区党支部又进行了深入调研,街区沿街分布着600多家商铺"
    q = Question("角色扮演", f"背景是第三街区的这段经历：“{span}”[1]。", [1], [span])
    assert any("不是难题" in f for f in class_faults(q, []))


def test_the_upset_party_at_the_meeting_is_the_one_disturbed(cards):
    """A shop's exhaust fan keeps the neighbours awake: the residents are upset at the meeting, not the shop."""
    from assistant.handout import build_handout

    h = build_handout(cards, case_id="sj2025-20", n=8)
    for q in h.questions:
        if "情绪激动" in q.text and re.search(r"扰民|投诉", "".join(q.quotes)):
            assert "如果居民在" in q.text, q.text


# ---------------------------------------------------------------------------
# round 6 blind reading: same ask twice, 先试点 on a one-off act, a quote without its label, thin handouts


def test_two_questions_with_one_ask_are_the_same_question():
    """业委会 (round 6): "你第一个月会先摸清哪些情况、先找哪些人谈" and "你会先去找哪些人" asked twice."""
    from assistant.handout import Question, ask_clause, ask_faults, load_templates, same_ask

    tpl = load_templates()
    first = next(t for t in tpl["情境研讨"] if "先找哪些人谈" in t.text)
    nobody = next(t for t in tpl["情境研讨"] if "没有人愿意牵头" in t.text)
    money = next(t for t in tpl["情境研讨"] if "钱的事" in t.text)
    assert first.asks & nobody.asks and not first.asks & money.asks
    a = Question("情境研讨", "假设你刚到甲担任书记，摆在面前的情况是：“甲”[1]。在不知道后来怎么做的前提下，你第一个月会先摸清哪些情况、先找哪些人谈？", [1], ["甲"], template=first.text, asks=first.asks)
    b = Question("情境研讨", "乙面临的情况是：“乙”[2]。如果没有人愿意牵头、报名的人也寥寥无几，你会先去找哪些人？", [2], ["乙"], template=nobody.text, asks=nobody.asks)
    c = Question("情境研讨", "丙遇到的难题是：“丙”[3]。钱的事——谁出、出多少、怎么收——往往最难谈拢。", [3], ["丙"], template=money.text, asks=money.asks)
    assert same_ask(a, b) and not same_ask(a, c) and not same_ask(b, c)
    assert ask_faults([a, c, b]) == ["第1题和第3题问的是同一件事"]
    # without marks (the LLM's questions): the same template, or the same first clause of the ask
    d = Question("反思迁移", "丁的这一步（“丁”[4]）在别处照搬时最容易走样的是什么？请设计方案。", [4], ["丁"])
    e = Question("反思迁移", "戊的这一步（“戊”[5]）在别处照搬时最容易走样的是什么？请说明。", [5], ["戊"])
    assert ask_clause(d.text) == "在别处照搬时最容易走样的是什么" and same_ask(d, e)


def test_no_handout_asks_one_thing_twice(cards):
    from assistant.handout import ask_faults, build_handout

    for kw in ({"topic": "业委会"}, {"topic": "停车"}, {"case_id": "sj2025-20"}):
        h = build_handout(cards, n=6, **kw)
        assert not ask_faults(h.questions), (kw, [q.text for q in h.questions])
        assert len({q.template for q in h.questions}) == len(h.questions)


def test_a_pilot_is_asked_of_a_standing_arrangement_only():
    """先试点、再推广 on 包裹烟囱 (a one-off) and on splitting 业委会 into two groups (a restructuring): turned down."""
    from assistant.handout import Question, class_faults, standing

    assert not standing("居委会在现场核查后立即协调商铺餐饮店,并联系物业公司将反光烟囱用隔音棉等材料进行包裹")
    assert not standing("推进业委会中党的组织和工作全覆盖,将业委会分成南、北两个项目组")
    assert not standing("面对两难境地,区市监局特种设备科给出了专业建议")
    assert not standing("我们梳理整合阵地、人才、团队等47项资源清单")
    assert standing("落实\"四议共答\"工作制度,经多方讨论、民主协商、党总支审议通过后,以\"两上两下\"方式提交业主大会")
    assert standing("为了加强监督,我们对屡教不改的乱停车行为,实行公众号曝光、黑名单制度等措施")

    def pilot(span: str) -> Question:
        return Question("反思迁移", f"甲居民区的这一步（“{span}”[1]）在别处照搬时最容易走样的是什么？请为你所在的小区设计一个“先试点、再推广”的方案。", [1], [span])

    one_off = "居委会在现场核查后立即协调商铺餐饮店,并联系物业公司将反光烟囱用隔音棉等材料进行包裹"
    assert any("先试点" in f for f in class_faults(pilot(one_off), []))
    assert not any("先试点" in f for f in class_faults(pilot("为了加强监督,我们对屡教不改的乱停车行为,实行公众号曝光、黑名单制度等措施"), []))


def test_the_handouts_pilot_standing_measures_only(cards):
    from assistant.handout import _AS_MEASURE, _lead_in, build_handout, standing

    for kw in ({"topic": "动迁安置"}, {"topic": "业委会"}, {"case_id": "sj2025-16"}, {"case_id": "sj2025-12"}):
        h = build_handout(cards, n=6, **kw)
        for q in h.questions:
            if "先试点" in q.text:
                measured = [x for x in q.quotes if _AS_MEASURE.search(_lead_in(q, x))]
                assert measured and all(standing(x) for x in measured), q.text
        # the one-off and the restructuring are never offered for a pilot (asked where it would get stuck, the
        # restructuring is a fair question: round 12 turned down the quote that stood in its place)
        assert not any(("烟囱" in q.text or "南、北两个项目组" in q.text) and "先试点" in q.text for q in h.questions)


def test_a_quote_keeps_the_label_its_sentence_opens_with(cards):
    """动迁安置 (round 6): "舒缓人情与快节奏低关注度之间的摩擦…持续对撞" without "生活方式碰撞:" is abstract."""
    from assistant.handout import build_handout, drops_label

    sentence = "生活方式碰撞:舒缓人情与快节奏低关注度之间的摩擦常在公共空间使用、卫生习惯中持续对撞。"
    assert drops_label("舒缓人情与快节奏低关注度之间的摩擦常在公共空间使用、卫生习惯中持续对撞", sentence)
    assert not drops_label("生活方式碰撞:舒缓人情与快节奏低关注度之间的摩擦常在公共空间使用", sentence)
    # a connective or a speaker is no label
    assert not drops_label("换电梯的钱要从每家每户维修资金帐户中开支", "比如:换电梯的钱要从每家每户维修资金帐户中开支。")
    assert not drops_label("我不能辜负组织对我的信任", "他说:我不能辜负组织对我的信任!")
    h = build_handout(cards, topic="动迁安置", n=6)
    for q in h.questions:
        for x in q.quotes:
            assert not x.startswith("舒缓人情"), q.text


def test_a_case_handout_asks_about_what_the_case_is_about(cards):
    """黄桥村 (round 6): three questions, on 积分制, a figure and parking, none on 宅基地 平移归并 (分配, 选房)."""
    from assistant.handout import build_handout

    h = build_handout(cards, case_id="sj2025-16", n=6)
    # cards round 6: the card's problem is read as a script added later is read (out of sample); 黄桥's second
    # problem ("整村平移是一项庞大复杂的系统工程…") is then no longer read surely as one, and the scenario it set
    # goes: three questions rather than a padded fourth (eval/cards_eval.md, round 6)
    assert len(h.questions) >= 3
    # round 9: "组团报名、分批建设" (how the 平移 was staged) replaces the 保障金 quoted without what it secures
    core = [q for q in h.questions if re.search(r"宅基地|平移|建房|抓阄|选地|用地|组团报名|分批建设", "".join(q.quotes))]
    assert len(core) >= 2, [q.text for q in h.questions]
    # round 11 (reader K): "组团报名、分批建设" is a procedure named by its steps the script never explains, and its
    # "二次抓阄" sentences cannot be quoted whole (a stray bracket; one opens on an untold event): no question asks
    # the class to explain it; the allocation is asked about only where the script's words explain it
    for q in h.questions:
        if re.search(r"组团报名|分批建设", "".join(q.quotes)):
            assert "指：“" in q.text, q.text


def test_a_result_is_quoted_up_to_its_figure():
    """业委会 (round 6): "…6名为中共党员,别墅区经业主大会通过,由居委会代为履职": which 别墅区?"""
    from assistant.handout import _to_the_figure

    sentence = "2024年11月初,在各方的不懈努力和居民的全力支持下,亭南居民区新一届业委会组建成功,10名正式委员中有6名为中共党员,别墅区经业主大会通过,由居委会代为履职,各项业委会工作逐步走上正轨。"
    span = "亭南居民区新一届业委会组建成功,10名正式委员中有6名为中共党员,别墅区经业主大会通过,由居委会代为履职"
    assert _to_the_figure(span, sentence) == "亭南居民区新一届业委会组建成功,10名正式委员中有6名为中共党员"
    # a cut that would leave the result half told is not made
    assert _to_the_figure("8部电梯历时一年,圆满完工", "8部电梯历时一年,圆满完工。") == "8部电梯历时一年,圆满完工"


def test_a_quote_names_the_matter_it_speaks_of():
    """"对于需要一定时间处理的,…" and "透明化极大缓解了…": of what?"""
    from assistant.handout import quote_flaw

    assert quote_flaw("进度秒现:对于需要一定时间处理的,定期在群内通报处置进展") == "引文没说是什么事"
    assert quote_flaw("透明化极大缓解了居民焦虑,增进了理解与信任,月均互动信息量超500条") == "引文没说是什么事"
    assert quote_flaw("针对集中居住区道路网络相对复杂,老人、儿童易迷路的问题,我们借鉴城市经验") is None


def test_round7_readers_faults_are_caught(cards):
    """Round 7: the reasons of both readers, each a general check the old code did not make."""
    from assistant.handout import class_faults, compare_dimensions, unfit_dimension
    from assistant.citations import Citation

    def cite(card, text):
        s = next(s for s in card.story.sentences if text[:10] in s.text)
        return (Citation(card.case_id, "", s.text, s.start, s.end), card)

    # 1. two trainings for riders weighed on the co-operation of 商户和居民 (whom neither names)
    a = "邀请区交通委到\"小哥课堂\"开展交通普法"
    b = "动员\"老骑手\"现身说法,带教\"萌新骑手\",传授一些工作中的经验,培育\"小哥帮帮帮\"10分钟课堂项目"
    q = Question("对比分析", f"如果只能借鉴一个做法——高科技街区：“{a}”[1]；第三街区：“{b}”[2]——你选哪一个？请从投入的人力、资金和商户和居民的配合程度三方面说明。", [1, 2], [a, b])
    assert unfit_dimension(q) == "居民"
    assert any("维度" in f for f in class_faults(q, []))
    assert compare_dimensions(a, b) == "投入的人力、资金和骑手的配合程度三方面"
    assert "代价" in compare_dimensions("成立青年议事厅", "开展交通普法")
    # 3. a result that only praises the size of the change; a figure-laden sentence with notes in brackets
    praise = "自《湖畔天地小区机动车停车管理办法》实施以来,小区发生了翻天覆地的变化"
    q = Question("反思迁移", f"湖畔天地居民区取得的成效之一是：“{praise}”[1]。你认为…", [1], [praise])
    assert any("成效没有数字或具体变化" in f for f in class_faults(q, []))
    notes = "小区停车从2017年下午四点(1300辆)难停到目前随时能有地方停(超过2000辆)"
    q = Question("反思迁移", f"讲稿给出的结果是：“{notes}”[1]。", [1], [notes])
    assert any("括号注释" in f for f in class_faults(q, []))
    # 4. "二次抓阄" quoted up to its first draw; a scene cut before the sentence's turn
    hq = cards["sj2025-16"]
    first = "在首期建房区域分配上,我们创新采用\"二次抓阄\"的方法,先抓报名顺序号确定选地批次"
    item = cite(hq, "在首期建房区域分配上,我们创新采用")
    q = Question("情境研讨", f"黄桥村推进这项工作时的一项做法是：“{first}”[1]。", [1], [first])
    assert any("只有第一步" in f for f in class_faults(q, [item]))
    # 5. a scene that states its root cause
    root = "小区曾因\"停车难\"陷入邻里关系高度紧张的困境,其根源在于资源稀缺与分配不公的双重挤压"
    q = Question("情境研讨", f"摆在面前的情况是：“{root}”[1]。", [1], [root])
    assert any("解决思路" in f for f in class_faults(q, []))


def test_round7_scenes_that_give_no_situation(cards):
    """Round 7 (reader D): abstract nouns only, a list of problem kinds, frozen money for no named purpose, a list
    quoted up to its first item, a later question telling the outcome of an earlier untold scene."""
    from assistant.handout import cut_before, gives_away, scene_flaw

    assert scene_flaw("生活方式碰撞:舒缓人情与快节奏低关注度之间的摩擦常在公共空间使用、卫生习惯中持续对撞")
    assert scene_flaw("我们街区内问题诉求主要集中在停车管理难、商户扰民、设施设备破损等老大难问题")
    assert scene_flaw("资金冻结:小区维修基金因前期业委会遗留的诸多官司而被冻结,无法动用", frozenset({"出资方案"}))
    assert scene_flaw("小区电动自行车保有量大,但缺乏配套的充电桩和专用停车库,\"飞线充电\"和室内充电现象普遍,存在显著的消防安全隐患") is None
    # round 12 (reader N): money frozen is a scene only with why it was frozen
    assert scene_flaw("维修基金被冻结,小区日常维修得不到保障,居民怨声载道", frozenset({"出资方案"}))
    assert scene_flaw("维修基金因前期业委会遗留的诸多官司被冻结,小区日常维修得不到保障", frozenset({"出资方案"})) is None
    assert cut_before("组建三支自治队伍:一是物业维修工程队:负责施工协调,确保工程顺利进行",
                      "组建三支自治队伍:一是物业维修工程队:负责施工协调,确保工程顺利进行;二是居民监督队:全程监督工程质量。")
    card = cards["sj2025-07"]
    scene = "小区电动自行车保有量大,但缺乏配套的充电桩和专用停车库,\"飞线充电\"和室内充电现象普遍,存在显著的消防安全隐患"
    result = "2024年实现了小区全覆盖,累计安装80组充电桩,同时满足800辆电动车充电需求"
    s1 = next(s for s in card.story.sentences if scene[:12] in s.text)
    s2 = next(s for s in card.story.sentences if result[:12] in s.text)
    items = [(Citation(card.case_id, "", s.text, s.start, s.end), card) for s in (s1, s2)]
    a = Question("情境研讨", f"假设你刚到三湘四季居民区担任书记，摆在面前的情况是：“{scene}”[1]。在不知道后来怎么做的前提下，你…", [1], [scene])
    b = Question("反思迁移", f"三湘四季居民区取得的成效之一是：“{result}”[2]。你认为…", [2], [result])
    assert gives_away(a, b, items) and not gives_away(b, a, items)


def test_a_topic_handout_says_which_questions_are_on_a_related_matter(cards):
    """加装电梯 (round 7): the head promised a comparison no question asked; the topic's own questions come first."""
    from assistant.handout import on_topic
    from assistant.taxonomy import load_taxonomy

    h = build_handout(cards, topic="加装电梯", n=6)
    tag = load_taxonomy().tag("加装电梯")
    flags = [on_topic(q, tag) for q in h.questions]
    assert flags == sorted(flags, reverse=True) and flags[0]
    head = h.summary[0]
    assert "作对照" not in head
    off = [i for i, f in enumerate(flags, 1) if not f]
    # round 9: the class reads what the handout covers ("加装电梯与电梯更新"); which questions are on the related
    # matter, and why, is for the trainer
    assert off and head == "话题：加装电梯与电梯更新"
    assert h.trainer_note and all(f"第{i}题" in h.trainer_note for i in off)


def test_round7_a_list_quoted_by_its_first_item_and_whose_lesson():
    """三湘四季 (round 7 regenerated): "组建三支自治队伍:一是…" names three and gives one; a topic handout's lesson
    or result says whose script it is from (reader D: "讲述人" of which of three cases?)."""
    from assistant.handout import load_templates, quote_flaw

    assert quote_flaw("组建三支自治队伍:一是物业维修工程队:负责施工协调,确保工程顺利进行") == "引文只列了第一项"
    assert quote_flaw("组建三支自治队伍:一是物业维修工程队,二是居民监督队,三是志愿服务队") is None
    for t in load_templates()["反思迁移"]:
        if "{lesson}" in t.text or "结果是" in t.text:
            assert "{place}" in t.text


def test_a_party_the_story_says_is_gone_is_not_upset_at_the_meeting(cards):
    """湖畔天地 (round 8 review): "…业委会一度因指责声浪集体辞职" asked "如果业委会在居民议事会上当场情绪激动"."""
    assert hm.gone("甚至因挪车冲突引发业主间言语攻击、恶意堵门等行为,业委会一度因指责声浪集体辞职。", "业委会")
    assert not hm.gone("业委会牵头召开业主大会,表决停车管理办法。", "业委会")
    h = build_handout(cards, case_id="sj2025-03", n=6)
    for q in h.questions:
        if "辞职" in "".join(q.quotes):
            assert "如果业委会在" not in q.text


def test_one_named_method_is_asked_once(cards):
    """第三街区 (round 8 review): the "红黄绿" 三色清单 as a lesson and the "红黄绿" 问题处理机制 as a measure."""
    from assistant.handout import named_terms

    a = Question("反思迁移", "", [1], ["用\"红黄绿\"三色清单分级处理问题,街事好商量平台协商解决矛盾"])
    b = Question("反思迁移", "", [2], ["街区党支部发挥收集解决问题诉求的主渠道作用,充分用好街道\"红黄绿\"问题处理机制,分类受理、分级处置"])
    assert named_terms(a) & named_terms(b) == {"红黄绿"}
    h = build_handout(cards, case_id="sj2025-20", n=6)
    terms = [named_terms(q) for q in h.questions]
    assert all(not (x & y) for i, x in enumerate(terms) for y in terms[i + 1:])


def test_a_lesson_that_only_announces_lessons_is_not_quoted():
    """第三街区 (round 8 review): "…我们也发现了一些共性的规律" says there are lessons, not which."""
    from assistant.handout import class_faults

    x = "在我们方松街道第三街区的治理工作虽然只是一个样板,但在摸索过程中,我们也发现了一些共性的规律"
    q = Question("反思迁移", f"回顾第三街区的经验（“{x}”[1]），请结合你所在的社区的实际，写出一个下个月就能试行的小动作。", [1], [x])
    assert any("体会没有内容" in f for f in class_faults(q, []))


def test_a_source_sentence_is_shown_without_a_stray_closing_quote(cards):
    """加装电梯 (round 8, both readers): the source line ended on a quotation mark left from the script."""
    from assistant.handout import build_handout, shown_sentence, to_markdown

    assert shown_sentence('中山街道第一部加装电梯:楼道住户组成了加梯工作小组,与居委会工作人员一起开始了工作。"') == (
        "中山街道第一部加装电梯:楼道住户组成了加梯工作小组,与居委会工作人员一起开始了工作。"
    )
    assert shown_sentence('落实"四议共答"工作制度。') == '落实"四议共答"工作制度。'
    md = to_markdown(build_handout(cards, topic="加装电梯", n=6))
    assert not any(line.startswith("> ") and line.count('"') % 2 for line in md.splitlines())
    h = build_handout(cards, topic="加装电梯", n=6)
    assert len(h.questions) >= 4  # round 9: the lesson under a slogan-form heading, the dated 加梯 milestone


def test_a_lesson_under_a_slogan_heading_and_a_dated_milestone_are_material(cards):
    """西林塔's lesson sits under "(二)在基层治理中,一定要坚持"全过程人民民主"理念" (a heading in slogan form, not a
    quoted directive); 蓝天二村's 加梯 result is a dated milestone, not a figure."""
    from assistant.taxonomy import load_taxonomy

    card = cards["sj2025-06"]
    tag = load_taxonomy().tag("电梯更新")
    lessons = [s.text for s in hm.lesson_sentences(card, hm.scope(card, tag), tag)]
    assert any("群众说了算" in x for x in lessons), lessons
    assert hm.RESULT.search("2021年6月10日,蓝天二村居民区325号楼加装电梯签约仪式正式举行")
    lift = load_taxonomy().tag("加装电梯")
    blue = cards["sj2025-01"]
    assert any("签约仪式" in s.text for s in hm.outcome_sentences(blue, hm.scope(blue, lift), lift))


def test_same_ask_across_template_families():
    # round 9: 业委会 Q1 (先摸清哪些情况、先找哪些人谈) and Q4 (三张清单…从哪一张入手) asked one thing from two variants
    from assistant.handout import Question, same_ask

    a = Question("情境研讨", "摆在面前的情况是：“没人愿意进业委会”[1]。你第一个月会先摸清哪些情况、先找哪些人谈？请说明理由。",
                 [1], template="t1", asks=frozenset({"甲"}))
    b = Question("情境研讨", "讲稿里提到：“业委会换届难”[2]。请把这件事拆成“谁受影响、谁有权决定、谁能出资源”三张清单，再说说你会从哪一张入手。",
                 [2], template="t2", asks=frozenset({"乙"}))
    c = Question("情境研讨", "遇到的难题是：“停车难”[3]。如果居民当场情绪激动，你会如何回应？", [3], template="t3", asks=frozenset({"丙"}))
    assert same_ask(a, b)
    assert not same_ask(a, c) and not same_ask(b, c)


def test_templates_do_not_claim_the_class_does_not_know_nor_visit_shops_as_homes():
    # round 9: "在不知道后来怎么做的前提下" while the source heading named the way out; "入户走访" to a 商户
    from assistant.handout import load_templates

    texts = [t.text for variants in load_templates().values() for t in variants]
    assert not [t for t in texts if "不知道" in t]
    assert not [t for t in texts if "入户" in t and "{one_role}" in t]


def test_result_quote_names_the_work_behind_it(cards):
    # round 9: "12345物业投诉工单量下降43%" alone — "类似工作" pointed at nothing
    from assistant.handout import build_handout, names_work

    assert not names_work("12345物业投诉工单量下降43%")
    assert names_work("通过“精细织网”,12345物业投诉工单量下降43%")
    for h in (build_handout(cards, topic="动迁安置", n=6), build_handout(cards, case_id="sj2025-20", n=6)):
        asked = [q for q in h.questions if "结果是" in q.text or "成效之一是" in q.text]
        assert all(names_work(x) for q in asked for x in q.quotes), [q.text for q in asked]


def test_a_partys_staff_are_named_as_staff(cards):
    # round 9: "商铺的从业人员反应家住车墩路途遥远…" was played as 商户 and visited at home
    from assistant.handout import names_work

    text = "商铺的从业人员反应家住车墩路途遥远,周边没有充电桩,无法满电回家,平时\"飞线充电\"也是无奈之举。"
    assert hm.group_label(text, 0, "商铺") == "商铺从业人员"
    got = {st.label for st in hm.stances(cards["sj2025-20"], lambda s: True) if "家住车墩" in st.sentence.text}
    assert got and "商户" not in got, got
    assert not names_work("运行以来已受惠200多家庭")  # beneficiaries counted, the work not said


def test_a_meeting_is_quoted_with_what_it_was_about(cards):
    # round 9: "组建"先锋自治团组",召开6场专题议事会" — the 危桥 修缮方案和资金 it was held on was cut off
    from assistant.handout import build_handout, meeting_without_matter

    sentence = '组建"先锋自治团组",召开6场专题议事会,围绕修缮方案、资金来源等展开头脑风暴。'
    assert meeting_without_matter('组建"先锋自治团组",召开6场专题议事会', sentence)
    assert not meeting_without_matter(sentence.rstrip("。"), sentence)
    h = build_handout(cards, case_id="sj2025-07", n=6)
    assert not [q.text for q in h.questions if "专题议事会”" in q.text]


def test_a_scene_too_long_to_quote_whole_keeps_its_turn(cards):
    """Round 10 (加装电梯): the one sentence with the real difficulty ends on "…·····但是维修资金的使用规定是法定的,
    无法突破" and could not be quoted within 60 characters without dropping that turn.  Every such sentence of the
    corpus is now quoted with its opening and its turn, the middle elided, and the quote passes the checks."""
    from assistant.handout import _candidates, cut_before
    from assistant.quoting import elisions

    seen = 0
    for card in cards.values():
        for s in card.story.sentences:
            if not elisions(s.text):
                continue
            seen += 1
            best = _candidates(s.text, QUOTE_CHARS)[0]
            assert len(best) <= QUOTE_CHARS
            assert cut_before(best, s.text, scene=True) is None, best
            # what the sentence's own opening may have (a connective) aside, the elision itself is sound
            assert not [f for f in quote_faults(best, s.text) if re.search("省略号|读不通|不在原句", f)], best
    assert seen >= 1


def _quoting(card, pattern: str, kind: str = "情境研讨", lead: str = "案例中，这里的做法之一是："):
    """A question quoting the sentence of ``card`` that matches ``pattern`` whole, and its items."""
    s = next(s for s in card.story.sentences if re.search(pattern, s.text))
    c = card.story.cite(s)
    span = s.text[slice(*tidy(s.text))]
    return Question(kind, f"{lead}“{span}”[1]。你会怎样做？", [1], [span]), [(c, card)], s


def test_a_coined_term_is_explained_from_the_script_or_not_used(cards):
    """Round 10 (业委会, 民益): "四议共答", "两上两下" and "议课堂" were quoted and never explained.  A scheme named by its
    numbers, a programme the script heads a part with, or a name the script stops to define is explained — by the
    quote itself or by a gloss quoted from the script's own defining sentence — or the question is not handed out."""
    from assistant.handout import coined, gloss_of, glossed, is_scheme, unexplained_terms

    assert all(is_scheme(t) for t in ("四议共答", "两上两下", "1+7+X", "三个一"))
    assert not any(is_scheme(t) for t in ("三项服务清单", "三驾马车", "五级人才梯队", "小哥课堂", "飞线充电", "两河五池", "最后十米"))
    # the field's shared vocabulary is no coinage: secretaries know "两委" (several scripts use it)
    village = next(c for c in cards.values() if c.rarity and c.rarity.df.get("两委", 0) and "两委" in c.story.case.text)
    assert not coined("两委", village)
    # a method named by its steps and told with them is explained where it is quoted
    from assistant.handout import explained

    span = "建立协商议事\"四步法\",述\"家常\"-议\"家事\"-决\"家务\"-办\"实事\""
    assert is_scheme("四步法") and explained("四步法", span.index("四步法") - 1, span)
    aoyuan, minyi = cards["sj2025-08"], cards["sj2025-12"]
    # a scheme of numbers the script never explains: the question is turned down
    q, items, _ = _quoting(aoyuan, "以\"两上两下\"方式")
    faults = question_faults(q, items)
    assert any("两上两下" in f for f in faults) and any("四议共答" in f for f in faults), faults
    # the script's own definition of 四议共答 is found, verbatim
    got = gloss_of("四议共答", aoyuan)
    assert got is not None and got[1] in got[0].text and "居民提议" in got[1]
    # a programme heading a part of the script ("4、"议课堂""), used as known: explained by a gloss, the fault goes
    q, items, _ = _quoting(minyi, "根据\"议课堂\"建议开设法治问诊")
    assert coined("议课堂", minyi)
    assert unexplained_terms(q, items) == ["议课堂"]
    s, what = gloss_of("议课堂", minyi)
    items2 = items + [(minyi.story.cite(s), minyi)]
    q2 = Question(q.kind, q.text.replace("[1]。", f"[1]（文中“议课堂”指：“{what}”[2]）。"), [1, 2], q.quotes)
    assert glossed("议课堂", q2.text, items2) and unexplained_terms(q2, items2) == []
    # a gloss that is not in the cited sentence does not count
    q3 = Question(q.kind, q.text.replace("[1]。", "[1]（文中“议课堂”指：“居民议事的课堂”[2]）。"), [1, 2], q.quotes)
    assert unexplained_terms(q3, items2) == ["议课堂"]
    # an ordinary word in quotation marks, or a name the quote itself introduces, needs nothing
    xs = [x for x in cards.values() if any("打造\"平复暖心驿站\"" in s.text for s in x.story.sentences)]
    q4, items4, _ = _quoting(xs[0], "打造\"平复暖心驿站\"")
    assert unexplained_terms(q4, items4) == []


def test_the_handouts_explain_every_coined_term_they_quote(made, cards):
    from assistant.handout import unexplained_terms

    hs = list(made.values()) + [build_handout(cards, topic="业委会", n=6), build_handout(cards, case_id="sj2025-12", n=6)]
    glosses = 0
    for h in hs:
        for q in h.questions:
            assert unexplained_terms(q, h.sources) == [], q.text
            glosses += "指：“" in q.text
    assert glosses >= 1  # a term the script defines is glossed, not only avoided


def test_a_quote_on_works_names_what_was_worked_on(cards):
    """Round 10 (业委会, both readers): "业委会督导组:全程跟踪质量,确保防锈涂层、钢筋焊接等工艺达标" was quoted without
    saying that it was the repair of a dangerous bridge.  A quote on building works under a heading naming the work
    ("(四)危桥改造") names what was worked on, or the question is turned down."""
    from assistant.handout import heading_matter, unnamed_work

    sanxiang = cards["sj2025-07"]
    q, items, s = _quoting(sanxiang, "确保防锈涂层、钢筋焊接等工艺达标")
    assert unnamed_work(q.quotes[0], sanxiang, items[0][0]) == "危桥改造"
    assert any("危桥改造" in f for f in question_faults(q, items)), question_faults(q, items)
    # the same section's sentence naming the bridge passes
    q2, items2, _ = _quoting(sanxiang, "桥面木板腐烂塌陷")
    assert unnamed_work(q2.quotes[0], sanxiang, items2[0][0]) is None
    # a step or a statement is no matter's name; a numbered name is
    assert heading_matter("4、全程监督,确保实效", frozenset()) is None
    assert heading_matter("(四)危桥改造", frozenset())[0] == "危桥改造"
    # a lesson that speaks of works under a heading that names no work is not concerned
    q3, items3, _ = _quoting(sanxiang, "案例都开放了决策权")
    assert unnamed_work(q3.quotes[0], sanxiang, items3[0][0]) is None


def test_a_slogan_is_no_evidence_of_a_measure(cards):
    """Round 10 (民益, reader J): "通过"社区合伙人"等机制,引入专业社会力量,提升服务品质和可持续性" was asked about as a
    measure; it is a slogan (means named by their kind, aims by their abstract good, nothing concrete).  Such a quote
    is not used as a measure or a result; a lesson may still speak in general terms."""
    from assistant.handout import hollow

    assert hollow("通过\"社区合伙人\"等机制,引入专业社会力量,提升服务品质和可持续性")
    assert hollow("搭建政企社联动平台,促进资源共享与协作,激活多元力量参与街区治理")
    for concrete in (
        "邀请区交通委到\"小哥课堂\"开展交通普法",
        "根据\"议课堂\"建议开设法治问诊,链接法律工作室、车墩法庭、人大等资源",
        "将社区划分为3个\"微网格\"、29楼组网格,160个楼道网格,党组织、党小组建在网格上",
        "换梯方案由群众说了算,换梯进展请群众来监督,换梯效果让群众来评判",
    ):
        assert not hollow(concrete), concrete
    minyi = cards["sj2025-12"]
    q, items, _ = _quoting(minyi, "通过\"社区合伙人\"等机制", kind="反思迁移", lead="民益居民区的这一步（")
    q.text = q.text.replace("[1]。", "[1]）。")
    assert any("口号" in f for f in question_faults(q, items)), question_faults(q, items)
    # the same words as a lesson are not turned down for it
    lesson = Question("反思迁移", f"讲述人总结的体会是：“{q.quotes[0]}”[1]。", [1], q.quotes)
    assert not any("口号" in f for f in question_faults(lesson, items))


def test_two_measures_that_work_together_are_not_offered_as_a_choice(cards):
    """Round 10 (新就业群体, reader I): "如果只能借鉴一个做法" between 区交通委's 交通普法 and 老骑手带新人, although the
    第三街区 script tells both strands side by side (authorities' lessons and riders' own) — they complement each
    other.  Such a pair may be compared, not chosen between; the handout keeps its comparison."""
    from assistant.handout import complementary

    third, tech = cards["sj2025-20"], cards["sj2025-21"]
    _, items_a, sa = _quoting(third, "动员\"老骑手\"现身说法")
    _, items_b, sb = _quoting(tech, "邀请区交通委到\"小哥课堂\"开展交通普法")
    a = "动员\"老骑手\"现身说法,带教\"萌新骑手\",传授一些工作中的经验,培育\"小哥帮帮帮\"10分钟课堂项目"
    b = "邀请区交通委到\"小哥课堂\"开展交通普法"
    assert complementary(b, tech, items_b[0][0], a, third, items_a[0][0])
    items = items_b + items_a
    choice = Question(
        "对比分析",
        f"在“新就业群体”上，如果只能借鉴一个做法——高科技街区：“{b}”[1]；第三街区：“{a}”[2]——你选哪一个？请从投入的人力、资金和骑手的配合程度三方面说明。",
        [1, 2], [b, a],
    )
    assert any("相互补充" in f for f in question_faults(choice, items)), question_faults(choice, items)
    side_by_side = Question(
        "对比分析", f"围绕“新就业群体”，高科技街区的做法是：“{b}”[1]；而第三街区的做法是：“{a}”[2]。两种做法分别依靠了哪些力量和资源？", [1, 2], [b, a]
    )
    assert not any("相互补充" in f for f in question_faults(side_by_side, items))
    # the topic handout still compares them, without asking to pick one, and does not come back to 老骑手 in a lesson
    h = build_handout(cards, topic="新就业群体", n=6)
    compare = [q for q in h.questions if q.kind == "对比分析"]
    assert compare and not any("只能借鉴一个" in q.text for q in compare)
    assert sum("老骑手" in q.text for q in h.questions) == 1


def test_a_scene_is_not_given_away_by_a_measure_sharing_only_its_people(cards):
    """A measure for the same riders (老骑手带教新人) does not tell what was done about the riders' parking: a scene and
    a measure that share only their people (or a body such as 业委会, or the topic named by them) are not one story,
    so a topic handout can ask both (the comparison is not lost to the scene)."""
    from assistant.handout import related

    third = cards["sj2025-20"]
    scene = "昌鑫内街外卖基层网点小象超市有着50位外卖小哥,平时高峰时段,为了节省时间,小哥们车辆停放杂乱、随处可见"
    measure = "动员\"老骑手\"现身说法,带教\"萌新骑手\",传授一些工作中的经验,培育\"小哥帮帮帮\"10分钟课堂项目"
    assert related(scene, measure, third)  # for a role-play's party, the people are what matters
    assert not related(scene, measure, third, people=False)
    # nor a body both name: nobody wanting to join the 业委会, and the secretary sitting on it
    lantian = cards["sj2025-01"]
    assert not related(
        "由于小区一眼望去全是问题,大家都不愿意进业委会", "创新实施\"双向进入\"机制,党总支书记沈东兼任业委会副主任,确保党组织意图有效传导",
        lantian, people=False,
    )
    # the same matter is still one story
    assert related(scene, "在网点门口划出外卖小哥专用停车区域,车辆停放杂乱的情况明显改善", third, people=False)


# ---------------------------------------------------------------------------
# round 11 readers' reasons (k, l), held as general rules


def test_a_measure_is_not_quoted_short_of_what_it_came_to(cards):
    """Round 11 (停车, both readers): "促成新建了砖桥社会化停车场…,本来5车道乱停,至使办公进出都成问题" was asked about as a
    measure; the same sentence goes on "经过前后10个多月的…沟通协商,建成了现在有246个车位的停车场" — the effort and the
    figure the question turns on.  A measure quoted short of a later clause with its result and a figure is turned
    down, whatever the unit; a date is no such figure."""
    from assistant.handout import cut_before, later_result

    zhuanqiao = cards["sj2025-11"]
    s = next(s for s in zhuanqiao.story.sentences if "社会化停车场" in s.text)
    span = "促成新建了砖桥社会化停车场来缓解周边小区停车难问题,本来5车道乱停,至使办公进出都成问题"
    assert "结果" in (cut_before(span, s.text, scene=False) or "")
    q, items, _ = _quoting(zhuanqiao, "社会化停车场")
    q = Question(q.kind, q.text.replace(q.quotes[0], span), [1], [span])
    assert any("结果" in f for f in question_faults(q, items)), question_faults(q, items)
    # a scene may stop before the result (what was done is not the scene), and a later date is not a result
    assert cut_before(span, s.text, scene=True) is None or "结果" not in cut_before(span, s.text, scene=True)
    assert not later_result("成立了业委会", ",2023年5月完成换届。")
    assert later_result("成立了业委会", ",累计调解纠纷80余起。")


def test_a_list_is_not_quoted_short_of_the_lesson_that_sums_it_up(cards):
    """Round 11 (第三街区, reader K): "用"红黄绿"三色清单分级处理问题,街事好商量平台协商解决矛盾" stopped inside a list of
    measures the sentence then sums up ("——这些都不是靠硬推,而是通过机制设计调动各方主动性"): the lesson was cut."""
    from assistant.handout import cut_before, summed_up_after

    street = cards["sj2025-20"]
    s = next(s for s in street.story.sentences if "这些都不是靠硬推" in s.text)
    span = '用"红黄绿"三色清单分级处理问题,街事好商量平台协商解决矛盾'
    assert "总结" in (cut_before(span, s.text) or "")
    assert summed_up_after(",以上这些做法让居民看到了变化。")
    assert not summed_up_after(",并在此基础上建立了议事规则。")


def test_a_start_date_and_a_topic_are_no_measure(cards):
    """Round 11 (民益, both readers): "民益社区自2017年起正式探索"社区网格"管理" was the measure of a transfer question: it
    tells since when something was tried and on what, not what was done.  Such a quote is no measure; one that names
    the act it started is."""
    from assistant.handout import started_only

    assert started_only('民益社区自2017年起正式探索"社区网格"管理。')
    assert started_only("我们从2020年开始尝试垃圾分类")
    assert not started_only("自2019年起开始推行每月一次的楼组长例会")
    assert not started_only('明确网格员职责,配强"1名班子成员+1-2工作人员"的微网格力量')
    minyi = cards["sj2025-12"]
    q, items, _ = _quoting(minyi, "自2017年起正式探索", kind="反思迁移", lead="民益居民区的这一步（")
    assert any("何时开始" in f for f in question_faults(q, items)), question_faults(q, items)


def test_colour_schemes_and_named_procedures_are_coined(cards):
    """Round 11 (第三街区, both readers; 黄桥, reader K): ""红黄绿"三色清单" was asked about with no word on what each colour
    holds, and ""组团报名、分批建设"模式" was to be explained to villagers with no word on who groups with whom or how the
    batches go.  A scheme named by its colours and a procedure named by its steps that the script gives as its
    method are coined terms: glossed from the script's defining sentence (here a note in brackets the sentence
    splitter cut at its semicolons), or the question is turned down."""
    from assistant.handout import gloss_of, is_scheme, named_method, unexplained_terms

    assert is_scheme("红黄绿") and is_scheme("三色") and not is_scheme("红色业委会") and not is_scheme("绿色出行")
    street, huangqiao = cards["sj2025-20"], cards["sj2025-16"]
    # the script's defining note runs over three sentences (split at its semicolons) and is found whole; here it
    # carries a stray quotation mark ("以职能"部门牵头…"), so it does not read on its own as a gloss: the question goes
    from assistant.handout import _gloss_in, _through_bracket

    sentences = street.story.sentences
    i = next(i for i, s in enumerate(sentences) if "三色问题清单标准" in s.text)
    whole = _through_bracket(sentences[i], sentences[i + 1 : i + 4], street)
    assert all(w in whole.text for w in ("公家事", "大家事", "自家事")) and whole.text == street.story.cite(whole).quote
    assert gloss_of("红黄绿", street) is None
    q, items, _ = _quoting(street, "三色清单分级处理问题", kind="反思迁移", lead="讲述人总结的体会是：")
    assert "红黄绿" in unexplained_terms(q, items)
    # the same note with its marks paired is a gloss, a clause per colour
    paired = whole.text.replace('以职能"部门', "以职能部门")
    got = _gloss_in(paired, "红黄绿")
    assert got is not None and got.startswith("红色为") and got.endswith("以自治自主消化为主")
    assert named_method("组团报名、分批建设", huangqiao)
    assert not named_method("组团报名、分批建设", street)  # the other script never says it
    q, items, _ = _quoting(huangqiao, "组团报名、分批建设", lead="黄桥村推进这项工作时的一项做法是：")
    assert unexplained_terms(q, items) == ["组团报名、分批建设"]


def test_a_measure_to_explain_keeps_what_it_was_for(cards):
    """Round 11 (黄桥, reader K): the class was asked to explain "我们采用"组团报名、分批建设"模式" to worried villagers,
    and the quote dropped the purpose the sentence opens with ("为了确保首期项目的公平性")."""
    from assistant.handout import dropped_purpose

    sentence = '为了确保首期项目的公平性,我们采用"组团报名、分批建设"模式。'
    assert dropped_purpose('我们采用"组团报名、分批建设"模式', sentence)
    assert not dropped_purpose(sentence[:-1], sentence)
    assert not dropped_purpose("党总支部紧扣辖区实际", "为进一步深化社区党建工作,贯彻落实习总书记相关文件精神,党总支部紧扣辖区实际。")
    huangqiao = cards["sj2025-16"]
    lead = "黄桥村推进这项工作时的一项做法是："
    q, items, _ = _quoting(huangqiao, "确保首期项目的公平性", lead=lead)
    short = '我们采用"组团报名、分批建设"模式'
    ask = "如果有村民对这一安排不理解、有顾虑，你会怎样向他们解释？"
    q_short = Question(q.kind, f"{lead}“{short}”[1]。{ask}", [1], [short])
    q_whole = Question(q.kind, f"{lead}“{q.quotes[0]}”[1]。{ask}", [1], [q.quotes[0]])
    assert any("目的" in f for f in question_faults(q_short, items))
    assert not any("目的" in f for f in question_faults(q_whole, items))


def test_a_gloss_is_a_whole_statement(cards):
    """Round 11 (民益, reader L): "“议课堂”指：“在共商共议的自治平台上解决小区乱停车、文明养犬”" was the first of three
    clauses listing what the programme does, cut at a comma.  A gloss of what a thing set up does runs to the end of
    its sentence, or of the list it gives (to its closing "等…")."""
    from assistant.handout import gloss_of
    from assistant.quoting import reads_alone

    minyi = cards["sj2025-12"]
    s, what = gloss_of("议课堂", minyi)
    assert what.endswith("等事务") and "推进垃圾分类" in what and reads_alone(what)


def test_a_result_may_leave_further_results_out(cards):
    """A result quoted with its own figure may stop before the sentence's further results (奥园: "完成了"两河五池"水域环境
    综合治理、95%景观花园更新" of a list of works done): only a quote with no result of its own is short of its point."""
    from assistant.handout import later_result

    aoyuan = cards["sj2025-08"]
    s = next(s for s in aoyuan.story.sentences if "95%景观花园更新" in s.text)
    span = '经全力推进,完成了"两河五池"水域环境综合治理、95%景观花园更新'
    assert not later_result(span, s.text[s.text.index(span) + len(span) :])


def test_a_document_quoted_by_a_short_title_is_glossed_or_not_used(cards):
    """Round 12 (湖畔天地, both readers): "严格按照《管理办法》执行" named a document the handout never said was what.
    A title that is only a kind of document is glossed with the full title the script gives elsewhere (what it is
    about), or the question is turned down; a title naming its matter, or a quote saying what it sets out, is fine."""
    from assistant.handout import document_gloss, untitled_document

    assert untitled_document("积极督促他们严格按照《管理办法》执行") == "管理办法"
    assert untitled_document("按照《实施细则》落实") == "实施细则"
    assert untitled_document("严格执行《小区停车管理办法》") is None
    assert untitled_document("《管理办法》规定外来车辆每日收费10元") is None
    lake = cards["sj2025-03"]
    got = document_gloss("管理办法", lake)
    assert got is not None and got[1].endswith("停车管理办法") and "湖畔天地" in got[1]
    q, items, _ = _quoting(lake, "严格按照《管理办法》执行", lead="湖畔天地居民区推进这项工作时的一项做法是：")
    assert any("《管理办法》" in f for f in question_faults(q, items)), question_faults(q, items)
    # with the gloss quoted from the script's sentence, the question stands
    s, full = got
    items2 = items + [(lake.story.cite(s), lake)]
    span = q.quotes[0]
    text = q.text.replace(f"“{span}”[1]", f"“{span}”[1]（文中《管理办法》指：“《{full}》”[2]）")
    q2 = Question(q.kind, text, [1, 2], [span])
    assert not any("《管理办法》" in f for f in question_faults(q2, items2))
    # the built handout glosses it or leaves it out
    h = build_handout(cards, case_id="sj2025-03", n=6)
    for x in h.questions:
        if "《管理办法》" in x.text:
            assert "《管理办法》指：" in x.text, x.text


def test_two_questions_do_not_set_one_scene(cards):
    """Round 12 (湖畔天地, both readers): questions 1 and 3 set the same 乱停车/消防通道 scene ("车辆乱停乱放…消防安全
    隐患" and "车辆堵塞消防通道…"), in other words.  Two scenes of one community that name one particular thing
    are one scene: a handout sets it once (bigram overlap misses it: the script's own problem words are its common
    words)."""
    from assistant.handout import overlap, same_scene

    lake = cards["sj2025-03"]
    a, items_a, _ = _quoting(lake, "车辆乱停乱放现象严重", lead="假设你刚到湖畔天地居民区担任书记，摆在面前的情况是：")
    b, items_b, _ = _quoting(lake, "车辆堵塞消防通道", lead="湖畔天地居民区遇到的难题是：")
    assert overlap(a.text, b.text) < 0.35  # the pairwise check alone lets them through
    items = items_a + items_b
    b = Question(b.kind, b.text.replace("[1]", "[2]"), [2], b.quotes)
    assert same_scene(a, b, items)
    # a scene of another matter of the same community is another scene
    sanxiang = cards["sj2025-07"]
    c, items_c, _ = _quoting(sanxiang, "电动自行车保有量大", lead="三湘四季居民区遇到的难题是：")
    d, items_d, _ = _quoting(sanxiang, "维修基金被冻结", lead="三湘四季居民区遇到的难题是：")
    d = Question(d.kind, d.text.replace("[1]", "[2]"), [2], d.quotes)
    assert not same_scene(c, d, items_c + items_d)
    assert choose([a, b], items, 6) == [a]
    h = build_handout(cards, case_id="sj2025-03", n=6)
    assert not any(same_scene(x, y, h.sources) for i, x in enumerate(h.questions) for y in h.questions[i + 1 :])
    assert len(h.questions) >= 4


def test_a_ceremony_on_a_date_is_no_result(cards):
    """Round 12 (加装电梯, reader N): "2021年6月10日,…325号楼加装电梯签约仪式正式举行" was a result to explain: a signing,
    a launch or a ceremony on a date marks a start, not what came of the work."""
    from assistant.handout import ceremony_only

    span = "2021年6月10日,蓝天二村居民区325号楼加装电梯签约仪式正式举行"
    assert ceremony_only(span)
    assert ceremony_only("2023年3月,社区睦邻中心正式揭牌")
    assert not ceremony_only("2021年6月签约仪式后,56户居民全部签字同意")
    assert not ceremony_only("划线停车位从780个增至1165个")
    lantian = cards["sj2025-01"]
    q, items, _ = _quoting(lantian, "加装电梯签约仪式正式举行", kind="反思迁移", lead="蓝天二村居民区取得的成效之一是：")
    assert any("仪式" in f for f in question_faults(q, items)), question_faults(q, items)


def test_a_scheme_is_not_quoted_without_the_steps_its_sentence_lists(cards):
    """Round 12 (业委会, reader N): "居委会、业委会、物业公司和居民代表共同沟通,"民事民决"推动方案落地成效" was cut from the
    sentence that lists the scheme's steps ("居民提议—多方商议—党组织审议—业主大会决议"的"四议共答"): the class read the
    scheme at work without what it is.  A quote keeps the steps its sentence lists, or goes."""
    from assistant.handout import dropped_steps

    aoyuan = cards["sj2025-08"]
    s = next(s for s in aoyuan.story.sentences if "四议共答" in s.text and "共同沟通" in s.text)
    span = '居委会、业委会、物业公司和居民代表共同沟通,"民事民决"推动方案落地成效'
    assert dropped_steps(span, s.text) == "居民提议—多方商议—党组织审议—业主大会决议"
    assert dropped_steps(s.text.rstrip("。"), s.text) is None
    assert dropped_steps("2017-2019年共排摸出37辆僵尸车", "2017-2019年共排摸出37辆僵尸车。") is None
    c = aoyuan.story.cite(s)
    q = Question("情境研讨", f"案例中，奥园居民区的做法之一是：“{span}”[1]。你会怎样做？", [1], [span])
    assert any("步骤" in f for f in question_faults(q, [(c, aoyuan)]))


def test_one_post_taken_by_one_person_is_not_piloted(cards):
    """Round 12 (业委会, reader N): "党总支书记沈东兼任业委会副主任" was offered for "先试点、再推广" in one estate: one
    office holder taking a second post has nothing to pilot on or spread to."""
    from assistant.handout import one_post, standing

    span = '创新实施"双向进入"机制,党总支书记沈东兼任业委会副主任,确保党组织意图有效传导'
    assert one_post(span) and not standing(span)
    assert not one_post("每个楼组由党员骨干担任楼组长")
    assert standing("每月召开一次由业委会、物业、居委会组成的三位一体会议")
    lantian = cards["sj2025-01"]
    lead = "蓝天二村居民区的这一步（"
    q, items, _ = _quoting(lantian, "兼任业委会副主任", kind="反思迁移", lead=lead)
    text = f"{lead}“{q.quotes[0]}”[1]）在别处照搬时最容易走样的是什么？请为你所在的小区设计一个“先试点、再推广”的方案。"
    q = Question(q.kind, text, [1], q.quotes)
    assert any("先试点" in f for f in question_faults(q, items)), question_faults(q, items)


def test_a_frozen_fund_says_why_and_a_measure_keeps_who_took_part(cards):
    """Round 12 (三湘四季, reader N): "维修基金被冻结" was a scene without why; "组建了…筹备工作组,由居委会指定专人负责跟进"
    stopped before ",前任业委会两位成员共同参与"."""
    from assistant.handout import dropped_who, scene_flaw
    from assistant.quoting import reads_alone

    assert scene_flaw("维修基金被冻结,小区日常维修得不到保障,居民怨声载道")
    assert scene_flaw("小区维修基金因前期业委会遗留的诸多官司而被冻结,无法动用,日常维修无法开展") is None
    sentence = "同时组建了业委会换届前期筹备工作组,由居委会指定专人负责跟进,前任业委会两位成员共同参与。"
    assert dropped_who("组建了业委会换届前期筹备工作组,由居委会指定专人负责跟进", sentence)
    assert not dropped_who(sentence.rstrip("。")[2:], sentence)
    assert reads_alone("组建了业委会换届前期筹备工作组,由居委会指定专人负责跟进,前任业委会两位成员共同参与")  # "参与" is no dangling "与"


def test_a_result_is_not_a_list_counted_without_its_items(cards):
    """Round 12 (民益, reader N): "共享47项资源清单,…" was a result to measure: the class learns how long a list is, not
    what is on it.  A list the quote says the kinds of ("梳理整合阵地、人才、团队等47项资源清单") is fine; as a measure
    (not a result) the count is no fault."""
    from assistant.handout import unlisted_list

    span = "共享47项资源清单,通过各阶段不同的需求更新对接,解决10余项专项治理事务"
    assert unlisted_list(span) == "47项资源清单"
    assert unlisted_list("梳理整合阵地、人才、团队等47项资源清单") is None
    assert unlisted_list('做实做细资源、需求、项目"三张清单"') is None
    minyi = cards["sj2025-12"]
    q, items, _ = _quoting(minyi, "共享47项资源清单", kind="反思迁移", lead="民益居民区的讲稿给出的结果是：")
    assert any("47项资源清单" in f for f in question_faults(q, items)), question_faults(q, items)
    q, items, _ = _quoting(minyi, "共享47项资源清单", kind="情境研讨", lead="案例中，民益居民区的做法之一是：")
    assert not any("47项资源清单" in f for f in question_faults(q, items))


def test_a_scene_is_a_difficulty_told_with_where_not_a_judgement_of_what_matters(cards):
    """Rounds 13-14 (业委会, all four readers): 亭南's "难题" was "关于物业、业委会投诉量基本占了大头,所以…把业委会建好、把物业管好
    尤为重要" — the speaker's judgement of what matters, set as a difficulty, and cut from "在12345平台," so that the
    complaints were counted nowhere.  A scene states the difficulty and keeps the clause saying where."""
    from assistant.handout import question_faults, scenes_of
    from assistant.quoting import concludes

    h = build_handout(cards, topic="业委会", n=6)
    assert len(h.questions) >= 4
    for q in h.questions:
        assert question_faults(q, h.sources) == [], q.text
        assert not any(concludes(x) for x, _ in scenes_of(q, h.sources)), q.text
    complaints = [x for q in h.questions for x in q.quotes if "投诉量" in x]
    assert all(x.startswith("在12345平台") or x.startswith("近年来,在12345平台") for x in complaints), complaints
