# `ember inspect` end to end: text and JSON output on a bundled model, and clean refusals.
if(TARGET ember_cli)
  set(ember_data ${CMAKE_CURRENT_SOURCE_DIR}/data)

  add_test(NAME cli_inspect_text
    COMMAND $<TARGET_FILE:ember_cli> inspect ${ember_data}/models/stories260K.gguf)
  # Header, a metadata line, a tensor row (name, type, shape, size) and the totals, in order.
  set_tests_properties(cli_inspect_text PROPERTIES PASS_REGULAR_EXPRESSION
    "GGUF v3, 1.13 MiB, architecture llama.*19 metadata keys, 48 tensors, alignment 32, tensor data at offset 14176.*tokenizer.ggml.tokens +\\[512 x string\\] +\"<unk>\", \"<s>\".*\\(504 more\\).*llama.block_count +u32 +5\n.*token_embd.weight +f32 +64 x 512 +128.00 KiB.*blk.4.ffn_down.weight +f32 +172 x 64 .*parameters +292.80 K \\(292800\\).*bits/weight +32.00")

  add_test(NAME cli_inspect_json
    COMMAND $<TARGET_FILE:ember_cli> inspect --json --arrays 2 ${ember_data}/models/stories260K-Q4_0-pure.gguf)
  set_tests_properties(cli_inspect_json PROPERTIES PASS_REGULAR_EXPRESSION
    "\"version\": 3,.*\"key\": \"tokenizer.ggml.tokens\".*\"count\": 512,.*\"truncated\": true.*\"name\": \"output.weight\",.*\"shape\": \\[\n? *64,\n? *512\n? *\\],.*\"type\": \"q4_0\".*\"totals\"")

  # Exit status 1 and a message naming the problem, for a file that is not GGUF and one that is missing.
  add_test(NAME cli_inspect_not_gguf
    COMMAND sh -c "out=$(\"$0\" inspect \"$1\" 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 1 ] && echo \"$out\" | grep -q 'not a GGUF file'"
            $<TARGET_FILE:ember_cli> ${ember_data}/README.md)
  add_test(NAME cli_inspect_missing
    COMMAND sh -c "out=$(\"$0\" inspect \"$1\" 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 1 ] && echo \"$out\" | grep -q 'no-such.gguf: open failed'"
            $<TARGET_FILE:ember_cli> ${CMAKE_CURRENT_BINARY_DIR}/no-such.gguf)
  add_test(NAME cli_inspect_usage
    COMMAND sh -c "\"$0\" inspect >/dev/null 2>&1; [ $? -eq 2 ]" $<TARGET_FILE:ember_cli>)
endif()
