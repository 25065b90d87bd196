# `ember run` and `ember chat` on the tiny stories260K model: llama.cpp's greedy text from
# BOS, determinism across seeds and thread counts, chat over stdin, and the errors a
# newcomer meets (missing file, broken file, bad option). tests/api/run_check.cmake runs
# each command and checks its status and output.
if(NOT TARGET ember_cli)
  return()
endif()
set(cli_model ${CMAKE_CURRENT_SOURCE_DIR}/data/models/stories260K.gguf)
set(cli_ref ${CMAKE_CURRENT_SOURCE_DIR}/data/reference/stories260K.f32kv.json)
set(cli_check ${CMAKE_CURRENT_SOURCE_DIR}/api/run_check.cmake)
set(cli_ember $<TARGET_FILE:ember_cli>)
set(cli_scratch ${CMAKE_CURRENT_BINARY_DIR}/cli-scratch)
file(MAKE_DIRECTORY ${cli_scratch})

function(ember_cli_test name)
  cmake_parse_arguments(T "" "RC;STDOUT_REGEX;STDERR_REGEX;INPUT;JSON_KEY" "CMD;SAME_AS" ${ARGN})
  string(REPLACE ";" "|" cmd "${T_CMD}")
  set(defs -DCMD=${cmd})
  if(DEFINED T_RC)
    list(APPEND defs -DRC=${T_RC})
  endif()
  foreach(v STDOUT_REGEX STDERR_REGEX INPUT)
    if(DEFINED T_${v})
      list(APPEND defs "-D${v}=${T_${v}}")
    endif()
  endforeach()
  if(T_JSON_KEY)
    list(APPEND defs -DJSON=${cli_ref} -DJSON_KEY=${T_JSON_KEY})
  endif()
  if(T_SAME_AS)
    string(REPLACE ";" "|" same "${T_SAME_AS}")
    list(APPEND defs -DSAME_AS=${same})
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${cli_check})
endfunction()

# Greedy decoding from BOS alone reproduces llama.cpp's text (F32 KV cache, as the reference).
ember_cli_test(cli_run_greedy_from_bos
  CMD ${cli_ember} run -m ${cli_model} -n 32 --temp 0 --kv-type f32 -q
  JSON_KEY greedy_from_bos_text)
# Sampling: the same seed gives the same text, whatever the thread count.
ember_cli_test(cli_run_seed_threads
  CMD ${cli_ember} run -m ${cli_model} -p "Once upon a time" -n 48 --temp 1 --seed 7 -t 1 -q
  SAME_AS ${cli_ember} run -m ${cli_model} -p "Once upon a time" -n 48 --temp 1 --seed 7 -t 2 -q
  STDOUT_REGEX "^.......")
# Stop strings end the text before them.
ember_cli_test(cli_run_stop
  CMD ${cli_ember} run -m ${cli_model} --temp 0 -n 64 --stop Lily -q
  STDOUT_REGEX "^Once upon a time, there was a little girl named \n$")
ember_cli_test(cli_run_help
  CMD ${cli_ember} run --help
  STDOUT_REGEX "usage: ember run.*--temp")
ember_cli_test(cli_run_missing_model
  CMD ${cli_ember} run -m ${cli_scratch}/no-such-model.gguf -p hi
  RC 1 STDERR_REGEX "no-such-model.gguf' does not exist")
ember_cli_test(cli_run_no_model
  CMD ${cli_ember} run -p hi
  RC 2 STDERR_REGEX "no model given: use -m")
ember_cli_test(cli_run_broken_model
  CMD ${cli_ember} run -m ${CMAKE_CURRENT_SOURCE_DIR}/data/README.md -p hi
  RC 1 STDERR_REGEX "README.md")
ember_cli_test(cli_run_bad_temperature
  CMD ${cli_ember} run -m ${cli_model} --temp -1
  RC 2 STDERR_REGEX "--temp")

# Chat over stdin: two answers, /reset between, /quit at the end.
file(WRITE ${cli_scratch}/chat-input.txt "Tell me a story.\n/reset\nAnother one?\n/quit\n")
ember_cli_test(cli_chat_script
  CMD ${cli_ember} chat -m ${cli_model} --temp 0 -n 12 -c 256
  INPUT ${cli_scratch}/chat-input.txt
  STDOUT_REGEX "^[^\n]+\n[^\n]+\n$"
  STDERR_REGEX "conversation forgotten")
ember_cli_test(cli_chat_help
  CMD ${cli_ember} chat --help
  STDOUT_REGEX "usage: ember chat.*/reset")

# The README's C and C++ examples (examples/examples.cmake) run end to end.
if(TARGET example_hello_c)
  ember_cli_test(example_hello_c
    CMD $<TARGET_FILE:example_hello_c> ${cli_model} "Hello there"
    STDOUT_REGEX "^.+\n$")
  ember_cli_test(example_hello_c_missing_model
    CMD $<TARGET_FILE:example_hello_c> ${cli_scratch}/no-such-model.gguf
    RC 1 STDERR_REGEX "error: .*no-such-model.gguf")
  ember_cli_test(example_hello_cpp
    CMD $<TARGET_FILE:example_hello_cpp> ${cli_model}
    STDOUT_REGEX "> Name a planet.\n.+tokens/s\\)\n> How far is it from the Sun\\?\n.+tokens/s\\)\n$")
endif()

# ember inspect says what running the model needs beside this machine's free memory.
ember_cli_test(cli_inspect_memory_fit
  CMD ${cli_ember} inspect ${cli_model}
  STDOUT_REGEX "memory +needs about [0-9]+ MiB \\(weights 1 MiB \\+ KV cache 1 MiB at 2048 tokens\\); [0-9.]+ [GM]iB available: (fits|tight|too big)\n")
