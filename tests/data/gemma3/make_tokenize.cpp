// make_tokenize.cpp - produce tests/data/gemma3/tokenize.json with llama.cpp (not part of
// ember's build; built and run as README.md says).
//
//   make_tokenize MODEL INP_FILE...   > tokenize.json
//
// Each INP_FILE is split like llama.cpp's vocabulary test inputs (../vocab/*.inp): strings
// separated by "\n__ggml_vocab_test__\n", an empty tail dropped. Every string is tokenized
// as those tests do (no BOS, special tokens not parsed). Prints a JSON array of
// {"text", "ids"}.
#include "llama.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::string json_escape(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s MODEL INP_FILE...\n", argv[0]);
        return 2;
    }
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    const llama_vocab *vocab = llama_model_get_vocab(model);
    const std::string sep = "\n__ggml_vocab_test__\n";
    bool first = true;
    std::printf("[\n");
    for (int a = 2; a < argc; ++a) {
        std::ifstream in(argv[a], std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string all = ss.str();
        for (size_t pos = 0; pos < all.size();) {
            size_t end = all.find(sep, pos);
            if (end == std::string::npos) end = all.size();
            const std::string text = all.substr(pos, end - pos);
            pos = end == all.size() ? end : end + sep.size();
            const int n = -llama_tokenize(vocab, text.data(), int32_t(text.size()), nullptr, 0,
                                          false, false);
            std::vector<llama_token> ids(size_t(n > 0 ? n : 0));
            llama_tokenize(vocab, text.data(), int32_t(text.size()), ids.data(),
                           int32_t(ids.size()), false, false);
            std::printf("%s  {\"text\": \"%s\", \"ids\": [", first ? "" : ",\n",
                        json_escape(text).c_str());
            for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? ", " : "", ids[i]);
            std::printf("]}");
            first = false;
        }
    }
    std::printf("\n]\n");
    llama_model_free(model);
    return 0;
}
