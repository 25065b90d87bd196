// fuzz_chat - libFuzzer entry point for the chat-template engine.
//
// Input: template source, then optionally a NUL byte and a JSON context. Without a usable
// context a small chat (system, user, assistant, tools) is used, so real templates from the
// seed corpus run their main paths. Any input must render or throw ember::Error; ASan/UBSan
// catch everything else, and tight limits keep each run in milliseconds.
#include "chat/template.hpp"

#include <ember/error.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace {

const nlohmann::ordered_json &default_context() {
    static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(R"({
      "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris? \u00e9\u65e5 "},
        {"role": "assistant", "content": "", "tool_calls": [
          {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "{\"temp\": 21}"},
        {"role": "assistant", "content": "21 C."}],
      "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
      "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
    return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view input(reinterpret_cast<const char *>(data), size);
    std::string_view source = input, context_text;
    if (size_t nul = input.find('\0'); nul != std::string_view::npos) {
        source = input.substr(0, nul);
        context_text = input.substr(nul + 1);
    }
    nlohmann::ordered_json context = nlohmann::ordered_json::parse(context_text, nullptr, false);
    if (context.is_discarded() || !context.is_object()) context = default_context();

    ember::chat::RenderOptions options;
    options.limits.max_output_bytes = 1 << 16;
    options.limits.max_list_items = 4096;
    options.limits.max_steps = 20000;
    options.limits.max_work = 500000;
    options.clock = [] { return ember::chat::DateTime{2024, 7, 26, 12, 0, 0}; };
    try {
        auto tmpl = ember::chat::Template::parse(source, "fuzz");
        std::string out = tmpl.render(context, options);
        if (out.size() > options.limits.max_output_bytes) __builtin_trap();  // the limit must hold
    } catch (const ember::Error &e) {
        if (e.code() != ember::Errc::template_error && e.code() != ember::Errc::invalid_argument) __builtin_trap();
        if (std::strlen(e.what()) == 0) __builtin_trap();
    }
    return 0;
}
