//! Which GitBook team an Okta group feeds: the `GITBOOK_GROUP_TEAMS`
//! configuration, parsed and looked up. Read once by the webhook's
//! configuration and by the WIT `events.apply`, so both map groups alike.

use crate::error::Error;
use crate::events::TeamRef;
use crate::validate::{printable, GitBookId, TeamTitle};
use serde_json::Value;
use std::collections::HashSet;

/// The configuration variable [`GroupMapping::parse`] reads.
pub const ENV_GROUP_TEAMS: &str = "GITBOOK_GROUP_TEAMS";

/// Okta group → GitBook team, from configuration. A group is looked up by its
/// Okta ID (e.g. `00g1`, exact) first, then by its display name
/// (case-insensitive); an unmapped group goes to the GitBook team titled like
/// the group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupMapping {
    /// (group ID or name, team), in configuration order.
    entries: Vec<(String, GitBookId)>,
}

impl GroupMapping {
    /// Parses the configuration text: a JSON object
    /// `{"00g1": "teamId", "Engineering": "teamId2"}` or the list
    /// `00g1=teamId,Engineering=teamId2`. Blank text is an empty mapping.
    /// Keys are trimmed and must be unique (case-insensitively); values must
    /// be GitBook IDs.
    pub fn parse(text: &str) -> Result<GroupMapping, Error> {
        let invalid = |message: String| Error::invalid(ENV_GROUP_TEAMS, message);
        let text = text.trim();
        let pairs: Vec<(String, String)> = if text.starts_with('{') {
            let value: Value = serde_json::from_str(text).map_err(|e| {
                invalid(format!("is not a valid JSON object ({e}); expected {{\"group\": \"teamId\", …}}"))
            })?;
            let Value::Object(map) = value else {
                return Err(invalid("must be a JSON object of group → team ID".into()));
            };
            map.into_iter()
                .map(|(group, team)| match team {
                    Value::String(team) => Ok((group, team)),
                    _ => {
                        Err(invalid(format!("the team for {} must be a string (a GitBook team ID)", printable(&group))))
                    }
                })
                .collect::<Result<_, _>>()?
        } else {
            text.split(',')
                .filter(|entry| !entry.trim().is_empty())
                .map(|entry| match entry.split_once('=') {
                    Some((group, team)) => Ok((group.to_owned(), team.to_owned())),
                    None => Err(invalid(format!(
                        "entry {} is not group=teamId; expected e.g. 00g1=teamId,Engineering=teamId2 or a JSON object",
                        printable(entry.trim())
                    ))),
                })
                .collect::<Result<_, _>>()?
        };
        let mut seen = HashSet::new();
        let mut entries = Vec::with_capacity(pairs.len());
        for (group, team) in pairs {
            let group = group.trim();
            if group.is_empty() {
                return Err(invalid("has an entry with an empty group".into()));
            }
            if !seen.insert(group.to_lowercase()) {
                return Err(invalid(format!("maps the group {} more than once", printable(group))));
            }
            let team = GitBookId::parse("", team.trim()).map_err(|e| match e {
                Error::InvalidInput { message, .. } => invalid(format!("the team for {} {message}", printable(group))),
                other => other,
            })?;
            entries.push((group.to_owned(), team));
        }
        Ok(GroupMapping { entries })
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The team for an Okta group: mapped by ID, else mapped by name, else
    /// the team titled like the group. Fails only when the group is unmapped
    /// and its name is not a usable team title (empty, or longer than
    /// GitBook's 64 characters).
    pub fn team_for(&self, group_id: &str, display_name: &str) -> Result<TeamRef, Error> {
        let by_id = self.entries.iter().find(|(key, _)| !group_id.is_empty() && key == group_id);
        let name = display_name.trim().to_lowercase();
        let by_name = || self.entries.iter().find(|(key, _)| !name.is_empty() && key.to_lowercase() == name);
        match by_id.or_else(by_name) {
            Some((_, team)) => Ok(TeamRef::Id(team.clone())),
            None => TeamTitle::parse("displayName", display_name).map(TeamRef::Title),
        }
    }
}

impl GroupMapping {
    /// Reads [`ENV_GROUP_TEAMS`] (unset or blank: no mapping).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<GroupMapping, Error> {
        GroupMapping::parse(env(ENV_GROUP_TEAMS).as_deref().unwrap_or("").trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(value: &str) -> GitBookId {
        GitBookId::parse("id", value).unwrap()
    }

    fn invalid_field(error: Error) -> String {
        match error {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn group_mappings_parse_from_json_or_a_list() {
        let from_json = GroupMapping::parse(r#" {"00g1": "t1", "Engineering": " t2 "} "#).unwrap();
        let from_list = GroupMapping::parse("00g1=t1, Engineering = t2 ,").unwrap();
        for mapping in [&from_json, &from_list] {
            assert_eq!(mapping.team_for("00g1", "Whatever").unwrap(), TeamRef::Id(id("t1")));
            assert_eq!(mapping.team_for("00gX", "ENGINEERING").unwrap(), TeamRef::Id(id("t2")));
        }
        assert!(GroupMapping::parse("").unwrap().is_empty());
        assert!(GroupMapping::parse("  ").unwrap().is_empty());
    }

    #[test]
    fn group_ids_match_exactly_before_names_and_titles_are_the_fallback() {
        let mapping = GroupMapping::parse("00g1=byId,Sales=byName").unwrap();
        // The ID wins over a name that is also mapped.
        assert_eq!(mapping.team_for("00g1", "Sales").unwrap(), TeamRef::Id(id("byId")));
        // IDs are case-sensitive; names are not.
        assert_eq!(mapping.team_for("00G1", "sales").unwrap(), TeamRef::Id(id("byName")));
        let TeamRef::Title(title) = mapping.team_for("00G1", "Support").unwrap() else { panic!() };
        assert_eq!(title.as_str(), "Support");
        assert!(mapping.team_for("", "").is_err(), "no usable title");
        assert!(mapping.team_for("00g9", &"x".repeat(65)).is_err(), "longer than a GitBook title");
    }

    #[test]
    fn bad_group_mappings_name_the_variable() {
        for bad in [
            "00g1",
            "00g1=",
            "=t1",
            "00g1=../t1",
            "00g1=t1,00G1=t2",
            r#"{"00g1": 5}"#,
            r#"{"00g1": "t 1"}"#,
            r#"{"00g1": "t1""#,
            "[]",
        ] {
            let error = GroupMapping::parse(bad).unwrap_err();
            assert_eq!(invalid_field(error.clone()), ENV_GROUP_TEAMS, "{bad}");
            assert!(!error.to_string().is_empty());
        }
        let error = GroupMapping::parse("Eng=a/b").unwrap_err().to_string();
        assert!(error.contains("the team for \"Eng\" contains '/'"), "{error}");
    }
}
