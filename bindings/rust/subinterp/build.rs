//! Gives this crate's own tests, examples and doctests an rpath to the
//! libsubinterp that subinterp-sys linked (DEP_SUBINTERP_LIB_DIR, from its
//! `links` metadata), so `cargo test` runs without LD_LIBRARY_PATH.
fn main() {
    if let Some(dir) = std::env::var_os("DEP_SUBINTERP_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.to_string_lossy());
    }
}
