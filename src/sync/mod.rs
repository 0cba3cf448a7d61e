//! What must change in GitBook: directory events applied in order
//! ([`events`]).

pub mod events;
