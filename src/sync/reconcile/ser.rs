//! Serializers for the validated types a plan holds, which keep their
//! checked form in memory (so applying a plan cannot fail validation) but
//! appear in JSON as the plain strings people and scripts expect.

use crate::error::Error;
use crate::validate::TeamTitle;
use crate::validate::{GitBookId, MemberRef};
use serde::Serializer;
use std::fmt::Display;

pub(super) fn display<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

pub(super) fn option_display<T: Display, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => s.collect_str(value),
        None => s.serialize_none(),
    }
}

pub(super) fn title<S: Serializer>(title: &TeamTitle, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(title.as_str())
}

pub(super) fn titles<S: Serializer>(titles: &[TeamTitle], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(titles.iter().map(TeamTitle::as_str))
}

pub(super) fn refs<S: Serializer>(refs: &[MemberRef], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(refs.iter().map(MemberRef::as_str))
}

pub(super) fn ids<S: Serializer>(ids: &[GitBookId], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().map(GitBookId::as_str))
}

/// Errors as [`Error::to_json`], the shape the CLI and webhook use.
pub(super) fn error<S: Serializer>(error: &Option<Error>, s: S) -> Result<S::Ok, S::Error> {
    match error {
        Some(error) => s.serialize_some(&error.to_json()),
        None => s.serialize_none(),
    }
}
