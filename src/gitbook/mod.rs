//! The GitBook API: its JSON model, one planned request per operation, the
//! pagination cursor, the retry policy, and the client that drives them.

pub mod client;
pub mod flight;
pub mod lanes;
pub mod model;
pub mod ops;
pub mod pagination;
pub mod retry;
pub mod throttle;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod flight_tests;

pub use client::Client;
