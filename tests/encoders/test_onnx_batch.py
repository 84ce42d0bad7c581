"""Same input, same output: an ONNX-encoded text must not depend on the batch it is encoded in.

Regression test: onnxruntime *dynamic* int8 quantisation (export formats 2-3) scaled each activation over the whole
padded batch tensor, so vectors and sentiment scores moved with the batch (up to 0.4 in score on the shipped model;
see bench/quant_check.py). The 8-bit weight-only export (format 4) quantises per row.
"""

import numpy as np
import pytest

from tests.encoders.sentences import SENTENCES



def _batch_vs_single(encoder, texts):
    batch = encoder.encode(texts)
    single = np.concatenate([encoder.encode([t]) for t in texts])
    return batch, single


def test_onnx_encoder_batch_of_n_equals_one_at_a_time_on_tiny_model(tiny_bert_dir):
    from cxtext.encoders import OnnxEncoder
    from cxtext.encoders.onnx_export import export_onnx_int8

    export_onnx_int8(tiny_bert_dir)
    # the tiny random net's activation ranges are alike from text to text, so today's dynamic export passes here;
    # this guards padding and windowing, the shipped-model test below guards quantisation
    # different lengths: each text is padded in the batch, alone it is not
    texts = ["good", "bad service", "很好", "not great at all, terrible", "价格不是很好, 物流很慢!!", "great " * 30]
    batch, single = _batch_vs_single(OnnxEncoder(tiny_bert_dir, batch_size=32), texts)
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_torch_encoder_batch_of_n_equals_one_at_a_time_on_tiny_model(tiny_bert_dir):
    """The fp32 reference is batch-independent: the check above can only fail through quantisation."""
    from cxtext.encoders import TorchEncoder

    texts = ["good", "bad service", "很好", "not great at all, terrible", "价格不是很好, 物流很慢!!", "great " * 30]
    batch, single = _batch_vs_single(TorchEncoder(tiny_bert_dir, batch_size=32), texts)
    np.testing.assert_allclose(batch, single, atol=1e-5)


@pytest.mark.model
def test_onnx_encoder_batch_of_n_equals_one_at_a_time_on_shipped_model(pipeline):
    batch, single = _batch_vs_single(pipeline.encoder, SENTENCES)
    np.testing.assert_allclose(batch, single, atol=1e-5)
    assert pipeline.sentiment.decide(batch)[0] == pipeline.sentiment.decide(single)[0]


def test_model_calls_are_cut_so_padding_stays_small():
    """One long comment must not pad a whole batch of short ones: bounded rows, padded tokens and pad ratio,
    every window exactly once, in length order."""
    from cxtext.encoders._runtime import _Windowed

    enc = _Windowed.__new__(_Windowed)
    enc.batch_size, enc.max_batch_tokens, enc.max_pad_ratio, enc.pad_slack = 32, 2048, 1.25, 4
    lengths = sorted([8] * 40 + [9, 10, 12, 15, 20, 30, 60, 120, 210, 512])
    windows = [(i, [0] * n) for i, n in enumerate(lengths)]
    batches = list(enc._batches(windows))
    assert [w for b in batches for w in b] == windows
    for b in batches:
        width, first = len(b[-1][1]), len(b[0][1])
        assert len(b) <= 32 and (len(b) == 1 or (len(b) * width <= 2048 and width <= 1.25 * first + 4))
    assert len(batches[0]) == 32 and [len(b[0][1]) for b in batches[-3:]] == [120, 210, 512]
