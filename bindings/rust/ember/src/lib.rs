//! Safe Rust API over libember's C ABI.
//!
//! ```no_run
//! let model = ember::Model::load("model.gguf", ember::LoadOptions::default())?;
//! let mut session = model.session(&ember::SessionOptions::default())?;
//! let opts = ember::GenerateOptions { max_tokens: 32, temperature: 0.0, ..Default::default() };
//! let done = session.generate("Once upon a time", &opts, |piece| { print!("{piece}"); true })?;
//! println!("\n{} tokens", done.tokens.len());
//! # Ok::<(), ember::Error>(())
//! ```
//!
//! Threads, as libember promises: a [`Model`] is immutable and `Send + Sync`; a [`Session`]
//! is `Send` but used by one thread at a time (`&mut self`); [`CancelHandle`] may be used
//! from any thread to stop a running generation.
use ember_sys as sys;
use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

/// Why a call failed: the C ABI's status and the library's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

/// The C ABI's ember_status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidArgument,
    Io,
    InvalidFile,
    Unsupported,
    OutOfMemory,
    ContextFull,
    Cancelled,
    InvalidModel,
    Tokenizer,
    Template,
    Internal,
    Other(i32),
}

impl ErrorKind {
    fn from_status(status: i32) -> Self {
        match status {
            sys::EMBER_ERR_INVALID_ARGUMENT => Self::InvalidArgument,
            sys::EMBER_ERR_IO => Self::Io,
            sys::EMBER_ERR_INVALID_FILE => Self::InvalidFile,
            sys::EMBER_ERR_UNSUPPORTED => Self::Unsupported,
            sys::EMBER_ERR_OUT_OF_MEMORY => Self::OutOfMemory,
            sys::EMBER_ERR_CONTEXT_FULL => Self::ContextFull,
            sys::EMBER_ERR_CANCELLED => Self::Cancelled,
            sys::EMBER_ERR_INVALID_MODEL => Self::InvalidModel,
            sys::EMBER_ERR_TOKENIZER => Self::Tokenizer,
            sys::EMBER_ERR_TEMPLATE => Self::Template,
            sys::EMBER_ERR_INTERNAL => Self::Internal,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn invalid(message: impl Into<String>) -> Error {
    Error { kind: ErrorKind::InvalidArgument, message: message.into() }
}

/// Turn a status into a Result; reads the thread-local message of this thread's last call.
fn check(status: sys::ember_status) -> Result<()> {
    if status == sys::EMBER_OK {
        return Ok(());
    }
    let message = unsafe { CStr::from_ptr(sys::ember_last_error()) }.to_string_lossy().into_owned();
    Err(Error { kind: ErrorKind::from_status(status), message })
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| invalid("string contains a NUL byte"))
}

/// The loaded library's version, "MAJOR.MINOR.PATCH".
pub fn version() -> String {
    unsafe { CStr::from_ptr(sys::ember_version()) }.to_string_lossy().into_owned()
}

// ---- model ------------------------------------------------------------------------------

/// How weights are brought into memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadMode {
    #[default]
    Mmap,
    MmapLocked,
    Read,
}

#[derive(Default)]
pub struct LoadOptions<'a> {
    pub mode: LoadMode,
    /// Called with the fraction loaded; return false to cancel.
    pub progress: Option<&'a mut dyn FnMut(f32) -> bool>,
}

/// Facts about a loaded model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub architecture: String,
    pub name: String,
    pub n_params: u64,
    pub n_bytes: u64,
    pub context_length: u32,
    pub n_vocab: u32,
    pub n_layer: u32,
    pub n_embd: u32,
    pub has_chat_template: bool,
    pub bos_token: Option<i32>,
    pub eos_token: Option<i32>,
}

/// A loaded GGUF model; immutable, shared freely between threads.
pub struct Model {
    raw: *mut sys::ember_model,
}

// libember's contract: a loaded model is immutable and may be used by any number of threads.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

unsafe extern "C" fn progress_trampoline(fraction: f32, user: *mut c_void) -> bool {
    let f = &mut *(user as *mut &mut dyn FnMut(f32) -> bool);
    catch_unwind(AssertUnwindSafe(|| f(fraction))).unwrap_or(false)
}

impl Model {
    pub fn load(path: &str, mut options: LoadOptions<'_>) -> Result<Model> {
        let c_path = cstring(path)?;
        let mut opts: sys::ember_model_options = unsafe { std::mem::zeroed() };
        unsafe { sys::ember_model_options_init(&mut opts) };
        opts.load_mode = match options.mode {
            LoadMode::Mmap => sys::EMBER_LOAD_MMAP,
            LoadMode::MmapLocked => sys::EMBER_LOAD_MMAP_LOCKED,
            LoadMode::Read => sys::EMBER_LOAD_READ,
        };
        // The callback is borrowed for the duration of the load only.
        let mut callback: Option<&mut dyn FnMut(f32) -> bool> = options.progress.take();
        if let Some(cb) = callback.as_mut() {
            opts.progress = Some(progress_trampoline);
            opts.progress_user_data = cb as *mut &mut dyn FnMut(f32) -> bool as *mut c_void;
        }
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ember_model_load(c_path.as_ptr(), &opts, &mut raw) })?;
        Ok(Model { raw })
    }

    pub fn info(&self) -> Result<ModelInfo> {
        let mut info: sys::ember_model_info = unsafe { std::mem::zeroed() };
        info.struct_size = std::mem::size_of::<sys::ember_model_info>();
        check(unsafe { sys::ember_model_get_info(self.raw, &mut info) })?;
        let text = |p: *const c_char| if p.is_null() { String::new() } else { unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned() };
        let token = |t: i32| if t < 0 { None } else { Some(t) };
        Ok(ModelInfo {
            architecture: text(info.architecture),
            name: text(info.name),
            n_params: info.n_params,
            n_bytes: info.n_bytes,
            context_length: info.context_length,
            n_vocab: info.n_vocab,
            n_layer: info.n_layer,
            n_embd: info.n_embd,
            has_chat_template: info.has_chat_template,
            bos_token: token(info.bos_token),
            eos_token: token(info.eos_token),
        })
    }

    /// Text to token ids (add_special: BOS/EOS as the model wants; parse_special: treat
    /// special-token text as those tokens).
    pub fn tokenize(&self, text: &str, add_special: bool, parse_special: bool) -> Result<Vec<i32>> {
        let mut needed = 0usize;
        let status = unsafe {
            sys::ember_tokenize(self.raw, text.as_ptr() as *const c_char, text.len(), add_special, parse_special,
                                ptr::null_mut(), 0, &mut needed)
        };
        if status != sys::EMBER_OK && needed == 0 {
            check(status)?;
        }
        let mut tokens = vec![0i32; needed];
        check(unsafe {
            sys::ember_tokenize(self.raw, text.as_ptr() as *const c_char, text.len(), add_special, parse_special,
                                tokens.as_mut_ptr(), tokens.len(), &mut needed)
        })?;
        tokens.truncate(needed);
        Ok(tokens)
    }

    /// Token ids to text.
    pub fn detokenize(&self, tokens: &[i32]) -> Result<String> {
        let mut needed = 0usize;
        let status = unsafe {
            sys::ember_detokenize(self.raw, tokens.as_ptr(), tokens.len(), false, ptr::null_mut(), 0, &mut needed)
        };
        if status != sys::EMBER_OK && status != sys::EMBER_ERR_INVALID_ARGUMENT {
            check(status)?;
        }
        let mut buf = vec![0u8; needed + 1];
        check(unsafe {
            sys::ember_detokenize(self.raw, tokens.as_ptr(), tokens.len(), false, buf.as_mut_ptr() as *mut c_char,
                                  buf.len(), &mut needed)
        })?;
        buf.truncate(needed);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// A new session (KV cache) over this model.
    pub fn session(&self, options: &SessionOptions) -> Result<Session> {
        Session::new(self, options)
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::ember_model_free(self.raw) };
    }
}

// ---- session ----------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Context length; 0: the model's, capped at 4096.
    pub n_ctx: u32,
    /// Prompt tokens per forward pass; 0: the library default.
    pub n_batch: u32,
    /// Worker threads; 0: all hardware threads.
    pub n_threads: u32,
    /// Keep the KV cache in f32 instead of f16.
    pub kv_f32: bool,
    pub seed: u64,
    /// With an f16 cache: llama.cpp's flash-attention numerics (V summed in fp16) rather
    /// than its two-matmul attention (the default, faster today). No effect on an f32 cache.
    pub flash_attn: bool,
}

/// Sampler settings; `Default` gives libember's defaults.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// -1: until end of generation or a full context.
    pub max_tokens: i32,
    /// 0 is greedy.
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub typical_p: f32,
    pub repeat_penalty: f32,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    pub penalty_last_n: i32,
    pub stop: Vec<String>,
    pub logit_bias: Vec<(i32, f32)>,
    pub seed: Option<u64>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        let mut o: sys::ember_generate_options = unsafe { std::mem::zeroed() };
        unsafe { sys::ember_generate_options_init(&mut o) };
        GenerateOptions {
            max_tokens: o.max_tokens,
            temperature: o.temperature,
            top_k: o.top_k,
            top_p: o.top_p,
            min_p: o.min_p,
            typical_p: o.typical_p,
            repeat_penalty: o.repeat_penalty,
            frequency_penalty: o.frequency_penalty,
            presence_penalty: o.presence_penalty,
            penalty_last_n: o.penalty_last_n,
            stop: Vec::new(),
            logit_bias: Vec::new(),
            seed: None,
        }
    }
}

/// The native options struct plus the buffers it points into.
struct NativeOptions {
    raw: sys::ember_generate_options,
    _stop: Vec<CString>,
    _stop_ptrs: Vec<*const c_char>,
    _bias: Vec<sys::ember_logit_bias>,
}

impl GenerateOptions {
    fn native(&self) -> Result<NativeOptions> {
        let mut raw: sys::ember_generate_options = unsafe { std::mem::zeroed() };
        unsafe { sys::ember_generate_options_init(&mut raw) };
        raw.max_tokens = self.max_tokens;
        raw.temperature = self.temperature;
        raw.top_k = self.top_k;
        raw.top_p = self.top_p;
        raw.min_p = self.min_p;
        raw.typical_p = self.typical_p;
        raw.repeat_penalty = self.repeat_penalty;
        raw.frequency_penalty = self.frequency_penalty;
        raw.presence_penalty = self.presence_penalty;
        raw.penalty_last_n = self.penalty_last_n;
        let stop = self.stop.iter().map(|s| cstring(s)).collect::<Result<Vec<_>>>()?;
        let stop_ptrs: Vec<*const c_char> = stop.iter().map(|s| s.as_ptr()).collect();
        let bias: Vec<sys::ember_logit_bias> =
            self.logit_bias.iter().map(|&(token, bias)| sys::ember_logit_bias { token, bias }).collect();
        if !stop_ptrs.is_empty() {
            raw.stop = stop_ptrs.as_ptr();
            raw.n_stop = stop_ptrs.len();
        }
        if !bias.is_empty() {
            raw.logit_bias = bias.as_ptr();
            raw.n_logit_bias = bias.len();
        }
        if let Some(seed) = self.seed {
            raw.use_seed = true;
            raw.seed = seed;
        }
        Ok(NativeOptions { raw, _stop: stop, _stop_ptrs: stop_ptrs, _bias: bias })
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    Length,
    Cancelled,
    Error,
}

/// What one generation produced.
#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
    pub tokens: Vec<i32>,
    pub finish_reason: FinishReason,
    pub prompt_tokens: i32,
    pub reused_tokens: i32,
    pub prompt_tokens_per_second: f64,
    pub generated_tokens_per_second: f64,
}

fn take_result(raw: &mut sys::ember_result) -> Completion {
    let text = if raw.text.is_null() {
        String::new()
    } else {
        let bytes = unsafe { std::slice::from_raw_parts(raw.text as *const u8, raw.text_length) };
        String::from_utf8_lossy(bytes).into_owned()
    };
    let tokens = if raw.tokens.is_null() { Vec::new() } else { unsafe { std::slice::from_raw_parts(raw.tokens, raw.n_tokens) }.to_vec() };
    let finish_reason = match raw.finish_reason {
        sys::EMBER_FINISH_STOP => FinishReason::Stop,
        sys::EMBER_FINISH_LENGTH => FinishReason::Length,
        sys::EMBER_FINISH_CANCELLED => FinishReason::Cancelled,
        _ => FinishReason::Error,
    };
    let done = Completion {
        text,
        tokens,
        finish_reason,
        prompt_tokens: raw.prompt_tokens,
        reused_tokens: raw.reused_tokens,
        prompt_tokens_per_second: raw.prompt_tokens_per_second,
        generated_tokens_per_second: raw.generated_tokens_per_second,
    };
    unsafe { sys::ember_result_clear(raw) };
    done
}

fn new_result() -> sys::ember_result {
    let mut r: sys::ember_result = unsafe { std::mem::zeroed() };
    unsafe { sys::ember_result_init(&mut r) };
    r
}

fn evaluate_options(all_logits: bool) -> sys::ember_evaluate_options {
    let mut o: sys::ember_evaluate_options = unsafe { std::mem::zeroed() };
    unsafe { sys::ember_evaluate_options_init(&mut o) };
    o.all_logits = all_logits;
    o
}

struct RawSession(*mut sys::ember_session);
// The native session may be cancelled from any thread; everything else goes through
// Session's &mut self methods, so one thread at a time uses it.
unsafe impl Send for RawSession {}
unsafe impl Sync for RawSession {}
impl Drop for RawSession {
    fn drop(&mut self) {
        unsafe { sys::ember_session_free(self.0) };
    }
}

/// KV cache and buffers over a model: `Send`, used by one thread at a time.
pub struct Session {
    raw: Arc<RawSession>,
}

/// Stops a running generation from any thread; harmless after the session is gone.
#[derive(Clone)]
pub struct CancelHandle {
    raw: Arc<RawSession>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        unsafe { sys::ember_session_cancel(self.raw.0) };
    }
}

unsafe extern "C" fn token_trampoline(text: *const c_char, length: usize, user: *mut c_void) -> bool {
    let f = &mut *(user as *mut &mut dyn FnMut(&str) -> bool);
    let bytes = std::slice::from_raw_parts(text as *const u8, length);
    let piece = String::from_utf8_lossy(bytes);
    catch_unwind(AssertUnwindSafe(|| f(&piece))).unwrap_or(false)
}

impl Session {
    fn new(model: &Model, options: &SessionOptions) -> Result<Session> {
        let mut o: sys::ember_session_options = unsafe { std::mem::zeroed() };
        unsafe { sys::ember_session_options_init(&mut o) };
        if options.n_ctx != 0 {
            o.n_ctx = options.n_ctx;
        }
        if options.n_batch != 0 {
            o.n_batch = options.n_batch;
        }
        o.n_threads = options.n_threads;
        o.kv_type = if options.kv_f32 { sys::EMBER_KV_F32 } else { sys::EMBER_KV_F16 };
        o.seed = options.seed;
        o.flash_attn = options.flash_attn;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ember_session_create(model.raw, &o, &mut raw) })?;
        Ok(Session { raw: Arc::new(RawSession(raw)) })
    }

    /// A handle that cancels this session's running generation from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { raw: self.raw.clone() }
    }

    /// Forget the KV cache.
    pub fn reset(&mut self) -> Result<()> {
        check(unsafe { sys::ember_session_reset(self.raw.0) })
    }

    /// Append `tokens` to the context (after the cached ones) without sampling and return
    /// their logits: after the last token (n_vocab floats), or with `all_logits` after every
    /// token (`tokens.len() * n_vocab`, row-major). The same numbers generation computes,
    /// however the tokens are split across calls. Errors: `InvalidArgument` (no tokens, an id
    /// outside the vocabulary), `ContextFull` (nothing changes), `Cancelled`.
    pub fn evaluate(&mut self, tokens: &[i32], all_logits: bool) -> Result<Vec<f32>> {
        let options = evaluate_options(all_logits);
        // Sizing: with capacity 0 the library says how many floats the call needs and
        // evaluates nothing; any other refusal leaves `needed` at 0.
        let mut needed = 0usize;
        let status = unsafe {
            sys::ember_session_evaluate(self.raw.0, tokens.as_ptr(), tokens.len(), &options, ptr::null_mut(), 0,
                                        &mut needed)
        };
        if status != sys::EMBER_OK && needed == 0 {
            check(status)?;
        }
        let mut logits = vec![0f32; needed];
        let written = self.evaluate_into(tokens, all_logits, &mut logits)?;
        logits.truncate(written);
        Ok(logits)
    }

    /// [`Session::evaluate`] into the caller's slice, which must hold n_vocab floats
    /// (`tokens.len() * n_vocab` with `all_logits`); returns how many were written. A slice
    /// too small is `InvalidArgument`, with nothing evaluated. Allocates nothing.
    pub fn evaluate_into(&mut self, tokens: &[i32], all_logits: bool, out: &mut [f32]) -> Result<usize> {
        let options = evaluate_options(all_logits);
        let mut written = 0usize;
        check(unsafe {
            sys::ember_session_evaluate(self.raw.0, tokens.as_ptr(), tokens.len(), &options, out.as_mut_ptr(),
                                        out.len(), &mut written)
        })?;
        Ok(written)
    }

    /// Keep the first `n` cached tokens and forget the rest (rewind after rejected draft
    /// tokens, or back to a shared prefix); `n` above [`Session::n_cached`] is `InvalidArgument`.
    pub fn truncate(&mut self, n: usize) -> Result<()> {
        check(unsafe { sys::ember_session_truncate(self.raw.0, n) })
    }

    /// Tokens whose keys and values are in the cache (prompt, generated, evaluated).
    pub fn n_cached(&self) -> usize {
        unsafe { sys::ember_session_n_cached(self.raw.0) }
    }

    /// Continue `prompt` ("" starts from BOS), calling `on_piece` with each piece of text;
    /// return false from it to stop.
    pub fn generate<F: FnMut(&str) -> bool>(&mut self, prompt: &str, options: &GenerateOptions, mut on_piece: F) -> Result<Completion> {
        let c_prompt = cstring(prompt)?;
        let native = options.native()?;
        let mut result = new_result();
        let mut callback: &mut dyn FnMut(&str) -> bool = &mut on_piece;
        let status = unsafe {
            sys::ember_generate(self.raw.0, c_prompt.as_ptr(), &native.raw, Some(token_trampoline),
                                &mut callback as *mut &mut dyn FnMut(&str) -> bool as *mut c_void, &mut result)
        };
        let done = take_result(&mut result);
        check(status)?;
        Ok(done)
    }

    /// Pull-style generation: an iterator over pieces of text.
    pub fn stream(&mut self, prompt: &str, options: &GenerateOptions) -> Result<Stream<'_>> {
        let c_prompt = cstring(prompt)?;
        let native = options.native()?;
        check(unsafe { sys::ember_generate_start(self.raw.0, c_prompt.as_ptr(), &native.raw) })?;
        Ok(Stream { session: self, done: false })
    }

    /// A conversation over this session, using the model's chat template.
    pub fn chat(&mut self, system_prompt: Option<&str>) -> Result<Chat<'_>> {
        let c_system = system_prompt.map(cstring).transpose()?;
        let mut raw = ptr::null_mut();
        check(unsafe {
            sys::ember_chat_create(self.raw.0, c_system.as_ref().map_or(ptr::null(), |s| s.as_ptr()), &mut raw)
        })?;
        Ok(Chat { raw, _session: self })
    }
}

/// Iterator of generated pieces; see [`Session::stream`]. `finish()` gives the totals.
pub struct Stream<'s> {
    session: &'s mut Session,
    done: bool,
}

impl Stream<'_> {
    /// The totals of the generation (drains what is left).
    pub fn finish(mut self) -> Result<Completion> {
        for piece in self.by_ref() {
            piece?;
        }
        let mut result = new_result();
        let status = unsafe { sys::ember_generate_result(self.session.raw.0, &mut result) };
        let done = take_result(&mut result);
        check(status)?;
        Ok(done)
    }
}

impl Iterator for Stream<'_> {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let mut text: *const c_char = ptr::null();
            let mut length = 0usize;
            let mut done = false;
            let status = unsafe { sys::ember_generate_next(self.session.raw.0, &mut text, &mut length, &mut done) };
            if let Err(e) = check(status) {
                self.done = true;
                return Some(Err(e));
            }
            self.done = done;
            if length > 0 {
                let bytes = unsafe { std::slice::from_raw_parts(text as *const u8, length) };
                return Some(Ok(String::from_utf8_lossy(bytes).into_owned()));
            }
        }
        None
    }
}

/// A conversation: history kept, the model's template applied, the KV prefix reused.
pub struct Chat<'s> {
    raw: *mut sys::ember_chat,
    _session: &'s mut Session,
}

impl Chat<'_> {
    /// Send the user's message; the answer streams through `on_piece` and joins the history.
    pub fn send<F: FnMut(&str) -> bool>(&mut self, message: &str, options: &GenerateOptions, mut on_piece: F) -> Result<Completion> {
        let c_message = cstring(message)?;
        let native = options.native()?;
        let mut result = new_result();
        let mut callback: &mut dyn FnMut(&str) -> bool = &mut on_piece;
        let status = unsafe {
            sys::ember_chat_send(self.raw, c_message.as_ptr(), &native.raw, Some(token_trampoline),
                                 &mut callback as *mut &mut dyn FnMut(&str) -> bool as *mut c_void, &mut result)
        };
        let done = take_result(&mut result);
        check(status)?;
        Ok(done)
    }

    /// Messages in the history, system prompt included.
    pub fn len(&self) -> usize {
        unsafe { sys::ember_chat_message_count(self.raw) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget the conversation except the system prompt.
    pub fn reset(&mut self) -> Result<()> {
        check(unsafe { sys::ember_chat_reset(self.raw) })
    }
}

impl Drop for Chat<'_> {
    fn drop(&mut self) {
        unsafe { sys::ember_chat_free(self.raw) };
    }
}
