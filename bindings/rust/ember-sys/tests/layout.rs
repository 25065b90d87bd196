//! The hand-written declarations agree with ember.h as the C compiler reads it.
use ember_sys::*;
use std::mem::{offset_of, size_of};

extern "C" {
    fn ember_probe_size(which: i32) -> usize;
    fn ember_probe_offset(which: i32) -> usize;
    fn ember_probe_constant(which: i32) -> std::os::raw::c_long;
}

#[test]
fn struct_sizes_match_the_header() {
    let rust = [
        size_of::<ember_model_options>(),
        size_of::<ember_model_info>(),
        size_of::<ember_message>(),
        size_of::<ember_session_options>(),
        size_of::<ember_logit_bias>(),
        size_of::<ember_generate_options>(),
        size_of::<ember_result>(),
        size_of::<ember_evaluate_options>(),
    ];
    for (i, size) in rust.iter().enumerate() {
        assert_eq!(*size, unsafe { ember_probe_size(i as i32) }, "struct #{i}");
    }
}

#[test]
fn field_offsets_match_the_header() {
    let rust = [
        offset_of!(ember_model_info, has_chat_template),
        offset_of!(ember_model_info, eot_token),
        offset_of!(ember_generate_options, stop),
        offset_of!(ember_generate_options, use_seed),
        offset_of!(ember_generate_options, seed),
        offset_of!(ember_result, finish_reason),
        offset_of!(ember_result, generated_tokens_per_second),
        offset_of!(ember_session_options, seed),
        offset_of!(ember_session_options, flash_attn),
        offset_of!(ember_evaluate_options, all_logits),
    ];
    for (i, off) in rust.iter().enumerate() {
        assert_eq!(*off, unsafe { ember_probe_offset(i as i32) }, "offset #{i}");
    }
}

#[test]
fn constants_match_the_header() {
    let rust: [i64; 6] = [
        EMBER_ABI_VERSION as i64,
        EMBER_ERR_INTERNAL as i64,
        EMBER_LOAD_READ as i64,
        EMBER_KV_F32 as i64,
        EMBER_FINISH_ERROR as i64,
        EMBER_VERSION_MAJOR as i64,
    ];
    for (i, v) in rust.iter().enumerate() {
        assert_eq!(*v, unsafe { ember_probe_constant(i as i32) } as i64, "constant #{i}");
    }
}

#[test]
fn loaded_library_has_this_abi() {
    assert_eq!(unsafe { ember_abi_version() }, EMBER_ABI_VERSION);
}
