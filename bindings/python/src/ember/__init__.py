"""ember: run open-weight language models (GGUF) on your CPU.

A thin, Pythonic layer over libember's stable C ABI (include/ember/ember.h)::

    import ember
    with ember.Model("model.gguf") as model:
        print(model.generate("Once upon a time", max_tokens=32).text)
        for piece in model.stream("The dog", max_tokens=16):
            print(piece, end="")

Native calls release the GIL. Generation runs on a worker thread so that Ctrl-C in the
calling thread cancels it (the session stays usable) before KeyboardInterrupt propagates.
A Model may be shared by threads; a Session or Chat is used by one thread at a time.
"""
from __future__ import annotations

import codecs
import ctypes
import operator
import queue
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

from . import _native as _n

__all__ = [
    "Model", "Session", "Chat", "Result", "ModelInfo", "version",
    "Error", "InvalidArgumentError", "IOError", "InvalidFileError", "UnsupportedError",
    "OutOfMemoryError", "ContextFullError", "CancelledError", "InvalidModelError",
    "TokenizerError", "TemplateError", "InternalError",
]


# ---- errors ----------------------------------------------------------------------------

class Error(Exception):
    """Any failure reported by libember. `status` is the C ABI's ember_status value."""

    status: int = -1

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    status = 1


class IOError(Error, OSError):  # noqa: A001 - mirrors EMBER_ERR_IO
    status = 2


class InvalidFileError(Error):
    status = 3


class UnsupportedError(Error):
    status = 4


class OutOfMemoryError(Error, MemoryError):
    status = 5


class ContextFullError(Error):
    status = 6


class CancelledError(Error):
    status = 7


class InvalidModelError(Error):
    status = 8


class TokenizerError(Error):
    status = 9


class TemplateError(Error):
    status = 10


class InternalError(Error):
    status = 11


_ERRORS = {cls.status: cls for cls in (InvalidArgumentError, IOError, InvalidFileError, UnsupportedError,
                                       OutOfMemoryError, ContextFullError, CancelledError, InvalidModelError,
                                       TokenizerError, TemplateError, InternalError)}


def _error(status: int) -> Error:
    """The exception for a failed call; must run on the thread that made the call."""
    message = (_n.ember_last_error() or b"").decode("utf-8", "replace")
    return _ERRORS.get(status, Error)(message or f"ember status {status}", status)


def _check(status: int) -> None:
    if status != 0:
        raise _error(status)


def version() -> str:
    """The loaded libember's version string."""
    return _n.ember_version().decode()


# ---- results ---------------------------------------------------------------------------

_FINISH = {0: "stop", 1: "length", 2: "cancelled", 3: "error"}


@dataclass
class Result:
    """What one generation produced."""

    text: str
    tokens: List[int]
    finish_reason: str  # "stop", "length", "cancelled" or "error"
    prompt_tokens: int = 0
    reused_tokens: int = 0
    generated_tokens: int = 0
    prompt_tokens_per_second: float = 0.0
    generated_tokens_per_second: float = 0.0


def _take_result(native: _n.Result) -> Result:
    text = ctypes.string_at(native.text, native.text_length).decode("utf-8", "replace") if native.text else ""
    tokens = [native.tokens[i] for i in range(native.n_tokens)] if native.tokens else []
    result = Result(text=text, tokens=tokens, finish_reason=_FINISH.get(native.finish_reason, "error"),
                    prompt_tokens=native.prompt_tokens, reused_tokens=native.reused_tokens,
                    generated_tokens=native.generated_tokens,
                    prompt_tokens_per_second=native.prompt_tokens_per_second,
                    generated_tokens_per_second=native.generated_tokens_per_second)
    _n.ember_result_clear(ctypes.byref(native))
    return result


@dataclass
class ModelInfo:
    architecture: str
    name: str
    n_params: int
    n_bytes: int
    context_length: int
    n_vocab: int
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    has_chat_template: bool
    bos_token: int
    eos_token: int
    eot_token: int


# ---- generation options ------------------------------------------------------------------

@dataclass
class _Options:
    native: _n.GenerateOptions
    keep: list = field(default_factory=list)  # buffers the native struct points into


def _generate_options(max_tokens: Optional[int] = None, temperature: Optional[float] = None,
                      top_k: Optional[int] = None, top_p: Optional[float] = None,
                      min_p: Optional[float] = None, typical_p: Optional[float] = None,
                      repeat_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
                      presence_penalty: Optional[float] = None, penalty_last_n: Optional[int] = None,
                      stop: Optional[Sequence[str]] = None, logit_bias: Optional[Dict[int, float]] = None,
                      seed: Optional[int] = None) -> _Options:
    o = _n.GenerateOptions()
    _n.ember_generate_options_init(ctypes.byref(o))
    for name, value in (("max_tokens", max_tokens), ("temperature", temperature), ("top_k", top_k),
                        ("top_p", top_p), ("min_p", min_p), ("typical_p", typical_p),
                        ("repeat_penalty", repeat_penalty), ("frequency_penalty", frequency_penalty),
                        ("presence_penalty", presence_penalty), ("penalty_last_n", penalty_last_n)):
        if value is not None:
            setattr(o, name, value)
    keep: list = []
    if stop:
        encoded = [s.encode("utf-8") for s in stop]
        arr = (ctypes.c_char_p * len(encoded))(*encoded)
        keep += [encoded, arr]
        o.stop = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        o.n_stop = len(encoded)
    if logit_bias:
        arr = (_n.LogitBias * len(logit_bias))(*[_n.LogitBias(int(t), float(b)) for t, b in logit_bias.items()])
        keep.append(arr)
        o.logit_bias = ctypes.cast(arr, ctypes.POINTER(_n.LogitBias))
        o.n_logit_bias = len(logit_bias)
    if seed is not None:
        o.use_seed = True
        o.seed = seed
    return _Options(o, keep)


def _messages(messages: Sequence[Dict[str, str]]):
    encoded = [(m["role"].encode("utf-8"), m["content"].encode("utf-8")) for m in messages]
    arr = (_n.Message * len(encoded))(*[_n.Message(r, c) for r, c in encoded])
    return arr, encoded


class _Generation:
    """Runs one native generation on a worker thread and hands its pieces to the caller.

    The worker owns the native call; the calling thread waits on a queue, so Ctrl-C lands in
    the caller, which cancels the session and waits for the worker before re-raising."""

    _DONE = object()

    def __init__(self, session_handle, invoke: Callable):
        self._session = session_handle
        self._invoke = invoke
        self._queue: "queue.Queue" = queue.Queue()
        self._stop = False
        self._finished = False
        self._outcome = None
        self._thread = threading.Thread(target=self._work, name="ember-generate", daemon=True)
        self._thread.start()

    def _work(self):
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def on_token(ptr, length, _user):
            piece = decoder.decode(ctypes.string_at(ptr, length))
            if piece:
                self._queue.put(piece)
            return not self._stop

        callback = _n.token_fn(on_token)
        native = _n.Result()
        _n.ember_result_init(ctypes.byref(native))
        try:
            status = self._invoke(callback, native)
            self._outcome = _error(status) if status != 0 else _take_result(native)
            if status != 0:
                _n.ember_result_clear(ctypes.byref(native))
        except BaseException as e:  # keep the worker from dying silently
            self._outcome = e
        finally:
            self._queue.put(self._DONE)

    def pieces(self) -> Iterator[str]:
        try:
            while not self._finished:
                try:
                    item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item is self._DONE:
                    self._finished = True
                    return
                yield item
        except BaseException:
            # Ctrl-C or the consumer stopped iterating: cancel and let the worker finish.
            self._stop = True
            _n.ember_session_cancel(self._session)
            self._thread.join()
            raise

    def result(self) -> Result:
        for _ in self.pieces():
            pass
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome


# ---- model, session, chat ------------------------------------------------------------------

class _Native:
    """A native handle released by close(), on leaving a with-block, or when collected."""

    _handle = None
    _kind = "object"

    def _release(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self._handle:
            self._release()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()

    @property
    def handle(self):
        if not self._handle:
            raise InvalidArgumentError(f"the {self._kind} is closed")
        return self._handle

class Model(_Native):
    """A loaded GGUF model. Immutable; may be shared by threads.

    load_mode: "mmap" (default; weights used in place), "mmap_locked" or "read" (copied
    into memory, immune to page eviction). progress(fraction) -> bool may cancel a load."""

    def __init__(self, path: str, *, load_mode: str = "mmap",
                 progress: Optional[Callable[[float], bool]] = None):
        modes = {"mmap": 0, "mmap_locked": 1, "read": 2}
        if load_mode not in modes:
            raise InvalidArgumentError(f"load_mode must be one of {sorted(modes)}, got {load_mode!r}")
        options = _n.ModelOptions()
        _n.ember_model_options_init(ctypes.byref(options))
        options.load_mode = modes[load_mode]
        if progress is not None:
            self._progress = _n.progress_fn(lambda fraction, _u: bool(progress(fraction)))
            options.progress = self._progress
        handle = ctypes.c_void_p()
        _check(_n.ember_model_load(str(path).encode("utf-8"), ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle

    _kind = "model"

    def _release(self) -> None:
        # Sessions created from the model keep its weights alive.
        _n.ember_model_free(self._handle)

    @property
    def info(self) -> ModelInfo:
        native = _n.ModelInfo()
        native.struct_size = ctypes.sizeof(native)
        _check(_n.ember_model_get_info(self.handle, ctypes.byref(native)))
        return ModelInfo(native.architecture.decode(), (native.name or b"").decode("utf-8", "replace"),
                         native.n_params, native.n_bytes, native.context_length, native.n_vocab,
                         native.n_layer, native.n_embd, native.n_head, native.n_head_kv,
                         native.has_chat_template, native.bos_token, native.eos_token, native.eot_token)

    def tokenize(self, text: str, *, add_special: bool = True, parse_special: bool = False) -> List[int]:
        data = text.encode("utf-8")
        needed = ctypes.c_size_t()
        status = _n.ember_tokenize(self.handle, data, len(data), add_special, parse_special, None, 0,
                                   ctypes.byref(needed))
        if status not in (0, InvalidArgumentError.status) or (status != 0 and needed.value == 0):
            raise _error(status)
        buf = (ctypes.c_int32 * max(needed.value, 1))()
        _check(_n.ember_tokenize(self.handle, data, len(data), add_special, parse_special, buf, needed.value,
                                 ctypes.byref(needed)))
        return list(buf[:needed.value])

    def detokenize(self, tokens: Sequence[int], *, render_special: bool = False) -> str:
        arr = (ctypes.c_int32 * max(len(tokens), 1))(*tokens)
        return _fill_string(lambda buf, cap, n: _n.ember_detokenize(self.handle, arr, len(tokens), render_special,
                                                                     buf, cap, n))

    def is_end_of_generation(self, token: int) -> bool:
        return bool(_n.ember_token_is_end_of_generation(self.handle, token))

    def apply_chat_template(self, messages: Sequence[Dict[str, str]], *, add_generation_prompt: bool = True) -> str:
        arr, _keep = _messages(messages)
        return _fill_string(lambda buf, cap, n: _n.ember_apply_chat_template(self.handle, arr, len(messages),
                                                                              add_generation_prompt, buf, cap, n))

    def session(self, **options) -> "Session":
        """A new Session (KV cache) over this model; see Session for options."""
        return Session(self, **options)

    def chat(self, system_prompt: Optional[str] = None, **session_options) -> "Chat":
        """A conversation with history, using the model's chat template."""
        return Chat(Session(self, **session_options), system_prompt, owns_session=True)

    def generate(self, prompt: str, *, n_ctx: int = 0, n_threads: int = 0, **options) -> Result:
        """Continue prompt in a fresh session. Options as Session.generate."""
        with Session(self, n_ctx=n_ctx, n_threads=n_threads) as s:
            return s.generate(prompt, **options)

    def stream(self, prompt: str, *, n_ctx: int = 0, n_threads: int = 0, **options) -> Iterator[str]:
        """Yield the continuation of prompt piece by piece, in a fresh session."""
        with Session(self, n_ctx=n_ctx, n_threads=n_threads) as s:
            yield from s.stream(prompt, **options)


def _numpy():
    """numpy when it is installed (Session.evaluate then returns arrays), else None (lists)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def _token_buffer(tokens, np, n_vocab: int):
    """tokens as (keep-alive object, int32 pointer, count). Values int32 cannot hold are refused
    here, since ctypes would wrap them silently into ids the library would accept."""
    def outside(value, index):
        return InvalidArgumentError(f"evaluate: token {value} at index {index} is outside the vocabulary [0, {n_vocab})")

    if np is not None and isinstance(tokens, np.ndarray):
        if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
            raise InvalidArgumentError(f"evaluate: tokens must be a 1-D integer array, got shape {tokens.shape} "
                                       f"of {tokens.dtype}")
        if tokens.size:
            for index in (int(tokens.argmin()), int(tokens.argmax())):
                if not _INT32_MIN <= int(tokens[index]) <= _INT32_MAX:
                    raise outside(int(tokens[index]), index)
        arr = np.ascontiguousarray(tokens, dtype=np.int32)
        return arr, arr.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), int(arr.size)
    ids = []
    for index, token in enumerate(tokens):
        try:
            value = operator.index(token)
        except TypeError:
            raise InvalidArgumentError(f"evaluate: token at index {index} is not an integer: {token!r}") from None
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise outside(value, index)
        ids.append(value)
    arr = (ctypes.c_int32 * max(len(ids), 1))(*ids)
    return arr, arr, len(ids)


def _fill_string(call) -> str:
    needed = ctypes.c_size_t()
    status = call(None, 0, ctypes.byref(needed))
    if status != 0 and status != InvalidArgumentError.status:
        raise _error(status)
    buf = ctypes.create_string_buffer(needed.value + 1)
    _check(call(buf, needed.value + 1, ctypes.byref(needed)))
    return buf.raw[:needed.value].decode("utf-8", "replace")


class Session(_Native):
    """KV cache and buffers over a Model; one thread at a time (cancel from any).

    n_ctx: context length (0: the model's, capped at 4096); n_batch: prompt tokens per
    forward pass; n_threads: 0 for all cores; kv_type: "f16" or "f32"; seed: sampler seed;
    flash_attn: with an f16 cache, llama.cpp's flash-attention numerics (V summed in fp16)
    rather than its two-matmul attention (the default, faster today)."""

    def __init__(self, model: Model, *, n_ctx: int = 0, n_batch: int = 0, n_threads: int = 0,
                 kv_type: str = "f16", seed: int = 0, flash_attn: bool = False):
        kv = {"f16": 0, "f32": 1}
        if kv_type not in kv:
            raise InvalidArgumentError(f"kv_type must be 'f16' or 'f32', got {kv_type!r}")
        options = _n.SessionOptions()
        _n.ember_session_options_init(ctypes.byref(options))
        if n_ctx:
            options.n_ctx = n_ctx
        if n_batch:
            options.n_batch = n_batch
        options.n_threads = n_threads
        options.kv_type = kv[kv_type]
        options.seed = seed
        options.flash_attn = bool(flash_attn)
        handle = ctypes.c_void_p()
        _check(_n.ember_session_create(model.handle, ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle
        self.model = model
        self._n_vocab = model.info.n_vocab

    _kind = "session"

    def _release(self) -> None:
        _n.ember_session_free(self._handle)

    def cancel(self) -> None:
        """Stop the running generation at the next token (any thread)."""
        if self._handle:
            _n.ember_session_cancel(self._handle)

    def reset(self) -> None:
        """Forget the KV cache."""
        _check(_n.ember_session_reset(self.handle))

    @property
    def n_cached(self) -> int:
        """Tokens whose keys and values are in the cache (prompt, generated, evaluated)."""
        return int(_n.ember_session_n_cached(self.handle))

    def truncate(self, n: int) -> None:
        """Keep the first n cached tokens and forget the rest (rewind after rejected draft
        tokens, or back to a shared prefix). n above n_cached: InvalidArgumentError."""
        n = operator.index(n)
        if n < 0:
            raise InvalidArgumentError(f"truncate: n must be >= 0, got {n}")
        _check(_n.ember_session_truncate(self.handle, n))

    def evaluate(self, tokens, *, all_logits: bool = False):
        """Append tokens (a sequence of ints or a 1-D numpy integer array) to the context after
        the n_cached tokens, without sampling, and return their logits: after the last token,
        [n_vocab], or with all_logits after every token, [len(tokens), n_vocab]. A numpy
        float32 array when numpy is installed, else a list of floats (a list of rows).

        The same numbers generation computes, however the tokens are split across calls.
        Raises InvalidArgumentError (no tokens, an id outside the vocabulary),
        ContextFullError (n_cached + len(tokens) > n_ctx; nothing changes), CancelledError
        (cancel() from another thread; the completed batches stay cached)."""
        np = _numpy()
        _keep, ids, n = _token_buffer(tokens, np, self._n_vocab)
        need = n * self._n_vocab if all_logits else self._n_vocab
        options = _n.EvaluateOptions()
        _n.ember_evaluate_options_init(ctypes.byref(options))
        options.all_logits = bool(all_logits)
        written = ctypes.c_size_t()
        if np is not None:
            out = np.empty(max(need, 1), dtype=np.float32)
            _check(_n.ember_session_evaluate(self.handle, ids, n, ctypes.byref(options),
                                             out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), need,
                                             ctypes.byref(written)))
            return out.reshape(n, self._n_vocab) if all_logits else out
        buf = (ctypes.c_float * max(need, 1))()
        _check(_n.ember_session_evaluate(self.handle, ids, n, ctypes.byref(options), buf, need,
                                         ctypes.byref(written)))
        values = buf[:need]
        if not all_logits:
            return values
        v = self._n_vocab
        return [values[i * v:(i + 1) * v] for i in range(n)]

    def _start(self, prompt: Union[str, Sequence[Dict[str, str]]], options: _Options) -> _Generation:
        handle = self.handle
        if isinstance(prompt, str):
            data = prompt.encode("utf-8")
            return _Generation(handle, lambda cb, res: _n.ember_generate(handle, data, ctypes.byref(options.native),
                                                                         cb, None, ctypes.byref(res)))
        arr, _keep = _messages(prompt)
        return _Generation(handle, lambda cb, res: _n.ember_generate_chat(
            handle, arr, len(prompt), ctypes.byref(options.native), cb, None, ctypes.byref(res)))

    def generate(self, prompt: Union[str, Sequence[Dict[str, str]]], **options) -> Result:
        """Continue prompt (a string, or chat messages [{"role", "content"}]).

        Options: max_tokens, temperature (0 = greedy), top_k, top_p, min_p, typical_p,
        repeat_penalty, frequency_penalty, presence_penalty, penalty_last_n, stop (strings),
        logit_bias ({token: bias}), seed."""
        return self._start(prompt, _generate_options(**options)).result()

    def stream(self, prompt: Union[str, Sequence[Dict[str, str]]], **options) -> Iterator[str]:
        """Yield generated text piece by piece (never half a UTF-8 character)."""
        generation = self._start(prompt, _generate_options(**options))
        yield from generation.pieces()
        generation.result()  # raise a native error, if any


class Chat(_Native):
    """A conversation: the model's chat template applied each turn, the KV prefix reused."""

    def __init__(self, session: Session, system_prompt: Optional[str] = None, *, owns_session: bool = False):
        handle = ctypes.c_void_p()
        _check(_n.ember_chat_create(session.handle, system_prompt.encode("utf-8") if system_prompt else None,
                                    ctypes.byref(handle)))
        self._handle = handle
        self.session = session
        self._owns_session = owns_session
        self.history: List[Dict[str, str]] = []
        if system_prompt:
            self.history.append({"role": "system", "content": system_prompt})

    _kind = "chat"
    _owns_session = False

    def _release(self) -> None:
        _n.ember_chat_free(self._handle)

    def close(self) -> None:
        super().close()
        if self._owns_session:
            self.session.close()

    def _send(self, message: str, options: _Options) -> _Generation:
        handle = self.handle
        data = message.encode("utf-8")
        return _Generation(self.session.handle, lambda cb, res: _n.ember_chat_send(
            handle, data, ctypes.byref(options.native), cb, None, ctypes.byref(res)))

    def send(self, message: str, **options) -> Result:
        """Send the user's message; returns the assistant's answer (kept in history)."""
        result = self._send(message, _generate_options(**options)).result()
        self.history += [{"role": "user", "content": message}, {"role": "assistant", "content": result.text}]
        return result

    def stream(self, message: str, **options) -> Iterator[str]:
        """Send the user's message and yield the answer piece by piece."""
        generation = self._send(message, _generate_options(**options))
        pieces = []
        for piece in generation.pieces():
            pieces.append(piece)
            yield piece
        result = generation.result()
        self.history += [{"role": "user", "content": message}, {"role": "assistant", "content": result.text}]

    def reset(self) -> None:
        """Forget the conversation except the system prompt."""
        _check(_n.ember_chat_reset(self.handle))
        self.history = [m for m in self.history if m["role"] == "system"]
