// capi/capi_common.hpp - what every C entry point shares: the exception firewall, the
// thread-local error message, and options structs read by struct_size.
#pragma once

#include <ember/ember.h>
#include <ember/ember.hpp>

#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

// The opaque handles of ember.h. Each wraps the C++ object it stands for.
struct ember_model {
    ember::Model model;
};

struct ember_session {
    explicit ember_session(ember::Session s) : session(std::move(s)) {}
    ember::Session session;
    std::string piece;  // the text ember_generate_next last returned, owned here
};

struct ember_chat {
    ember_chat(ember::Session &s, std::string system) : chat(s, std::move(system)) {}
    ember::Chat chat;
};

namespace ember::capi {

// Set this thread's ember_last_error() message. Never throws: if even the copy fails, a
// fixed message stands in.
void set_last_error(const char *message) noexcept;

// Run body; map whatever it throws to a status and the thread's message. Every ember_*
// entry point that can fail goes through here, so no exception crosses the C boundary.
template <class Body>
ember_status guard(const char *function, Body &&body) noexcept {
    try {
        body();
        return EMBER_OK;
    } catch (const ember::Error &e) {
        set_last_error(e.what());
        return static_cast<ember_status>(e.code());
    } catch (const std::bad_alloc &) {
        set_last_error("out of memory");
        return EMBER_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        try {
            set_last_error((std::string(function) + ": internal error: " + e.what()).c_str());
        } catch (...) {
            set_last_error("internal error");
        }
        return EMBER_ERR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return EMBER_ERR_INTERNAL;
    }
}

// Throw invalid_argument naming the NULL parameter.
void require(const void *pointer, const char *function, const char *parameter);

// A caller's options struct, read safely: NULL gives `defaults`; otherwise struct_size must
// be one this library knows (today only the full size: every field is from version 1).
template <class T>
T read_options(const T *in, const T &defaults, const char *type_name) {
    if (!in) return defaults;
    if (in->struct_size != sizeof(T))
        throw ember::Error(ember::Errc::invalid_argument,
                           std::string(type_name) + ": struct_size is " + std::to_string(in->struct_size) +
                               ", this library expects " + std::to_string(sizeof(T)) +
                               " (call the _init function first)");
    T out;
    std::memcpy(static_cast<void *>(&out), in, sizeof(T));
    return out;
}

// C messages to C++ ones (NULL entries refused, naming the index).
std::vector<Message> messages_from_c(const ember_message *messages, size_t n, const char *function);

// C options to C++ ones (validation of values happens in the C++ API).
ember::GenerateOptions to_generate_options(const ember_generate_options *options);

// Check an output ember_result before generating (so a bad one fails before any work).
void check_result(const ember_result *result);
// Copy a C++ result into the caller's struct (allocating text and tokens for it).
void fill_result(const ember::Result &from, ember_result *to);
// The status a finished generation reports: OK unless it ended in an error.
ember_status finish_status(const ember::Result &r) noexcept;

}  // namespace ember::capi
