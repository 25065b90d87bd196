//! cargo run --example hello -- MODEL.gguf "prompt"
use std::io::Write;

fn main() -> Result<(), ember::Error> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: hello MODEL.gguf [PROMPT]");
    let prompt = args.get(2).map(String::as_str).unwrap_or("Once upon a time");

    let model = ember::Model::load(path, ember::LoadOptions::default())?;
    let mut session = model.session(&ember::SessionOptions::default())?;
    let options = ember::GenerateOptions { max_tokens: 64, temperature: 0.0, ..Default::default() };
    let done = session.generate(prompt, &options, |piece| {
        print!("{piece}");
        std::io::stdout().flush().is_ok()
    })?;
    println!("\n[{} tokens, {:.1} tok/s]", done.tokens.len(), done.generated_tokens_per_second);
    Ok(())
}
