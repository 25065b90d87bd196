// Error type of the C++ API.
#include <ember/error.hpp>

namespace ember {

const char *errc_name(Errc code) noexcept {
    switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::io: return "io";
    case Errc::invalid_file: return "invalid_file";
    case Errc::unsupported: return "unsupported";
    case Errc::out_of_memory: return "out_of_memory";
    case Errc::context_full: return "context_full";
    case Errc::cancelled: return "cancelled";
    case Errc::invalid_model: return "invalid_model";
    case Errc::tokenizer: return "tokenizer";
    case Errc::template_error: return "template_error";
    case Errc::internal: return "internal";
    }
    return "unknown";
}

Error::Error(Errc code, const std::string &message) : std::runtime_error(message), code_(code) {}

}  // namespace ember
