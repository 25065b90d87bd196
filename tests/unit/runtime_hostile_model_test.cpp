// runtime_hostile_model_test.cpp - structurally valid GGUF files whose *meaning* is wrong,
// through the full loader (ember::Model::load: models, tokenizer, chat template). Each file
// is stories260K rewritten with gguf::Writer (metadata copied with set_value, tensors
// copied) with exactly one thing corrupted. Every one must end in an ember::Error with a
// message naming the problem, quickly and without allocating what the file claims.
#include <ember/ember.hpp>

#include "core/dtype.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "test_data.hpp"
#include "tiny_models.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

using namespace ember;
namespace fs = std::filesystem;

namespace {

// Every file this test writes goes to one folder per process, removed at exit.
const fs::path &scratch() {
    struct Dir {
        fs::path path = fs::temp_directory_path() / ("ember-hostile-" + std::to_string(getpid()));
        Dir() { fs::create_directories(path); }
        ~Dir() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

using Mutate = std::function<void(gguf::Writer &, const gguf::File &)>;

// Copy `src` into a new file, letting `mutate` change the metadata, then the tensors are
// added unless `skip_tensor` says otherwise (or `tensor_hook` adds its own version).
struct Rewrite {
    Mutate meta;
    std::function<bool(std::string_view name)> skip_tensor;
    std::function<void(gguf::Writer &, const gguf::TensorInfo &)> tensor_hook;  // replaces the copy
    std::string tensor_hook_name;
};

std::string write_variant(const std::string &src_rel, const Rewrite &r, const std::string &tag) {
    const gguf::File src = gguf::File::open(test::data_path(src_rel));
    gguf::Writer w(static_cast<uint32_t>(src.alignment()));
    for (const auto &kv : src.metadata()) w.set_value(kv.key, kv.value);
    if (r.meta) r.meta(w, src);
    for (const auto &t : src.tensors()) {
        if (r.skip_tensor && r.skip_tensor(t.name)) continue;
        if (r.tensor_hook && t.name == r.tensor_hook_name) {
            r.tensor_hook(w, t);
            continue;
        }
        std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        w.add_tensor_owned(t.name, t.type, ne, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
    }
    const std::string path = (scratch() / (tag + ".gguf")).string();
    w.write(path);
    return path;
}

// Load through the public API; return the error (CHECK fails if it loads or takes long).
Error load_error(const std::string &path) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
        Model m = Model::load(path);
        FAIL("loaded a hostile file: " << path);
    } catch (const Error &e) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        CHECK_MESSAGE(s < 5.0, "refusing took " << s << " s");
        MESSAGE(path << ": " << std::string(e.what()));
        return e;
    }
    return Error(Errc::ok, "");
}

Error hostile(const std::string &tag, Mutate meta) {
    return load_error(write_variant("models/stories260K.gguf", Rewrite{std::move(meta), {}, {}, {}}, tag));
}

bool mentions(const Error &e, std::string_view word) { return std::string_view(e.what()).find(word) != std::string_view::npos; }

}  // namespace

TEST_CASE("the unmodified rewrite loads (the harness itself is sound)") {
    const auto path = write_variant("models/stories260K.gguf", {}, "identity");
    Model m = Model::load(path);
    CHECK(m.info().n_layer == 5);
    Session s(m, {.n_ctx = 32, .n_threads = 1});
    GenerateOptions g;
    g.max_tokens = 2;
    g.sampling.temperature = 0;
    CHECK(s.generate("Once", g).tokens.size() == 2);
}

TEST_CASE("hyper-parameters inconsistent with tensor shapes") {
    auto e = hostile("embd", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.embedding_length", 128); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("ff", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.feed_forward_length", 171); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("embd0", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.embedding_length", 0); });
    CHECK(e.code() == Errc::invalid_model);
}

TEST_CASE("a layer count of millions is refused before anything is sized by it") {
    auto e = hostile("layers", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.block_count", 3'000'000); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("layers_max", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.block_count", 0xffffffffu); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("layers0", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.block_count", 0); });
    CHECK(e.code() == Errc::invalid_model);
}

TEST_CASE("head counts that do not divide") {
    auto e = hostile("heads", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.attention.head_count", 7); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("heads_kv", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.attention.head_count_kv", 3); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("heads0", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.attention.head_count", 0); });
    CHECK(e.code() == Errc::invalid_model);
    e = hostile("heads_kv_big", [](gguf::Writer &w, const gguf::File &) { w.set_u32("llama.attention.head_count_kv", 16); });
    CHECK(e.code() == Errc::invalid_model);
}

TEST_CASE("a vocabulary that disagrees with the embedding") {
    auto e = hostile("vocab", [](gguf::Writer &w, const gguf::File &f) {
        auto toks = f.get_string_array("tokenizer.ggml.tokens");
        std::vector<std::string_view> half(toks.begin(), toks.begin() + 256);
        w.set_string_array("tokenizer.ggml.tokens", std::span<const std::string_view>(half));
        auto scores = f.get_array<float>("tokenizer.ggml.scores");
        w.set_array<float>("tokenizer.ggml.scores", scores.subspan(0, 256));
        auto types = f.get_array<int32_t>("tokenizer.ggml.token_type");
        w.set_array<int32_t>("tokenizer.ggml.token_type", types.subspan(0, 256));
    });
    CHECK(e.code() == Errc::invalid_model);
    CHECK(mentions(e, "token_embd.weight"));
    // Scores or types of another length than the tokens.
    e = hostile("scores", [](gguf::Writer &w, const gguf::File &f) {
        auto scores = f.get_array<float>("tokenizer.ggml.scores");
        w.set_array<float>("tokenizer.ggml.scores", scores.subspan(0, 100));
    });
    CHECK(e.code() == Errc::tokenizer);
    CHECK(mentions(e, "tokenizer.ggml.scores"));
}

TEST_CASE("BOS/EOS ids out of range") {
    for (const char *key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id"}) {
        const std::string key_name = key;
        CAPTURE(key_name);
        auto e = hostile("special", [&](gguf::Writer &w, const gguf::File &) { w.set_u32(key, 512); });
        CHECK(e.code() == Errc::tokenizer);
        CHECK(mentions(e, key));
        e = hostile("special_max", [&](gguf::Writer &w, const gguf::File &) { w.set_u32(key, 0x7fffffffu); });
        CHECK(e.code() == Errc::tokenizer);
    }
}

TEST_CASE("merges naming unknown tokens") {
    // A byte-level BPE vocabulary (tokens taken from the file) whose merge list names tokens
    // that are not in it.
    auto e = hostile("merges", [](gguf::Writer &w, const gguf::File &) {
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "default");
        std::vector<std::string> merges{"xyzzy plugh"};
        w.set_string_array("tokenizer.ggml.merges", std::span<const std::string>(merges));
    });
    CHECK(e.code() == Errc::tokenizer);
    e = hostile("merges_form", [](gguf::Writer &w, const gguf::File &) {
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "default");
        std::vector<std::string> merges{"nospace"};
        w.set_string_array("tokenizer.ggml.merges", std::span<const std::string>(merges));
    });
    CHECK(e.code() == Errc::tokenizer);
}

TEST_CASE("tensor types not allowed for a tensor") {
    // A norm weight stored as Q8_0: the bytes are well formed, the type is not one a norm
    // may have.
    Rewrite r;
    r.tensor_hook_name = "output_norm.weight";
    r.tensor_hook = [](gguf::Writer &w, const gguf::TensorInfo &t) {
        w.add_tensor_owned(t.name, DType::q8_0, {t.ne[0]}, std::vector<uint8_t>(row_bytes(DType::q8_0, t.ne[0]).value(), 0));
    };
    auto e = load_error(write_variant("models/stories260K.gguf", r, "norm_q8"));
    CHECK(e.code() == Errc::invalid_model);
    CHECK(mentions(e, "output_norm.weight"));
    // An integer type for a weight matrix.
    r.tensor_hook_name = "blk.0.attn_q.weight";
    r.tensor_hook = [](gguf::Writer &w, const gguf::TensorInfo &t) {
        w.add_tensor_owned(t.name, DType::i32, {t.ne[0], t.ne[1]}, std::vector<uint8_t>(t.n_bytes, 0));
    };
    e = load_error(write_variant("models/stories260K.gguf", r, "q_i32"));
    CHECK((e.code() == Errc::invalid_model || e.code() == Errc::unsupported));
    CHECK(mentions(e, "blk.0.attn_q.weight"));
}

TEST_CASE("a context length of 2^40 never sizes an allocation") {
    // Refused at load: above 2^31 positions no context could be allocated anyway.
    auto e = hostile("ctx40", [](gguf::Writer &w, const gguf::File &) { w.set_u64("llama.context_length", uint64_t{1} << 40); });
    CHECK(e.code() == Errc::invalid_model);
    CHECK(mentions(e, "llama.context_length"));
    // 2^31 loads; the default session stays capped at 4096 positions, and asking for all
    // 2^31 (~1.2 TiB of f16 KV cache) is refused before any allocation with the figure.
    Model m = Model::load(write_variant("models/stories260K.gguf", Rewrite{[](gguf::Writer &w, const gguf::File &) {
        w.set_u64("llama.context_length", uint64_t{1} << 31);
    }, {}, {}, {}}, "ctx31"));
    CHECK(Session(m, {.n_threads = 1}).options().n_ctx == 4096);
    try {
        Session big(m, {.n_ctx = 0x80000000u, .n_threads = 1});
        FAIL("a 1.2 TiB session was created");
    } catch (const Error &err) {
        MESSAGE(std::string(err.what()));
        CHECK(err.code() == Errc::out_of_memory);
        CHECK(mentions(err, "MiB"));
    }
    CHECK_THROWS_AS(Session(m, {.n_ctx = 0x80000001u, .n_threads = 1}), Error);
}

namespace {
Model with_template(const std::string &tag, const std::string &tmpl) {
    return Model::load(write_variant("models/stories260K.gguf", Rewrite{[&](gguf::Writer &w, const gguf::File &) {
        w.set_string("tokenizer.chat_template", tmpl);
    }, {}, {}, {}}, tag));
}

// The model loads (plain generation does not need its template); rendering fails quickly.
void template_refused(const std::string &tag, const std::string &tmpl) {
    CAPTURE(tag);
    Model m = with_template(tag, tmpl);
    const std::vector<Message> msgs{{"user", "hi"}};
    const auto t0 = std::chrono::steady_clock::now();
    try {
        auto out = m.apply_chat_template(msgs);
        FAIL("rendered " << out.size() << " bytes");
    } catch (const Error &e) {
        MESSAGE(tag << ": " << std::string(e.what()));
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK_MESSAGE(s < 10.0, "refusing took " << s << " s");
    // And the model is still usable for plain generation.
    Session session(m, {.n_ctx = 32, .n_threads = 1});
    GenerateOptions g;
    g.max_tokens = 1;
    CHECK(session.generate("Once", g).tokens.size() == 1);
}
}  // namespace

TEST_CASE("chat templates that loop forever, recurse deeply or produce gigabytes") {
    template_refused("loop", "{% for i in range(1000000000) %}{% for j in range(1000000000) %}x{% endfor %}{% endfor %}");
    template_refused("loop_empty", "{% for i in range(1000000000) %}{% for j in range(1000000000) %}{% endfor %}{% endfor %}");
    // Loops within the list limit whose product is 4e10 iterations and no output.
    template_refused("loop_steps", "{% for i in range(200000) %}{% for j in range(200000) %}{% endfor %}{% endfor %}");
    template_refused("recurse", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    template_refused("nest_parens", "{{ " + std::string(200000, '(') + "1" + std::string(200000, ')') + " }}");
    template_refused("nest_blocks", [] {
        std::string t;
        for (int i = 0; i < 100000; ++i) t += "{% if true %}";
        for (int i = 0; i < 100000; ++i) t += "{% endif %}";
        return "{{ x }}" + t;
    }());
    template_refused("huge_string", "{{ 'x' * 4000000000 }}");
    template_refused("doubling", "{% set s = namespace(v='xxxxxxxx') %}{% for i in range(64) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}");
    template_refused("huge_list", "{{ range(4000000000) | list | length }}");
    template_refused("raise", "{{ raise_exception('no') }}");
}

TEST_CASE("tiny models load and generate; every fuzz_models seed loads or fails cleanly") {
    // The seeds of tests/fuzz/corpus/models/ are these models (and hostile copies of them):
    //   EMBER_WRITE_FUZZ_CORPUS=tests/fuzz/corpus/models build/.../runtime_hostile_model_test
    // rewrites them.
    const gguf::File donor = gguf::File::open(test::data_path("models/stories260K.gguf"));
    struct Seed {
        const char *name;
        test::TinySpec spec;
    };
    std::vector<Seed> seeds{
        {"llama-f16-tied", {}},
        {"llama-q4_0-2layers", {.n_embd = 32, .n_head = 4, .n_head_kv = 2, .n_ff = 64, .n_layer = 2,
                                .matrix_type = DType::q4_0, .tied_output = false}},
        {"qwen2-f16", {.arch = "qwen2"}},
        {"qwen3-f16", {.arch = "qwen3", .n_head = 4, .n_head_kv = 2}},
    };
    const char *out_dir = std::getenv("EMBER_WRITE_FUZZ_CORPUS");
    const fs::path tmp = scratch();
    auto save = [&](const std::string &name, const std::vector<uint8_t> &bytes) {
        CHECK(bytes.size() < 50'000);
        for (const fs::path &dir : {tmp, out_dir ? fs::path(out_dir) : tmp}) {
            std::ofstream(dir / (name + ".gguf"), std::ios::binary)
                .write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        }
        return (tmp / (name + ".gguf")).string();
    };
    for (const Seed &seed : seeds) {
        const std::string name = seed.name;
        CAPTURE(name);
        const auto bytes = test::tiny_model(donor, seed.spec);
        Model m = Model::load(save(name, bytes));
        Session s(m, {.n_ctx = 16, .n_threads = 1});
        GenerateOptions g;
        g.max_tokens = 2;
        CHECK(s.generate("Once", g).tokens.size() == 2);
    }
    // Hostile copies of the first, so the fuzzer starts next to each check.
    auto hostile_seed = [&](const std::string &name, const std::function<void(test::TinySpec &)> &change) {
        test::TinySpec spec;
        change(spec);
        try {
            (void)save(name, test::tiny_model(donor, spec));
        } catch (const Error &) {
            // tiny_model itself refused (a shape the writer cannot make): not a seed.
        }
    };
    hostile_seed("hostile-heads", [](test::TinySpec &t) { t.n_head = 3; });
    hostile_seed("hostile-kv-heads", [](test::TinySpec &t) { t.n_head_kv = 2; t.n_head = 3; });

    // Every committed seed: loads and runs one token, or is an ember::Error.
    const fs::path corpus = fs::path(test::data_path("models")).parent_path().parent_path() / "fuzz/corpus/models";
    REQUIRE(fs::is_directory(corpus));
    int n = 0;
    for (const auto &entry : fs::directory_iterator(corpus)) {
        const std::string file = entry.path().filename().string();
        CAPTURE(file);
        ++n;
        try {
            Model m = Model::load(entry.path().string());
            Session s(m, {.n_ctx = 8, .n_threads = 1});
            GenerateOptions g;
            g.max_tokens = 1;
            (void)s.generate("x", g);
        } catch (const Error &e) {
            MESSAGE(file << ": " << std::string(e.what()));
        }
    }
    CHECK(n >= 4);
}
