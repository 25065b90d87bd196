//! Raw declarations of libember's C ABI, written by hand from `include/ember/ember.h`
//! (ABI version 0). `tests/layout.rs` checks every struct's size and the constants against
//! what the C compiler makes of the header. Use the safe `ember` crate instead of this one.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_void};

pub type ember_status = i32;
pub const EMBER_OK: ember_status = 0;
pub const EMBER_ERR_INVALID_ARGUMENT: ember_status = 1;
pub const EMBER_ERR_IO: ember_status = 2;
pub const EMBER_ERR_INVALID_FILE: ember_status = 3;
pub const EMBER_ERR_UNSUPPORTED: ember_status = 4;
pub const EMBER_ERR_OUT_OF_MEMORY: ember_status = 5;
pub const EMBER_ERR_CONTEXT_FULL: ember_status = 6;
pub const EMBER_ERR_CANCELLED: ember_status = 7;
pub const EMBER_ERR_INVALID_MODEL: ember_status = 8;
pub const EMBER_ERR_TOKENIZER: ember_status = 9;
pub const EMBER_ERR_TEMPLATE: ember_status = 10;
pub const EMBER_ERR_INTERNAL: ember_status = 11;

pub const EMBER_ABI_VERSION: u32 = 0;
pub const EMBER_VERSION_MAJOR: u32 = 0;

pub const EMBER_LOAD_MMAP: i32 = 0;
pub const EMBER_LOAD_MMAP_LOCKED: i32 = 1;
pub const EMBER_LOAD_READ: i32 = 2;

pub const EMBER_KV_F16: i32 = 0;
pub const EMBER_KV_F32: i32 = 1;

pub const EMBER_FINISH_STOP: i32 = 0;
pub const EMBER_FINISH_LENGTH: i32 = 1;
pub const EMBER_FINISH_CANCELLED: i32 = 2;
pub const EMBER_FINISH_ERROR: i32 = 3;

#[repr(C)]
pub struct ember_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct ember_session {
    _private: [u8; 0],
}
#[repr(C)]
pub struct ember_chat {
    _private: [u8; 0],
}

pub type ember_progress_fn = Option<unsafe extern "C" fn(fraction: f32, user_data: *mut c_void) -> bool>;
pub type ember_token_fn = Option<unsafe extern "C" fn(text: *const c_char, length: usize, user_data: *mut c_void) -> bool>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_model_options {
    pub struct_size: usize,
    pub load_mode: i32,
    pub progress: ember_progress_fn,
    pub progress_user_data: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_model_info {
    pub struct_size: usize,
    pub architecture: *const c_char,
    pub name: *const c_char,
    pub n_params: u64,
    pub n_bytes: u64,
    pub context_length: u32,
    pub n_vocab: u32,
    pub n_layer: u32,
    pub n_embd: u32,
    pub n_head: u32,
    pub n_head_kv: u32,
    pub has_chat_template: bool,
    pub bos_token: i32,
    pub eos_token: i32,
    pub eot_token: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_message {
    pub role: *const c_char,
    pub content: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_session_options {
    pub struct_size: usize,
    pub n_ctx: u32,
    pub n_batch: u32,
    pub n_threads: u32,
    pub kv_type: i32,
    pub seed: u64,
    pub flash_attn: bool,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_evaluate_options {
    pub struct_size: usize,
    pub all_logits: bool,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_logit_bias {
    pub token: i32,
    pub bias: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_generate_options {
    pub struct_size: usize,
    pub max_tokens: i32,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub typical_p: f32,
    pub repeat_penalty: f32,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    pub penalty_last_n: i32,
    pub stop: *const *const c_char,
    pub n_stop: usize,
    pub logit_bias: *const ember_logit_bias,
    pub n_logit_bias: usize,
    pub use_seed: bool,
    pub seed: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ember_result {
    pub struct_size: usize,
    pub text: *mut c_char,
    pub text_length: usize,
    pub tokens: *mut i32,
    pub n_tokens: usize,
    pub finish_reason: i32,
    pub prompt_tokens: i32,
    pub reused_tokens: i32,
    pub generated_tokens: i32,
    pub prompt_ms: f64,
    pub generate_ms: f64,
    pub prompt_tokens_per_second: f64,
    pub generated_tokens_per_second: f64,
}

extern "C" {
    pub fn ember_version() -> *const c_char;
    pub fn ember_abi_version() -> u32;
    pub fn ember_status_name(status: ember_status) -> *const c_char;
    pub fn ember_last_error() -> *const c_char;

    pub fn ember_model_options_init(options: *mut ember_model_options);
    pub fn ember_model_load(path: *const c_char, options: *const ember_model_options, out_model: *mut *mut ember_model) -> ember_status;
    pub fn ember_model_free(model: *mut ember_model);
    pub fn ember_model_get_info(model: *const ember_model, info: *mut ember_model_info) -> ember_status;
    pub fn ember_tokenize(model: *const ember_model, text: *const c_char, text_length: usize, add_special: bool,
                          parse_special: bool, tokens: *mut i32, capacity: usize, n_tokens: *mut usize) -> ember_status;
    pub fn ember_detokenize(model: *const ember_model, tokens: *const i32, n_tokens: usize, render_special: bool,
                            text: *mut c_char, capacity: usize, text_length: *mut usize) -> ember_status;
    pub fn ember_token_is_end_of_generation(model: *const ember_model, token: i32) -> bool;
    pub fn ember_apply_chat_template(model: *const ember_model, messages: *const ember_message, n_messages: usize,
                                     add_generation_prompt: bool, text: *mut c_char, capacity: usize,
                                     text_length: *mut usize) -> ember_status;

    pub fn ember_session_options_init(options: *mut ember_session_options);
    pub fn ember_session_create(model: *const ember_model, options: *const ember_session_options,
                                out_session: *mut *mut ember_session) -> ember_status;
    pub fn ember_session_free(session: *mut ember_session);
    pub fn ember_session_cancel(session: *mut ember_session);
    pub fn ember_session_reset(session: *mut ember_session) -> ember_status;

    pub fn ember_generate_options_init(options: *mut ember_generate_options);
    pub fn ember_result_init(result: *mut ember_result);
    pub fn ember_result_clear(result: *mut ember_result);
    pub fn ember_generate(session: *mut ember_session, prompt: *const c_char, options: *const ember_generate_options,
                          on_token: ember_token_fn, user_data: *mut c_void, result: *mut ember_result) -> ember_status;
    pub fn ember_generate_chat(session: *mut ember_session, messages: *const ember_message, n_messages: usize,
                               options: *const ember_generate_options, on_token: ember_token_fn,
                               user_data: *mut c_void, result: *mut ember_result) -> ember_status;
    pub fn ember_generate_start(session: *mut ember_session, prompt: *const c_char,
                                options: *const ember_generate_options) -> ember_status;
    pub fn ember_generate_next(session: *mut ember_session, text: *mut *const c_char, length: *mut usize,
                               done: *mut bool) -> ember_status;
    pub fn ember_generate_result(session: *mut ember_session, result: *mut ember_result) -> ember_status;

    pub fn ember_chat_create(session: *mut ember_session, system_prompt: *const c_char,
                             out_chat: *mut *mut ember_chat) -> ember_status;
    pub fn ember_chat_free(chat: *mut ember_chat);
    pub fn ember_chat_send(chat: *mut ember_chat, user_message: *const c_char, options: *const ember_generate_options,
                           on_token: ember_token_fn, user_data: *mut c_void, result: *mut ember_result) -> ember_status;
    pub fn ember_chat_reset(chat: *mut ember_chat) -> ember_status;
    pub fn ember_chat_message_count(chat: *const ember_chat) -> usize;

    pub fn ember_evaluate_options_init(options: *mut ember_evaluate_options);
    pub fn ember_session_evaluate(session: *mut ember_session, tokens: *const i32, n_tokens: usize,
                                  options: *const ember_evaluate_options, logits: *mut f32, capacity: usize,
                                  n_logits: *mut usize) -> ember_status;
    pub fn ember_session_truncate(session: *mut ember_session, n: usize) -> ember_status;
    pub fn ember_session_n_cached(session: *const ember_session) -> usize;
}
