//! The safe API against stories260K and llama.cpp's reference tokens.
use ember::{ErrorKind, FinishReason, GenerateOptions, LoadMode, LoadOptions, Model, SessionOptions};
use std::path::PathBuf;

fn data(relative: &str) -> String {
    let root = std::env::var("EMBER_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/data"));
    let path = root.join(relative);
    assert!(path.exists(), "test data missing: {}", path.display());
    path.to_string_lossy().into_owned()
}

/// greedy_from_bos from the llama.cpp reference, read without a JSON dependency.
fn reference_greedy() -> Vec<i32> {
    let text = std::fs::read_to_string(data("reference/stories260K.f32kv.json")).unwrap();
    let start = text.find("\"greedy_from_bos\"").expect("key") ;
    let open = start + text[start..].find('[').unwrap();
    let close = open + text[open..].find(']').unwrap();
    text[open + 1..close].split(',').map(|t| t.trim().parse().unwrap()).collect()
}

fn greedy(n: i32) -> GenerateOptions {
    GenerateOptions { max_tokens: n, temperature: 0.0, ..Default::default() }
}

#[test]
fn greedy_from_bos_matches_llama_cpp() {
    let model = Model::load(&data("models/stories260K.gguf"), LoadOptions::default()).unwrap();
    assert_eq!(model.info().unwrap().architecture, "llama");
    let expected = reference_greedy();
    let mut session = model.session(&SessionOptions { n_ctx: 256, ..Default::default() }).unwrap();
    let mut streamed = String::new();
    let done = session.generate("", &greedy(expected.len() as i32), |p| { streamed.push_str(p); true }).unwrap();
    assert_eq!(done.tokens, expected);
    assert_eq!(done.text, streamed);
    assert_eq!(done.finish_reason, FinishReason::Length);
}

#[test]
fn iterator_equals_callback() {
    let model = Model::load(&data("models/stories260K.gguf"), LoadOptions { mode: LoadMode::Read, progress: None }).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    let whole = session.generate("Once upon a time", &greedy(24), |_| true).unwrap();
    let mut stream = session.stream("Once upon a time", &greedy(24)).unwrap();
    let mut pieces = String::new();
    for piece in stream.by_ref() {
        pieces.push_str(&piece.unwrap());
    }
    let totals = stream.finish().unwrap();
    assert_eq!(pieces, whole.text);
    assert_eq!(totals.tokens, whole.tokens);
}

#[test]
fn errors_are_results() {
    let e = Model::load("/nonexistent/model.gguf", LoadOptions::default()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("model.gguf"), "{}", e.message);
    let bad = std::env::temp_dir().join("ember-rust-bad.gguf");
    std::fs::write(&bad, b"GGUF\x03\x00\x00\x00garbage").unwrap();
    let e = Model::load(bad.to_str().unwrap(), LoadOptions::default()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidFile);
    let model = Model::load(&data("models/stories260K.gguf"), LoadOptions::default()).unwrap();
    let mut session = model.session(&SessionOptions::default()).unwrap();
    let e = session.generate("x", &GenerateOptions { top_p: 3.0, ..greedy(2) }, |_| true).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

#[test]
fn progress_can_cancel_a_load() {
    let mut calls = 0;
    let mut stop = |_f: f32| { calls += 1; false };
    let e = Model::load(&data("models/stories260K.gguf"), LoadOptions { mode: LoadMode::Mmap, progress: Some(&mut stop) }).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(calls > 0);
}

#[test]
fn model_is_shared_across_threads() {
    let model = std::sync::Arc::new(Model::load(&data("models/stories260K.gguf"), LoadOptions::default()).unwrap());
    let serial = model.session(&SessionOptions::default()).unwrap().generate("The dog", &greedy(32), |_| true).unwrap().tokens;
    let handles: Vec<_> = (0..2).map(|_| {
        let m = model.clone();
        std::thread::spawn(move || {
            let mut s = m.session(&SessionOptions { n_threads: 1, ..Default::default() }).unwrap();
            s.generate("The dog", &greedy(32), |_| true).unwrap().tokens
        })
    }).collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), serial);
    }
}

#[test]
fn cancel_from_another_thread() {
    let model = Model::load(&data("models/stories260K.gguf"), LoadOptions::default()).unwrap();
    let mut session = model.session(&SessionOptions { n_ctx: 512, ..Default::default() }).unwrap();
    let cancel = session.cancel_handle();
    let mut n = 0;
    let done = session.generate("", &GenerateOptions { max_tokens: 400, temperature: 0.8, seed: Some(3), ..Default::default() }, |_| {
        n += 1;
        if n == 3 {
            let c = cancel.clone();
            std::thread::spawn(move || c.cancel()).join().unwrap();
        }
        true
    }).unwrap();
    assert_eq!(done.finish_reason, FinishReason::Cancelled);
    assert!(done.tokens.len() < 400);
    assert_eq!(session.generate("Once", &greedy(3), |_| true).unwrap().tokens.len(), 3);
}

#[test]
fn chat_keeps_history() {
    let model = Model::load(&data("models/stories260K.gguf"), LoadOptions::default()).unwrap();
    let mut session = model.session(&SessionOptions { n_ctx: 512, ..Default::default() }).unwrap();
    let mut chat = session.chat(Some("You tell stories.")).unwrap();
    chat.send("A cat?", &greedy(8), |_| true).unwrap();
    let second = chat.send("A dog?", &greedy(8), |_| true).unwrap();
    assert_eq!(chat.len(), 5);
    assert!(second.reused_tokens > 0);
    chat.reset().unwrap();
    assert_eq!(chat.len(), 1);
}
