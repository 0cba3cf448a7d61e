//! `wasi:cli/run`: the command line under `wasmtime run`. Converts WASI's
//! arguments, environment, streams and exit code for [`crate::cli`].

use super::{env, Stderr, WasiIo};
use crate::cli::{self, Console, MAX_INPUT_BYTES};
use std::io::{Read, Write};

struct Command;

wasi::cli::command::export!(Command);

impl wasi::exports::cli::run::Guest for Command {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let code = cli::run(&args, env, WasiIo::default(), &mut StdConsole, &mut Stderr);
        if code == cli::EXIT_OK {
            return Ok(());
        }
        // `Err(())` would exit 1 whatever went wrong; usage errors exit 2.
        wasi::cli::exit::exit_with_code(code);
        Err(())
    }
}

struct StdConsole;

fn read_capped(reader: impl Read, what: &str) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut body).map_err(|e| format!("cannot read {what}: {e}"))?;
    if body.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!("{what} is larger than {MAX_INPUT_BYTES} bytes"));
    }
    Ok(body)
}

impl Console for StdConsole {
    fn out(&mut self, text: &str) {
        let mut stdout = std::io::stdout();
        let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    }

    fn err(&mut self, text: &str) {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    fn stderr_is_terminal(&self) -> bool {
        wasi::cli::terminal_stderr::get_terminal_stderr().is_some()
    }

    fn read_stdin(&mut self) -> Result<Vec<u8>, String> {
        read_capped(std::io::stdin(), "stdin")
    }

    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let file = std::fs::File::open(path).map_err(|e| {
            format!("cannot open {path:?}: {e}; give the component access to its folder with `wasmtime run --dir <folder>`, or pipe it to stdin")
        })?;
        read_capped(file, path)
    }
}
