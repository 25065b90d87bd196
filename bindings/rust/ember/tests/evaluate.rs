//! Session::evaluate against llama.cpp's teacher-forced log-probs of stories260K: the same
//! bits however the tokens are split, the caller's slice, truncate, refusals, flash_attn.
use ember::{ErrorKind, LoadOptions, Model, Session, SessionOptions};
use std::path::PathBuf;

fn data(relative: &str) -> String {
    let root = std::env::var("EMBER_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/data"));
    let path = root.join(relative);
    assert!(path.exists(), "test data missing: {}", path.display());
    path.to_string_lossy().into_owned()
}

/// The value of `key` in the reference file, a JSON array of numbers or of arrays of
/// numbers, as rows (a flat array is one row). Read without a JSON dependency; the file is
/// trusted.
fn reference_rows(key: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(data("reference/stories260K.f32kv.json")).unwrap();
    let start = text.find(&format!("\"{key}\"")).expect("key");
    let open = start + text[start..].find('[').unwrap();
    let (mut rows, mut row, mut number, mut depth) = (Vec::new(), Vec::new(), String::new(), 0);
    for c in text[open..].chars() {
        match c {
            '[' => depth += 1,
            ']' | ',' => {
                if !number.trim().is_empty() {
                    row.push(number.trim().parse::<f64>().unwrap());
                }
                number.clear();
                if c == ']' {
                    depth -= 1;
                    if !row.is_empty() {
                        rows.push(std::mem::take(&mut row));
                    }
                    if depth == 0 {
                        break;
                    }
                }
            }
            _ => number.push(c),
        }
    }
    rows
}

fn fixed_sequence() -> Vec<i32> {
    reference_rows("fixed_sequence").remove(0).into_iter().map(|t| t as i32).collect()
}

fn stories() -> Model {
    Model::load(&data("models/stories260K.gguf"), LoadOptions::default()).unwrap()
}

/// The reference was made with an F32 KV cache.
fn f32_session(model: &Model, n_batch: u32) -> Session {
    model.session(&SessionOptions { n_ctx: 128, n_batch, n_threads: 2, kv_f32: true, ..Default::default() }).unwrap()
}

fn worst_logprob_error(logits: &[f32], reference: &[Vec<f64>], n_vocab: usize) -> f64 {
    assert_eq!(logits.len(), reference.len() * n_vocab);
    let mut worst = 0.0f64;
    for (row, expect) in logits.chunks(n_vocab).zip(reference) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
        let lse = max + row.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln();
        for (&x, &r) in row.iter().zip(expect) {
            worst = worst.max((x as f64 - lse - r).abs());
        }
    }
    worst
}

#[test]
fn logprobs_equal_llama_cpp() {
    let model = stories();
    let n_vocab = model.info().unwrap().n_vocab as usize;
    let tokens = fixed_sequence();
    let reference = reference_rows("logprobs");
    assert_eq!(reference.len(), tokens.len());
    let mut session = f32_session(&model, 512);
    let logits = session.evaluate(&tokens, true).unwrap();
    assert_eq!(logits.len(), tokens.len() * n_vocab);
    assert_eq!(session.n_cached(), tokens.len());
    let worst = worst_logprob_error(&logits, &reference, n_vocab);
    assert!(worst < 1e-4, "largest |log-prob - llama.cpp| = {worst}");
}

#[test]
fn same_bits_however_split_and_into_a_slice() {
    let model = stories();
    let n_vocab = model.info().unwrap().n_vocab as usize;
    let tokens = fixed_sequence();
    let whole = f32_session(&model, 512).evaluate(&tokens, true).unwrap();

    for n_batch in [1, 7, 512] {
        let mut session = f32_session(&model, n_batch);
        let mut got = vec![0f32; whole.len()];
        let (mut at, mut len) = (0, 1);
        while at < tokens.len() {
            // Pieces of 1, 2, 3 ... tokens, written straight into their rows.
            let k = len.min(tokens.len() - at);
            let written = session.evaluate_into(&tokens[at..at + k], true, &mut got[at * n_vocab..]).unwrap();
            assert_eq!(written, k * n_vocab);
            at += k;
            len += 1;
        }
        assert!(got == whole, "n_batch {n_batch}: other bits");
    }

    // The last position alone: the last row, into a slice of exactly n_vocab.
    let mut last = vec![0f32; n_vocab];
    let mut session = f32_session(&model, 512);
    assert_eq!(session.evaluate_into(&tokens, false, &mut last).unwrap(), n_vocab);
    assert!(last[..] == whole[(tokens.len() - 1) * n_vocab..]);
    assert!(f32_session(&model, 512).evaluate(&tokens, false).unwrap() == last);
}

#[test]
fn truncate_rewinds_to_the_same_bits() {
    let model = stories();
    let tokens = fixed_sequence();
    let half = tokens.len() / 2;
    let mut session = f32_session(&model, 512);
    let last = session.evaluate(&tokens, false).unwrap();
    session.truncate(half).unwrap();
    assert_eq!(session.n_cached(), half);
    session.evaluate(&tokens[1..4], false).unwrap(); // a different continuation, then back
    session.truncate(half).unwrap();
    assert!(session.evaluate(&tokens[half..], false).unwrap() == last);
    let e = session.truncate(tokens.len() + 1).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("cached"), "{}", e.message);
    assert_eq!(session.n_cached(), tokens.len());
}

#[test]
fn refusals_leave_the_session_alone() {
    let model = stories();
    let n_vocab = model.info().unwrap().n_vocab as usize;
    let tokens = fixed_sequence();
    let mut session = f32_session(&model, 512);
    session.evaluate(&tokens[..5], false).unwrap();

    let kind = |r: ember::Result<Vec<f32>>| r.unwrap_err().kind;
    assert_eq!(kind(session.evaluate(&[], false)), ErrorKind::InvalidArgument);
    assert_eq!(kind(session.evaluate(&[], true)), ErrorKind::InvalidArgument);
    assert_eq!(kind(session.evaluate(&[tokens[5], n_vocab as i32], false)), ErrorKind::InvalidArgument);
    assert_eq!(kind(session.evaluate(&[-1], true)), ErrorKind::InvalidArgument);
    assert_eq!(kind(session.evaluate(&[tokens[1]; 124], false)), ErrorKind::ContextFull); // 5 + 124 > 128

    let mut small = vec![-7.0f32; 2 * n_vocab - 1];
    let e = session.evaluate_into(&tokens[5..7], true, &mut small).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("1024 needed"), "{}", e.message);
    assert!(small.iter().all(|&x| x == -7.0), "a refused call wrote into the slice");
    assert_eq!(session.n_cached(), 5);

    // Still usable: the same bits as one uninterrupted evaluation.
    let rest = session.evaluate(&tokens[5..], false).unwrap();
    assert!(rest == f32_session(&model, 512).evaluate(&tokens, false).unwrap());
}

#[test]
fn flash_attn_reaches_the_runtime() {
    let model = stories();
    let tokens = fixed_sequence();
    let f16 = |flash_attn| model.session(&SessionOptions { n_ctx: 128, flash_attn, ..Default::default() }).unwrap();
    let plain = f16(false).evaluate(&tokens, true).unwrap();
    let flash = f16(true).evaluate(&tokens, true).unwrap();
    assert!(plain.iter().chain(&flash).all(|x| x.is_finite()));
    assert!(plain != flash, "fp16 sums of V round differently");
}
