import pytest

from cxtext import Analysis, Comment, InvalidInputError
from cxtext.pipeline import EMPTY_TEXT, NOT_TEXT, UNDECODABLE_TEXT, stable_id


def test_pipeline_carries_ids_and_keeps_order(fake_pipeline):
    out = fake_pipeline.analyze([{"id": "a", "text": "good"}, {"id": "b", "text": "bad"}, Comment(id="c", text="box")])
    assert [a.id for a in out] == ["a", "b", "c"]
    assert [a.sentiment for a in out] == ["positive", "negative", "neutral"]
    assert all(isinstance(a, Analysis) for a in out)


def test_pipeline_batch_equals_one_at_a_time(fake_pipeline):
    texts = ["good", "bad bad", "快递很快", "a box", "good", "terrible late"]
    batch = fake_pipeline.analyze(texts)
    single = [fake_pipeline.analyze([t])[0] for t in texts]
    assert [a.model_dump() for a in batch] == [a.model_dump() for a in single]


def test_pipeline_identical_texts_encoded_once(fake_pipeline):
    fake_pipeline.analyze(["good"] * 50 + ["bad"] * 50)
    assert fake_pipeline.encoder.calls == 1


def test_pipeline_stable_id_from_text(fake_pipeline):
    a, b = fake_pipeline.analyze(["same text", "same text"])
    assert a.id == b.id == stable_id("same text")


@pytest.mark.parametrize("text,error", [("", EMPTY_TEXT), ("   \t ", EMPTY_TEXT), (None, EMPTY_TEXT),
                                        (42, NOT_TEXT), ("bad \udcff bytes", UNDECODABLE_TEXT)])
def test_pipeline_unanalysable_text_is_kept_with_error(fake_pipeline, text, error):
    (a,) = fake_pipeline.analyze([{"id": "x", "text": text}])
    assert a.id == "x" and a.sentiment is None and a.sentiment_score is None and a.error == error


def test_pipeline_unknown_comment_field_is_a_clear_error(fake_pipeline):
    with pytest.raises(InvalidInputError, match="unknown field"):
        fake_pipeline.analyze([{"txt": "typo"}])


def test_pipeline_scores_in_range_and_language_set(fake_pipeline):
    out = fake_pipeline.analyze(["good", "快递很慢", "app很好用 but slow"])
    assert [a.language for a in out] == ["en", "zh", "mixed"]
    for a in out:
        assert -1 <= a.sentiment_score <= 1 and 0 <= a.sentiment_confidence <= 1
