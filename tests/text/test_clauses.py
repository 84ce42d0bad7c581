import pytest

from cxtext.text.clauses import split_clauses


@pytest.mark.parametrize("text, clauses", [
    ("快递很快,但是客服态度很差", ["快递很快,", "但是客服态度很差"]),
    ("东西不错，就是价格有点贵，而且发货慢", ["东西不错，", "就是价格有点贵，", "而且发货慢"]),
    ("质量挺好的不过包装太简陋了", ["质量挺好的", "不过包装太简陋了"]),
    ("Delivery was late but the courier was polite.", ["Delivery was late ", "but the courier was polite."]),
    ("The food was great, the service slow. Prices are 3.5 dollars!",
     ["The food was great, ", "the service slow. ", "Prices are 3.5 dollars!"]),
    ("好评", ["好评"]),
    ("Great!!! Love it.", ["Great!!! Love it."]),
])
def test_clauses_split_on_punctuation_and_conjunctions(text, clauses):
    assert [c.text for c in split_clauses(text)] == clauses


@pytest.mark.parametrize("text", ["", "a", "但是", "...", "ok, but", "fish and chips, but overpriced; 然而很好吃。"])
def test_clauses_cover_the_text_exactly(text):
    cs = split_clauses(text)
    assert "".join(c.text for c in cs) == text
    assert all(text[c.start:c.end] == c.text for c in cs)
