# `ember bench` and `ember perplexity` end to end, on the bundled models.
if(TARGET ember_cli)
  set(ember_data ${CMAKE_CURRENT_SOURCE_DIR}/data)
  set(bench_tmp ${CMAKE_CURRENT_BINARY_DIR}/bench_cli)

  # The table: a header, then one pp and one tg row per thread count, llama-bench's columns.
  add_test(NAME cli_bench_table
    COMMAND $<TARGET_FILE:ember_cli> bench -m ${ember_data}/models/stories260K.gguf
            -p 16 -n 8 -t 1,2 -r 2)
  set_tests_properties(cli_bench_table PROPERTIES PASS_REGULAR_EXPRESSION
    "\\| model .*\\| +test \\| +t/s \\|\n.*\\| llama 293K F32 +\\| +1.12 MiB \\| +293 K \\| +1 \\| +1 \\| +pp16 \\| +[0-9.]+ ± [0-9.]+ \\|\n.* 1 \\| +1 \\| +tg8 \\| .* 2 \\| +1 \\| +pp16 \\| .* 2 \\| +1 \\| +tg8 \\|")

  # JSON rows carry llama-bench's names for the shared quantities, with a pp row's n_gen 0
  # and a tg row's n_prompt 0, and t/s consistent with the timed samples; -mmp 0 is recorded.
  add_test(NAME cli_bench_json
    COMMAND sh -c "\"$0\" bench -m \"$1\" -p 32 -n 4 -t 1 -r 3 -mmp 0 --json | python3 -c \"
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == 2, rows
pp, tg = rows
assert (pp['n_prompt'], pp['n_gen'], tg['n_prompt'], tg['n_gen']) == (32, 0, 0, 4), rows
for r in rows:
    assert r['model_filename'].endswith('stories260K-Q8_0.gguf') and r['n_threads'] == 1
    assert r['use_mmap'] is False and len(r['samples_ts']) == 3
    n = r['n_prompt'] + r['n_gen']
    ts = [1e9 * n / ns for ns in r['samples_ns']]
    assert abs(sum(ts) / 3 - r['avg_ts']) < 1e-6 * r['avg_ts'] and r['stddev_ts'] >= 0, r
    assert r['model_size'] > 0 and r['model_n_params'] == 292800, r
print('ok')
\"" $<TARGET_FILE:ember_cli> ${ember_data}/models/stories260K-Q8_0.gguf)
  set_tests_properties(cli_bench_json PROPERTIES PASS_REGULAR_EXPRESSION "(^|\n)ok\n$")

  # -d: tests after that many untimed tokens of context, named as llama-bench names them, with
  # n_depth in the JSON; a depth past the model's context is refused.
  add_test(NAME cli_bench_depth
    COMMAND sh -c "\"$0\" bench -m \"$1\" -p 8 -n 4 -d 0,100 -t 1 -r 1 2>&1 | grep -q '| *tg4 @ d100 |' &&
      \"$0\" bench -m \"$1\" -p 0 -n 4 -d 100 -t 1 -r 2 --json 2>/dev/null | python3 -c \"
import json, sys
rows = json.load(sys.stdin)
assert [(r['n_prompt'], r['n_gen'], r['n_depth']) for r in rows] == [(0, 4, 100)], rows
\" && { \"$0\" bench -m \"$1\" -p 0 -n 4 -d 3000 -r 1 2>&1 | grep -q 'n_ctx = 3004 must be in \\[1, 2048\\] (the model.s training context)'; } && echo ok"
            $<TARGET_FILE:ember_cli> ${ember_data}/models/stories260K.gguf)
  set_tests_properties(cli_bench_depth PROPERTIES PASS_REGULAR_EXPRESSION "(^|\n)ok\n$")

  # A synthetic model of a real shape (one layer of SmolLM2-135M, to stay quick): written once
  # into the cache dir, reused the second time, and benchmarked.
  add_test(NAME cli_bench_synthetic
    COMMAND sh -c "rm -rf \"$1\" && \"$0\" bench --synthetic smollm2-135m --type q8_0 --layers 1 --cache-dir \"$1\" -p 8 -n 2 -r 1 -t 1 2>&1 && test -f \"$1/smollm2-135m-q8_0-L1.gguf\" && \"$0\" bench --synthetic smollm2-135m --type q8_0 --layers 1 --cache-dir \"$1\" -p 8 -n 0 -r 1 -t 1 2>&1 && \"$0\" bench --synthetic smollm2-135m --type q8_0 --layers 1 --cache-dir \"$1\" --print-path 2>/dev/null"
            $<TARGET_FILE:ember_cli> ${bench_tmp}/synthetic)
  set_tests_properties(cli_bench_synthetic PROPERTIES PASS_REGULAR_EXPRESSION
    "writing smollm2-135m 100%.*llama [0-9]+M Q8_0 .*tg2 .*synthetic model [^\n]*smollm2-135m-q8_0-L1.gguf\n(.*)llama [0-9]+M Q8_0 .*pp8.*\n[^\n]*/smollm2-135m-q8_0-L1.gguf\n$"
    FAIL_REGULAR_EXPRESSION "tg2.*writing")

  # Usage errors exit 2 and name the problem; a missing file exits 1.
  add_test(NAME cli_bench_errors
    COMMAND sh -c "
      \"$0\" bench -m \"$1\" -p 8,x 2>&1 | grep -q 'integers separated by commas' &&
      \"$0\" bench --synthetic gpt-9 2>&1 | grep -q \"unknown synthetic model shape 'gpt-9' (known: llama-3.2-1b, smollm2-135m, qwen3-0.6b, gemma-3-270m)\" &&
      \"$0\" bench --synthetic smollm2-135m --type q9_9 2>&1 | grep -q \"unknown model type 'q9_9'\" &&
      \"$0\" bench -m \"$1\" -mmp 2 2>&1 | grep -q 'option -mmp must be in \\[0, 1\\]' &&
      \"$0\" bench -m \"$1\" -p 0 -n 0 2>&1 | grep -q 'nothing to measure' &&
      { \"$0\" bench 2>/dev/null; [ $? -eq 2 ]; } &&
      { \"$0\" bench -m /no/such.gguf 2>/dev/null; [ $? -eq 1 ]; } && echo ok"
            $<TARGET_FILE:ember_cli> ${ember_data}/models/stories260K.gguf)
  set_tests_properties(cli_bench_errors PROPERTIES PASS_REGULAR_EXPRESSION "(^|\n)ok\n$")
  # ---- ember perplexity -------------------------------------------------------------------
  # Against tests/data/reference/*.ppl-wikitext2-4x255.json (llama.cpp, F32 KV; BOS + 255 text
  # tokens per window, every next token scored = --score-all): within 0.1% (issue 7), except
  # Q4_0 within 0.2%: llama.cpp computed that reference through its repacked Q4_0 kernels,
  # whose summation order moves its own log-probs by up to 5e-2 against its plain kernels
  # (tests/data/tiny-archs/README.md); ember is +0.12% there. The llama-perplexity-protocol
  # checks below hold Q4_0 to 0.1%.
  foreach(model stories260K stories260K-Q8_0 stories260K-Q4_0)
    if(model STREQUAL "stories260K-Q4_0")
      set(bound 2e-3)
    else()
      set(bound 1e-3)
    endif()
    add_test(NAME cli_perplexity_reference_${model}
      COMMAND sh -c "\"$0\" perplexity -m \"$1/models/$2.gguf\" -f \"$1/text/wiki.test.raw\" -c 256 --chunks 4 --kv f32 -t 2 --score-all --json | python3 -c \"
import json, sys
got = json.load(sys.stdin)
ref = json.load(open(sys.argv[1]))
rel = got['ppl'] / ref['ppl'] - 1
print('ember %.4f llama.cpp %.4f relative %+.4f%%' % (got['ppl'], ref['ppl'], 100 * rel))
assert got['n_scored'] == ref['n_scored'] == 1020, got
assert abs(rel) <= float(sys.argv[2]), 'further from llama.cpp than the bound'
print('ok')
\" \"$1/reference/$2.ppl-wikitext2-4x255.json\" $3" $<TARGET_FILE:ember_cli> ${ember_data} ${model} ${bound})
    set_tests_properties(cli_perplexity_reference_${model} PROPERTIES PASS_REGULAR_EXPRESSION "(^|\n)ok\n$")
  endforeach()

  # Against llama-perplexity's own output (tests/data/llama-perplexity/stories260K.json): the
  # default protocol (BOS replaces each window's first token, second half scored), both the
  # figure and its +/- within 0.1%.
  foreach(run "stories260K f32" "stories260K-Q8_0 f32" "stories260K-Q4_0 f32" "stories260K f16")
    string(REPLACE " " ";" run ${run})
    list(GET run 0 model)
    list(GET run 1 kv)
    add_test(NAME cli_perplexity_llama_${model}_${kv}
      COMMAND sh -c "\"$0\" perplexity -m \"$1/models/$2.gguf\" -f \"$1/text/wiki.test.raw\" -c 256 --chunks 4 --kv $3 -t 1 | python3 -c \"
import json, re, sys
line = sys.stdin.read()
m = re.fullmatch(r'Final estimate: PPL = ([0-9.]+) [+]/- ([0-9.]+)\\n', line)
assert m, repr(line)
runs = [r for r in json.load(open(sys.argv[1]))['runs'] if r['model'] == 'models/' + sys.argv[2] + '.gguf' and r['kv'] == sys.argv[3]]
assert len(runs) == 1, runs
ppl, unc = float(m[1]), float(m[2])
print(line.strip(), ' llama-perplexity:', runs[0]['ppl'], '+/-', runs[0]['uncertainty'])
assert abs(ppl / runs[0]['ppl'] - 1) <= 1e-3 and abs(unc / runs[0]['uncertainty'] - 1) <= 1e-2
print('ok')
\" \"$1/llama-perplexity/stories260K.json\" $2 $3" $<TARGET_FILE:ember_cli> ${ember_data} ${model} ${kv})
    set_tests_properties(cli_perplexity_llama_${model}_${kv} PROPERTIES PASS_REGULAR_EXPRESSION "(^|\n)ok\n$")
  endforeach()

  # The same figure whatever the thread count and batch size (ember's determinism), and the
  # running figures go to stderr, the result alone to stdout.
  add_test(NAME cli_perplexity_deterministic
    COMMAND sh -c "a=$(\"$0\" perplexity -m \"$1\" -f \"$2\" -c 128 --chunks 3 -t 1 -b 128 2>/dev/null) && b=$(\"$0\" perplexity -m \"$1\" -f \"$2\" -c 128 --chunks 3 -t 3 -b 40 2>/dev/null) && echo \"$a\" && [ \"$a\" = \"$b\" ] && \"$0\" perplexity -m \"$1\" -f \"$2\" -c 128 --chunks 3 2>&1 >/dev/null | grep -q '^\\[1\\][0-9.]*,\\[2\\][0-9.]*,\\[3\\][0-9.]*,$' && echo ok"
            $<TARGET_FILE:ember_cli> ${ember_data}/models/stories260K-Q4_0.gguf ${ember_data}/text/wiki.test.raw)
  set_tests_properties(cli_perplexity_deterministic PROPERTIES PASS_REGULAR_EXPRESSION "^Final estimate: PPL = [0-9.]+ [+]/- [0-9.]+\nok\n$")

  # Clear refusals: a text shorter than two windows, a missing text, a missing -f.
  add_test(NAME cli_perplexity_errors
    COMMAND sh -c "
      \"$0\" perplexity -m \"$1\" -f \"$2\" -c 256 2>&1 | grep -q 'story.txt: 1[0-9] tokens; perplexity with a context of 256 needs at least 512' &&
      \"$0\" perplexity -m \"$1\" -f /no/such.txt 2>&1 | grep -q '/no/such.txt: cannot open' &&
      { \"$0\" perplexity -m \"$1\" 2>&1; [ $? -eq 2 ]; } | grep -q 'give a model (-m FILE) and a text (-f TEXT)' &&
      \"$0\" perplexity -m \"$1\" -f \"$3\" --chunks 0 2>&1 | grep -q 'nothing to score' && echo ok"
            $<TARGET_FILE:ember_cli> ${ember_data}/models/stories260K.gguf
            ${ember_data}/smollm2/prompts/story.txt ${ember_data}/text/wiki.test.raw)
  set_tests_properties(cli_perplexity_errors PROPERTIES PASS_REGULAR_EXPRESSION "(^|\n)ok\n$")
endif()

# The SmolLM2-135M greedy check (tests/smollm2_check.cpp): needs the 98 MB model that
# scripts/fetch-models downloads, so scripts/test.d/40-smollm2 runs it rather than ctest.
if(TARGET ember_internal)
  add_executable(smollm2_check ${CMAKE_CURRENT_SOURCE_DIR}/smollm2_check.cpp)
  target_link_libraries(smollm2_check PRIVATE ember_internal ember_warnings)
endif()
