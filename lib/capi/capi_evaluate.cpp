// The C ABI: evaluating tokens for their logits, and rewinding the cache.
#include "capi/capi_common.hpp"

#include <cstdint>
#include <limits>
#include <span>

using namespace ember::capi;

extern "C" {

void ember_evaluate_options_init(ember_evaluate_options *options) {
    if (!options) return;
    std::memset(static_cast<void *>(options), 0, sizeof(*options));
    const ember::EvaluateOptions d;
    options->struct_size = sizeof(*options);
    options->all_logits = d.all_logits;
}

ember_status ember_session_evaluate(ember_session *session, const int32_t *tokens, size_t n_tokens,
                                    const ember_evaluate_options *options, float *logits, size_t capacity,
                                    size_t *n_logits) {
    return guard("ember_session_evaluate", [&] {
        require(session, "ember_session_evaluate", "session");
        require(tokens, "ember_session_evaluate", "tokens");
        require(n_logits, "ember_session_evaluate", "n_logits");
        if (n_tokens == 0) throw ember::Error(ember::Errc::invalid_argument, "ember_session_evaluate: n_tokens is 0");
        ember_evaluate_options defaults;
        ember_evaluate_options_init(&defaults);
        const ember_evaluate_options o = read_options(options, defaults, "ember_evaluate_options");

        const size_t n_vocab = session->session.model().info().n_vocab;
        // A count whose logits would not fit in size_t cannot fit any context either; refuse
        // it here so the product below is exact.
        if (o.all_logits && n_tokens > std::numeric_limits<size_t>::max() / n_vocab)
            throw ember::Error(ember::Errc::context_full, "ember_session_evaluate: " + std::to_string(n_tokens) +
                                                              " tokens exceed the session's context of " +
                                                              std::to_string(session->session.options().n_ctx));
        const size_t need = o.all_logits ? n_tokens * n_vocab : n_vocab;
        if (capacity < need) {
            *n_logits = need;  // stated in ember.h: lets a call with capacity 0 size the buffer
            throw ember::Error(ember::Errc::invalid_argument,
                               "ember_session_evaluate: room for " + std::to_string(capacity) + " floats, " +
                                   std::to_string(need) + " needed (" + std::to_string(n_vocab) +
                                   (o.all_logits ? " per token)" : " for the last token)"));
        }
        require(logits, "ember_session_evaluate", "logits");
        ember::EvaluateOptions eo;
        eo.all_logits = o.all_logits;
        session->session.evaluate(std::span<const int32_t>(tokens, n_tokens), std::span<float>(logits, capacity), eo);
        *n_logits = need;
    });
}

ember_status ember_session_truncate(ember_session *session, size_t n) {
    return guard("ember_session_truncate", [&] {
        require(session, "ember_session_truncate", "session");
        session->session.truncate(n);
    });
}

size_t ember_session_n_cached(const ember_session *session) {
    return session ? session->session.cached_tokens().size() : 0;
}

}  // extern "C"
