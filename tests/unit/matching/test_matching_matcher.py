"""Matcher behaviour: both directions, explanations, no-match, incremental updates, persistence."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import matching.matcher as matcher_mod
from matching import Document, Match, Matcher, build_pair, normalize

# fmt: off
ACHIEVEMENTS = [
    Document("S1", "重载码垛机器人及垛型自动规划", "四轴码垛机器人，用于面粉、饲料等袋装物料码垛。", "先进制造"),
    Document("S2", "微孔轻质莫来石隔热耐火砖", "用于梭式窑窑衬隔热，降低外壁温度和燃气消耗。", "新材料及其应用"),
    Document("S3", "基于主轴电流的刀具磨损在线监测", "识别车刀磨损与崩刃，报警换刀，避免尺寸超差。", "先进制造"),
    Document("S4", "轴承套圈磨削烧伤无损检测", "巴克豪森噪声检测套圈滚道磨削烧伤，替代酸洗抽检。", "先进制造"),
    Document("S5", "轴承套圈外观缺陷机器视觉检测", "工业相机识别套圈划痕与磕伤，替代人工目检。", "电子信息"),
    Document("S6", "化工装置泄漏检测与修复技术", "红外成像定位阀门、法兰的有机物泄漏。", "环境保护与资源综合利用"),
    Document("S7", "冬小麦水肥一体化精准灌溉", "依据墒情监测定量灌溉施肥，节水30%。", "农业"),
    Document("S8", "鲜湿面条常温保鲜技术", "栅栏技术延长鲜湿面货架期，不添加防腐剂。", "农业"),
    Document("S9", "电动三轮车高效永磁同步电机", "提高爬坡能力与续航里程。", "现代交通"),
    Document("S10", "废旧耐火材料再生骨料制备", "拆炉后的废旧耐火材料破碎制骨料。", "环境保护与资源综合利用"),
]
NEEDS = [
    Document("D1", "面粉袋子往托盘上摞，工人太累", "每天几千袋全靠人工摞，想上自动的。", "先进制造"),
    Document("D2", "窑外皮烫手，燃气用得多", "烧耐火砖的梭式窑，燃气费太高。", "新能源与高效节能"),
    Document("D3", "车刀老崩刃，一批活儿尺寸全超了", "", "先进制造"),
    Document("D4", "化工厂跑冒滴漏严重", "阀门法兰老是跑冒滴漏，环保查得紧。", "环境保护与资源综合利用"),
    Document("D5", "拆炉下来的旧砖堆了一院子", "耐材厂修炉拆下来的废砖没地方放。", "环境保护与资源综合利用"),
]
# fmt: on
UNRELATED = Document("X", "周末一起去公园散步", "天气很好，大家带上孩子一起去玩。")


@pytest.fixture(scope="module")
def fitted():
    return Matcher().fit(ACHIEVEMENTS)


def scores(m, queries, top=50):
    return [{x.id: x.score for x in ms} for ms in m.rank_many(queries, top=top)]


def test_fit_returns_self_and_params_untouched():
    m = Matcher(threshold=0.3)
    assert m.fit(ACHIEVEMENTS) is m
    assert m.get_params()["threshold"] == 0.3 and len(m) == len(ACHIEVEMENTS)
    assert "S1" in m and "nope" not in m


@pytest.mark.parametrize(("need", "expected"), [(0, "S1"), (1, "S2"), (2, "S3"), (3, "S6"), (4, "S10")])
def test_needs_to_achievements(fitted, need, expected):
    result = fitted.rank(NEEDS[need], top=3)
    assert isinstance(result[0], Match)
    assert result[0].id == expected
    assert fitted.is_match(result[0].score)
    assert [m.score for m in result] == sorted((m.score for m in result), reverse=True)


def test_achievements_to_needs():
    supply_side, demand_side = build_pair(ACHIEVEMENTS, NEEDS)
    assert demand_side.rank(ACHIEVEMENTS[0], top=1)[0].id == "D1"
    assert demand_side.rank(ACHIEVEMENTS[9], top=1)[0].id == "D5"
    assert supply_side.rank(NEEDS[0], top=1)[0].id == "S1"


def test_explanations_are_real_words_of_both_texts(fitted):
    best = fitted.rank(NEEDS[0], top=1)[0]
    need_text = normalize(NEEDS[0].title + NEEDS[0].description)
    doc_text = normalize(ACHIEVEMENTS[0].title + ACHIEVEMENTS[0].description)
    assert "摞" in best.terms and "码垛" in best.terms  # colloquial word and technical word
    assert all(t in need_text or t in doc_text for t in best.terms)
    assert not any(t.startswith("#") for t in best.terms)
    leak = fitted.rank(NEEDS[3], top=1)[0]
    assert "跑冒滴漏" in leak.terms and "泄漏" in leak.terms


def test_same_product_different_problem_is_ranked_below(fitted):
    ranked = [m.id for m in fitted.rank(Document("q", "套圈磨完有烧伤，只能酸洗抽查"), top=5)]
    assert ranked.index("S4") < ranked.index("S5")


def test_no_match_on_unrelated_text(fitted):
    result = fitted.rank(UNRELATED)
    assert not result or not fitted.is_match(result[0].score)
    assert fitted.rank(Document("e", "")) == []
    assert fitted.rank(Document("p", "，。！？")) == []


def test_field_is_a_soft_boost_not_a_filter():
    m = Matcher(field_weight=0.05).fit(ACHIEVEMENTS)
    misfiled = Document("q", NEEDS[0].title, NEEDS[0].description, "农业")
    assert m.rank(misfiled, top=1)[0].id == "S1"
    right = {x.id: x.score for x in m.rank(NEEDS[0], top=3)}
    wrong = {x.id: x.score for x in m.rank(misfiled, top=3)}
    assert right["S1"] - wrong["S1"] == pytest.approx(0.05)


def test_rank_many_equals_rank(fitted):
    queries = [*NEEDS, UNRELATED]
    assert fitted.rank_many(queries, top=4) == [fitted.rank(q, top=4) for q in queries]
    assert fitted.rank_many([]) == []
    assert len(fitted.rank(NEEDS[0], top=3)) <= 3


def assert_same_scores(a, b):
    queries = [*NEEDS, *ACHIEVEMENTS, UNRELATED]
    for sa, sb in zip(scores(a, queries), scores(b, queries), strict=True):
        assert sa.keys() == sb.keys()
        for k in sa:
            assert sa[k] == pytest.approx(sb[k], abs=1e-9, rel=0)


def test_incremental_add_remove_equals_full_refit():
    m = Matcher().fit(ACHIEVEMENTS[:6])
    m.add(ACHIEVEMENTS[6:])
    m.remove(["S2", "S7"])
    updated = Document("S3", "刀具涂层技术", "纳米多层涂层提高车刀寿命。", "新材料及其应用")
    m.add([updated])  # an existing id: update
    final = [d for d in ACHIEVEMENTS if d.id not in ("S2", "S3", "S7")] + [updated]
    fresh = Matcher().fit(final)
    assert sorted(m.ids_) == sorted(fresh.ids_)
    assert_same_scores(m, fresh)
    m.refit()  # compaction changes nothing either
    assert len(m.word_terms_) == len(fresh.word_terms_)
    assert_same_scores(m, fresh)


def test_remove_everything_and_errors():
    m = Matcher().fit(ACHIEVEMENTS[:2])
    with pytest.raises(KeyError):
        m.remove(["missing"])
    m.remove(["S1", "S2"])
    assert m.rank(NEEDS[0]) == [] and len(m) == 0
    with pytest.raises(ValueError):
        Matcher().fit([ACHIEVEMENTS[0], ACHIEVEMENTS[0]])
    with pytest.raises(TypeError):
        Matcher().fit([{"id": "1", "title": "x"}])


def test_save_load_round_trip_without_retokenising(tmp_path, fitted, monkeypatch):
    path = tmp_path / "m.pkl"
    fitted.save(path)

    def boom(*args, **kwargs):
        raise AssertionError("load must not tokenise")

    monkeypatch.setattr(matcher_mod._text, "analyze_parts", boom)
    loaded = Matcher.load(path)
    monkeypatch.undo()
    assert loaded.get_params() == fitted.get_params()
    assert loaded.rank_many([*NEEDS, UNRELATED]) == fitted.rank_many([*NEEDS, UNRELATED])
    loaded.add([Document("S11", "码垛", "")])  # still updatable
    assert "S11" in loaded


def test_load_rejects_foreign_or_old_files(tmp_path):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps({"format": "other"}))
    with pytest.raises(ValueError):
        Matcher.load(bad)
    old = tmp_path / "old.pkl"
    old.write_bytes(pickle.dumps({"format": matcher_mod.FORMAT, "version": 0}))
    with pytest.raises(ValueError, match="format"):
        Matcher.load(old)


def test_fitted_state_is_reproducible(tmp_path):
    a, b = tmp_path / "a.pkl", tmp_path / "b.pkl"
    Matcher().fit(ACHIEVEMENTS).save(a)
    Matcher().fit(ACHIEVEMENTS).save(b)
    assert a.read_bytes() == b.read_bytes()


def test_parallel_analysis_equals_serial(monkeypatch):
    monkeypatch.setattr(matcher_mod, "_PARALLEL_MIN_DOCS", 1)
    parallel = Matcher(n_jobs=2).fit(ACHIEVEMENTS)
    serial = Matcher().fit(ACHIEVEMENTS)
    assert parallel.word_terms_ == serial.word_terms_
    assert (parallel.word_counts_ != serial.word_counts_).nnz == 0
    assert_same_scores(parallel, serial)


def test_bad_documents_are_handled():
    docs = [
        Document("a", ""),
        Document("b", "，。！？、；：", "……"),
        Document("c", "Bearing grinding burn detection", "Non-Chinese text only, PLC, AGV."),
        Document("d", "轴承" * 30_000, "耐火材料。" * 20_000),
        Document("e", "   ", None, None, ()),
        Document(5, "数字编号", keywords="轴承 磨削"),
    ]
    m = Matcher().fit(docs)
    assert m.rank(Document("q", "plc agv"))[0].id == "c"
    assert m.rank(Document("q", "轴承磨削"), top=2)[0].id in {"d", "5"}
    assert m.rank(Document("q", "")) == []
    assert docs[5].id == "5" and docs[5].keywords == ("轴承", "磨削")


def test_import_pulls_in_no_web_stack():
    code = (
        "import sys, matching; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'techmarket')]; "
        "assert not bad, bad; assert 'jieba' not in sys.modules or True"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_parallel_batch_ranking_equals_serial(monkeypatch):
    monkeypatch.setattr(matcher_mod, "_PARALLEL_MIN_QUERIES", 1)
    monkeypatch.setattr(matcher_mod, "_BATCH_ROWS", 2)
    queries = [*NEEDS, UNRELATED]
    parallel = Matcher(n_jobs=2).fit(ACHIEVEMENTS).rank_many(queries, top=4)
    assert parallel == Matcher().fit(ACHIEVEMENTS).rank_many(queries, top=4)
    assert matcher_mod._FORK_JOB is None


def test_incremental_equals_refit_when_common_char_ngrams_are_pruned():
    # 60 documents: past the size where char n-grams in > char_max_df of the corpus are ignored
    docs = [
        Document(f"G{i}", f"{a.title}（第{i}版）", f"{a.description}{b.title}", a.field)
        for i, (a, b) in enumerate(zip(ACHIEVEMENTS * 6, ACHIEVEMENTS[3:] * 9, strict=False))
    ]
    m = Matcher().fit(docs[:40]).add(docs[40:]).remove(["G3", "G41"])
    fresh = Matcher().fit([d for d in docs if d.id not in ("G3", "G41")])
    assert (m.char_idf_ == 0).sum() > (m.char_counts_.sum(axis=0) == 0).sum()  # pruning happened
    assert_same_scores(m, fresh)


def test_idf_is_scikit_learns():
    from sklearn.feature_extraction.text import TfidfTransformer

    from matching.features import idf

    m = Matcher().fit(ACHIEVEMENTS)
    expected = TfidfTransformer(smooth_idf=True).fit(m.word_counts_.astype(np.float64)).idf_
    assert np.allclose(idf(m.word_counts_), expected, rtol=0, atol=1e-12)


def test_load_warns_when_the_lexicon_changed(tmp_path, fitted):
    path = tmp_path / "m.pkl"
    fitted.save(path)
    payload = pickle.loads(path.read_bytes())  # noqa: S301 - written just above
    payload["state"]["lexicon_fingerprint_"] = "0" * 16
    path.write_bytes(pickle.dumps(payload))
    with pytest.warns(UserWarning, match="lexicon"):
        Matcher.load(path)
