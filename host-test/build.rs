//! Builds the component (`cargo build --release --target wasm32-wasip2`) so
//! that one `cargo test` or `cargo run -p host-test` at the root runs every
//! layer against the current sources.
//!
//! The nested cargo gets its own `--target-dir` under OUT_DIR: sharing the
//! outer build's target directory would wait forever on its lock.
//!
//! The wasm32-wasip2 standard library is checked for first, with the very
//! rustc cargo resolved (env `RUSTC`), and added through rustup to that
//! rustc's own toolchain when it is missing: otherwise a fresh machine spends
//! minutes compiling only to fail with "can't find crate for `core`".

use std::env;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{exit, Command};

const TARGET: &str = "wasm32-wasip2";

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

    ensure_wasm_target();

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
        panic!("building the component failed ({status}): see the compiler output above.");
    }
    let wasm = target_dir.join("wasm32-wasip2/release/gitbook_directory_sync.wasm");
    println!("cargo:rustc-env=GITBOOK_DIRECTORY_SYNC_WASM={}", wasm.display());
}

/// Makes sure the rustc cargo uses can build for wasm32-wasip2: adds the
/// target through rustup when it is missing, or stops with what to run.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    if has_target(&rustc) {
        return;
    }
    let Some(toolchain) = rustup_toolchain(&rustc).filter(|_| rustup_works()) else {
        stop(&format!(
            "the {TARGET} target is not installed for {}: install its standard library \
             (with rustup: `rustup target add {TARGET}`), then build again",
            rustc.to_string_lossy()
        ));
    };
    println!(
        "cargo:warning=the {TARGET} target was missing; adding it: rustup target add --toolchain {toolchain} {TARGET}"
    );
    let added = Command::new("rustup").args(["target", "add", "--toolchain", &toolchain, TARGET]).status();
    if !matches!(added, Ok(status) if status.success()) || !has_target(&rustc) {
        stop(&format!("could not add the {TARGET} target: run `rustup target add --toolchain {toolchain} {TARGET}`"));
    }
    println!("cargo:warning=the {TARGET} target is installed for {toolchain}");
}

/// Whether `rustc`'s sysroot holds the target's `core` (what E0463 misses).
fn has_target(rustc: &OsStr) -> bool {
    let Some(libdir) = rustc_print(rustc, &["--print", "target-libdir", "--target", TARGET]) else { return false };
    std::fs::read_dir(libdir.trim())
        .is_ok_and(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
}

/// The rustup toolchain `rustc` belongs to: its sysroot is
/// `$RUSTUP_HOME/toolchains/<name>`. Asking rustc itself, rather than
/// rustup's default, keeps a `+toolchain`, `RUSTUP_TOOLCHAIN` or
/// `rust-toolchain.toml` choice: the target goes where the build needs it.
fn rustup_toolchain(rustc: &OsStr) -> Option<String> {
    let sysroot = PathBuf::from(rustc_print(rustc, &["--print", "sysroot"])?.trim());
    let parent = sysroot.parent()?;
    (parent.file_name()? == "toolchains").then(|| sysroot.file_name().map(|n| n.to_string_lossy().into_owned()))?
}

fn rustup_works() -> bool {
    Command::new("rustup").arg("--version").output().is_ok_and(|out| out.status.success())
}

fn rustc_print(rustc: &OsStr, args: &[&str]) -> Option<String> {
    let out = Command::new(rustc).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Fails the build with one line saying what to do.
fn stop(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1);
}
