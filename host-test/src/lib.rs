//! A reference wasmtime host for the gitbook-directory-sync component, and a
//! local stand-in for the GitBook API, for tests, the demo and benchmarks.

pub mod bindings;
pub mod demo;
pub mod directories;
pub mod host;
pub mod standin;

pub use host::{component_path, new_engine, Host, HostConfig, HttpReply, Output};

/// The wasmtime this host is built on, for embedders and tests.
pub use wasmtime;
