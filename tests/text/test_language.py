import pytest

from cxtext.text import clean_text, detect_language


@pytest.mark.parametrize("text,lang", [
    ("快递很快，服务很好", "zh"), ("Great service, fast delivery", "en"), ("not bad", "en"), ("好", "zh"), ("I love 好", "en"),
    ("这个app很好用", "zh"), ("app很好用 but the battery drains fast", "mixed"), ("客服 response time 太慢了", "mixed"), ("客服 response 太慢了", "zh"),
    ("👍👍👍", "other"), ("12345 !!!", "other"), ("Доставка была быстрой", "other"), ("配送が遅いです", "other"),
    ("Le service était très mauvais et la livraison en retard", "other"), ("ＡＰＰ很好用！！！５星好评", "zh"),
])
def test_language_detect(text, lang):
    assert detect_language(text) == lang


def test_language_clean_text_strips_controls_and_spaces():
    assert clean_text("  快递\x00很快\u3000\u3000 good \n") == "快递很快 good"
