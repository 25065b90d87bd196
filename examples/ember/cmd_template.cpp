// ember template (-m MODEL | --template FILE.jinja) --context CONTEXT.json - render a chat
// template, exactly as the model will see its prompt.
//
// The context is a JSON object (messages, add_generation_prompt, tools, bos_token,
// eos_token, any extra variables) passed to the template as it is. With -m, the template
// is the GGUF's tokenizer.chat_template (the built-in ChatML one, with a note on stderr,
// when it has none) and bos_token / eos_token default to the model's own token strings.
// --template overrides the model's template. stdout receives the rendered text and
// nothing else; a refusal exits 1 with the template's message on stderr.
#include "args.hpp"
#include "command.hpp"

#include "chat/template.hpp"
#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "gguf/reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace ember::cli {
namespace {

constexpr const char *usage =
    "usage: ember template (-m MODEL.gguf | --template FILE.jinja) --context CONTEXT.json [options]\n"
    "\n"
    "Render a chat template with a context and print exactly the result.\n"
    "\n"
    "  -m, --model FILE      take the template and BOS/EOS token strings from this GGUF\n"
    "  --template FILE       the template to render (overrides the model's)\n"
    "  --context FILE        JSON object: messages, add_generation_prompt, tools, bos_token,\n"
    "                        eos_token, extra variables ('-' reads stdin)\n"
    "  --now 'YYYY-MM-DD HH:MM[:SS]'   the time strftime_now() sees (default: now)\n";

std::string read_file(const std::string &path) {
    if (path == "-") {
        std::stringstream ss;
        ss << std::cin.rdbuf();
        return ss.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Errc::io, "{}: cannot open", path);
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) fail(Errc::io, "{}: read failed", path);
    return ss.str();
}

chat::DateTime parse_now(const std::string &text) {
    chat::DateTime t;
    int n = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &t.year, &t.month, &t.day, &t.hour, &t.minute, &t.second);
    if (n < 3 || t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour < 0 || t.hour > 23 ||
        t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 60)
        fail(Errc::invalid_argument, "--now needs 'YYYY-MM-DD HH:MM[:SS]', got '{}'", text);
    return t;
}

// The string of a special token named by its id key, if the model has both.
std::optional<std::string> token_string(const gguf::File &file, std::string_view id_key) {
    auto id = file.get_optional<uint32_t>(id_key);
    if (!id || !file.has(gguf::key::tokenizer_tokens)) return std::nullopt;
    auto tokens = file.get_string_array(gguf::key::tokenizer_tokens);
    if (*id >= tokens.size()) fail(Errc::invalid_file, "{}: {} = {} is not a token id (vocabulary has {})", file.path(), id_key, *id, tokens.size());
    return std::string(tokens[*id]);
}

int run_template(int argc, char **argv) {
    Args args(argc, argv, {{"--help", "-h"}}, {{"--model", "-m"}, {"--template"}, {"--context", "-c"}, {"--now"}});
    if (args.has("--help")) {
        fmt::print("{}", usage);
        return 0;
    }
    if (!args.positional().empty()) fail(Errc::invalid_argument, "unexpected argument '{}'\n{}", args.positional()[0], usage);
    auto model = args.get("--model");
    auto template_path = args.get("--template");
    auto context_path = args.get("--context");
    if (!model && !template_path) fail(Errc::invalid_argument, "give -m MODEL or --template FILE\n{}", usage);
    if (!context_path) fail(Errc::invalid_argument, "--context CONTEXT.json is required\n{}", usage);

    nlohmann::ordered_json context;
    try {
        context = nlohmann::ordered_json::parse(read_file(*context_path));
    } catch (const nlohmann::json::exception &e) {
        fail(Errc::invalid_argument, "{}: not valid JSON: {}", *context_path, e.what());
    }
    if (!context.is_object()) fail(Errc::invalid_argument, "{}: the context must be a JSON object", *context_path);

    std::optional<chat::Template> tmpl;
    if (template_path) tmpl = chat::Template::parse(read_file(*template_path), *template_path);
    if (model) {
        gguf::File file = gguf::File::open(*model);
        if (!tmpl) {
            std::optional<std::string> source;
            if (file.has(gguf::key::chat_template)) source = file.get<std::string>(gguf::key::chat_template);
            chat::ModelTemplate mt = chat::model_template(source ? &*source : nullptr);
            if (mt.used_fallback)
                fmt::print(stderr, "ember template: note: {} has no tokenizer.chat_template; using the built-in ChatML template\n", *model);
            tmpl = mt.tmpl;
        }
        if (!context.contains("bos_token"))
            if (auto bos = token_string(file, gguf::key::tokenizer_bos_id)) context["bos_token"] = *bos;
        if (!context.contains("eos_token"))
            if (auto eos = token_string(file, gguf::key::tokenizer_eos_id)) context["eos_token"] = *eos;
    }

    chat::RenderOptions options;
    if (auto now = args.get("--now")) {
        chat::DateTime t = parse_now(*now);
        options.clock = [t] { return t; };
    }
    std::string text = tmpl->render(context, options);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return 0;
}

}  // namespace

EMBER_COMMAND("template", "render a chat template with a JSON context (prompt debugging)", 45, run_template);

}  // namespace ember::cli
