//! Plain data the tests see: roles, members and teams as the stand-in holds them.
//!
//! These types carry no HTTP knowledge; `render.rs` turns them into GitBook's JSON shapes.

/// An organization role. A guest has no role at all, so guests are `Option<Role>::None`
/// wherever a role appears (GitBook's `MemberRoleOrGuest` is `MemberRole | null`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Create,
    Edit,
    Review,
    Comment,
    Read,
}

impl Role {
    /// Every role, from most to least privileged.
    pub const ALL: [Role; 6] = [Role::Admin, Role::Create, Role::Edit, Role::Review, Role::Comment, Role::Read];

    /// The wire spelling used by the GitBook API (`"admin"`, `"create"`, ...).
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

    /// Parses the exact wire spelling; the API is case-sensitive, so `"Admin"` is `None`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One organization member as the stand-in stores it. `id` is both the member id and the
/// user id, as in GitBook.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberState {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// `None` = guest.
    pub role: Option<Role>,
    pub sso: bool,
    pub disabled: bool,
    /// RFC 3339, e.g. `2024-01-01T09:00:00.000Z`.
    pub joined_at: String,
}

/// One team. `member_ids` is in the order members were added to the team.
#[derive(Clone, Debug, PartialEq)]
pub struct TeamState {
    pub id: String,
    pub title: String,
    pub member_ids: Vec<String>,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips_and_is_case_sensitive() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("guest"), None);
    }
}
