// chat/template.hpp - chat templates: parse once, render many times, apply to messages.
//
//   auto t = chat::Template::parse(gguf_chat_template_string);
//   std::string prompt = chat::apply_chat_template(t, messages, {.add_generation_prompt = true,
//                                                                .bos_token = "<s>"});
//
// The engine is a Jinja subset that renders exactly as Hugging Face's jinja2 set-up does
// (trim_blocks, lstrip_blocks, loopcontrols, tojson without ASCII escaping, raise_exception,
// strftime_now). It is sandboxed (no file, environment or network access exists to reach)
// and bounded by chat::Limits. Every failure - syntax, raise_exception, a type error, a
// limit - is ember::Error(Errc::template_error) with "name:line:col: message".
//
// Contexts are JSON objects. Use nlohmann::ordered_json to keep key order: tojson prints
// keys in the order the context gives them, as Python's json.dumps does; a plain
// nlohmann::json is accepted but sorts keys.
#pragma once

#include "chat/interp.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ember::chat {

struct RenderOptions {
    Limits limits;
    // The time strftime_now() formats; null means the local time when rendering.
    std::function<DateTime()> clock;
};

class Template {
public:
    // Parse a template. `name` appears in error messages ("chat template:3:7: ...").
    // Throws ember::Error(Errc::template_error) on a syntax error.
    static Template parse(std::string_view source, std::string name = "chat template");

    // Render with the variables of `context` (a JSON object).
    std::string render(const nlohmann::ordered_json &context, const RenderOptions &options = {}) const;
    std::string render(const nlohmann::json &context, const RenderOptions &options = {}) const;

    const std::string &name() const;

private:
    struct Impl;
    explicit Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

struct ChatOptions {
    bool add_generation_prompt = true;
    // Tool schemas (a JSON array); null passes `tools = none`, as Hugging Face does.
    nlohmann::ordered_json tools = nullptr;
    std::string bos_token;
    std::string eos_token;
    // More variables for the template (a JSON object), e.g. {"enable_thinking": false}.
    // They override the ones above of the same name.
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
    RenderOptions render;
};

// Render `messages` (a JSON array of {"role", "content", ...}) the way transformers'
// apply_chat_template does: messages, tools, add_generation_prompt, bos_token, eos_token
// and the extra variables.
std::string apply_chat_template(const Template &tmpl, const nlohmann::ordered_json &messages,
                                const ChatOptions &options = {});

// The built-in ChatML template, for models whose GGUF carries no chat template. Callers
// that fall back to it should say so (`ember template` prints a note on stderr).
std::string_view chatml_template_source();
const Template &chatml_template();

// A template for a model: its own when it has one, else ChatML with used_fallback = true.
struct ModelTemplate {
    Template tmpl;
    bool used_fallback;
};
ModelTemplate model_template(const std::string *gguf_chat_template);

// JSON to a template value (depth-limited; integers beyond int64 become floats).
Value from_json(const nlohmann::ordered_json &j);
Value from_json(const nlohmann::json &j);

}  // namespace ember::chat
