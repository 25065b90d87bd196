// runtime_isa_test.cpp - the same logits, bit for bit, on every ISA this host can run.
//
// ember's kernels share one arithmetic chain per output element on every ISA
// (kernels/scalar_dots.hpp, kernels/float_order.hpp) and the library is built without
// floating-point contraction, so a model's logits do not depend on the CPU: a laptop with
// AVX2 and a server with AVX-512 VNNI compute the same bits. The ISA is chosen once per
// process (EMBER_ISA), so the parent case runs this executable once per ISA and compares
// digests of every logit the child computed.
#include "runtime/session.hpp"
#include "test_data.hpp"

#include "core/cpu_features.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

using namespace ember;

namespace {

constexpr const char *k_models[] = {
    "models/stories260K.gguf",          "models/stories260K-Q8_0.gguf",
    "models/stories260K-Q4_0.gguf",     "models/stories260K-Q4_1.gguf",
    "tiny-archs/tiny-llama-F16.gguf",   "tiny-archs/tiny-llama-BF16.gguf",
    "tiny-archs/tiny-llama-Q5_0.gguf",  "tiny-archs/tiny-llama-Q5_1.gguf",
    "tiny-archs/tiny-llama-Q4_K.gguf",  "tiny-archs/tiny-llama-Q5_K.gguf",
    "tiny-archs/tiny-llama-Q6_K.gguf",  "tiny-archs/tiny-llama-Q4_K_M.gguf",
    "tiny-archs/tiny-qwen2.gguf",       "tiny-archs/tiny-qwen3.gguf",
    "tiny-archs/tiny-gemma3.gguf",      "tiny-archs/tiny-phi3.gguf",
};

uint64_t fnv1a(const void *data, size_t n, uint64_t h) {
    const auto *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

// A 40-token prompt in one pass (all logits), then 12 greedy steps one token at a time: the
// matrix-matrix and the matrix-vector kernels, prompt attention and decode attention.
uint64_t digest(const std::string &path, ops::KvType kv, bool flash) {
    auto model = models::Model::load(path);
    runtime::SessionOptions o;
    o.kv_type = kv;
    o.flash_attn = flash;
    o.n_threads = 2;
    runtime::Session s(model, o);
    const int64_t nv = s.n_vocab();
    std::vector<int32_t> prompt{1};
    for (int i = 1; i < 40; ++i) prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % nv));
    std::vector<float> all(prompt.size() * static_cast<size_t>(nv));
    s.decode(prompt, all);
    uint64_t h = fnv1a(all.data(), all.size() * sizeof(float), 0xcbf29ce484222325ull);
    int32_t tok = static_cast<int32_t>(std::max_element(all.end() - nv, all.end()) - (all.end() - nv));
    for (int step = 0; step < 12; ++step) {
        const auto logits = s.decode(std::span<const int32_t>(&tok, 1));
        h = fnv1a(logits.data(), logits.size() * sizeof(float), h);
        tok = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    return h;
}

}  // namespace

TEST_CASE("isa digest (child)") {
    if (std::getenv("EMBER_ISA_DIGEST_CHILD") == nullptr) return;  // only as the parent's child
    std::printf("isa %s\n", std::string(isa_name(active_isa())).c_str());
    for (const char *m : k_models) {
        const std::string path = test::data_path(m);
        for (auto [kv, flash, tag] : {std::tuple{ops::KvType::f32, false, "f32kv"},
                                      std::tuple{ops::KvType::f16, false, "f16kv"},
                                      std::tuple{ops::KvType::f16, true, "f16kv-flash"}})
            std::printf("digest %s %s %016llx\n", m, tag,
                        static_cast<unsigned long long>(digest(path, kv, flash)));
    }
}

TEST_CASE("every ISA this host runs gives the same logits, bit for bit") {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = '\0';
    std::map<std::string, std::vector<std::string>> runs;  // isa -> digest lines
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avxvnni, Isa::avx512, Isa::avx512vnni}) {
        const std::string name(isa_name(isa));
        if (!isa_supported(isa)) {
            MESSAGE("not compared: this CPU cannot run " << name);
            continue;
        }
        const std::string cmd = "EMBER_ISA=" + name + " EMBER_ISA_DIGEST_CHILD=1 '" + self +
                                "' '--test-case=isa digest (child)' 2>/dev/null";
        FILE *p = ::popen(cmd.c_str(), "r");
        REQUIRE(p != nullptr);
        std::vector<std::string> lines;
        bool ran_as = false;
        char buf[512];
        while (std::fgets(buf, sizeof buf, p) != nullptr) {
            const std::string line(buf);
            if (line == "isa " + name + "\n") ran_as = true;
            if (line.rfind("digest ", 0) == 0) lines.push_back(line);
        }
        CHECK(::pclose(p) == 0);
        CHECK_MESSAGE(ran_as, "the child did not run with " << name);
        CHECK(lines.size() == std::size(k_models) * 3);
        runs[name] = lines;
    }
    REQUIRE(runs.count("scalar") == 1);
    for (const auto &[name, lines] : runs) {
        CAPTURE(name);
        for (size_t i = 0; i < std::min(lines.size(), runs["scalar"].size()); ++i)
            CHECK_MESSAGE(lines[i] == runs["scalar"][i], name << ": " << lines[i] << " scalar: " << runs["scalar"][i]);
    }
    MESSAGE("compared " << runs.size() << " ISAs on " << std::size(k_models) << " models x 3 caches");
}
