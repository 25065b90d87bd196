// The real chat templates of tests/data/templates render exactly what jinja2 rendered
// (Hugging Face's set-up, strftime_now fixed at 2024-07-26 12:00), or refuse where it refused.
#include "chat/template.hpp"

#include "test_data.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using ember::chat::DateTime;
using ember::chat::RenderOptions;
using ember::chat::Template;
using json = nlohmann::ordered_json;

namespace {

std::string read_text(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

RenderOptions fixed_clock() {
    RenderOptions o;
    o.clock = [] { return DateTime{2024, 7, 26, 12, 0, 0}; };
    return o;
}

}  // namespace

TEST_CASE("every case of tests/data/templates renders as jinja2 did") {
    std::filesystem::path dir = ember::test::data_path("templates");
    int files = 0, cases = 0, rendered = 0, refused = 0;
    for (const auto &entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        ++files;
        json spec = json::parse(read_text(entry.path()));
        std::string source = read_text(dir / spec.at("template").get<std::string>());
        Template tmpl = Template::parse(source, spec.at("template").get<std::string>());
        for (const auto &c : spec.at("cases")) {
            ++cases;
            std::string label = entry.path().filename().string() + " / " + c.at("name").get<std::string>();
            CAPTURE(label);
            if (c.contains("error")) {
                std::string want = c.at("error").get<std::string>();
                // jinja2's message is "TemplateError: <the template's own words>".
                std::string words = want.substr(want.find(": ") + 2);
                try {
                    tmpl.render(c.at("context"), fixed_clock());
                    FAIL_CHECK("rendered, but jinja2 refused with: " << want);
                } catch (const ember::Error &e) {
                    CHECK(e.code() == ember::Errc::template_error);
                    CHECK_MESSAGE(std::string(e.what()).find(words) != std::string::npos, e.what());
                    ++refused;
                }
                continue;
            }
            std::string got;
            try {
                got = tmpl.render(c.at("context"), fixed_clock());
            } catch (const ember::Error &e) {
                FAIL_CHECK("refused: " << e.what());
                continue;
            }
            CHECK(got == c.at("expected").get<std::string>());
            if (got == c.at("expected").get<std::string>()) ++rendered;
        }
    }
    MESSAGE(files << " templates, " << cases << " cases: " << rendered << " rendered exactly, " << refused
                  << " refused as jinja2 did");
    CHECK(files >= 11);
    CHECK(rendered + refused == cases);
}
