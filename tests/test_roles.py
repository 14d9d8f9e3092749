"""Sentence roles: features, the shipped model on sentences it never saw, training, and their use in answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.chunking import Passage
from assistant.corpus import Case
from assistant.extractive import CorpusStats, Extractor
from assistant.retrieval import Hit
from assistant.roles import ROLES, RoleModel, features, get_role_model, train

from conftest import ROOT

LABELS = [json.loads(x) for x in (ROOT / "eval" / "sentence_roles.jsonl").read_text("utf-8").splitlines() if x.strip()]

# written for this test, not taken from the corpus
UNSEEN = [
    ("居委会联合城管和物业，对楼道堆物进行了集中清理，并制定了楼道管理公约。", "做法"),
    ("我们成立了由党员骨干组成的志愿服务队，每周两次上门走访独居老人。", "做法"),
    ("小区车位严重不足，外来车辆乱停乱放，居民意见很大。", "问题"),
    ("由于资金短缺，维修工作迟迟无法启动。", "问题"),
    ("整治以来，相关投诉下降了80%，居民满意度明显提升。", "成效"),
    ("我深深体会到，基层治理既要有力度，更要有温度。", "感悟"),
    ("该小区建成于1998年，共有住户600户，常住人口约1800人。", "背景"),
]


def test_features_fold_digits_and_spaces():
    assert features("共 146 把") == features("共37把")
    assert "0把" in features("共146把") and "共" in features("共146把")
    assert features("") == []
    assert features("ab") == ["a", "ab", "b"]


def test_label_file_covers_the_corpus_with_known_roles():
    assert len(LABELS) > 2000
    assert {x["role"] for x in LABELS} == set(ROLES)
    assert len({x["sid"] for x in LABELS}) == len(LABELS)
    assert len({x["sid"].split(":")[0] for x in LABELS}) == 21


def test_shipped_model_on_sentences_it_never_saw():
    model = get_role_model()
    assert model.classes == list(ROLES)
    right = [model.role(s) == role for s, role in UNSEEN]
    assert sum(right) >= 6, [(s, model.predict(s)) for s, _ in UNSEEN]
    p = model.probabilities(UNSEEN[0][0])
    assert p.shape == (5,) and abs(p.sum() - 1) < 1e-5
    # nothing known: the class priors (bias), still a distribution
    q = model.probabilities("")
    assert abs(q.sum() - 1) < 1e-5


def test_training_matches_inference():
    """train() featurises exactly as RoleModel predicts: it fits its own training data well."""
    sample = LABELS[::6]
    model = RoleModel.from_dict(train([x["sentence"] for x in sample], [x["role"] for x in sample]))
    acc = np.mean([model.role(x["sentence"]) == x["role"] for x in sample])
    assert acc > 0.85
    # an unrelated model (fitted on shuffled labels) does not: the check can fail
    rng = np.random.default_rng(0)
    shuffled = list(rng.permutation([x["role"] for x in sample]))
    other = RoleModel.from_dict(train([x["sentence"] for x in sample], shuffled))
    assert np.mean([other.role(x["sentence"]) == x["role"] for x in sample]) < acc - 0.2


def test_two_roles_only_never_predict_the_others():
    sample = [x for x in LABELS if x["role"] in ("问题", "做法")][:300]
    model = RoleModel.from_dict(train([x["sentence"] for x in sample], [x["role"] for x in sample]))
    for s, _ in UNSEEN:
        assert model.role(s) in ("问题", "做法")
    assert model.role("小区车位严重不足，居民意见很大。") == "问题"


def test_missing_or_corrupt_model_file_says_what_to_do(tmp_path):
    from assistant.errors import AssistantError

    bad = tmp_path / "roles.json"
    bad.write_text("{not json", encoding="utf-8")
    for path in (bad, tmp_path / "absent.json"):
        with pytest.raises(AssistantError, match="句子角色模型.*缺失或已损坏"):
            RoleModel.load(path)


def test_model_with_other_classes_is_rejected():
    with pytest.raises(ValueError):
        RoleModel(["a", "b"], {"x": [0.0, 1.0]}, [0.0, 0.0])


class _Roles:
    """Stub: sentences containing 措施 are 做法, all others 问题."""

    classes = list(ROLES)

    def probabilities(self, sentence: str) -> np.ndarray:
        return np.eye(5)[2 if "措施" in sentence else 1]


def test_answer_leads_with_the_measure_not_the_echo():
    text = "小区停车难，外来车辆挤占车位，居民怨声载道，停车难成了老大难。我们采取的措施是对外来车辆分时段收费，居民优先。"
    case = Case(
        id="c1", title="停车", author="某", role="书记", town="某镇", community="某小区", community_type="居民区",
        instructor=None, source="t.txt", text=text, raw_text=text,
    )
    passage = Passage(case_id="c1", start=0, end=len(text), text=text, section=(), title="停车")
    hit = Hit(0, 1.0, passage, case, {})
    q = "小区停车难，外来车辆挤占车位怎么办？"
    plain = Extractor(CorpusStats([passage]), roles=_Roles())  # type: ignore[arg-type]
    cands = sorted(plain.candidates(q, [hit]), key=lambda c: -c.score)
    assert "措施" in cands[0].text  # the measure leads although the echo shares more words
    assert plain.actionability(cands[0].text) == 1.0 and plain.actionability(cands[1].text) == -1.0
