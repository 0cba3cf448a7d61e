//! List queries (RFC 7644 §3.4.2): `filter`, `startIndex`, `count`,
//! `attributes` and `excludedAttributes`, and the `ListResponse` they are
//! answered with.
//!
//! `startIndex` is 1-based; below 1 counts as 1 (RFC 7644 §3.4.2.4).
//! `count` below 0 counts as 0 and above [`MAX_RESULTS`] is capped there
//! (the `maxResults` advertised in `ServiceProviderConfig`). Other
//! parameters (`attributes`, `sortBy`, Entra's `aadOptscim062020` flag) are
//! ignored: sorting is not supported and more attributes than asked for are
//! allowed.

use super::error::{ScimError, ScimType};
use super::filter::{self, Filter};
use serde_json::{json, Value};

/// The most resources one list answers with.
pub const MAX_RESULTS: u64 = 1000;
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A validated list query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start_index: u64,
    /// 0 to [`MAX_RESULTS`].
    pub count: u64,
    /// `excludedAttributes` names `members`, or `attributes` leaves them
    /// out: a group's members need not be read.
    pub exclude_members: bool,
    /// `attributes`: lower case, without the core schema URN.
    pub attributes: Vec<String>,
    /// `excludedAttributes`: lower case, without the core schema URN.
    pub excluded: Vec<String>,
}

impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery {
            filter: None,
            start_index: 1,
            count: MAX_RESULTS,
            exclude_members: false,
            attributes: Vec::new(),
            excluded: Vec::new(),
        }
    }
}

/// An attribute list (`name.givenName, urn:…:User:userName`) as lower-case
/// paths without the core schema URN.
fn attribute_list(text: &str) -> Vec<String> {
    const CORE: [&str; 2] =
        ["urn:ietf:params:scim:schemas:core:2.0:user:", "urn:ietf:params:scim:schemas:core:2.0:group:"];
    text.split(',')
        .map(|a| a.trim().to_ascii_lowercase())
        .map(|a| CORE.iter().find_map(|p| a.strip_prefix(p)).map(str::to_owned).unwrap_or(a))
        .filter(|a| !a.is_empty())
        .take(64)
        .collect()
}

impl ListQuery {
    /// Reads the decoded query pairs (names case-insensitive).
    pub fn parse(pairs: &[(String, String)]) -> Result<ListQuery, ScimError> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let mut query = ListQuery::default();
        if let Some(text) = get("filter") {
            let parsed = filter::parse(text).map_err(|detail| ScimError::bad(ScimType::InvalidFilter, detail))?;
            query.filter = Some(parsed);
        }
        if let Some(text) = get("startIndex") {
            query.start_index = integer("startIndex", text)?.max(1) as u64;
        }
        if let Some(text) = get("count") {
            query.count = integer("count", text)?.clamp(0, MAX_RESULTS as i128) as u64;
        }
        Ok(ListQuery::with_projection(query, pairs))
    }

    /// Only `attributes` and `excludedAttributes` (on a POST, PUT or
    /// PATCH, RFC 7644 §3.9).
    pub fn projection(pairs: &[(String, String)]) -> ListQuery {
        ListQuery::with_projection(ListQuery::default(), pairs)
    }

    fn with_projection(mut query: ListQuery, pairs: &[(String, String)]) -> ListQuery {
        let get = |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        query.attributes = get("attributes").map(attribute_list).unwrap_or_default();
        query.excluded = get("excludedAttributes").map(attribute_list).unwrap_or_default();
        let names_members = |list: &[String]| list.iter().any(|a| a == "members" || a.starts_with("members."));
        query.exclude_members = query.excluded.iter().any(|a| a == "members")
            || (!query.attributes.is_empty() && !names_members(&query.attributes));
        query
    }

    /// The 0-based range of results this query asks for.
    pub fn window(&self) -> std::ops::Range<u64> {
        let skip = self.start_index - 1;
        skip..skip.saturating_add(self.count)
    }
}

/// A whole number, however large (it is clamped afterwards): `1e9` and
/// `1000000000000` are both valid counts.
fn integer(name: &str, text: &str) -> Result<i128, ScimError> {
    let text = text.trim();
    let parsed = text.parse::<i128>().ok().or_else(|| {
        let float = text.parse::<f64>().ok().filter(|f| f.is_finite() && f.fract() == 0.0)?;
        Some(float.clamp(i128::MIN as f64, i128::MAX as f64) as i128)
    });
    parsed.ok_or_else(|| {
        let shown: String = text.chars().take(40).collect();
        ScimError::bad(ScimType::InvalidValue, format!("{name} must be a whole number, got {shown:?}"))
    })
}

/// The `ListResponse` for `resources`, the window starting at `start_index`
/// of `total` results.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListQuery::parse(&pairs)
    }

    #[test]
    fn okta_s_paging_reads_as_a_window() {
        let q = query(&[("filter", "userName eq \"a@x.io\""), ("startIndex", "1"), ("count", "100")]).unwrap();
        assert_eq!((q.window(), q.filter.unwrap().clauses.len()), (0..100, 1));
        assert_eq!(query(&[("startIndex", "101"), ("count", "100")]).unwrap().window(), 100..200);
    }

    #[test]
    fn out_of_range_numbers_are_clamped_and_non_numbers_refused() {
        assert_eq!(query(&[("count", "1000000000")]).unwrap().count, MAX_RESULTS);
        assert_eq!(query(&[("count", "1e9")]).unwrap().count, MAX_RESULTS);
        assert_eq!(query(&[("count", "99999999999999999999999999")]).unwrap().count, MAX_RESULTS);
        assert_eq!(query(&[("count", "-5")]).unwrap().count, 0);
        assert_eq!(query(&[("startIndex", "0")]).unwrap().start_index, 1);
        assert_eq!(query(&[("startIndex", "-3")]).unwrap().start_index, 1);
        for (name, value) in [("count", "ten"), ("startIndex", "1.5"), ("count", "")] {
            let error = query(&[(name, value)]).unwrap_err();
            assert_eq!((error.status, error.scim_type), (400, Some(ScimType::InvalidValue)));
        }
    }

    #[test]
    fn a_bad_filter_is_invalid_filter_and_members_can_be_excluded() {
        assert_eq!(query(&[("filter", "userName sw \"a\"")]).unwrap_err().scim_type, Some(ScimType::InvalidFilter));
        assert!(query(&[("excludedAttributes", "members")]).unwrap().exclude_members);
        assert!(query(&[("excludedattributes", "meta, Members")]).unwrap().exclude_members);
        assert!(!query(&[("excludedAttributes", "meta"), ("aadOptscim062020", "")]).unwrap().exclude_members);
        let q = query(&[("attributes", "urn:ietf:params:scim:schemas:core:2.0:Group:displayName, meta")]).unwrap();
        assert_eq!((q.attributes, q.exclude_members), (vec!["displayname".to_owned(), "meta".to_owned()], true));
        assert!(!query(&[("attributes", "members.value")]).unwrap().exclude_members);
    }

    #[test]
    fn an_empty_list_has_every_field_and_an_empty_array() {
        assert_eq!(
            list_response(0, 1, vec![]),
            json!({"schemas": [LIST_SCHEMA], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
        );
    }
}
