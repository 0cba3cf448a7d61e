//! List pagination: the `limit` parameter, opaque `page` tokens and the `List` envelope.
//!
//! A token names the list it belongs to and a position in it: for members and teams the
//! slot of the last item returned, so inserting or removing items between two pages never
//! skips or repeats anything. The token is hex so it looks opaque and clients cannot
//! build one themselves; anything that does not decode to a token for this same list is
//! a 400, as a real API would refuse it.

use serde_json::{json, Value};

pub(crate) const DEFAULT_LIMIT: usize = 50;
pub(crate) const MAX_LIMIT: usize = 1000;

const TOKEN_PREFIX: &str = "gbsi1";

/// `limit` as GitBook's spec has it: a number from 0 to 1000, 50 when absent.
pub(crate) fn parse_limit(raw: Option<&str>) -> Result<usize, String> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    // The spec types it as a number, so "20.0" is as good as "20"; "2.5" is not a count.
    let n: f64 = raw.trim().parse().map_err(|_| format!("Invalid limit {raw:?}: expected a number"))?;
    if !(0.0..=MAX_LIMIT as f64).contains(&n) || n.fract() != 0.0 {
        return Err(format!("Invalid limit {raw:?}: must be an integer between 0 and {MAX_LIMIT}"));
    }
    Ok(n as usize)
}

pub(crate) fn encode_token(scope: &str, position: usize) -> String {
    format!("{TOKEN_PREFIX}|{scope}|{position}").bytes().map(|b| format!("{b:02x}")).collect()
}

/// The position in a `page` token issued for `scope`. No token (or an empty one) is the
/// first page: `Ok(None)`.
pub(crate) fn decode_token(scope: &str, raw: Option<&str>) -> Result<Option<usize>, String> {
    let raw = match raw {
        None | Some("") => return Ok(None),
        Some(raw) => raw,
    };
    let invalid = || format!("Invalid page token {raw:?}");
    if raw.len() % 2 != 0 || !raw.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..raw.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&raw[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.rsplitn(2, '|');
    let position = parts.next().and_then(|p| p.parse::<usize>().ok());
    let expected = format!("{TOKEN_PREFIX}|{scope}");
    match (position, parts.next()) {
        (Some(position), Some(head)) if head == expected => Ok(Some(position)),
        _ => Err(invalid()),
    }
}

/// One page cut from an ordered stream of `(position, item)`.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    /// Position of the last item, when more items follow it.
    pub(crate) next: Option<usize>,
}

/// Takes up to `limit` items, then looks one further to learn whether there is a next
/// page. A zero limit never reports one, so a client cannot loop on empty pages.
pub(crate) fn take_page<T>(mut items: impl Iterator<Item = (usize, T)>, limit: usize) -> Page<T> {
    let mut page = Vec::with_capacity(limit.min(MAX_LIMIT));
    let mut last = None;
    for (position, item) in items.by_ref().take(limit) {
        page.push(item);
        last = Some(position);
    }
    let next = last.filter(|_| items.next().is_some());
    Page { items: page, next }
}

/// GitBook's `List` envelope: `{"items":[...],"count":N,"next":{"page":"..."}}`, with
/// `next` left out on the last page.
pub(crate) fn list_json(items: Vec<Value>, count: usize, scope: &str, next: Option<usize>) -> Value {
    let mut body = json!({"items": items, "count": count});
    if let Some(position) = next {
        body["next"] = json!({"page": encode_token(scope, position)});
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None), Ok(50));
        assert_eq!(parse_limit(Some("0")), Ok(0));
        assert_eq!(parse_limit(Some("1000")), Ok(1000));
        assert_eq!(parse_limit(Some("20.0")), Ok(20));
        for bad in ["1001", "-1", "abc", "", "2.5", "NaN", "inf"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token("members:joinedAt:desc", 42);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(decode_token("members:joinedAt:desc", Some(&t)), Ok(Some(42)));
        assert!(decode_token("teams", Some(&t)).is_err(), "other list");
        assert_eq!(decode_token("teams", None), Ok(None));
        for bad in ["zz", "abc", "c_10", "6162", "ééé"] {
            assert!(decode_token("teams", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn pages() {
        let p = take_page((0..5).map(|i| (i * 10, i)), 2);
        assert_eq!((p.items, p.next), (vec![0, 1], Some(10)));
        let p = take_page((0..2).map(|i| (i, i)), 2);
        assert_eq!((p.items, p.next), (vec![0, 1], None));
        let p = take_page((0..2).map(|i| (i, i)), 0);
        assert_eq!((p.items.len(), p.next), (0, None));
    }
}
