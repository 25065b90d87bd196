// Hostile templates are refused with Errc::template_error, quickly and without crashing:
// huge ranges, endless loops and recursion, exponential strings and lists, deep nesting in
// the source, in values and in the context. (Under the sanitizers this also shows nothing
// overflows the stack, reads out of bounds or leaks.)
#include "chat/template.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using ember::chat::RenderOptions;
using ember::chat::Template;
using json = nlohmann::ordered_json;

namespace {

// The time bounds are for optimized builds; sanitizers and -O0 run the same work far slower.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(NDEBUG)
constexpr double slowdown = 200;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr double slowdown = 200;
#else
constexpr double slowdown = 1;
#endif
#else
constexpr double slowdown = 1;
#endif

std::string repeat(const std::string &s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// Parse and render; return the error message (empty if it rendered). Fails the test if
// anything but a template error comes out, or if it took more than `seconds`.
std::string refusal(const std::string &source, const json &context = json::object(), const RenderOptions &options = {},
                    double seconds = 10) {
    auto start = std::chrono::steady_clock::now();
    std::string message;
    try {
        Template::parse(source, "t").render(context, options);
    } catch (const ember::Error &e) {
        CHECK(e.code() == ember::Errc::template_error);
        message = e.what();
    }
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK_MESSAGE(took < seconds * slowdown, "took " << took << " s");
    return message;
}

bool has(const std::string &message, const std::string &part) { return message.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("huge ranges and endless loops stop at the step limit") {
    CHECK(has(refusal("{% for i in range(1000000000) %}x{% endfor %}"), "list over the"));
    CHECK(has(refusal("{{ range(-9223372036854775807, 9223372036854775807)|length }}"), "list over the"));
    CHECK(has(refusal("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
              "loop iterations and calls"));
    CHECK(has(refusal("{% for i in range(100000) %}{% for j in range(100000) %}{{ loop.index }}{% endfor %}{% endfor %}"),
              "loop iterations and calls"));
    RenderOptions small;
    small.limits.max_steps = 1000;
    CHECK(has(refusal("{% for i in range(2000) %}{% endfor %}", json::object(), small), "1000 loop iterations"));
    CHECK(refusal("{% for i in range(900) %}{% endfor %}", json::object(), small).empty());
}

TEST_CASE("recursion is bounded: macros, nested expressions, nested statements") {
    CHECK(has(refusal("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "macro calls nested deeper than 100"));
    CHECK(has(refusal("{% macro f(n) %}{% for i in range(10) %}{{ f(n) }}{% endfor %}{% endmacro %}{{ f(0) }}"),
              "nested deeper"));
    // Deep expressions inside deep recursion hit the evaluation depth limit, not the stack.
    std::string deep_expr = repeat("(", 90) + "n" + repeat(" + 1)", 90);
    CHECK(has(refusal("{% macro f(n) %}{{ f(" + deep_expr + ") }}{% endmacro %}{{ f(0) }}"), "nested deeper"));
    CHECK(has(refusal("{{ " + repeat("(", 5000) + "1" + repeat(")", 5000) + " }}"), "nested deeper than"));
    CHECK(has(refusal("{{ " + repeat("[", 5000) + repeat("]", 5000) + " }}"), "nested deeper than"));
    CHECK(has(refusal("{{ " + repeat("not ", 100000) + "1 }}"), "nested deeper than"));
    CHECK(has(refusal("{{ " + repeat("-", 100000) + "1 }}"), "nested deeper than"));
    CHECK(has(refusal("{{ x" + repeat("|trim", 100000) + " }}"), "nested deeper than"));
    CHECK(has(refusal("{{ x" + repeat(".a", 100000) + " }}"), "nested deeper than"));
    CHECK(has(refusal("{{ 1" + repeat(" + 1", 100000) + " }}"), "nested deeper than"));  // flat source, deep tree
    CHECK(has(refusal(repeat("{% if 1 %}", 5000) + repeat("{% endif %}", 5000)), "nested deeper than"));
    // Ordinary nesting is fine.
    CHECK(Template::parse("{{ " + repeat("(", 100) + "1" + repeat(")", 100) + " }}").render(json::object()) == "1");
    CHECK(Template::parse(repeat("{% if 1 %}", 60) + "x" + repeat("{% endif %}", 60)).render(json::object()) == "x");
}

TEST_CASE("strings, lists and output cannot grow past their limits") {
    CHECK(has(refusal("{{ 'x' * 100000000 }}"), "byte limit"));
    CHECK(has(refusal("{{ 'x' * 9223372036854775807 }}"), "byte limit"));
    CHECK(has(refusal("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
              "byte limit"));
    CHECK(has(refusal("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"),
              "byte limit"));
    CHECK(has(refusal("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"),
              "list over the"));
    CHECK(has(refusal("{{ [1, 2] * 1000000000 }}"), "list over the"));
    CHECK(has(refusal("{% for i in range(200000) %}{{ 'x' * 100 }}{% endfor %}"), "output exceeds"));
    CHECK(has(refusal("{{ ('x' * 1000000)|replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyy') }}"), "byte limit"));
    CHECK(has(refusal("{{ ('x\\n' * 500000)|indent(100) }}"), "byte limit"));
    CHECK(has(refusal("{% set s = 'x' * 10000000 %}{{ s }}{{ s }}"), "output exceeds"));  // fits as a value, not as output
    RenderOptions small;
    small.limits.max_output_bytes = 10;
    CHECK(has(refusal("{{ 'abc' * 5 }}", json::object(), small), "10-byte limit"));
    CHECK(refusal("{{ 'abc' * 3 }}", json::object(), small).empty());
}

TEST_CASE("values cannot nest without bound, and self-reference terminates") {
    CHECK(has(refusal("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}"),
              "nested deeper than 128"));
    CHECK(has(refusal("{% set ns = namespace(d={}) %}{% for i in range(100000) %}{% set ns.d = {'a': ns.d} %}{% endfor %}"),
              "nested deeper than 128"));
    // A namespace holding itself prints shallowly and is freed (LeakSanitizer checks).
    CHECK(Template::parse("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}").render(json::object()) ==
          "<Namespace {'me': <Namespace>}>");
    CHECK(has(refusal("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns|tojson }}"), "not JSON serializable"));
    // A context nested 10000 deep is refused, not walked recursively.
    std::string deep = repeat("[", 10000) + repeat("]", 10000);
    CHECK(has(refusal("{{ x }}", json{{"x", json::parse(deep)}}), "nested deeper than"));
}

TEST_CASE("malformed templates are refused with a location") {
    for (const char *source : {"{{", "{{ x", "{%", "{% if x %}", "{% for %}", "{#", "{{ 'abc }}", "{{ x | }}",
                               "{{ ) }}", "{% endif %}", "{% if x %}{% endfor %}", "{{ 1 2 }}", "{% set %}",
                               "{% macro %}", "{{ x is }}", "{{ a[1:2:3:4] }}", "{{ '\\x4' }}", "{{ 99999999999999999999 }}",
                               "{% raw %}never closed", "{{ x $ y }}", "{{ 'a' }", "{% for x in y recursive %}{% endfor %}"}) {
        CAPTURE(source);
        std::string message = refusal(source);
        CHECK(has(message, "t:1:"));
    }
    CHECK(has(refusal("ok\n  {{ x +* 2 }}"), "t:2:"));
}

TEST_CASE("runtime type errors and integer overflow are refused, not undefined behaviour") {
    CHECK(has(refusal("{{ 9223372036854775807 + 1 }}"), "integer overflow"));
    CHECK(has(refusal("{{ 2 ** 64 }}"), "integer overflow"));
    CHECK(has(refusal("{{ -9223372036854775807 - 2 }}"), "integer overflow"));
    CHECK(has(refusal("{{ (-9223372036854775807 - 1) // -1 }}"), "integer overflow"));
    CHECK(has(refusal("{{ 1 % 0 }}"), "by zero"));
    CHECK(has(refusal("{{ 1.5 // 0 }}"), "float modulo"));
    CHECK(has(refusal("{{ [1][::0] }}"), "step cannot be zero"));
    CHECK(has(refusal("{{ range(1, 2, 0) }}"), "must not be zero"));
    CHECK(has(refusal("{% set x = 1 %}{% set x.y = 2 %}"), "non-namespace"));
    CHECK(has(refusal("{% set a, b = [1, 2, 3] %}"), "too many values"));
    CHECK(has(refusal("{{ {}.pop('a') }}"), "unsafe"));
    CHECK(has(refusal("{{ strftime_now('%Q') }}"), "unsupported directive"));
    CHECK(has(refusal("{{ '{:>10}'.format(1) }}"), "format specs"));
    CHECK(has(refusal("{{ '%s %s' % (1,) }}"), "not enough arguments"));
    CHECK(has(refusal("{{ {[1]: 2} }}"), "unhashable"));
}

TEST_CASE("values that share their parts cannot be walked exponentially") {
    // [x, x] nested 100 times is tiny in memory but has 2^100 leaves.
    const std::string build =
        "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}";
    CHECK(has(refusal(build + "{{ ns.l }}"), "byte limit"));  // printing stops at the size limit
    CHECK(has(refusal(build + "{{ ns.l|tojson|length }}"), "byte limit"));
    CHECK(has(refusal(build + "{{ ns.l|string|length }}"), "byte limit"));
    CHECK(Template::parse(build + "{{ ns.l == ns.l }}").render(json::object()) == "True");  // the same list
    CHECK(has(refusal(build + "{% set ns2 = namespace(l=[1]) %}{% for i in range(100) %}{% set ns2.l = [ns2.l, ns2.l] %}{% endfor %}"
                              "{{ ns.l == ns2.l }}"),
              "work budget"));
    CHECK(has(refusal(build + "{{ [ns.l, ns.l[0]]|unique|list }}"), "byte limit"));
    // Repeating a large-but-legal operation many times runs out of budget too.
    CHECK(has(refusal("{% set s = 'x' * 10000000 %}{% for i in range(100000) %}{% if 'y' in s %}{% endif %}{% endfor %}"),
              "work budget"));
    CHECK(has(refusal("{% set l = range(200000)|list %}{% for i in range(100000) %}{% if l == l|list %}{% endif %}{% endfor %}"),
              "work budget"));
}
