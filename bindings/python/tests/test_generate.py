"""Generation against llama.cpp's reference, streaming, threads, chat."""
import threading

import ember


def test_greedy_from_bos_matches_llama_cpp(model, reference):
    expected = reference["greedy_from_bos"]
    result = model.generate("", max_tokens=len(expected), temperature=0, n_ctx=256)
    assert result.tokens == expected[:len(result.tokens)]
    assert len(result.tokens) == len(expected) or result.finish_reason == "stop"
    assert result.generated_tokens == len(result.tokens)


def test_greedy_from_prompt_matches_llama_cpp(model, reference):
    expected = reference["greedy_from_prompt"]
    result = model.generate(reference["prompt"], max_tokens=len(expected), temperature=0, n_ctx=256)
    assert result.tokens == expected[:len(result.tokens)]


def test_streaming_equals_non_streaming(model, reference):
    whole = model.generate(reference["prompt"], max_tokens=40, temperature=0)
    pieces = list(model.stream(reference["prompt"], max_tokens=40, temperature=0))
    assert "".join(pieces) == whole.text
    assert len(pieces) > 1


def test_same_seed_same_text(model):
    a = model.generate("Once upon a time", max_tokens=32, temperature=0.9, seed=42)
    b = model.generate("Once upon a time", max_tokens=32, temperature=0.9, seed=42)
    assert a.text == b.text and a.tokens == b.tokens


def test_stop_strings_and_length(model):
    result = model.generate("", max_tokens=5, temperature=0)
    assert result.finish_reason == "length" and len(result.tokens) == 5
    full = model.generate("", max_tokens=60, temperature=0).text
    cut = full.index("Lily")
    stopped = model.generate("", max_tokens=60, temperature=0, stop=["Lily"])
    assert stopped.text == full[:cut]
    assert stopped.finish_reason == "stop"


def test_two_threads_on_one_model(model, reference):
    expected = model.generate(reference["prompt"], max_tokens=48, temperature=0).tokens
    results = [None, None]

    def worker(i):
        results[i] = model.generate(reference["prompt"], max_tokens=48, temperature=0, n_threads=1).tokens

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected, expected]


def test_cancel_from_another_thread(model):
    with model.session(n_ctx=512) as session:
        pieces = []
        for piece in session.stream("", max_tokens=400, temperature=0.8, seed=1):
            pieces.append(piece)
            if len(pieces) == 3:
                threading.Thread(target=session.cancel).start()
        assert len(pieces) < 400
        # the session is still usable
        assert session.generate("Once", max_tokens=4, temperature=0).generated_tokens == 4


def test_breaking_out_of_stream_cancels(model):
    with model.session() as session:
        for i, _piece in enumerate(session.stream("", max_tokens=200, temperature=0)):
            if i == 2:
                break
        assert session.generate("Once", max_tokens=3, temperature=0).generated_tokens == 3


def test_chat_keeps_history_and_reuses_prefix(model):
    with model.chat("You are a storyteller.", n_ctx=512) as chat:
        first = chat.send("Tell me about a cat.", max_tokens=16, temperature=0)
        second = chat.send("And a dog?", max_tokens=16, temperature=0)
        assert [m["role"] for m in chat.history] == ["system", "user", "assistant", "user", "assistant"]
        assert chat.history[2]["content"] == first.text
        assert second.reused_tokens > 0
        chat.reset()
        assert [m["role"] for m in chat.history] == ["system"]


def test_context_full_is_an_error(model):
    import pytest
    with model.session(n_ctx=16) as session:
        with pytest.raises(ember.ContextFullError):
            session.generate("Once upon a time there was a very long prompt that cannot fit in sixteen tokens at all",
                             max_tokens=4)


def test_ctrl_c_cancels_generation_and_keeps_session(model):
    import os
    import signal

    import pytest
    with model.session(n_ctx=512) as session:
        seen = 0
        with pytest.raises(KeyboardInterrupt):
            for _piece in session.stream("", max_tokens=400, temperature=0.8, seed=5):
                seen += 1
                if seen == 2:
                    os.kill(os.getpid(), signal.SIGINT)
        assert seen < 400
        assert session.generate("Once", max_tokens=4, temperature=0).generated_tokens == 4
