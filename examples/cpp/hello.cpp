// hello.cpp - a short conversation with a model through ember's C++ API.
//   c++ -std=c++20 hello.cpp -lember -o hello && ./hello SmolLM2-135M-Instruct.Q4_1.gguf
#include <ember/ember.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " MODEL.gguf\n";
        return 2;
    }
    try {
        ember::Model model = ember::Model::load(argv[1]);
        ember::Session session(model, {.n_ctx = 2048});
        ember::Chat chat(session, "You are a helpful assistant.");

        ember::GenerateOptions options;
        options.max_tokens = 96;
        auto print = [](std::string_view text) {
            std::cout << text << std::flush;
            return true;  // false would stop the answer here
        };
        for (const char *question : {"Name a planet.", "How far is it from the Sun?"}) {
            std::cout << "> " << question << "\n";
            ember::Result r = chat.send(question, options, print);  // remembers earlier turns
            std::cout << "\n(" << r.timings.generated_tokens << " tokens, "
                      << static_cast<int>(r.timings.generated_tokens_per_second()) << " tokens/s)\n";
        }
        return 0;
    } catch (const ember::Error &e) {  // a code (e.code()) and a message naming the problem
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
