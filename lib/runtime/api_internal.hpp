// runtime/api_internal.hpp - what stands behind the public ember::Model (ember.hpp).
#pragma once

#include <ember/ember.hpp>

#include "chat/template.hpp"
#include "models/model.hpp"
#include "tokenizer/tokenizer.hpp"

#include <memory>
#include <optional>
#include <string>

namespace ember {

// Immutable after load, shared by every copy of the Model and every Session made from it.
struct Model::Impl {
    std::shared_ptr<const models::Model> model;
    tokenizer::Tokenizer tokenizer;
    ModelInfo info;
    std::string chat_template;  // the GGUF's tokenizer.chat_template, "" when absent
    // Parsed once at load: the model's template, or ChatML when it has none. A template
    // that does not parse leaves tmpl empty and its message in template_error, so the
    // model still loads for plain generation and chat reports the problem.
    std::optional<chat::Template> tmpl;
    std::string template_error;

    Impl(std::shared_ptr<const models::Model> m, tokenizer::Tokenizer t)
        : model(std::move(m)), tokenizer(std::move(t)) {}
};

namespace detail {
struct ModelAccess {
    static const Model::Impl &impl(const Model &m) { return *m.impl_; }
};
}  // namespace detail

// Render messages with the model's chat template, or ChatML when it has none
// (api_template.cpp).
std::string render_chat(const Model::Impl &model, std::span<const Message> messages, bool add_generation_prompt);

// Tokenize rendered chat text: special tokens parsed, BOS added once when the model wants
// one (templates often spell it themselves).
std::vector<Token> tokenize_chat(const Model::Impl &model, std::string_view rendered);

}  // namespace ember
