/* Layout probe: how the C compiler lays out ember.h, for the Rust ABI test. */
#include <ember/ember.h>

#include <stddef.h>

size_t ember_probe_size(int which) {
    switch (which) {
    case 0: return sizeof(ember_model_options);
    case 1: return sizeof(ember_model_info);
    case 2: return sizeof(ember_message);
    case 3: return sizeof(ember_session_options);
    case 4: return sizeof(ember_logit_bias);
    case 5: return sizeof(ember_generate_options);
    case 6: return sizeof(ember_result);
    case 7: return sizeof(ember_evaluate_options);
    default: return 0;
    }
}

size_t ember_probe_offset(int which) {
    switch (which) {
    case 0: return offsetof(ember_model_info, has_chat_template);
    case 1: return offsetof(ember_model_info, eot_token);
    case 2: return offsetof(ember_generate_options, stop);
    case 3: return offsetof(ember_generate_options, use_seed);
    case 4: return offsetof(ember_generate_options, seed);
    case 5: return offsetof(ember_result, finish_reason);
    case 6: return offsetof(ember_result, generated_tokens_per_second);
    case 7: return offsetof(ember_session_options, seed);
    case 8: return offsetof(ember_session_options, flash_attn);
    case 9: return offsetof(ember_evaluate_options, all_logits);
    default: return 0;
    }
}

long ember_probe_constant(int which) {
    switch (which) {
    case 0: return EMBER_ABI_VERSION;
    case 1: return EMBER_ERR_INTERNAL;
    case 2: return EMBER_LOAD_READ;
    case 3: return EMBER_KV_F32;
    case 4: return EMBER_FINISH_ERROR;
    case 5: return EMBER_VERSION_MAJOR;
    default: return -1;
    }
}
