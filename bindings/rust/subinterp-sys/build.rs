//! Tells the linker where libsubinterp is and, with the `bindgen` feature,
//! regenerates the bindings from subinterp.h.
//!
//! The library is found through, in order:
//! 1. `SUBINTERP_LIB_DIR`: the directory holding `libsubinterp.so`;
//! 2. pkg-config (`subinterp`): an installed library, or a build tree when
//!    `PKG_CONFIG_PATH` names it (CMake writes `subinterp-uninstalled.pc`
//!    there, which pkg-config prefers).
//!
//! Dependents read the directory back as `DEP_SUBINTERP_LIB_DIR` (the `links`
//! metadata), for example to give their own binaries an rpath.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SUBINTERP_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    if env::var_os("DOCS_RS").is_none() {
        let lib_dir = find_library();
        println!("cargo:rustc-link-search=native={}", lib_dir.display());
        println!("cargo:rustc-link-lib=dylib=subinterp");
        println!("cargo:lib_dir={}", lib_dir.display());
    }
    #[cfg(feature = "bindgen")]
    regenerate::bindings();
}

fn find_library() -> PathBuf {
    if let Some(dir) = env::var_os("SUBINTERP_LIB_DIR") {
        return PathBuf::from(dir);
    }
    match pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("subinterp")
    {
        Ok(library) => match library.link_paths.first() {
            Some(dir) => dir.clone(),
            None => panic!("pkg-config's subinterp.pc gives no -L directory; set SUBINTERP_LIB_DIR"),
        },
        Err(error) => panic!(
            "libsubinterp not found. Set SUBINTERP_LIB_DIR to the directory holding \
             libsubinterp.so, or PKG_CONFIG_PATH to one holding subinterp.pc (a build tree \
             made by ci/build, e.g. build/py3.13, has one).\npkg-config said: {error}"
        ),
    }
}

#[cfg(feature = "bindgen")]
mod regenerate {
    use std::env;
    use std::path::PathBuf;

    /// Writes OUT_DIR/bindings.rs (which src/lib.rs then includes) and, when
    /// SUBINTERP_SYS_BINDINGS_OUT names a file, a copy there.
    pub fn bindings() {
        println!("cargo:rerun-if-env-changed=SUBINTERP_SYS_BINDINGS_OUT");
        println!("cargo:rerun-if-env-changed=SUBINTERP_INCLUDE_DIR");
        let header = include_dir().join("subinterp.h");
        println!("cargo:rerun-if-changed={}", header.display());
        let bindings = bindgen::Builder::default()
            .header(header.to_string_lossy())
            .allowlist_function("subinterp_.*")
            .allowlist_type("subinterp_.*")
            .allowlist_var("SUBINTERP_.*")
            // Enums C returns or stores become newtypes: any integer is a
            // valid value, so a code from a newer library is no UB.
            .newtype_enum("subinterp_status_code|subinterp_data_kind|subinterp_runtime_mode|subinterp_config_preset|subinterp_unbound|subinterp_future_state")
            // Flag and field values stay plain constants of the fields' type.
            .constified_enum("subinterp_gil|subinterp_run_flag")
            .translate_enum_integer_types(true)
            .prepend_enum_name(false)
            // C declares statuses as int32_t and names their values in enum
            // subinterp_status_code; Rust gets one type for both, so that a
            // status compares with the named codes (see src/lib.rs).
            .blocklist_type("subinterp_status")
            .raw_line("/// The result of every fallible call: one of the `subinterp_status_code` values.")
            .raw_line("pub type subinterp_status = subinterp_status_code;")
            .derive_default(true)
            .derive_eq(true)
            .derive_hash(true)
            .layout_tests(true)
            .generate_comments(true)
            .use_core()
            // Match the crates' edition and rust-version (Cargo.toml).
            .rust_edition(bindgen::RustEdition::Edition2021)
            .rust_target(bindgen::RustTarget::stable(74, 0).unwrap())
            .generate()
            .expect("bindgen failed on subinterp.h");
        let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("bindings.rs");
        bindings.write_to_file(&out).expect("cannot write bindings");
        if let Some(copy) = env::var_os("SUBINTERP_SYS_BINDINGS_OUT") {
            std::fs::copy(&out, copy).expect("cannot copy bindings to SUBINTERP_SYS_BINDINGS_OUT");
        }
    }

    fn include_dir() -> PathBuf {
        if let Some(dir) = env::var_os("SUBINTERP_INCLUDE_DIR") {
            return PathBuf::from(dir);
        }
        // In the source tree: bindings/rust/subinterp-sys -> capi/include.
        let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
        manifest.join("../../../capi/include")
    }
}
