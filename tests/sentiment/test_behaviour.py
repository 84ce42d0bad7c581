"""Behavioural tests of the shipped sentiment model (minimum functionality, directional, invariance), en + zh."""

import pytest

pytestmark = pytest.mark.model


def _one(pipeline, text):
    return pipeline.analyze([text])[0]


@pytest.mark.parametrize("text,label", [
    ("Absolutely love it, best purchase this year!", "positive"),
    ("The parcel arrived a week late and the box was crushed.", "negative"),
    ("质量非常好，物超所值！", "positive"),
    ("快递太慢了，等了一个星期", "negative"),
])
def test_behaviour_clear_cases(pipeline, text, label):
    assert _one(pipeline, text).sentiment == label


@pytest.mark.parametrize("negated,plain", [("not bad", "bad"), ("The food was not terrible at all.", "The food was terrible.")])
def test_behaviour_negation_en(pipeline, negated, plain):
    n, p = _one(pipeline, negated), _one(pipeline, plain)
    assert p.sentiment == "negative" and n.sentiment != "negative" and n.sentiment_score > p.sentiment_score + 0.5


@pytest.mark.parametrize("negated,plain", [("不是很好", "很好"), ("一点也不满意", "很满意")])
def test_behaviour_negation_zh(pipeline, negated, plain):
    n, p = _one(pipeline, negated), _one(pipeline, plain)
    assert p.sentiment == "positive" and n.sentiment != "positive" and n.sentiment_score < p.sentiment_score - 0.5


@pytest.mark.parametrize("strong,weak", [
    ("Terrible, the worst service I have ever had!", "The service was a bit slow."),
    ("Amazing quality, absolutely perfect!", "The quality is okay."),
    ("太差了，简直是垃圾，再也不买了！", "有点慢"),
    ("非常非常满意，强烈推荐！", "还行吧"),
])
def test_behaviour_intensity(pipeline, strong, weak):
    s, w = _one(pipeline, strong), _one(pipeline, weak)
    assert abs(s.sentiment_score) > abs(w.sentiment_score)
    assert s.sentiment_confidence >= w.sentiment_confidence - 0.05


@pytest.mark.parametrize("text,label,lang", [
    ("delivery speed 很快，五星好评", "positive", "mixed"),
    ("客服 response time 太慢了，很生气", "negative", "mixed"),
])
def test_behaviour_mixed_language(pipeline, text, label, lang):
    a = _one(pipeline, text)
    assert (a.sentiment, a.language) == (label, lang)


@pytest.mark.parametrize("happy,angry", [("Got my order 😊😊", "Got my order 😡😡"), ("收到了😊", "收到了😡")])
def test_behaviour_emoji_moves_score(pipeline, happy, angry):
    assert _one(pipeline, happy).sentiment_score > _one(pipeline, angry).sentiment_score + 0.3


@pytest.mark.parametrize("text", [
    "The package was delivered on Tuesday afternoon.",
    pytest.param("I paid by credit card and ordered two items.", marks=pytest.mark.xfail(
        strict=True, reason="known weakness (model card): English factual statements about orders and payment "
                            "lean negative; the training data has 437 English neutral sentences, all about restaurants")),
    pytest.param("我是周二下午收到的包裹。", marks=pytest.mark.xfail(
        strict=True, reason="known weakness (model card): Chinese neutral statements are rare in the training data "
                            "(BDCI car sentences only); the joint sentiment + themes encoder reads this delivery "
                            "statement as negative (score -0.64; the previous model passed)")),
    "这次买的是两个手机壳和一根数据线。",  # the previous model scored it 0.84 (xfail); the joint one 0.47
])
def test_behaviour_neutral_factual(pipeline, text):
    a = _one(pipeline, text)
    assert a.sentiment == "neutral" or abs(a.sentiment_score) < 0.5, a


def test_behaviour_invariant_to_whitespace_and_fullwidth(pipeline):
    a, b = _one(pipeline, "Great service!"), _one(pipeline, "  Great   service！ ")
    assert a.sentiment == b.sentiment and abs(a.sentiment_score - b.sentiment_score) < 0.1
