//! An rpath to the libsubinterp that subinterp-sys linked (its `links`
//! metadata: DEP_SUBINTERP_LIB_DIR), so the binary runs without
//! LD_LIBRARY_PATH. A program using an installed library needs none of this.
fn main() {
    if let Some(dir) = std::env::var_os("DEP_SUBINTERP_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.to_string_lossy());
    }
}
