"""Session.evaluate: llama.cpp's teacher-forced log-probs, numpy arrays and plain lists, the
same bits however the tokens are split, truncate, refusals, flash_attn."""
import math

import numpy
import pytest

import ember

N_VOCAB = 512


@pytest.fixture(params=["numpy", "lists"])
def flavour(request, monkeypatch):
    """Run a test with numpy's arrays, and again as if numpy were not installed."""
    if request.param == "lists":
        monkeypatch.setattr(ember, "_numpy", lambda: None)
    return request.param


def f32_session(model, **options):
    # The reference was made with an F32 KV cache.
    return model.session(n_ctx=128, kv_type="f32", n_threads=2, **options)


def rows_of(logits):
    """Logits as a list of rows of Python floats, whichever type evaluate returned."""
    if isinstance(logits, numpy.ndarray):
        return logits.tolist()
    return logits


def worst_logprob_error(rows, reference_rows):
    worst = 0.0
    for row, ref in zip(rows, reference_rows, strict=True):
        top = max(row)
        lse = top + math.log(sum(math.exp(x - top) for x in row))
        worst = max(worst, max(abs(x - lse - r) for x, r in zip(row, ref, strict=True)))
    return worst


def test_logprobs_equal_llama_cpp(model, reference, flavour):
    tokens = reference["fixed_sequence"]
    with f32_session(model) as s:
        logits = s.evaluate(tokens, all_logits=True)
        assert s.n_cached == len(tokens)
    if flavour == "numpy":
        assert isinstance(logits, numpy.ndarray)
        assert logits.dtype == numpy.float32 and logits.shape == (len(tokens), N_VOCAB)
    else:
        assert isinstance(logits, list) and len(logits) == len(tokens)
        assert all(isinstance(row, list) and len(row) == N_VOCAB for row in logits)
        assert isinstance(logits[0][0], float)
    assert worst_logprob_error(rows_of(logits), reference["logprobs"]) < 1e-4


def test_last_position_and_splits_give_the_same_bits(model, reference, flavour):
    tokens = reference["fixed_sequence"]
    with f32_session(model) as s:
        whole = rows_of(s.evaluate(tokens, all_logits=True))
    with f32_session(model) as s:
        last = s.evaluate(tokens)
        if flavour == "numpy":
            assert isinstance(last, numpy.ndarray) and last.shape == (N_VOCAB,)
        else:
            assert isinstance(last, list) and len(last) == N_VOCAB
        assert list(last) == whole[-1]
    with f32_session(model, n_batch=7) as s:
        pieces = []
        at, length = 0, 1
        while at < len(tokens):  # pieces of 1, 2, 3 ... tokens
            pieces += rows_of(s.evaluate(tokens[at:at + length], all_logits=True))
            at += length
            length += 1
        assert s.n_cached == len(tokens)
    assert pieces == whole


def test_numpy_token_arrays(model, reference):
    tokens = reference["fixed_sequence"]
    with f32_session(model) as s:
        expect = s.evaluate(tokens, all_logits=True)
    for arr in (numpy.array(tokens, dtype=numpy.int64), numpy.array(tokens, dtype=numpy.uint16),
                numpy.repeat(numpy.array(tokens, dtype=numpy.int32), 2)[::2]):  # not contiguous
        with f32_session(model) as s:
            assert numpy.array_equal(s.evaluate(arr, all_logits=True), expect)


def test_truncate_rewinds(model, reference, flavour):
    tokens = reference["fixed_sequence"]
    half = len(tokens) // 2
    with f32_session(model) as s:
        last = list(s.evaluate(tokens))
        s.truncate(half)
        assert s.n_cached == half
        s.evaluate(tokens[1:4])  # a different continuation, then back
        s.truncate(half)
        assert list(s.evaluate(tokens[half:])) == last
        assert s.n_cached == len(tokens)
        with pytest.raises(ember.InvalidArgumentError, match="cached"):
            s.truncate(len(tokens) + 1)
        with pytest.raises(ember.InvalidArgumentError):
            s.truncate(-1)
        assert s.n_cached == len(tokens)
        s.truncate(0)
        assert s.n_cached == 0


def test_refusals_leave_the_session_alone(model, reference, flavour):
    tokens = reference["fixed_sequence"]
    with f32_session(model) as s:
        s.evaluate(tokens[:5])
        with pytest.raises(ember.InvalidArgumentError, match="n_tokens is 0"):
            s.evaluate([])
        with pytest.raises(ember.InvalidArgumentError, match="n_tokens is 0"):
            s.evaluate([], all_logits=True)
        with pytest.raises(ember.InvalidArgumentError, match="vocabulary"):
            s.evaluate([tokens[5], N_VOCAB])
        with pytest.raises(ember.InvalidArgumentError, match="vocabulary"):
            s.evaluate([-1])
        with pytest.raises(ember.InvalidArgumentError, match="vocabulary"):
            s.evaluate([2 ** 32 + 5])  # would wrap to 5 in an int32
        with pytest.raises(ember.InvalidArgumentError, match="not an integer"):
            s.evaluate([1.5])
        with pytest.raises(ember.ContextFullError):
            s.evaluate([tokens[1]] * 124)  # 5 + 124 > n_ctx 128
        assert s.n_cached == 5
        if flavour == "numpy":
            with pytest.raises(ember.InvalidArgumentError, match="1-D integer array"):
                s.evaluate(numpy.array([[1, 2]]))
            with pytest.raises(ember.InvalidArgumentError, match="1-D integer array"):
                s.evaluate(numpy.array([1.0, 2.0]))
            with pytest.raises(ember.InvalidArgumentError, match="vocabulary"):
                s.evaluate(numpy.array([1, 2 ** 32 + 5], dtype=numpy.int64))
        assert s.n_cached == 5
        # Still usable: the same bits as one uninterrupted evaluation.
        rest = list(s.evaluate(tokens[5:]))
    with f32_session(model) as fresh:
        assert rest == list(fresh.evaluate(tokens))


def test_flash_attn_reaches_the_runtime(model, reference):
    tokens = reference["fixed_sequence"]
    with model.session(n_ctx=128, kv_type="f16") as plain, \
            model.session(n_ctx=128, kv_type="f16", flash_attn=True) as flash:
        a = plain.evaluate(tokens, all_logits=True)
        b = flash.evaluate(tokens, all_logits=True)
    assert numpy.isfinite(a).all() and numpy.isfinite(b).all()
    assert not numpy.array_equal(a, b)  # fp16 sums of V round differently
    for logits in (a, b):  # f16 keys and values: near the F32-cache reference
        assert worst_logprob_error(logits.tolist(), reference["logprobs"]) < 5e-2
