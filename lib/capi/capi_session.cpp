// The C ABI: sessions, generation and chat.
#include "capi/capi_common.hpp"

#include <memory>

using namespace ember::capi;

namespace {

ember::OnToken wrap_callback(ember_token_fn on_token, void *user_data) {
    if (!on_token) return {};
    return [on_token, user_data](std::string_view text) { return on_token(text.data(), text.size(), user_data); };
}

}  // namespace

extern "C" {

void ember_session_options_init(ember_session_options *options) {
    if (!options) return;
    std::memset(static_cast<void *>(options), 0, sizeof(*options));
    options->struct_size = sizeof(*options);
    options->n_ctx = 0;
    options->n_batch = 512;
    options->n_threads = 0;
    options->kv_type = EMBER_KV_F16;
    options->seed = 0;
    options->flash_attn = false;
}

ember_status ember_session_create(const ember_model *model, const ember_session_options *options,
                                  ember_session **out_session) {
    return guard("ember_session_create", [&] {
        require(model, "ember_session_create", "model");
        require(out_session, "ember_session_create", "out_session");
        ember_session_options defaults;
        ember_session_options_init(&defaults);
        const ember_session_options o = read_options(options, defaults, "ember_session_options");
        if (o.kv_type != EMBER_KV_F16 && o.kv_type != EMBER_KV_F32)
            throw ember::Error(ember::Errc::invalid_argument,
                               "ember_session_options: kv_type " + std::to_string(o.kv_type) + " is not an ember_kv_type");
        ember::SessionOptions so;
        so.n_ctx = o.n_ctx;
        so.n_batch = o.n_batch;
        so.n_threads = o.n_threads;
        so.kv_type = static_cast<ember::KvType>(o.kv_type);
        so.seed = o.seed;
        so.flash_attn = o.flash_attn;
        auto handle = std::make_unique<ember_session>(ember::Session(model->model, so));
        *out_session = handle.release();
    });
}

void ember_session_free(ember_session *session) { delete session; }

void ember_session_cancel(ember_session *session) {
    if (session) session->session.cancel();
}

ember_status ember_session_reset(ember_session *session) {
    return guard("ember_session_reset", [&] {
        require(session, "ember_session_reset", "session");
        session->session.reset();
    });
}

void ember_generate_options_init(ember_generate_options *options) {
    if (!options) return;
    std::memset(static_cast<void *>(options), 0, sizeof(*options));
    const ember::GenerateOptions d;
    options->struct_size = sizeof(*options);
    options->max_tokens = d.max_tokens;
    options->temperature = d.sampling.temperature;
    options->top_k = d.sampling.top_k;
    options->top_p = d.sampling.top_p;
    options->min_p = d.sampling.min_p;
    options->typical_p = d.sampling.typical_p;
    options->repeat_penalty = d.sampling.repeat_penalty;
    options->frequency_penalty = d.sampling.frequency_penalty;
    options->presence_penalty = d.sampling.presence_penalty;
    options->penalty_last_n = d.sampling.penalty_last_n;
}

ember_status ember_generate(ember_session *session, const char *prompt, const ember_generate_options *options,
                            ember_token_fn on_token, void *user_data, ember_result *result) {
    ember::Result r;
    ember_status s = guard("ember_generate", [&] {
        require(session, "ember_generate", "session");
        require(prompt, "ember_generate", "prompt");
        check_result(result);
        ember_result_clear(result);  // as documented, whatever happens next
        r = session->session.generate(std::string_view(prompt), to_generate_options(options),
                                      wrap_callback(on_token, user_data));
        fill_result(r, result);
    });
    return s != EMBER_OK ? s : finish_status(r);
}

ember_status ember_generate_chat(ember_session *session, const ember_message *messages, size_t n_messages,
                                 const ember_generate_options *options, ember_token_fn on_token, void *user_data,
                                 ember_result *result) {
    ember::Result r;
    ember_status s = guard("ember_generate_chat", [&] {
        require(session, "ember_generate_chat", "session");
        check_result(result);
        ember_result_clear(result);  // as documented, whatever happens next
        auto msgs = messages_from_c(messages, n_messages, "ember_generate_chat");
        r = session->session.generate(std::span<const ember::Message>(msgs), to_generate_options(options),
                                      wrap_callback(on_token, user_data));
        fill_result(r, result);
    });
    return s != EMBER_OK ? s : finish_status(r);
}

ember_status ember_generate_start(ember_session *session, const char *prompt, const ember_generate_options *options) {
    return guard("ember_generate_start", [&] {
        require(session, "ember_generate_start", "session");
        require(prompt, "ember_generate_start", "prompt");
        session->session.start(std::string_view(prompt), to_generate_options(options));
    });
}

ember_status ember_generate_next(ember_session *session, const char **text, size_t *length, bool *done) {
    return guard("ember_generate_next", [&] {
        require(session, "ember_generate_next", "session");
        require(text, "ember_generate_next", "text");
        require(length, "ember_generate_next", "length");
        require(done, "ember_generate_next", "done");
        auto piece = session->session.next();
        session->piece = piece ? std::move(*piece) : std::string();
        *text = session->piece.c_str();
        *length = session->piece.size();
        *done = !piece.has_value();
        if (!piece) {
            const ember::Result &r = session->session.result();
            if (r.finish_reason == ember::FinishReason::error)
                throw ember::Error(r.error_code == ember::Errc::ok ? ember::Errc::internal : r.error_code, r.error);
        }
    });
}

ember_status ember_generate_result(ember_session *session, ember_result *result) {
    return guard("ember_generate_result", [&] {
        require(session, "ember_generate_result", "session");
        require(result, "ember_generate_result", "result");
        check_result(result);
        fill_result(session->session.result(), result);
    });
}

ember_status ember_chat_create(ember_session *session, const char *system_prompt, ember_chat **out_chat) {
    return guard("ember_chat_create", [&] {
        require(session, "ember_chat_create", "session");
        require(out_chat, "ember_chat_create", "out_chat");
        auto handle = std::make_unique<ember_chat>(session->session, system_prompt ? system_prompt : "");
        *out_chat = handle.release();
    });
}

void ember_chat_free(ember_chat *chat) { delete chat; }

ember_status ember_chat_send(ember_chat *chat, const char *user_message, const ember_generate_options *options,
                             ember_token_fn on_token, void *user_data, ember_result *result) {
    ember::Result r;
    ember_status s = guard("ember_chat_send", [&] {
        require(chat, "ember_chat_send", "chat");
        require(user_message, "ember_chat_send", "user_message");
        check_result(result);
        ember_result_clear(result);  // as documented, whatever happens next
        r = chat->chat.send(user_message, to_generate_options(options), wrap_callback(on_token, user_data));
        fill_result(r, result);
    });
    return s != EMBER_OK ? s : finish_status(r);
}

ember_status ember_chat_reset(ember_chat *chat) {
    return guard("ember_chat_reset", [&] {
        require(chat, "ember_chat_reset", "chat");
        chat->chat.reset();
    });
}

size_t ember_chat_message_count(const ember_chat *chat) { return chat ? chat->chat.messages().size() : 0; }

}  // extern "C"
