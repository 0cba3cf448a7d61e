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

/// Log lines ([`crate::observe`]) to the component's stderr, which every
/// host forwards: one `write` per line, so lines of concurrent requests
/// never interleave mid-line.
pub struct Stderr;

impl crate::observe::Sink for Stderr {
    fn line(&mut self, line: &str) {
        use std::io::Write;
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        let mut stderr = std::io::stderr();
        let _ = stderr.write_all(text.as_bytes()).and_then(|()| stderr.flush());
    }
}

/// Reads the component's environment (set by the host, e.g. `wasmtime run
/// --env`), for settings the caller left out.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
