"""Tokenizer, normalisation and concept lexicon."""

import pickle

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from matching import FIELDS, analyze, normalize, tokenize
from matching.text import char_ngrams, find_concepts, load_lexicon


def concepts(text):
    return {c for c, _ in find_concepts(text)}


def test_normalize_folds_width_case_and_symbols():
    assert normalize("ＰＬＣ控制柜　１２００℃") == "plc控制柜 1200°c"
    assert normalize("  a \n\t b ") == "a b"
    assert normalize("") == ""


def test_tokenize_drops_boilerplate_and_numbers():
    tokens = tokenize("我们厂需要提高技术水平，降低成本，每天5000袋")
    for generic in ("我们", "厂", "提高", "技术", "降低", "成本", "5000"):
        assert generic not in tokens
    assert "袋" in tokens


def test_domain_words_stay_whole():
    assert "码垛机器人" in tokenize("重载码垛机器人及垛型自动规划")
    assert "跑冒滴漏" in tokenize("车间跑冒滴漏严重")


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("面粉袋子往托盘上摞，工人太累", "码垛"),
        ("成品要码放整齐", "码垛"),
        ("耐材厂拆炉下来的废砖", "耐火材料"),
        ("车刀老崩刃", "刀具"),
        ("车间跑冒滴漏严重", "泄漏"),
        ("ＰＬＣ控制柜老出故障", "可编程逻辑控制器"),
        ("想上几台AGV", "自动导引车"),
        ("喷漆车间VOCs超标", "挥发性有机物治理"),
        ("窑外皮烫手", "隔热保温"),
        ("重载码垛机器人", "码垛"),  # the technical term maps to its own concept
    ],
)
def test_concept_lexicon_maps_colloquial_to_technical(text, concept):
    assert concept in concepts(text)
    assert "#" + concept in analyze(text)


def test_abbreviation_only_as_whole_word():
    assert "可编程逻辑控制器" not in concepts("complcated")  # 'plc' inside a longer word


def test_tokenizer_is_picklable_and_works_in_sklearn():
    clone = pickle.loads(pickle.dumps(tokenize))  # noqa: S301 - our own bytes
    assert clone("轴承套圈磨削烧伤") == tokenize("轴承套圈磨削烧伤")
    vec = TfidfVectorizer(tokenizer=clone, token_pattern=None, lowercase=False)
    x = vec.fit_transform(["轴承套圈磨削烧伤检测", "耐火材料隔热砖"])
    assert x.shape[0] == 2 and "轴承" in vec.vocabulary_


@pytest.mark.parametrize("text", ["", "   ", "，。！？……——", "!!!???", "12345 678"])
def test_empty_or_punctuation_only(text):
    assert tokenize(text) == []
    assert analyze(text) == []


def test_non_chinese_and_huge_text():
    assert tokenize("Hello World, PLC and AGV!") == ["hello", "world", "plc", "and", "agv"]
    huge = "轴承套圈磨削烧伤检测。" * 50_000
    tokens = tokenize(huge)
    assert 0 < len(tokens) < 50_000  # truncated, not refused
    assert char_ngrams("abc 轴承") == ["轴", "承", "轴承", "abc"]


def test_lexicon_files_are_consistent():
    lex = load_lexicon()
    canonicals = {c for cs in lex.concepts.values() for c in cs}
    assert len(canonicals) >= 150
    assert len(lex.concepts) >= 600  # keys: variants and canonical terms
    assert set(lex.concept_fields.values()) <= set(FIELDS)
    assert set(lex.concept_fields) == canonicals  # every concept names its field
    assert all(k == normalize(k) and k for k in lex.concepts)
    assert "技术" in lex.stopwords and "轴承" not in lex.stopwords
    assert len(lex.fingerprint) == 16
