//! Build script of the chapter crates. With the `torch` feature, it makes
//! the binaries and tests find libtorch at run time and see CUDA:
//!
//! - an rpath to libtorch's folder, so no `LD_LIBRARY_PATH` is needed
//!   (which, when set, still wins: the GPU machine uses it);
//! - `libtorch_cuda` linked with `--no-as-needed`. No symbol of it is used
//!   directly, so the linker would otherwise drop it, and
//!   `Cuda::is_available()` would quietly say false.
//!
//! torch-sys announces libtorch's folder as `DEP_TCH_LIBTORCH_LIB` to the
//! crates that depend on it directly; without the feature it is unset and
//! this script does nothing.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-L{lib}");
        println!(
            "cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed"
        );
    }
}
