// chat/template.cpp - the public face of the engine: parse, render, apply_chat_template.
#include "chat/template.hpp"

#include "chat/error.hpp"
#include "chat/lexer.hpp"
#include "chat/parser.hpp"
#include "chat/strings.hpp"
#include "core/fail.hpp"

#include <ctime>
#include <new>

namespace ember::chat {

struct Template::Impl {
    std::string name;
    std::string source;  // normalized, for line:col of errors
    Body body;
};

namespace {

// "name:line:col: message" for a failure at a source offset.
[[noreturn]] void fail_template(const std::string &name, const std::string &source, const TemplateFailure &f) {
    size_t offset = std::min(f.offset, source.size());
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
        if (source[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    size_t col = str::code_point_count(std::string_view(source).substr(line_start, offset - line_start)) + 1;
    fail(Errc::template_error, "{}:{}:{}: {}", name, line, col, f.message);
}

DateTime local_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    return DateTime{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

template <class Json>
Value convert(const Json &j, int depth) {
    if (depth > max_value_depth) raise("context JSON nested deeper than {} levels", max_value_depth);
    switch (j.type()) {
    case nlohmann::json::value_t::null: return Value(None{});
    case nlohmann::json::value_t::boolean: return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
        auto u = j.template get<uint64_t>();
        if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
        return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float: return Value(j.template get<double>());
    case nlohmann::json::value_t::string: return Value(j.template get_ref<const std::string &>());
    case nlohmann::json::value_t::array: {
        std::vector<Value> items;
        items.reserve(j.size());
        for (const auto &x : j) items.push_back(convert(x, depth + 1));
        return make_array(std::move(items));
    }
    case nlohmann::json::value_t::object: {
        std::vector<std::pair<std::string, Value>> items;
        items.reserve(j.size());
        for (auto it = j.begin(); it != j.end(); ++it) items.emplace_back(it.key(), convert(it.value(), depth + 1));
        return make_object(std::move(items));
    }
    default: raise("unsupported JSON value in context");
    }
}

template <class Json>
std::string render_impl(const std::string &name, const std::string &source, const Body &body, const Json &context,
                        const RenderOptions &options) {
    if (!context.is_object()) fail(Errc::invalid_argument, "{}: the context must be a JSON object", name);
    try {
        Value ctx = convert(context, 1);
        Interpreter interp(ctx.as_object(), options.limits, options.clock ? options.clock : local_now);
        return interp.render(body);
    } catch (const TemplateFailure &f) {
        fail_template(name, source, f);
    } catch (const std::bad_alloc &) {
        fail(Errc::out_of_memory, "{}: out of memory while rendering", name);
    }
}

}  // namespace

Value from_json(const nlohmann::ordered_json &j) {
    try {
        return convert(j, 1);
    } catch (const TemplateFailure &f) {
        fail(Errc::invalid_argument, "{}", f.message);
    }
}

Value from_json(const nlohmann::json &j) {
    try {
        return convert(j, 1);
    } catch (const TemplateFailure &f) {
        fail(Errc::invalid_argument, "{}", f.message);
    }
}

Template Template::parse(std::string_view source, std::string name) {
    auto impl = std::make_shared<Impl>();
    impl->name = std::move(name);
    impl->source = normalize_source(source);
    try {
        impl->body = chat::parse(tokenize(impl->source));
    } catch (const TemplateFailure &f) {
        fail_template(impl->name, impl->source, f);
    }
    return Template(std::move(impl));
}

std::string Template::render(const nlohmann::ordered_json &context, const RenderOptions &options) const {
    return render_impl(impl_->name, impl_->source, impl_->body, context, options);
}

std::string Template::render(const nlohmann::json &context, const RenderOptions &options) const {
    return render_impl(impl_->name, impl_->source, impl_->body, context, options);
}

const std::string &Template::name() const { return impl_->name; }

std::string apply_chat_template(const Template &tmpl, const nlohmann::ordered_json &messages, const ChatOptions &options) {
    if (!messages.is_array()) fail(Errc::invalid_argument, "messages must be a JSON array");
    if (!options.extra.is_object()) fail(Errc::invalid_argument, "extra template variables must be a JSON object");
    nlohmann::ordered_json context = nlohmann::ordered_json::object();
    context["messages"] = messages;
    context["tools"] = options.tools;
    context["add_generation_prompt"] = options.add_generation_prompt;
    context["bos_token"] = options.bos_token;
    context["eos_token"] = options.eos_token;
    for (auto it = options.extra.begin(); it != options.extra.end(); ++it) context[it.key()] = it.value();
    return tmpl.render(context, options.render);
}

std::string_view chatml_template_source() {
    // ChatML as Qwen and SmolLM use it; list-of-parts contents print their text parts.
    return "{%- for message in messages -%}\n"
           "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
           "{%- if message['content'] is string -%}{{- message['content'] -}}\n"
           "{%- elif message['content'] is iterable -%}{%- for part in message['content'] if part['type'] == 'text' -%}{{- part['text'] -}}{%- endfor -%}\n"
           "{%- endif -%}\n"
           "{{- '<|im_end|>\\n' -}}\n"
           "{%- endfor -%}\n"
           "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";
}

const Template &chatml_template() {
    static const Template t = Template::parse(chatml_template_source(), "built-in ChatML template");
    return t;
}

ModelTemplate model_template(const std::string *gguf_chat_template) {
    if (gguf_chat_template && !gguf_chat_template->empty())
        return {Template::parse(*gguf_chat_template, "tokenizer.chat_template"), false};
    return {chatml_template(), true};
}

}  // namespace ember::chat
