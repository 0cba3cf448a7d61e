//! Builds the component (`cargo build --release --target wasm32-wasip2`) so
//! that one `cargo test` or `cargo run -p host-test` at the root runs every
//! layer against the current sources.
//!
//! The nested cargo gets its own `--target-dir` under OUT_DIR: sharing the
//! outer build's target directory would wait forever on its lock.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("host-test lives inside the workspace").to_path_buf();
    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=GITBOOK_DIRECTORY_SYNC_WASM");
    if let Ok(prebuilt) = env::var("GITBOOK_DIRECTORY_SYNC_WASM") {
        println!("cargo:rustc-env=GITBOOK_DIRECTORY_SYNC_WASM={prebuilt}");
        return;
    }

    let target_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("component");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["build", "--release", "--target", "wasm32-wasip2", "-p", "gitbook-directory-sync", "--lib"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags are for the host target, not for wasm32.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        command.env_remove(var);
    }
    let status = command.status().expect("could not run cargo to build the component");
    if !status.success() {
        panic!(
            "building the component failed ({status}): see the compiler output above. \
             If the wasm32-wasip2 target is missing, run `rustup target add wasm32-wasip2`."
        );
    }
    let wasm = target_dir.join("wasm32-wasip2/release/gitbook_directory_sync.wasm");
    println!("cargo:rustc-env=GITBOOK_DIRECTORY_SYNC_WASM={}", wasm.display());
}
