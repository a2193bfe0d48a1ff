//! The build script of every function binary (`build = "../link.rs"` in each manifest): links it
//! as a position-dependent executable (`-no-pie`) on Linux.
//!
//! Why: a position-independent executable of this size carries ~73,000 relative relocations
//! that the loader applies at every cold start, writing (and so copying) over a megabyte of
//! relocated data pages; linked at a fixed address it has none. It was the largest single part of
//! a function's init (BENCHMARKS.md, "Cold start"). The cost: the binary's own code and data are
//! not address-randomized (shared libraries, heap and stack still are); a Lambda runs one
//! function per microVM. `TENX_LAMBDA_PIE=1` at build time keeps the platform's default (PIE).

fn main() {
    println!("cargo:rerun-if-changed=../link.rs");
    println!("cargo:rerun-if-env-changed=TENX_LAMBDA_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let keep_pie = std::env::var("TENX_LAMBDA_PIE").is_ok_and(|v| v == "1");
    if linux && !keep_pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
