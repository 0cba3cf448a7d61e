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

/// A member's role within one team (`TeamMemberRole`): owners can manage the team.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TeamRole {
    Owner,
    /// What a member added without a role gets.
    #[default]
    Member,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Owner => "owner",
            TeamRole::Member => "member",
        }
    }

    /// Parses the exact wire spelling (`"owner"`, `"member"`).
    pub fn parse(s: &str) -> Option<TeamRole> {
        [TeamRole::Owner, TeamRole::Member].into_iter().find(|r| r.as_str() == s)
    }
}

/// One organization member as the stand-in stores it. `id` is both the member id and the
/// user id, as in GitBook.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberState {
    pub id: String,
    /// The account's address: invites and team updates by email find the member by it,
    /// even when `email_hidden` keeps it out of API answers.
    pub email: String,
    /// The API leaves `user.email` out for this member (the spec's `User.email` is
    /// optional) and `search` does not match the address.
    pub email_hidden: bool,
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
    /// The members of `member_ids` whose team role is owner; everyone else is a plain
    /// member.
    pub owner_ids: Vec<String>,
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

    #[test]
    fn team_role_round_trips() {
        for r in [TeamRole::Owner, TeamRole::Member] {
            assert_eq!(TeamRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(TeamRole::parse("Owner"), None);
        assert_eq!(TeamRole::default(), TeamRole::Member);
    }
}
