"""Behavioural tests of theme coding on the real shipped models (default taxonomy + models/themes)."""

import pytest

from cxtext.themes.taxonomy import Taxonomy

pytestmark = pytest.mark.model


def _themes(pipeline, text):
    (r,) = pipeline.analyze([text])
    return {t.id: t for t in r.themes}


def test_behaviour_zh_two_themes_opposite_sentiments(pipeline):
    got = _themes(pipeline, "快递很快，但是客服态度很差")
    assert got["delivery"].sentiment == "positive"
    assert got["customer_service"].sentiment == "negative"
    assert "客服" in got["customer_service"].evidence and "快递" not in got["customer_service"].evidence


def test_behaviour_en_two_themes_opposite_sentiments(pipeline):
    got = _themes(pipeline, "The parcel arrived two weeks late, but the price was very reasonable.")
    assert got["delivery"].sentiment == "negative"
    assert got["price_value"].sentiment == "positive"
    assert "price" in got["price_value"].evidence


@pytest.mark.parametrize("text, theme", [
    ("I was charged twice for the same order", "billing_payment"),
    ("APP老是闪退，根本没法下单", "usability"),
    ("退款申请了一个月还没到账", "returns_refunds"),
    ("包装破损，盒子都压扁了", "packaging"),
])
def test_behaviour_obvious_single_theme(pipeline, text, theme):
    assert theme in _themes(pipeline, text)


def test_behaviour_no_theme_is_other(pipeline):
    assert list(_themes(pipeline, "ok")) == ["other"]


def test_behaviour_user_taxonomy_without_examples(pipeline, tmp_path):
    from cxtext.pipeline import Pipeline

    path = tmp_path / "venue.yaml"
    path.write_text("""name: venue
version: 1
themes:
  - {id: parking, name: Parking, description: Finding a place to park the car at the venue.}
  - {id: tickets, name: Tickets, description: Buying tickets and ticket prices.}
  - {id: toilets, name: Toilets, description: Cleanliness and queues at the toilets.}
""", encoding="utf-8")
    pipe = Pipeline.load(taxonomy=path)
    (r,) = pipe.analyze(["There was nowhere to park, we drove around for an hour."])
    assert r.themes[0].id == "parking"
    (r,) = pipe.analyze(["停车位太少了，找了半天"])  # a Chinese comment, an English-only codeframe
    assert r.themes[0].id == "parking"
    assert Taxonomy.load(path).ids[-1] == "other"


def test_behaviour_cli_themes_columns_and_no_themes(tmp_path):
    import pandas as pd

    from cxtext.cli import main

    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["快递很快，但是客服态度很差", "I was charged twice"]}).to_csv(src, index=False)
    assert main(["analyze", str(src), "-o", str(tmp_path / "with.csv"), "--no-progress"]) == 0
    assert main(["analyze", str(src), "-o", str(tmp_path / "without.csv"), "--no-themes", "--no-progress"]) == 0
    with_themes = pd.read_csv(tmp_path / "with.csv", keep_default_na=False)
    without = pd.read_csv(tmp_path / "without.csv", keep_default_na=False)
    assert "delivery" in with_themes.loc[0, "themes"].split(";")
    assert "billing_payment" in with_themes.loc[1, "themes"].split(";")
    assert list(without["themes"]) == ["", ""] and list(without["themes_json"]) == ["[]", "[]"]
    assert list(without["sentiment"]) == list(with_themes["sentiment"])
