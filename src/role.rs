//! Organization roles, as the API spells them (`MemberRole`), with guest as
//! the absence of a role (`MemberRoleOrGuest` = role or null).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A member's role. `Option<Role>` is the spec's `MemberRoleOrGuest`: `None`
/// is a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    // Declared from least to most powerful so that `Ord` ranks roles.
    Read,
    Comment,
    Review,
    Edit,
    Create,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [Role::Admin, Role::Create, Role::Edit, Role::Review, Role::Comment, Role::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Create => "create",
            Role::Edit => "edit",
            Role::Review => "review",
            Role::Comment => "comment",
            Role::Read => "read",
        }
    }

    /// Parses a role name; `guest` is not a role (see [`parse_role_or_guest`]).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `admin`…`read` or `guest` (→ `None`), as people type them.
pub fn parse_role_or_guest(text: &str) -> Result<Option<Role>, String> {
    let text = text.trim().to_ascii_lowercase();
    if text == "guest" {
        return Ok(None);
    }
    Role::parse(&text)
        .map(Some)
        .ok_or_else(|| format!("unknown role {text:?}; expected admin, create, edit, review, comment, read or guest"))
}

/// Human name of a role or guest.
pub fn role_or_guest_name(role: Option<Role>) -> &'static str {
    role.map_or("guest", Role::as_str)
}

/// The list filter on roles (`role` query parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleFilter {
    Role(Role),
    Guest,
}

impl RoleFilter {
    pub fn as_query_value(self) -> &'static str {
        match self {
            RoleFilter::Role(role) => role.as_str(),
            RoleFilter::Guest => "guest",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_api_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn guest_is_the_absence_of_a_role() {
        assert_eq!(parse_role_or_guest("Guest"), Ok(None));
        assert_eq!(parse_role_or_guest(" EDIT "), Ok(Some(Role::Edit)));
        assert!(parse_role_or_guest("owner").unwrap_err().contains("expected admin"));
    }

    #[test]
    fn admin_outranks_every_other_role() {
        assert!(Role::Admin > Role::Create && Role::Create > Role::Edit);
        assert!(Role::Edit > Role::Review && Role::Comment > Role::Read);
    }
}
