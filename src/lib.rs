//! gitbook-directory-sync: keeps a GitBook organization's members and teams in
//! step with a company directory.
//!
//! The crate is sans-IO: everything but [`sys`] is plain Rust that turns inputs
//! into planned HTTP requests and parses responses, and is unit-tested on the
//! host. [`sys`] (wasm32 only) holds the `wasi:http` transport, the clock and
//! the component's export glue.
//!
//! Layers, top to bottom (each imports only layers below it):
//! - ways in, each parsing and validating its input before anything is sent:
//!   [`cli`] (the command line), [`webhook`] (the incoming-HTTP service: one
//!   router for health, event deliveries, reconcile and [`scim`], the SCIM
//!   2.0 service provider), and the WIT exports in `sys`;
//! - [`events`]: directory events from any format (generic JSON, Okta Event
//!   Hooks), with [`timestamp`] for ordering them;
//! - [`sync`]: what must change: events applied in order, and whole-state
//!   reconciliation (snapshot → plan → apply);
//! - [`gitbook`]: the API model, one function per operation that plans the
//!   request and parses the answer, pagination and the retry policy, and the
//!   [`gitbook::Client`] that drives them over an [`io::Io`];
//! - the vocabulary every layer shares: [`validate`] (IDs, emails, team
//!   titles), [`role`], [`settings`], [`error`] (the one error type and its
//!   one JSON encoding), [`http`] (plain request and response values),
//!   [`json_fields`] (field-by-field JSON reading), [`observe`] (log and
//!   audit lines as values);
//! - `sys` (wasm32 only): conversion between WASI and the types above, and
//!   nothing else.

pub mod cli;
pub mod error;
pub mod events;
pub mod gitbook;
pub mod http;
pub mod io;
pub mod json_fields;
pub mod observe;
pub mod role;
pub mod scim;
pub mod settings;
pub mod sources;
pub mod sync;
pub mod timestamp;
pub mod validate;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod sys;
