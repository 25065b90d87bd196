// The public ember::Model (ember.hpp) over models::Model and the tokenizer.
#include "runtime/api_internal.hpp"

#include "core/dtype.hpp"
#include "core/fail.hpp"
#include "gguf/names.hpp"

#include <algorithm>
#include <map>

namespace ember {

const char *version() noexcept { return EMBER_VERSION_STRING; }

namespace {

ModelInfo describe(const Model::Impl &m, const std::string &path) {
    const gguf::File &file = m.model->file();
    const models::HParams &hp = m.model->hparams();
    ModelInfo info;
    info.path = path;
    info.architecture = hp.architecture;
    info.name = file.get_optional<std::string>(gguf::key::name).value_or("");
    info.context_length = static_cast<uint32_t>(hp.n_ctx_train);
    info.n_vocab = static_cast<uint32_t>(hp.n_vocab);
    info.n_layer = static_cast<uint32_t>(hp.n_layer);
    info.n_embd = static_cast<uint32_t>(hp.n_embd);
    info.n_head = static_cast<uint32_t>(hp.n_head);
    info.n_head_kv = static_cast<uint32_t>(hp.n_head_kv);
    std::map<std::string, TensorTypeCount> by_type;
    for (const auto &t : file.tensors()) {
        info.n_params += t.n_elements();
        info.n_bytes += t.n_bytes;
        auto &entry = by_type[std::string(dtype_name(t.type))];
        entry.type = dtype_name(t.type);
        entry.tensors += 1;
        entry.bytes += t.n_bytes;
    }
    for (auto &[name, count] : by_type) info.tensor_types.push_back(count);
    std::stable_sort(info.tensor_types.begin(), info.tensor_types.end(),
                     [](const auto &a, const auto &b) { return a.bytes > b.bytes; });
    info.has_chat_template = !m.chat_template.empty();
    const tokenizer::Tokenizer &tok = m.tokenizer;
    info.special.bos = tok.bos();
    info.special.eos = tok.eos();
    info.special.eot = tok.eot();
    info.special.pad = tok.pad();
    info.special.unk = tok.unk();
    return info;
}

// Touch every page of the weights in order, reporting progress and honouring cancel. With
// a mapping this is what takes the time of a cold load (the OS reads the file), so the bar
// shows real work; afterwards the first forward pass does not stall on page faults.
void page_in(const gguf::File &file, const std::function<bool(float)> &progress) {
    const auto bytes = file.bytes();
    const size_t total = bytes.size();
    constexpr size_t chunk = size_t{8} << 20;
    constexpr size_t page = 4096;
    if (!progress(0.0f)) fail(Errc::cancelled, "loading {}: cancelled by the progress callback", file.path());
    for (size_t begin = 0; begin < total; begin += chunk) {
        const size_t end = std::min(total, begin + chunk);
        uint8_t sink = 0;
        // Released tensors (repacked weights) are skipped: touching them would bring back
        // the memory the loader gave up, or read zeros.
        for (size_t i = begin; i < end; i += page)
            if (!file.released(i)) sink ^= *static_cast<const volatile uint8_t *>(bytes.data() + i);
        (void)sink;
        const float fraction = static_cast<float>(static_cast<double>(end) / static_cast<double>(total));
        if (!progress(fraction)) fail(Errc::cancelled, "loading {}: cancelled by the progress callback", file.path());
    }
}

}  // namespace

Model Model::load(const std::string &path, const LoadOptions &options) {
    if (path.empty()) fail(Errc::invalid_argument, "Model::load: the path is empty");
    if (options.mode != LoadMode::mmap && options.mode != LoadMode::mmap_locked && options.mode != LoadMode::read)
        fail(Errc::invalid_argument, "Model::load: load mode {} is not a LoadMode", static_cast<int>(options.mode));
    models::LoadOptions mo;
    mo.mode = static_cast<gguf::LoadMode>(static_cast<int>(options.mode));
    auto model = models::Model::load(path, mo);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    auto impl = std::make_shared<Impl>(std::move(model), std::move(tok));
    impl->chat_template = impl->model->file().get_optional<std::string>(gguf::key::chat_template).value_or("");
    impl->info = describe(*impl, path);
    try {
        impl->tmpl = chat::model_template(impl->chat_template.empty() ? nullptr : &impl->chat_template).tmpl;
    } catch (const Error &e) {
        impl->template_error = e.what();
    }
    if (options.progress) page_in(impl->model->file(), options.progress);
    return Model(std::move(impl));
}

Model::Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Model::Model(const Model &) noexcept = default;
Model &Model::operator=(const Model &) noexcept = default;
Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;
Model::~Model() = default;

const ModelInfo &Model::info() const noexcept { return impl_->info; }

std::vector<Token> Model::tokenize(std::string_view text, bool add_special, bool parse_special) const {
    tokenizer::EncodeOptions o;
    o.add_special = add_special;
    o.parse_special = parse_special;
    return impl_->tokenizer.encode(text, o);
}

std::string Model::detokenize(std::span<const Token> tokens, bool render_special) const {
    const auto n_vocab = static_cast<int64_t>(impl_->tokenizer.vocab_size());
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            fail(Errc::invalid_argument, "detokenize: token {} at index {} is outside the vocabulary [0, {})",
                 tokens[i], i, n_vocab);
    tokenizer::DecodeOptions o;
    o.unparse_special = render_special;
    return impl_->tokenizer.decode(tokens, o);
}

bool Model::is_end_of_generation(Token token) const {
    if (token < 0 || static_cast<size_t>(token) >= impl_->tokenizer.vocab_size()) return false;
    return impl_->tokenizer.is_eog(token);
}

std::string Model::apply_chat_template(std::span<const Message> messages, bool add_generation_prompt) const {
    return render_chat(*impl_, messages, add_generation_prompt);
}

}  // namespace ember
