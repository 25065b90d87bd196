// make_reference.cpp - produce tests/data/gemma3/*.json with llama.cpp (not part of ember's
// build). Written against llama.h of llama.cpp 80fb11a; see README.md for how it was built
// and run. The SmolLM2 program (../smollm2/make_reference.cpp) plus a context-size option:
// Gemma 3 attends within a 512-token sliding window on 5 of every 6 layers, so a prompt
// longer than 512 tokens needs a larger context to exercise it.
//
//   make_reference MODEL N_PREDICT [--f32-kv] [--flash-attn] [--n-ctx N] [--n-ubatch N]
//                  PROMPT_FILE...   > out.json
//
// For each prompt file (raw UTF-8 bytes, used verbatim): tokenize it the way llama.cpp's own
// tools do (add the model's BOS if its metadata asks for it, parse special tokens so a chat-
// formatted prompt's <|im_start|> markers become single tokens), then decode greedily
// (argmax, first index on ties) N_PREDICT tokens or until an end-of-generation token, one
// token per llama_decode call after the prompt. Prints a JSON array, one object per
// prompt; top2_gap is the logit margin of each greedy choice (how robust it is).
#include "llama.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::string json_escape(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
    }
    return out;
}

static std::vector<llama_token> tokenize(const llama_vocab *vocab, const std::string &text,
                                         bool add_special, bool parse_special) {
    int n = -llama_tokenize(vocab, text.data(), int32_t(text.size()), nullptr, 0, add_special,
                            parse_special);
    std::vector<llama_token> out(size_t(n > 0 ? n : 0));
    llama_tokenize(vocab, text.data(), int32_t(text.size()), out.data(), int32_t(out.size()),
                   add_special, parse_special);
    return out;
}

static std::string piece(const llama_vocab *vocab, llama_token t) {
    char buf[256];
    int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, true);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

static void print_ids(const char *key, const std::vector<llama_token> &ids, bool last = false) {
    std::printf("    \"%s\": [", key);
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? ", " : "", ids[i]);
    std::printf("]%s\n", last ? "" : ",");
}

int main(int argc, char **argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s MODEL N_PREDICT [options] PROMPT_FILE...\n", argv[0]);
        return 2;
    }
    const int n_predict = std::atoi(argv[2]);
    int first_prompt = 3;
    bool f32_kv = false;  // default: llama.cpp's F16 KV cache
    bool flash = false;   // --flash-attn: flash attention on (llama.cpp's CPU default is auto = on)
    int n_ctx = 512, n_ubatch = 0;  // n_ubatch 0: llama.cpp's default (512)
    for (; first_prompt < argc && argv[first_prompt][0] == '-'; ++first_prompt) {
        const std::string opt = argv[first_prompt];
        if (opt == "--f32-kv") {
            f32_kv = true;
        } else if (opt == "--flash-attn") {
            flash = true;
        } else if ((opt == "--n-ctx" || opt == "--n-ubatch") && first_prompt + 1 < argc) {
            (opt == "--n-ctx" ? n_ctx : n_ubatch) = std::atoi(argv[++first_prompt]);
        } else {
            std::fprintf(stderr, "unknown option %s\n", opt.c_str());
            return 2;
        }
    }
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    const llama_vocab *vocab = llama_model_get_vocab(model);

    std::printf("[\n");
    for (int a = first_prompt; a < argc; ++a) {
        std::ifstream in(argv[a], std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string prompt = ss.str();

        llama_context_params cp = llama_context_default_params();
        cp.n_ctx = uint32_t(n_ctx);
        cp.n_batch = uint32_t(n_ctx);  // the whole prompt in one llama_decode
        cp.n_threads = cp.n_threads_batch = 1;
        cp.flash_attn_type = flash ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                                   : LLAMA_FLASH_ATTN_TYPE_DISABLED;  // off: as tests/data/reference
        if (n_ubatch > 0) cp.n_ubatch = uint32_t(n_ubatch);  // micro-batches llama.cpp splits the prompt into
        if (f32_kv) cp.type_k = cp.type_v = GGML_TYPE_F32;
        llama_context *ctx = llama_init_from_model(model, cp);
        if (!ctx) return 1;

        std::vector<llama_token> prompt_ids = tokenize(vocab, prompt, true, true);
        std::vector<llama_token> plain_ids = tokenize(vocab, prompt, false, false);
        std::vector<llama_token> out;
        std::vector<float> gaps;  // top-1 minus top-2 logit at each step
        std::string text;
        llama_batch batch = llama_batch_get_one(prompt_ids.data(), int32_t(prompt_ids.size()));
        llama_token next = 0;
        for (int i = 0; i < n_predict; ++i) {
            if (llama_decode(ctx, batch) != 0) return 1;
            const float *logits = llama_get_logits_ith(ctx, -1);
            const int n_vocab = llama_vocab_n_tokens(vocab);
            next = 0;
            for (int v = 1; v < n_vocab; ++v)
                if (logits[v] > logits[next]) next = v;
            float second = -1e30f;
            for (int v = 0; v < n_vocab; ++v)
                if (v != next && logits[v] > second) second = logits[v];
            gaps.push_back(logits[next] - second);
            if (llama_vocab_is_eog(vocab, next)) {
                out.push_back(next);  // recorded, not rendered: generation stops here
                break;
            }
            out.push_back(next);
            text += piece(vocab, next);
            batch = llama_batch_get_one(&next, 1);
        }
        std::printf("  {\n    \"prompt\": \"%s\",\n    \"n_ctx\": %d,\n",
                    json_escape(prompt).c_str(), n_ctx);
        print_ids("prompt_tokens", prompt_ids);
        print_ids("tokenize_no_special", plain_ids);
        print_ids("greedy", out);
        std::printf("    \"top2_gap\": [");
        for (size_t i = 0; i < gaps.size(); ++i) std::printf("%s%.4f", i ? ", " : "", gaps[i]);
        std::printf("],\n");
        std::printf("    \"greedy_text\": \"%s\"\n  }%s\n", json_escape(text).c_str(),
                    a + 1 < argc ? "," : "");
        llama_free(ctx);
    }
    std::printf("]\n");
    llama_model_free(model);
    return 0;
}
