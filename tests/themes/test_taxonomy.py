from pathlib import Path

import pytest

from cxtext.errors import ConfigError
from cxtext.themes.taxonomy import OTHER, Taxonomy

REQUIRED = ["delivery", "customer_service", "staff", "product_quality", "price_value", "usability",
            "billing_payment", "returns_refunds", "wait_time", "packaging", "environment", "other"]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tax.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_taxonomy_default_has_the_cx_ids_in_both_languages():
    tax = Taxonomy.default()
    assert set(REQUIRED) <= set(tax.ids)
    for t in tax.themes:
        assert t.name and t.name_zh, t.id
    assert tax.get("delivery").label("zh") == "物流配送"
    assert tax.get("delivery").label("en") == "Delivery & logistics"


def test_taxonomy_round_trip_keeps_everything(tmp_path):
    tax = Taxonomy.default()
    again = Taxonomy.load(_write(tmp_path, tax.to_yaml()))
    assert again.fingerprint() == tax.fingerprint()
    assert again.get("packaging").keywords == tax.get("packaging").keywords


def test_taxonomy_adds_other_when_missing(tmp_path):
    tax = Taxonomy.load(_write(tmp_path, "name: t\nthemes:\n  - {id: food, name: Food, description: The food.}\n"))
    assert tax.ids == ["food", OTHER]


def test_taxonomy_sub_themes_one_level(tmp_path):
    tax = Taxonomy.load(_write(tmp_path, """name: t
themes:
  - {id: delivery, name: Delivery, description: Shipping.}
  - {id: courier, name: Courier, description: The courier., parent: delivery}
"""))
    assert tax.get("courier").parent == "delivery"


@pytest.mark.parametrize("body, expected", [
    ("name: t\nthemes:\n  - {id: Bad-Id, name: X, description: Y}\n",
     ["tax.yaml", "theme 'Bad-Id' (#1)", "field 'id'", "snake_case"]),
    ("name: t\nthemes:\n  - {id: food, name: Food}\n", ["tax.yaml", "theme 'food' (#1)", "field 'description'", "required"]),
    ("name: t\nthemes:\n  - {id: food, name: Food, description: D, colour: red}\n",
     ["theme 'food' (#1)", "field 'colour'", "not a known field"]),
    ("name: t\nthemes:\n  - {name: Food, description: D}\n", ["theme #1", "field 'id'", "required"]),
    ("name: t\nthemes:\n  - {id: a, name: A, description: D}\n  - {id: a, name: B, description: E}\n",
     ["tax.yaml", "['a']", "more than once"]),
    ("name: t\nthemes:\n  - {id: a, name: A, description: D, parent: nope}\n",
     ["theme 'a'", "field 'parent'", "'nope'"]),
    ("name: t\nthemes:\n  - {id: a, name: A, description: D}\n  - {id: b, name: B, description: D, parent: a}\n"
     "  - {id: c, name: C, description: D, parent: b}\n", ["theme 'c'", "field 'parent'", "one level"]),
    ("name: t\nthemes: []\n", ["field 'themes'"]),
    ("- just\n- a list\n", ["tax.yaml", "expected a mapping"]),
    ("name: t\nthemes: [\n", ["tax.yaml", "not valid YAML"]),
])
def test_taxonomy_bad_file_names_file_theme_and_field(tmp_path, body, expected):
    with pytest.raises(ConfigError) as exc:
        Taxonomy.load(_write(tmp_path, body))
    for part in expected:
        assert part in str(exc.value), (part, str(exc.value))


def test_taxonomy_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Taxonomy.load(tmp_path / "nope.yaml")


def test_taxonomy_validated_before_any_model_loads(tmp_path):
    from cxtext.pipeline import Pipeline

    bad = _write(tmp_path, "name: t\nthemes:\n  - {id: food, name: Food}\n")
    # the encoder folder does not exist either: the taxonomy error must come first
    with pytest.raises(ConfigError, match="description"):
        Pipeline.load(encoder_dir=tmp_path / "no-encoder", taxonomy=bad)
