//! `Org`: the starting state of a stand-in, with ready-made fixtures and builder helpers.

use super::ids;
use super::model::{MemberState, Role, TeamState};
use super::time::{rfc3339_from_millis, SEED_EPOCH_MS};

/// Default cap on the number of emails in one `POST /invites`.
pub const DEFAULT_MAX_INVITE_BATCH: usize = 1000;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// An organization to serve: its id, the one API token accepted, and its members and teams.
///
/// The order of `members` is taken as join order (which `sort=joinedAt` lists by), so
/// `joined_at` values should not go down along the list; the fixtures below keep to that.
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub token: String,
    pub members: Vec<MemberState>,
    pub teams: Vec<TeamState>,
    /// Most emails accepted in one `POST /invites`; more is a 400.
    pub max_invite_batch: usize,
    /// Most entries (`add` plus `remove`) in one team members update, and `members` in one
    /// team creation; more is a 400. `None` (the default): no bound.
    pub max_team_update: Option<usize>,
}

impl Org {
    /// An organization with no members and no teams.
    pub fn new(id: &str, token: &str) -> Org {
        Org {
            id: id.to_string(),
            token: token.to_string(),
            members: Vec::new(),
            teams: Vec::new(),
            max_invite_batch: DEFAULT_MAX_INVITE_BATCH,
            max_team_update: None,
        }
    }

    /// Bounds team member updates and team creation to `entries` people a request.
    pub fn with_max_team_update(mut self, entries: usize) -> Org {
        self.max_team_update = Some(entries);
        self
    }

    /// A small, realistic organization: id `acme`, token `gb_test_token`, seven members
    /// covering every role plus a guest, and three teams.
    pub fn sample() -> Org {
        Org::new("acme", "gb_test_token")
            .with_member("alice@acme.test", "Alice Anderson", Some(Role::Admin))
            .with_member("bob@acme.test", "Bob Brown", Some(Role::Edit))
            .with_member("carol@acme.test", "Carol Chen", Some(Role::Create))
            .with_member("dave@acme.test", "Dave Dubois", Some(Role::Read))
            .with_member("erin@acme.test", "Erin Evans", Some(Role::Review))
            .with_member("frank@acme.test", "Frank Fischer", Some(Role::Comment))
            .with_member("gina@partner.test", "Gina Guest", None)
            .with_team("Engineering", &["alice@acme.test", "bob@acme.test", "carol@acme.test"])
            .with_team("Design", &["carol@acme.test", "erin@acme.test"])
            .with_team("Support", &["dave@acme.test", "frank@acme.test"])
    }

    /// A large deterministic organization: `user-00001@example.test` ("User 00001") and so
    /// on, roles spread over every role and guests, and teams `Team 001`... where member
    /// `i` belongs to team `i % teams` and every third member also to the next team.
    /// Builds 100,000 members in well under a second.
    pub fn generated(id: &str, token: &str, members: usize, teams: usize) -> Org {
        // Mostly readers, as in a real company, but every role shows up often.
        const ROLES: [Option<Role>; 10] = [
            Some(Role::Read),
            Some(Role::Read),
            Some(Role::Read),
            Some(Role::Edit),
            Some(Role::Comment),
            Some(Role::Review),
            Some(Role::Create),
            None,
            Some(Role::Edit),
            Some(Role::Admin),
        ];
        let mut org = Org::new(id, token);
        org.members.reserve(members);
        for i in 0..members {
            let n = i + 1;
            let email = format!("user-{n:05}@example.test");
            org.members.push(MemberState {
                id: ids::user_id(&email, 0),
                display_name: format!("User {n:05}"),
                email,
                email_hidden: false,
                role: ROLES[i % ROLES.len()],
                sso: false,
                disabled: false,
                joined_at: rfc3339_from_millis(SEED_EPOCH_MS + i as i64 * 60_000),
            });
        }
        let mut team_members: Vec<Vec<String>> = vec![Vec::new(); teams];
        if teams > 0 {
            for (i, m) in org.members.iter().enumerate() {
                team_members[i % teams].push(m.id.clone());
                if i % 3 == 0 && teams > 1 {
                    team_members[(i + 1) % teams].push(m.id.clone());
                }
            }
        }
        org.teams = team_members
            .into_iter()
            .enumerate()
            .map(|(t, member_ids)| TeamState {
                id: ids::team_id(id, t as u64),
                title: format!("Team {:03}", t + 1),
                member_ids,
                owner_ids: Vec::new(),
                created_at: rfc3339_from_millis(SEED_EPOCH_MS - DAY_MS + t as i64 * HOUR_MS),
            })
            .collect();
        org
    }

    /// Adds a member (not SSO, not disabled) who joined one day after the previous one.
    ///
    /// # Panics
    /// If a member with this email (case-insensitive) is already in the org: a fixture bug.
    pub fn with_member(mut self, email: &str, display_name: &str, role: Option<Role>) -> Org {
        let lower = email.to_lowercase();
        assert!(
            !self.members.iter().any(|m| m.email.to_lowercase() == lower),
            "Org::with_member: {email} is already a member"
        );
        let mut attempt = 0;
        let id = loop {
            let id = ids::user_id(email, attempt);
            if !self.members.iter().any(|m| m.id == id) {
                break id;
            }
            attempt += 1;
        };
        let n = self.members.len() as i64;
        self.members.push(MemberState {
            id,
            email: email.to_string(),
            email_hidden: false,
            display_name: display_name.to_string(),
            role,
            sso: false,
            disabled: false,
            joined_at: rfc3339_from_millis(SEED_EPOCH_MS + n * DAY_MS),
        });
        self
    }

    /// Adds a team whose members are the given (existing) members, by email.
    ///
    /// # Panics
    /// If an email is not a member yet: add members with `with_member` first.
    pub fn with_team(mut self, title: &str, member_emails: &[&str]) -> Org {
        let member_ids = member_emails
            .iter()
            .map(|email| {
                let lower = email.to_lowercase();
                self.members
                    .iter()
                    .find(|m| m.email.to_lowercase() == lower)
                    .map(|m| m.id.clone())
                    .unwrap_or_else(|| panic!("Org::with_team({title}): {email} is not a member; add it first"))
            })
            .collect();
        let seq = self.teams.len() as u64;
        let mut attempt = seq;
        let id = loop {
            let id = ids::team_id(&self.id, attempt);
            if !self.teams.iter().any(|t| t.id == id) {
                break id;
            }
            attempt += 1;
        };
        self.teams.push(TeamState {
            id,
            title: title.to_string(),
            member_ids,
            owner_ids: Vec::new(),
            created_at: rfc3339_from_millis(SEED_EPOCH_MS - DAY_MS + seq as i64 * HOUR_MS),
        });
        self
    }

    /// Makes an existing member one whose email the API leaves out (`user.email` is
    /// optional in the spec), e.g. `Org::sample().with_hidden_email("bob@acme.test")`.
    ///
    /// # Panics
    /// If the email is not a member yet: add members with `with_member` first.
    pub fn with_hidden_email(mut self, email: &str) -> Org {
        let lower = email.to_lowercase();
        let member = self
            .members
            .iter_mut()
            .find(|m| m.email.to_lowercase() == lower)
            .unwrap_or_else(|| panic!("Org::with_hidden_email: {email} is not a member; add it first"));
        member.email_hidden = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn sample_has_expected_shape() {
        let org = Org::sample();
        assert_eq!(org.id, "acme");
        assert_eq!(org.token, "gb_test_token");
        assert_eq!(org.members.len(), 7);
        assert_eq!(org.members[0].email, "alice@acme.test");
        assert_eq!(org.members[0].role, Some(Role::Admin));
        assert!(org.members.iter().any(|m| m.role.is_none()));
        let titles: Vec<_> = org.teams.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["Engineering", "Design", "Support"]);
        assert_eq!(org.teams[0].member_ids[0], org.members[0].id);
        // Join order is list order.
        assert!(org.members.windows(2).all(|w| w[0].joined_at < w[1].joined_at));
    }

    #[test]
    fn generated_is_deterministic_and_fast() {
        let start = Instant::now();
        let org = Org::generated("big", "tok", 100_000, 5);
        assert!(start.elapsed().as_secs() < 5);
        assert_eq!(org.members.len(), 100_000);
        assert_eq!(org.members[0].email, "user-00001@example.test");
        assert_eq!(org.members[99_999].email, "user-100000@example.test");
        assert_eq!(org.teams.len(), 5);
        assert!(org.teams.iter().all(|t| !t.member_ids.is_empty()));
        let again = Org::generated("big", "tok", 100, 5);
        assert_eq!(again.members[..], org.members[..100]);
        let ids: std::collections::HashSet<_> = org.members.iter().map(|m| &m.id).collect();
        assert_eq!(ids.len(), org.members.len());
    }
}
