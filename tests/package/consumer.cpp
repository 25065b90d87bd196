// A program built against an installed ember (find_package, add_subdirectory, Conan,
// vcpkg): loads the model given on the command line and generates a few tokens.
#include <ember/ember.hpp>

#include <cstdio>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: consumer MODEL.gguf\n");
        return 2;
    }
    try {
        ember::Model model = ember::Model::load(argv[1]);
        ember::Session session(model, {.n_ctx = 128, .n_threads = 1});
        ember::GenerateOptions options;
        options.max_tokens = 8;
        options.sampling.temperature = 0.0f;
        ember::Result result = session.generate("Once upon a time", options);
        std::printf("ember %s (%s): %s\n", ember::version(), model.info().architecture.c_str(),
                    result.text.c_str());
        return result.tokens.size() == 8 ? 0 : 1;
    } catch (const ember::Error &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
