//! Everything that only exists on wasm32: the `wasi:http` transport and
//! clock, and the glue that exports the WIT interfaces. The rest of the crate
//! never names a WASI binding.

mod events;
mod exports;
mod reconcile;
mod run;
mod serve;
mod wasi_io;

pub use wasi_io::WasiIo;

/// Reads the component's environment (set by the host, e.g. `wasmtime run
/// --env`), for settings the caller left out.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
