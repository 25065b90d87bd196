// The chat-template API: errors with locations, apply_chat_template's variables, the ChatML
// fallback, the injectable clock, key order of JSON contexts, and sharing one Template.
#include "chat/template.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using ember::chat::ChatOptions;
using ember::chat::DateTime;
using ember::chat::RenderOptions;
using ember::chat::Template;
using json = nlohmann::ordered_json;

namespace {

std::string render(const std::string &source, const json &context = json::object()) {
    return Template::parse(source).render(context);
}

std::string error_of(const std::string &source, const json &context = json::object()) {
    try {
        render(source, context);
    } catch (const ember::Error &e) {
        CHECK(e.code() == ember::Errc::template_error);
        return e.what();
    }
    FAIL("rendered without error: " << source);
    return {};
}

const json messages = json::parse(R"([
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": "Hi"},
  {"role": "assistant", "content": "Hello!"},
  {"role": "user", "content": "Bye"}])");

}  // namespace

TEST_CASE("errors name the template, line and column, and keep raise_exception's words") {
    CHECK(error_of("line one\n  {{ 1 +* 2 }}") == "chat template:2:9: expected an expression, got '*'");
    CHECK(error_of("{% if true %}\n{{ raise_exception('Only user and assistant roles are supported!') }}\n{% endif %}") ==
          "chat template:2:4: Only user and assistant roles are supported!");
    CHECK(error_of("{% for m in messages %}{{ m.content.x.y }}{% endfor %}", json{{"messages", messages}}) ==
          "chat template:1:38: 'str object' has no attribute 'x'");
    // Columns count characters, not bytes; an access failure points at its dot.
    CHECK(error_of("é€ {{ x.y }}") == "chat template:1:8: 'x' is undefined");
    try {
        Template::parse("{% if %}", "my.jinja");
        FAIL("parsed");
    } catch (const ember::Error &e) {
        CHECK(std::string(e.what()) == "my.jinja:1:7: expected an expression, got '%}'");
    }
}

TEST_CASE("jinja2's Undefined: prints empty, is falsy, fails when looked into") {
    CHECK(render("[{{ nothing }}][{{ d.missing }}][{{ d['missing'] }}][{{ l[9] }}]", json{{"d", json::object()}, {"l", json::array()}}) ==
          "[][][][]");
    CHECK(render("{{ nothing is defined }}{{ nothing is undefined }}{% if nothing %}x{% endif %}{{ nothing|length }}") == "FalseTrue0");
    CHECK(render("{% for x in nothing %}x{% else %}empty{% endfor %}") == "empty");
    CHECK(error_of("{{ nothing.attr }}").find("'nothing' is undefined") != std::string::npos);
    CHECK(error_of("{{ nothing + 1 }}").find("'nothing' is undefined") != std::string::npos);
    CHECK(error_of("{{ nothing() }}").find("'nothing' is undefined") != std::string::npos);
}

TEST_CASE("apply_chat_template passes Hugging Face's variables") {
    auto t = Template::parse(
        "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}|tools={{ tools }}|{{ extra_var|default('-') }}");
    ChatOptions o;
    o.bos_token = "<s>";
    o.eos_token = "</s>";
    CHECK(apply_chat_template(t, json::parse(R"([{"role":"user","content":"Hi"}])"), o) ==
          "<s><user>Hi</s><assistant>|tools=None|-");
    o.add_generation_prompt = false;
    o.tools = json::parse(R"([{"type":"function"}])");
    o.extra = json{{"extra_var", 7}, {"bos_token", "[BOS]"}};  // extra variables win
    CHECK(apply_chat_template(t, json::parse(R"([{"role":"user","content":"Hi"}])"), o) ==
          "[BOS]<user>Hi</s>|tools=[{'type': 'function'}]|7");
    CHECK_THROWS_AS(apply_chat_template(t, json::object(), o), ember::Error);  // messages must be a list
}

TEST_CASE("the built-in ChatML template is used, and reported, when a model has none") {
    auto none = ember::chat::model_template(nullptr);
    CHECK(none.used_fallback);
    std::string empty;
    CHECK(ember::chat::model_template(&empty).used_fallback);
    std::string own = "{{ messages|length }}";
    auto mt = ember::chat::model_template(&own);
    CHECK_FALSE(mt.used_fallback);
    CHECK(apply_chat_template(mt.tmpl, messages) == "4");

    CHECK(apply_chat_template(none.tmpl, messages) ==
          "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
          "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
    ChatOptions no_prompt;
    no_prompt.add_generation_prompt = false;
    auto parts = json::parse(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"image"},{"type":"text","text":"b"}]}])");
    CHECK(apply_chat_template(none.tmpl, parts, no_prompt) == "<|im_start|>user\nab<|im_end|>\n");
}

TEST_CASE("strftime_now reads the injected clock") {
    RenderOptions o;
    o.clock = [] { return DateTime{2024, 7, 26, 12, 0, 0}; };
    auto t = Template::parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %B %-d, %H:%M:%S %p %j %y %F') }}");
    CHECK(t.render(json::object(), o) == "26 Jul 2024|Friday July 26, 12:00:00 PM 208 24 2024-07-26");
    o.clock = [] { return DateTime{2000, 2, 29, 0, 5, 9}; };
    CHECK(t.render(json::object(), o) == "29 Feb 2000|Tuesday February 29, 00:05:09 AM 060 00 2000-02-29");
    // The default clock is the local time: at least a plausible year.
    std::string year = Template::parse("{{ strftime_now('%Y') }}").render(json::object());
    CHECK(std::stoi(year) >= 2024);
}

TEST_CASE("tojson keeps the context's key order with ordered_json, as json.dumps does") {
    auto t = Template::parse("{{ tools|tojson }}");
    json ordered = json::parse(R"({"tools": {"name": "f", "description": "d", "arguments": {"b": 1, "a": 2}}})");
    CHECK(t.render(ordered) == R"({"name": "f", "description": "d", "arguments": {"b": 1, "a": 2}})");
    nlohmann::json sorted = nlohmann::json::parse(ordered.dump());
    CHECK(t.render(sorted) == R"({"arguments": {"a": 2, "b": 1}, "description": "d", "name": "f"})");
    CHECK(render("{{ x|tojson(indent=2) }}", json{{"x", json::parse(R"({"a": [1, 2.5, "é\n"], "b": {}})")}}) ==
          "{\n  \"a\": [\n    1,\n    2.5,\n    \"é\\n\"\n  ],\n  \"b\": {}\n}");
    CHECK(render("{{ x|tojson }}", json{{"x", 18446744073709551615ull}}) == "1.8446744073709552e+19");
}

TEST_CASE("a context that is not an object is a caller error") {
    auto t = Template::parse("x");
    try {
        t.render(json::array());
        FAIL("rendered");
    } catch (const ember::Error &e) {
        CHECK(e.code() == ember::Errc::invalid_argument);
    }
}

TEST_CASE("one Template renders from many threads at once") {
    auto t = Template::parse(
        "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m.content|length %}{% endfor %}{{ ns.n }}");
    json context{{"messages", messages}};
    std::vector<std::string> results(8);
    std::vector<std::thread> threads;
    for (size_t k = 0; k < results.size(); ++k)
        threads.emplace_back([&, k] {
            for (int r = 0; r < 50; ++r) results[k] = t.render(context);
        });
    for (auto &th : threads) th.join();
    for (const auto &r : results) CHECK(r == "20");
}

TEST_CASE("whitespace control as Hugging Face configures jinja2") {
    // trim_blocks removes the newline after a block tag, lstrip_blocks the indentation before it.
    CHECK(render("<\n  {% if true %}\n  x\n  {% endif %}\n>") == "<\n  x\n>");
    // Not after an expression tag, and `+` keeps what would be stripped.
    CHECK(render("{{ 'a' }}\n{%+ if true %}b{% endif +%}\nc") == "a\nb\nc");
    CHECK(render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc");
    CHECK(render("a {{- ' b ' -}} c") == "a b c");
    CHECK(render("x {# note #}\n  {# indented note #}\ny") == "x y");
    // One trailing newline of the source is dropped; CRLF becomes LF.
    CHECK(render("a\r\nb\n") == "a\nb");
    CHECK(render("a\n\n") == "a\n");
    CHECK(render("{% raw %}{{ kept }}{% endraw %}") == "{{ kept }}");
}
