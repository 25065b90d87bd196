"""Loading, model facts, tokenizer access, and error mapping."""
import pytest

import ember


def test_version_is_semver():
    assert ember.version().count(".") == 2


def test_info(model):
    info = model.info
    assert info.architecture == "llama"
    assert info.n_vocab == 512
    assert info.n_layer == 5
    assert info.bos_token == 1


def test_tokenize_matches_reference(model, reference):
    for text, ids in reference["tokenize"].items() if isinstance(reference["tokenize"], dict) else []:
        assert model.tokenize(text, add_special=False) == ids


def test_tokenize_adds_bos_and_roundtrips(model, reference):
    tokens = model.tokenize(reference["prompt"])
    assert tokens == reference["prompt_tokens"]
    assert model.detokenize(tokens[1:]) == reference["prompt"]


def test_missing_file_raises_io_error(tmp_path):
    with pytest.raises(ember.IOError) as e:
        ember.Model(str(tmp_path / "nope.gguf"))
    assert "nope.gguf" in str(e.value)
    assert e.value.status == 2


def test_broken_file_raises_invalid_file(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 16)
    with pytest.raises(ember.InvalidFileError):
        ember.Model(str(bad))


def test_not_gguf_raises_invalid_file(tmp_path):
    bad = tmp_path / "text.gguf"
    bad.write_text("hello")
    with pytest.raises(ember.Error):
        ember.Model(str(bad))


def test_bad_options_raise_invalid_argument(model):
    with pytest.raises(ember.InvalidArgumentError):
        ember.Model("x.gguf", load_mode="sometimes")
    with pytest.raises(ember.InvalidArgumentError):
        model.generate("Once", max_tokens=4, top_p=2.0)


def test_progress_can_cancel_load(stories_path):
    seen = []

    def progress(fraction):
        seen.append(fraction)
        return False

    with pytest.raises(ember.CancelledError):
        ember.Model(stories_path, progress=progress)
    assert seen


def test_closed_model_is_an_error(stories_path):
    m = ember.Model(stories_path)
    m.close()
    with pytest.raises(ember.InvalidArgumentError):
        m.tokenize("x")
