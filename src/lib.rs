//! gitbook-directory-sync: keeps a GitBook organization's members and teams in
//! step with a company directory.
//!
//! The crate is sans-IO: everything but [`sys`] is plain Rust that turns inputs
//! into planned HTTP requests and parses responses, and is unit-tested on the
//! host. [`sys`] (wasm32 only) holds the `wasi:http` transport, the clock and
//! the component's export glue.
//!
//! Layers, top to bottom:
//! - [`validate`]: identifiers, emails and URLs checked before anything is sent;
//! - [`settings`]: the connection settings, resolved and validated;
//! - [`gitbook`]: the API model, one function per operation that plans the
//!   request and parses the answer, pagination and the retry policy, and the
//!   [`gitbook::Client`] that drives them over an [`io::Io`];
//! - [`error`]: the one error type every operation returns.

pub mod cli;
pub mod error;
pub mod events;
pub mod gitbook;
pub mod http;
pub mod io;
pub mod json_fields;
pub mod role;
pub mod settings;
pub mod sync;
pub mod timestamp;
pub mod validate;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod sys;
