//! Finds libember and compiles the layout probe used by the ABI test.
//!
//! Library: EMBER_LIB_DIR (a directory holding libember.so) if set, else pkg-config's
//! `ember` module. Header: EMBER_INCLUDE_DIR, else pkg-config, else this checkout's include/.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn pkg_config(flag: &str) -> Option<String> {
    let out = Command::new("pkg-config").args([flag, "ember"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=EMBER_LIB_DIR");
    println!("cargo:rerun-if-env-changed=EMBER_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let lib_dir = env::var("EMBER_LIB_DIR").ok().or_else(|| {
        pkg_config("--libs-only-L").map(|s| s.trim_start_matches("-L").to_string()).filter(|s| !s.is_empty())
    });
    match &lib_dir {
        Some(dir) => println!("cargo:rustc-link-search=native={dir}"),
        None => println!("cargo:warning=libember not located (set EMBER_LIB_DIR or PKG_CONFIG_PATH); relying on the default search path"),
    }
    println!("cargo:rustc-link-lib=dylib=ember");

    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let include_dir = env::var("EMBER_INCLUDE_DIR").ok().map(PathBuf::from).or_else(|| {
        pkg_config("--cflags-only-I").map(|s| PathBuf::from(s.trim_start_matches("-I"))).filter(|p| p.join("ember/ember.h").exists())
    }).unwrap_or_else(|| manifest.join("../../../include"));
    println!("cargo:include={}", include_dir.display());

    // The layout probe: a C translation unit reporting sizeof/offsetof of every struct and
    // the value of every constant, as the C compiler sees ember.h.
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let probe = manifest.join("probe/layout.c");
    println!("cargo:rerun-if-changed={}", probe.display());
    println!("cargo:rerun-if-changed={}", include_dir.join("ember/ember.h").display());
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let obj = out_dir.join("layout.o");
    let status = Command::new(&cc)
        .args(["-std=c99", "-c", "-fPIC", "-o"]).arg(&obj).arg("-I").arg(&include_dir).arg(&probe)
        .status().expect("running the C compiler for the layout probe");
    assert!(status.success(), "compiling the layout probe failed");
    let archive = out_dir.join("libember_layout_probe.a");
    let _ = std::fs::remove_file(&archive);
    let status = Command::new("ar").arg("crs").arg(&archive).arg(&obj).status().expect("running ar");
    assert!(status.success(), "archiving the layout probe failed");
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rustc-link-lib=static=ember_layout_probe");
}
