"""ctypes declarations mirroring include/ember/ember.h (ABI version 0).

ctypes releases the GIL around every foreign call, so native work (loading, prompt
processing, decoding) runs without holding it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_double, c_float, c_int32,
                    c_size_t, c_uint32, c_uint64, c_void_p)

ABI_VERSION = 0


def _load() -> ctypes.CDLL:
    candidates = []
    if os.environ.get("EMBER_LIBRARY"):
        candidates.append(os.environ["EMBER_LIBRARY"])
    candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libember.so"))
    found = ctypes.util.find_library("ember")
    if found:
        candidates.append(found)
    errors = []
    for path in candidates:
        if os.path.sep in path and not os.path.exists(path):
            errors.append(f"{path}: not found")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("cannot load libember (set EMBER_LIBRARY to its path): " + "; ".join(errors))


lib = _load()

progress_fn = CFUNCTYPE(c_bool, c_float, c_void_p)
token_fn = CFUNCTYPE(c_bool, ctypes.POINTER(ctypes.c_char), c_size_t, c_void_p)


class ModelOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("load_mode", c_int32), ("progress", progress_fn),
                ("progress_user_data", c_void_p)]


class ModelInfo(Structure):
    _fields_ = [("struct_size", c_size_t), ("architecture", c_char_p), ("name", c_char_p),
                ("n_params", c_uint64), ("n_bytes", c_uint64), ("context_length", c_uint32),
                ("n_vocab", c_uint32), ("n_layer", c_uint32), ("n_embd", c_uint32), ("n_head", c_uint32),
                ("n_head_kv", c_uint32), ("has_chat_template", c_bool), ("bos_token", c_int32),
                ("eos_token", c_int32), ("eot_token", c_int32)]


class Message(Structure):
    _fields_ = [("role", c_char_p), ("content", c_char_p)]


class SessionOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("n_ctx", c_uint32), ("n_batch", c_uint32),
                ("n_threads", c_uint32), ("kv_type", c_int32), ("seed", c_uint64), ("flash_attn", c_bool)]


class EvaluateOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("all_logits", c_bool)]


class LogitBias(Structure):
    _fields_ = [("token", c_int32), ("bias", c_float)]


class GenerateOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("max_tokens", c_int32), ("temperature", c_float),
                ("top_k", c_int32), ("top_p", c_float), ("min_p", c_float), ("typical_p", c_float),
                ("repeat_penalty", c_float), ("frequency_penalty", c_float),
                ("presence_penalty", c_float), ("penalty_last_n", c_int32),
                ("stop", POINTER(c_char_p)), ("n_stop", c_size_t),
                ("logit_bias", POINTER(LogitBias)), ("n_logit_bias", c_size_t),
                ("use_seed", c_bool), ("seed", c_uint64)]


class Result(Structure):
    _fields_ = [("struct_size", c_size_t), ("text", c_void_p), ("text_length", c_size_t),
                ("tokens", POINTER(c_int32)), ("n_tokens", c_size_t), ("finish_reason", c_int32),
                ("prompt_tokens", c_int32), ("reused_tokens", c_int32), ("generated_tokens", c_int32),
                ("prompt_ms", c_double), ("generate_ms", c_double),
                ("prompt_tokens_per_second", c_double), ("generated_tokens_per_second", c_double)]


def _declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


status = c_int32
ember_version = _declare("ember_version", c_char_p)
ember_abi_version = _declare("ember_abi_version", c_uint32)
ember_status_name = _declare("ember_status_name", c_char_p, status)
ember_last_error = _declare("ember_last_error", c_char_p)
ember_model_options_init = _declare("ember_model_options_init", None, POINTER(ModelOptions))
ember_model_load = _declare("ember_model_load", status, c_char_p, POINTER(ModelOptions), POINTER(c_void_p))
ember_model_free = _declare("ember_model_free", None, c_void_p)
ember_model_get_info = _declare("ember_model_get_info", status, c_void_p, POINTER(ModelInfo))
ember_tokenize = _declare("ember_tokenize", status, c_void_p, c_char_p, c_size_t, c_bool, c_bool,
                          POINTER(c_int32), c_size_t, POINTER(c_size_t))
ember_detokenize = _declare("ember_detokenize", status, c_void_p, POINTER(c_int32), c_size_t, c_bool,
                            c_void_p, c_size_t, POINTER(c_size_t))
ember_token_is_end_of_generation = _declare("ember_token_is_end_of_generation", c_bool, c_void_p, c_int32)
ember_apply_chat_template = _declare("ember_apply_chat_template", status, c_void_p, POINTER(Message),
                                     c_size_t, c_bool, c_void_p, c_size_t, POINTER(c_size_t))
ember_session_options_init = _declare("ember_session_options_init", None, POINTER(SessionOptions))
ember_session_create = _declare("ember_session_create", status, c_void_p, POINTER(SessionOptions),
                                POINTER(c_void_p))
ember_session_free = _declare("ember_session_free", None, c_void_p)
ember_session_cancel = _declare("ember_session_cancel", None, c_void_p)
ember_session_reset = _declare("ember_session_reset", status, c_void_p)
ember_generate_options_init = _declare("ember_generate_options_init", None, POINTER(GenerateOptions))
ember_result_init = _declare("ember_result_init", None, POINTER(Result))
ember_result_clear = _declare("ember_result_clear", None, POINTER(Result))
ember_generate = _declare("ember_generate", status, c_void_p, c_char_p, POINTER(GenerateOptions), token_fn,
                          c_void_p, POINTER(Result))
ember_generate_chat = _declare("ember_generate_chat", status, c_void_p, POINTER(Message), c_size_t,
                               POINTER(GenerateOptions), token_fn, c_void_p, POINTER(Result))
ember_chat_create = _declare("ember_chat_create", status, c_void_p, c_char_p, POINTER(c_void_p))
ember_chat_free = _declare("ember_chat_free", None, c_void_p)
ember_chat_send = _declare("ember_chat_send", status, c_void_p, c_char_p, POINTER(GenerateOptions), token_fn,
                           c_void_p, POINTER(Result))
ember_chat_reset = _declare("ember_chat_reset", status, c_void_p)
ember_chat_message_count = _declare("ember_chat_message_count", c_size_t, c_void_p)
ember_evaluate_options_init = _declare("ember_evaluate_options_init", None, POINTER(EvaluateOptions))
ember_session_evaluate = _declare("ember_session_evaluate", status, c_void_p, POINTER(c_int32), c_size_t,
                                  POINTER(EvaluateOptions), POINTER(c_float), c_size_t, POINTER(c_size_t))
ember_session_truncate = _declare("ember_session_truncate", status, c_void_p, c_size_t)
ember_session_n_cached = _declare("ember_session_n_cached", c_size_t, c_void_p)
