# `ember quantize` end to end. Its output must be the very file llama.cpp's quantizer writes
# from the same input (npm node-llama-cpp 3.21.1, llama_model_quantize with nthread 1): the
# tiny-llama-*.gguf copies under data/tiny-archs were made that way, and the SHA-256 values
# below were taken from llama.cpp's output for the other models (commands in
# data/quant/README.md).
if(TARGET ember_cli)
  set(quant_data ${CMAKE_CURRENT_SOURCE_DIR}/data)
  set(quant_out ${CMAKE_CURRENT_BINARY_DIR}/quant_cli)
  file(MAKE_DIRECTORY ${quant_out})

  # The default Q4_K_M mix: byte-identical to llama.cpp's, and the types users expect.
  add_test(NAME cli_quantize_q4_k_m
    COMMAND sh -c "set -e; \"$0\" quantize \"$1/tiny-archs/tiny-llama.gguf\" \"$2/q4km.gguf\" Q4_K_M
                   cmp \"$2/q4km.gguf\" \"$1/tiny-archs/tiny-llama-Q4_K_M.gguf\"
                   \"$0\" inspect \"$2/q4km.gguf\""
            $<TARGET_FILE:ember_cli> ${quant_data} ${quant_out})
  set_tests_properties(cli_quantize_q4_k_m PROPERTIES PASS_REGULAR_EXPRESSION
    "general.quantization_version +u32 +2\n.*general.file_type +u32 +15\n.*output.weight +q6_K.*output_norm.weight +f32.*token_embd.weight +q4_K.*blk.0.attn_v.weight +q4_K.*blk.0.ffn_down.weight +q4_K.*blk.1.attn_v.weight +q6_K.*blk.1.ffn_down.weight +q6_K.*blk.1.ffn_up.weight +q4_K")

  add_test(NAME cli_quantize_q8_0
    COMMAND sh -c "set -e; \"$0\" quantize \"$1/tiny-archs/tiny-llama.gguf\" \"$2/q8.gguf\" q8_0
                   cmp \"$2/q8.gguf\" \"$1/tiny-archs/tiny-llama-Q8_0.gguf\"
                   \"$0\" inspect \"$2/q8.gguf\""
            $<TARGET_FILE:ember_cli> ${quant_data} ${quant_out})
  set_tests_properties(cli_quantize_q8_0 PROPERTIES PASS_REGULAR_EXPRESSION
    "general.file_type +u32 +7\n.*output.weight +q8_0.*token_embd.weight +q8_0.*blk.1.ffn_down.weight +q8_0")

  # --pure: every 2-D weight in the base type, for each single-type file in tiny-archs.
  foreach(pair F16:F16 BF16:BF16 Q4_0:Q4_0 Q4_1:Q4_1 Q5_0:Q5_0 Q5_1:Q5_1 Q4_K:Q4_K_S Q5_K:Q5_K_S Q6_K:Q6_K)
    string(REPLACE ":" ";" parts ${pair})
    list(GET parts 0 file_suffix)
    list(GET parts 1 type)
    add_test(NAME cli_quantize_pure_${file_suffix}
      COMMAND sh -c "set -e; \"$0\" quantize --pure \"$1/tiny-archs/tiny-llama.gguf\" \"$2/pure-$3.gguf\" $4
                     cmp \"$2/pure-$3.gguf\" \"$1/tiny-archs/tiny-llama-$3.gguf\""
              $<TARGET_FILE:ember_cli> ${quant_data} ${quant_out} ${file_suffix} ${type})
  endforeach()

  # Mixes on other architectures (tied embeddings, fused QKV, Gemma) and on tiny-fallback,
  # whose rows fit neither 256- nor (ffn_down) 32-element blocks: SHA-256 of llama.cpp's file.
  set(quant_expected
    "tiny-archs/tiny-qwen2.gguf Q4_K_M 4fb0e11bc6caf25548b53bd6b8c0a2ce9abf2e855ec74a8793940a62a8692a81"
    "tiny-archs/tiny-qwen2.gguf Q5_K_M f934039e42cd9fe164d00ad5c50938490fe549de52946ecc147f3acad8b2a8a9"
    "tiny-archs/tiny-qwen2.gguf Q5_1 9264d57544db8c7ebcf2ccc8f296b92a1155880c1387b7e3dde41ef94af8d02d"
    "tiny-archs/tiny-qwen3.gguf Q6_K f7ab9781761e9ca57c5b4b604fec25b3443d909358318830469b9f502ec7f0d0"
    "tiny-archs/tiny-qwen3.gguf Q3_K_S 1339d4a848292314c6e7e83b852e96950fefded991c231b2f3272fc2c4e88b88"
    "tiny-archs/tiny-gemma3.gguf Q4_K_M 24e9569b8b8c98e23a09fd804ab15dafab16b115ad8df4f31bb9ac6c2ac160a4"
    "tiny-archs/tiny-gemma3.gguf Q4_1 024a3cd522cba72e2c64f394b858c1bcf187e28c3d68abef8e6fea2c4c756345"
    "tiny-archs/tiny-phi3.gguf Q5_K_M 07c1718ddf975ab3aa5ee807603c91fc13f54a05a88d4dd1d72450cb8566677d"
    "tiny-archs/tiny-phi3.gguf Q3_K_M a289c7e5fde75f784744e34051366b1f81b49bb0bbbe644a52c3f31faf6639bc"
    "tiny-archs/tiny-llama.gguf Q2_K 3bd57743f4bb77de42de201c0129e69fd109194b6e89b7a9daa2a8651820c262"
    "tiny-archs/tiny-llama.gguf Q3_K_L 175825fc553b4f920609709eb6075d74afb83ff97b2ae71da35b923da8e19ab2"
    "tiny-archs/tiny-llama3-rope.gguf Q4_K_S 40a49b994dafd7ae00461f2e7645894c0b6c48c1bcf183848a1ce6e408426ef8"
    "quant/tiny-fallback.gguf Q4_K_M b805816b3b7ae42d36ac9e989790ad4c9eeecd9baa1df4f37f81463c846fd7a1"
    "quant/tiny-fallback.gguf Q5_K_M 7ee6d22dc4555770fd8ed87a580fdb9d7b449219ace28e387be67c4301e5f0bf"
    "quant/tiny-fallback.gguf Q6_K 5f5353018c21d5c351c637d16001e92c9d7f59ed3146798dadb1d56c176b64d3"
    "quant/tiny-fallback.gguf Q2_K 3ea35a1a198c046fcef93c7bb98883ed375543a9c87d02aeec0b7d87a6e29422"
    "quant/tiny-fallback.gguf Q3_K_M 723f81495fe1adebe4b88da13d1e5f27ca28907e506c38fd973d8cf9742a7776"
    "quant/tiny-fallback.gguf Q8_0 8f9f69c53a24574d9d2f8053daa45f89ce2e8e657cf2be7ef75caa017110d753"
    "quant/tiny-fallback.gguf Q4_0 72f5cdb02195241e99b156135dbf4785f4afe7b28c98e6851610c30547120753"
    "quant/tiny-fallback.gguf Q4_K_S 7f4c1bb3dc7d6c324a459c836d7bb8d36df53166d9e87824df8278c97d96a601")
  foreach(entry IN LISTS quant_expected)
    string(REPLACE " " ";" parts "${entry}")
    list(GET parts 0 model)
    list(GET parts 1 type)
    list(GET parts 2 sha)
    get_filename_component(stem ${model} NAME_WE)
    add_test(NAME cli_quantize_matches_llama_${stem}_${type}
      COMMAND sh -c "set -e; \"$0\" quantize \"$1/$3\" \"$2/$4-$5.gguf\" $5 2>/dev/null
                     sha=$(sha256sum \"$2/$4-$5.gguf\" | cut -d' ' -f1); echo \"$sha\"; [ \"$sha\" = \"$6\" ]"
              $<TARGET_FILE:ember_cli> ${quant_data} ${quant_out} ${model} ${stem} ${type} ${sha})
  endforeach()
  # The progress lines say which tensors fell back. (A regex test ignores the exit status, so
  # this is separate from the byte comparison above.)
  add_test(NAME cli_quantize_fallback_progress
    COMMAND $<TARGET_FILE:ember_cli> quantize ${quant_data}/quant/tiny-fallback.gguf ${quant_out}/fallback.gguf Q4_K_M)
  set_tests_properties(cli_quantize_fallback_progress PROPERTIES PASS_REGULAR_EXPRESSION
    "output.weight +f16 -> q8_0 .*token_embd.weight +f16 -> q5_0 .*does not fit q4_K: fell back.*blk.1.ffn_down.weight +f16 \\(kept\\).*does not fit q6_K: fell back.*21 tensors")

  # Refusals: exit 2 for usage errors, 1 for inputs it will not convert, with the reason.
  add_test(NAME cli_quantize_bad_type
    COMMAND sh -c "out=$(\"$0\" quantize \"$1\" \"$2/x.gguf\" Q9_X 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 2 ] && echo \"$out\" | grep -q \"unknown TYPE 'Q9_X'\""
            $<TARGET_FILE:ember_cli> ${quant_data}/tiny-archs/tiny-llama.gguf ${quant_out})
  add_test(NAME cli_quantize_same_file
    COMMAND sh -c "cp \"$1\" \"$2/same.gguf\"; out=$(\"$0\" quantize \"$2/same.gguf\" \"$2/same.gguf\" Q8_0 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 2 ] && cmp -s \"$1\" \"$2/same.gguf\""
            $<TARGET_FILE:ember_cli> ${quant_data}/tiny-archs/tiny-llama.gguf ${quant_out})
  add_test(NAME cli_quantize_requantize
    COMMAND sh -c "rm -f \"$2/rq.gguf\"; out=$(\"$0\" quantize \"$1\" \"$2/rq.gguf\" Q8_0 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 1 ] && echo \"$out\" | grep -q 'is already q4_0' && [ ! -e \"$2/rq.gguf\" ] && \"$0\" quantize --allow-requantize \"$1\" \"$2/rq.gguf\" Q8_0 2>/dev/null && \"$0\" inspect \"$2/rq.gguf\" | grep -q 'blk.0.attn_q.weight *q8_0'"
            $<TARGET_FILE:ember_cli> ${quant_data}/tiny-archs/tiny-llama-Q4_0.gguf ${quant_out})
endif()

# A NaN in a weight is refused (exit 1, naming tensor and row) and leaves no output file.
if(TARGET ember_cli)
  add_test(NAME cli_quantize_nan
    COMMAND sh -c "set -e; cp \"$1\" \"$2/nan-in.gguf\"; rm -f \"$2/nan-out.gguf\"
                   off=$(\"$0\" inspect \"$2/nan-in.gguf\" | sed -n 's/.*tensor data at offset \\([0-9]*\\).*/\\1/p')
                   printf '\\000\\000\\300\\177' | dd of=\"$2/nan-in.gguf\" bs=1 seek=$off conv=notrunc 2>/dev/null
                   set +e; out=$(\"$0\" quantize \"$2/nan-in.gguf\" \"$2/nan-out.gguf\" Q4_K_M 2>&1); rc=$?; echo \"$out\"
                   [ $rc -eq 1 ] && echo \"$out\" | grep -q 'tensor token_embd.weight: row 0 holds a NaN' && [ ! -e \"$2/nan-out.gguf\" ]"
            $<TARGET_FILE:ember_cli> ${CMAKE_CURRENT_SOURCE_DIR}/data/tiny-archs/tiny-llama.gguf ${CMAKE_CURRENT_BINARY_DIR}/quant_cli)
endif()
