// Chat rendering for the public API: the model's own template, or ChatML when it has none.
#include "runtime/api_internal.hpp"

#include "core/fail.hpp"

namespace ember {

namespace {

// ChatML (<|im_start|>role\ncontent<|im_end|>\n), the format most instruction-tuned models
// without a template in their GGUF were trained on, and llama.cpp's fallback too.
std::string render_chatml(std::span<const Message> messages, bool add_generation_prompt) {
    std::string out;
    for (const auto &m : messages) {
        out += "<|im_start|>";
        out += m.role;
        out += '\n';
        out += m.content;
        out += "<|im_end|>\n";
    }
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
}

}  // namespace

std::string render_chat(const Model::Impl &model, std::span<const Message> messages, bool add_generation_prompt) {
    for (size_t i = 0; i < messages.size(); ++i)
        if (messages[i].role.empty())
            fail(Errc::invalid_argument, "chat: message {} has an empty role", i);
    // TODO(chat engineer's lib/chat): render model.chat_template when present.
    (void)model;
    return render_chatml(messages, add_generation_prompt);
}

std::vector<Token> tokenize_chat(const Model::Impl &model, std::string_view rendered) {
    tokenizer::EncodeOptions o;
    o.add_special = false;
    o.parse_special = true;
    std::vector<Token> tokens = model.tokenizer.encode(rendered, o);
    const Token bos = model.tokenizer.bos();
    if (model.tokenizer.add_bos() && bos >= 0 && (tokens.empty() || tokens.front() != bos))
        tokens.insert(tokens.begin(), bos);
    return tokens;
}

}  // namespace ember
