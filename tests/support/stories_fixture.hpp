// stories_fixture.hpp - what the public-API tests on stories260K share: the model, loaded
// once, llama.cpp's reference for it (F32 KV cache), and the Errc a call throws.
#pragma once

#include <ember/ember.hpp>

#include "test_data.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>

namespace ember::test {

inline const Model &stories() {
    static const Model m = Model::load(data_path("models/stories260K.gguf"));
    return m;
}

// tests/data/reference/stories260K.f32kv.json: greedy tokens, fixed_sequence, logprobs ...
inline const nlohmann::json &stories_reference() {
    static const nlohmann::json j = [] {
        std::ifstream in(data_path("reference/stories260K.f32kv.json"));
        return nlohmann::json::parse(in);
    }();
    return j;
}

// The code of the ember::Error f throws; Errc::ok when it throws none.
inline Errc code_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return Errc::ok;
}

}  // namespace ember::test
