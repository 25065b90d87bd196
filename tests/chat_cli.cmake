# `ember template` end to end: byte-exact output of a real template, the template's own
# message on refusal, BOS/EOS and the ChatML fallback from a GGUF, and usage errors.
if(TARGET ember_cli)
  set(chat_data ${CMAKE_CURRENT_SOURCE_DIR}/data)
  set(chat_out ${CMAKE_CURRENT_BINARY_DIR}/chat_cli)
  file(MAKE_DIRECTORY ${chat_out})

  # Context and jinja2's expected rendering of one case, extracted from the test data.
  # (CMake's JSON writer sorts keys, so only cases whose output does not show key order.)
  function(ember_chat_case spec index stem)
    file(READ ${chat_data}/templates/${spec}.json content)
    string(JSON context GET "${content}" cases ${index} context)
    file(WRITE ${chat_out}/${stem}.context.json "${context}")
    string(JSON has_expected ERROR_VARIABLE no_expected GET "${content}" cases ${index} expected)
    if(NOT no_expected)
      file(WRITE ${chat_out}/${stem}.expected "${has_expected}")
    endif()
  endfunction()

  ember_chat_case(Qwen-Qwen2.5-7B-Instruct 2 qwen-multi)
  add_test(NAME cli_template_exact
    COMMAND sh -c "\"$0\" template --template \"$1\" --context \"$2\" > \"$3.out\" && cmp \"$3.out\" \"$3.expected\""
            $<TARGET_FILE:ember_cli> ${chat_data}/templates/Qwen-Qwen2.5-7B-Instruct.jinja
            ${chat_out}/qwen-multi.context.json ${chat_out}/qwen-multi)

  # tojson prints keys in the context file's order, as json.dumps does.
  file(WRITE ${chat_out}/order.jinja "{{ tool|tojson }}")
  file(WRITE ${chat_out}/order.json "{\"tool\": {\"name\": \"f\", \"description\": \"d\", \"args\": {\"b\": 1, \"a\": [2, \"é\"]}}}")
  add_test(NAME cli_template_key_order
    COMMAND sh -c "[ \"$(\"$0\" template --template \"$1\" --context \"$2\")\" = '{\"name\": \"f\", \"description\": \"d\", \"args\": {\"b\": 1, \"a\": [2, \"é\"]}}' ]"
            $<TARGET_FILE:ember_cli> ${chat_out}/order.jinja ${chat_out}/order.json)

  # Llama 3.1 prints today's date through strftime_now; --now pins it.
  ember_chat_case(meta-llama-Llama-3.1-8B-Instruct 1 llama-system)
  add_test(NAME cli_template_now
    COMMAND sh -c "\"$0\" template --template \"$1\" --context \"$2\" --now '2024-07-26 12:00' > \"$3.out\" && cmp \"$3.out\" \"$3.expected\""
            $<TARGET_FILE:ember_cli> ${chat_data}/templates/meta-llama-Llama-3.1-8B-Instruct.jinja
            ${chat_out}/llama-system.context.json ${chat_out}/llama-system)

  # Gemma refuses a system message with raise_exception: exit 1, its words on stderr, nothing on stdout.
  ember_chat_case(google-gemma-2-2b-it 1 gemma-system)
  add_test(NAME cli_template_refusal
    COMMAND sh -c "\"$0\" template --template \"$1\" --context \"$2\" >\"$3.out\" 2>\"$3.err\"; rc=$?; cat \"$3.err\"; [ $rc -eq 1 ] && [ ! -s \"$3.out\" ] && grep -q 'google-gemma-2-2b-it.jinja:[0-9]*:[0-9]*: System role not supported' \"$3.err\""
            $<TARGET_FILE:ember_cli> ${chat_data}/templates/google-gemma-2-2b-it.jinja
            ${chat_out}/gemma-system.context.json ${chat_out}/gemma-system)

  # -m: BOS/EOS strings come from the model's vocabulary when the context names none, and
  # the context wins when it does.
  file(WRITE ${chat_out}/tokens.jinja "[{{ bos_token }}|{{ eos_token }}]")
  file(WRITE ${chat_out}/empty.json "{}")
  file(WRITE ${chat_out}/eos.json "{\"eos_token\": \"<END>\"}")
  add_test(NAME cli_template_model_tokens
    COMMAND sh -c "[ \"$(\"$0\" template -m \"$1\" --template \"$2\" --context \"$3\")\" = '[<s>|</s>]' ] && [ \"$(\"$0\" template -m \"$1\" --template \"$2\" --context \"$4\")\" = '[<s>|<END>]' ]"
            $<TARGET_FILE:ember_cli> ${chat_data}/models/stories260K.gguf ${chat_out}/tokens.jinja
            ${chat_out}/empty.json ${chat_out}/eos.json)

  # A model without tokenizer.chat_template: the built-in ChatML template, with a note on stderr.
  file(WRITE ${chat_out}/chat.json "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"add_generation_prompt\": true}")
  file(WRITE ${chat_out}/chat.expected "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
  add_test(NAME cli_template_fallback
    COMMAND sh -c "\"$0\" template -m \"$1\" --context \"$2\" >\"$3.out\" 2>\"$3.err\" && cmp \"$3.out\" \"$3.expected\" && grep -q 'no tokenizer.chat_template; using the built-in ChatML template' \"$3.err\""
            $<TARGET_FILE:ember_cli> ${chat_data}/models/stories260K.gguf ${chat_out}/chat.json ${chat_out}/chat)

  # Usage errors exit 2: no template source, no context, a context that is not JSON.
  file(WRITE ${chat_out}/bad.json "{\"messages\": [")
  add_test(NAME cli_template_usage
    COMMAND sh -c "\"$0\" template --context \"$1\" 2>/dev/null; [ $? -eq 2 ] || exit 1; \"$0\" template --template \"$2\" 2>/dev/null; [ $? -eq 2 ] || exit 1; \"$0\" template --template \"$2\" --context \"$3\" 2>&1 | grep -q 'not valid JSON'"
            $<TARGET_FILE:ember_cli> ${chat_out}/empty.json ${chat_out}/tokens.jinja ${chat_out}/bad.json)
endif()
