// The C ABI's shared machinery and its version/status/result functions.
#include "capi/capi_common.hpp"

#include <cmath>
#include <cstdlib>

namespace ember::capi {

namespace {
thread_local std::string last_error;
thread_local bool last_error_lost = false;  // set when the message could not be stored
}  // namespace

void set_last_error(const char *message) noexcept {
    try {
        last_error = message;
        last_error_lost = false;
    } catch (...) {
        last_error_lost = true;
    }
}

void require(const void *pointer, const char *function, const char *parameter) {
    if (!pointer)
        throw Error(Errc::invalid_argument, std::string(function) + ": " + parameter + " is NULL");
}

GenerateOptions to_generate_options(const ember_generate_options *options) {
    ember_generate_options defaults;
    ember_generate_options_init(&defaults);
    const ember_generate_options o = read_options(options, defaults, "ember_generate_options");
    GenerateOptions g;
    g.max_tokens = o.max_tokens;
    g.sampling.temperature = o.temperature;
    g.sampling.top_k = o.top_k;
    g.sampling.top_p = o.top_p;
    g.sampling.min_p = o.min_p;
    g.sampling.typical_p = o.typical_p;
    g.sampling.repeat_penalty = o.repeat_penalty;
    g.sampling.frequency_penalty = o.frequency_penalty;
    g.sampling.presence_penalty = o.presence_penalty;
    g.sampling.penalty_last_n = o.penalty_last_n;
    if (o.n_stop > 0) require(o.stop, "ember_generate_options", "stop (with n_stop > 0)");
    for (size_t i = 0; i < o.n_stop; ++i) {
        if (!o.stop[i])
            throw Error(Errc::invalid_argument, "ember_generate_options: stop[" + std::to_string(i) + "] is NULL");
        g.stop.emplace_back(o.stop[i]);
    }
    if (o.n_logit_bias > 0) require(o.logit_bias, "ember_generate_options", "logit_bias (with n_logit_bias > 0)");
    for (size_t i = 0; i < o.n_logit_bias; ++i) g.sampling.logit_bias.emplace_back(o.logit_bias[i].token, o.logit_bias[i].bias);
    if (o.use_seed) g.seed = o.seed;
    return g;
}

void check_result(const ember_result *result) {
    if (result && result->struct_size != sizeof(ember_result))
        throw Error(Errc::invalid_argument, "ember_result: struct_size is " + std::to_string(result->struct_size) +
                                                ", this library expects " + std::to_string(sizeof(ember_result)) +
                                                " (call ember_result_init first)");
}

void fill_result(const Result &from, ember_result *to) {
    if (!to) return;
    ember_result_clear(to);
    // malloc, not new[]: the caller's C code may inspect these with its own allocator's
    // tools; ember_result_clear frees them.
    char *text = static_cast<char *>(std::malloc(from.text.size() + 1));
    int32_t *tokens = static_cast<int32_t *>(std::malloc((from.tokens.size() + 1) * sizeof(int32_t)));
    if (!text || !tokens) {
        std::free(text);
        std::free(tokens);
        throw std::bad_alloc();
    }
    std::memcpy(text, from.text.data(), from.text.size());
    text[from.text.size()] = '\0';
    if (!from.tokens.empty()) std::memcpy(tokens, from.tokens.data(), from.tokens.size() * sizeof(int32_t));
    to->text = text;
    to->text_length = from.text.size();
    to->tokens = tokens;
    to->n_tokens = from.tokens.size();
    to->finish_reason = static_cast<int32_t>(from.finish_reason);
    to->prompt_tokens = from.timings.prompt_tokens;
    to->reused_tokens = from.timings.reused_tokens;
    to->generated_tokens = from.timings.generated_tokens;
    to->prompt_ms = from.timings.prompt_ms;
    to->generate_ms = from.timings.generate_ms;
    to->prompt_tokens_per_second = from.timings.prompt_tokens_per_second();
    to->generated_tokens_per_second = from.timings.generated_tokens_per_second();
}

ember_status finish_status(const Result &r) noexcept {
    if (r.finish_reason != FinishReason::error) return EMBER_OK;
    set_last_error(r.error.c_str());
    return r.error_code == Errc::ok ? EMBER_ERR_INTERNAL : static_cast<ember_status>(r.error_code);
}

}  // namespace ember::capi

using namespace ember::capi;

extern "C" {

const char *ember_version(void) { return ember::version(); }

uint32_t ember_abi_version(void) { return EMBER_ABI_VERSION; }

const char *ember_status_name(ember_status status) {
    if (static_cast<int>(status) < 0 || static_cast<int>(status) > EMBER_ERR_INTERNAL) return "unknown";
    return ember::errc_name(static_cast<ember::Errc>(status));
}

const char *ember_last_error(void) {
    if (last_error_lost) return "out of memory (the error message could not be stored)";
    return last_error.c_str();
}

void ember_result_init(ember_result *result) {
    if (!result) return;
    std::memset(static_cast<void *>(result), 0, sizeof(*result));
    result->struct_size = sizeof(*result);
}

void ember_result_clear(ember_result *result) {
    // A struct of another size was never filled by this library: touching it could write
    // past the caller's memory.
    if (!result || result->struct_size != sizeof(*result)) return;
    std::free(result->text);
    std::free(result->tokens);
    ember_result_init(result);
}

}  // extern "C"
