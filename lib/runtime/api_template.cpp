// Chat rendering for the public API: the model's own template, or ChatML when it has none
// (lib/chat renders either exactly as Hugging Face's apply_chat_template does).
#include "runtime/api_internal.hpp"

#include "core/fail.hpp"

namespace ember {

std::string render_chat(const Model::Impl &model, std::span<const Message> messages, bool add_generation_prompt) {
    for (size_t i = 0; i < messages.size(); ++i)
        if (messages[i].role.empty())
            fail(Errc::invalid_argument, "chat: message {} has an empty role", i);
    if (!model.tmpl) fail(Errc::template_error, "the model's chat template does not parse: {}", model.template_error);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto &m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    chat::ChatOptions o;
    o.add_generation_prompt = add_generation_prompt;
    o.bos_token = std::string(model.tokenizer.bos_text());
    o.eos_token = std::string(model.tokenizer.eos_text());
    return chat::apply_chat_template(*model.tmpl, list, o);
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
