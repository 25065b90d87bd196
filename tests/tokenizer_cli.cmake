# `ember tokenize` end to end: ids as llama-tokenize gives them (values from llama.cpp on the
# same files), the piece listing, special-token parsing, and refusals with a non-zero exit.
if(TARGET ember_cli)
  set(tok_data ${CMAKE_CURRENT_SOURCE_DIR}/data)
  set(tok_ember $<TARGET_FILE:ember_cli>)

  add_test(NAME cli_tokenize_ids
    COMMAND ${tok_ember} tokenize -m ${tok_data}/models/stories260K.gguf --ids -- "Hello world")
  set_tests_properties(cli_tokenize_ids PROPERTIES PASS_REGULAR_EXPRESSION "^1 346 306 414 263 304 341\n$")

  add_test(NAME cli_tokenize_no_bos
    COMMAND ${tok_ember} tokenize -m ${tok_data}/models/stories260K.gguf --no-bos --ids -- "Hello world")
  set_tests_properties(cli_tokenize_no_bos PROPERTIES PASS_REGULAR_EXPRESSION "^346 306 414 263 304 341\n$")

  add_test(NAME cli_tokenize_pieces
    COMMAND ${tok_ember} tokenize -m ${tok_data}/models/stories260K.gguf -- "Hello world")
  set_tests_properties(cli_tokenize_pieces PROPERTIES PASS_REGULAR_EXPRESSION
    "^     1 -> '<s>'\n   346 -> ' He'\n   306 -> 'll'\n   414 -> 'o'\n   263 -> ' w'\n   304 -> 'or'\n   341 -> 'ld'\n$")

  add_test(NAME cli_tokenize_parse_special
    COMMAND ${tok_ember} tokenize -m ${tok_data}/vocab/ggml-vocab-llama-bpe.gguf --ids --parse-special
            -- "<|begin_of_text|>Hi<|eot_id|>")
  set_tests_properties(cli_tokenize_parse_special PROPERTIES PASS_REGULAR_EXPRESSION "^128000 128000 13347 128009\n$")

  add_test(NAME cli_tokenize_special_as_text
    COMMAND ${tok_ember} tokenize -m ${tok_data}/vocab/ggml-vocab-llama-bpe.gguf --ids -- "<|eot_id|>")
  set_tests_properties(cli_tokenize_special_as_text PROPERTIES PASS_REGULAR_EXPRESSION "^128000 27 91 68 354 851 91 29\n$")

  add_test(NAME cli_tokenize_missing_file
    COMMAND ${tok_ember} tokenize -m ${tok_data}/no-such-model.gguf -- "x")
  set_tests_properties(cli_tokenize_missing_file PROPERTIES WILL_FAIL TRUE)

  add_test(NAME cli_tokenize_missing_text
    COMMAND ${tok_ember} tokenize -m ${tok_data}/models/stories260K.gguf)
  set_tests_properties(cli_tokenize_missing_text PROPERTIES WILL_FAIL TRUE)
endif()
