// The C ABI: models, tokens and chat templates.
#include "capi/capi_common.hpp"

#include <memory>
#include <vector>

using namespace ember::capi;

namespace {

// Copy text into a caller's buffer per ember.h's convention: always report the length,
// NUL-terminate when there is room, and refuse (after reporting) when there is not.
void copy_out(const std::string &s, char *text, size_t capacity, size_t *text_length, const char *function) {
    *text_length = s.size();
    if (capacity < s.size() + 1)
        throw ember::Error(ember::Errc::invalid_argument,
                           std::string(function) + ": buffer of " + std::to_string(capacity) + " bytes is too small, " +
                               std::to_string(s.size() + 1) + " needed");
    require(text, function, "text");
    std::memcpy(text, s.data(), s.size());
    text[s.size()] = '\0';
}

std::vector<ember::Message> to_messages(const ember_message *messages, size_t n, const char *function) {
    if (n > 0) require(messages, function, "messages (with n_messages > 0)");
    std::vector<ember::Message> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (!messages[i].role || !messages[i].content)
            throw ember::Error(ember::Errc::invalid_argument,
                               std::string(function) + ": messages[" + std::to_string(i) + "] has a NULL role or content");
        out.push_back({messages[i].role, messages[i].content});
    }
    return out;
}

}  // namespace

extern "C" {

void ember_model_options_init(ember_model_options *options) {
    if (!options) return;
    std::memset(static_cast<void *>(options), 0, sizeof(*options));
    options->struct_size = sizeof(*options);
    options->load_mode = EMBER_LOAD_MMAP;
}

ember_status ember_model_load(const char *path, const ember_model_options *options, ember_model **out_model) {
    return guard("ember_model_load", [&] {
        require(path, "ember_model_load", "path");
        require(out_model, "ember_model_load", "out_model");
        ember_model_options defaults;
        ember_model_options_init(&defaults);
        const ember_model_options o = read_options(options, defaults, "ember_model_options");
        ember::LoadOptions lo;
        if (o.load_mode < EMBER_LOAD_MMAP || o.load_mode > EMBER_LOAD_READ)
            throw ember::Error(ember::Errc::invalid_argument,
                               "ember_model_options: load_mode " + std::to_string(o.load_mode) + " is not an ember_load_mode");
        lo.mode = static_cast<ember::LoadMode>(o.load_mode);
        if (o.progress) {
            ember_progress_fn fn = o.progress;
            void *user = o.progress_user_data;
            lo.progress = [fn, user](float fraction) { return fn(fraction, user); };
        }
        auto handle = std::make_unique<ember_model>(ember_model{ember::Model::load(path, lo)});
        *out_model = handle.release();
    });
}

void ember_model_free(ember_model *model) { delete model; }

ember_status ember_model_get_info(const ember_model *model, ember_model_info *info) {
    return guard("ember_model_get_info", [&] {
        require(model, "ember_model_get_info", "model");
        require(info, "ember_model_get_info", "info");
        if (info->struct_size != sizeof(ember_model_info))
            throw ember::Error(ember::Errc::invalid_argument,
                               "ember_model_info: struct_size is " + std::to_string(info->struct_size) +
                                   ", this library expects " + std::to_string(sizeof(ember_model_info)));
        const ember::ModelInfo &m = model->model.info();
        info->architecture = m.architecture.c_str();
        info->name = m.name.c_str();
        info->n_params = m.n_params;
        info->n_bytes = m.n_bytes;
        info->context_length = m.context_length;
        info->n_vocab = m.n_vocab;
        info->n_layer = m.n_layer;
        info->n_embd = m.n_embd;
        info->n_head = m.n_head;
        info->n_head_kv = m.n_head_kv;
        info->has_chat_template = m.has_chat_template;
        info->bos_token = m.special.bos;
        info->eos_token = m.special.eos;
        info->eot_token = m.special.eot;
    });
}

ember_status ember_tokenize(const ember_model *model, const char *text, size_t text_length, bool add_special,
                            bool parse_special, int32_t *tokens, size_t capacity, size_t *n_tokens) {
    return guard("ember_tokenize", [&] {
        require(model, "ember_tokenize", "model");
        if (text_length > 0) require(text, "ember_tokenize", "text");
        require(n_tokens, "ember_tokenize", "n_tokens");
        auto ids = model->model.tokenize(std::string_view(text ? text : "", text_length), add_special, parse_special);
        *n_tokens = ids.size();
        if (capacity < ids.size())
            throw ember::Error(ember::Errc::invalid_argument, "ember_tokenize: room for " + std::to_string(capacity) +
                                                                  " tokens, " + std::to_string(ids.size()) + " needed");
        if (!ids.empty()) {
            require(tokens, "ember_tokenize", "tokens");
            std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
        }
    });
}

ember_status ember_detokenize(const ember_model *model, const int32_t *tokens, size_t n_tokens, bool render_special,
                              char *text, size_t capacity, size_t *text_length) {
    return guard("ember_detokenize", [&] {
        require(model, "ember_detokenize", "model");
        if (n_tokens > 0) require(tokens, "ember_detokenize", "tokens");
        require(text_length, "ember_detokenize", "text_length");
        std::string s = model->model.detokenize(std::span<const int32_t>(tokens, n_tokens), render_special);
        copy_out(s, text, capacity, text_length, "ember_detokenize");
    });
}

bool ember_token_is_end_of_generation(const ember_model *model, int32_t token) {
    if (!model) return false;
    try {
        return model->model.is_end_of_generation(token);
    } catch (...) {
        return false;
    }
}

ember_status ember_apply_chat_template(const ember_model *model, const ember_message *messages, size_t n_messages,
                                       bool add_generation_prompt, char *text, size_t capacity, size_t *text_length) {
    return guard("ember_apply_chat_template", [&] {
        require(model, "ember_apply_chat_template", "model");
        require(text_length, "ember_apply_chat_template", "text_length");
        auto msgs = to_messages(messages, n_messages, "ember_apply_chat_template");
        copy_out(model->model.apply_chat_template(msgs, add_generation_prompt), text, capacity, text_length,
                 "ember_apply_chat_template");
    });
}

}  // extern "C"

namespace ember::capi {
std::vector<Message> messages_from_c(const ember_message *messages, size_t n, const char *function) {
    return to_messages(messages, n, function);
}
}  // namespace ember::capi
