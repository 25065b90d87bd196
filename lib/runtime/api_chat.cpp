// The public ember::Chat (ember.hpp): a conversation kept over a Session.
//
// Each turn renders the whole conversation with the model's template and hands it to the
// session, which keeps the longest prefix it already holds in its KV cache and evaluates
// only the rest: in steady state, the new user message and the template's glue.
#include "runtime/api_internal.hpp"

namespace ember {

struct Chat::Impl {
    Session *session;
    std::string system_prompt;
    std::vector<Message> messages;

    Impl(Session &s, std::string system) : session(&s), system_prompt(std::move(system)) { reset_messages(); }

    void reset_messages() {
        messages.clear();
        if (!system_prompt.empty()) messages.push_back({"system", system_prompt});
    }
};

Chat::Chat(Session &session, std::string system_prompt)
    : impl_(std::make_unique<Impl>(session, std::move(system_prompt))) {}
Chat::Chat(Chat &&) noexcept = default;
Chat &Chat::operator=(Chat &&) noexcept = default;
Chat::~Chat() = default;

Result Chat::send(std::string_view user_message, const GenerateOptions &options, const OnToken &on_token) {
    auto &msgs = impl_->messages;
    msgs.push_back({"user", std::string(user_message)});
    Result r;
    try {
        r = impl_->session->generate(std::span<const Message>(msgs), options, on_token);
    } catch (...) {
        msgs.pop_back();  // nothing was generated: the turn can be retried as if unsent
        throw;
    }
    if (r.finish_reason == FinishReason::error && r.tokens.empty()) {
        msgs.pop_back();
        return r;
    }
    msgs.push_back({"assistant", r.text});
    return r;
}

std::span<const Message> Chat::messages() const noexcept { return impl_->messages; }

void Chat::reset() {
    impl_->reset_messages();
    impl_->session->reset();
}

}  // namespace ember
