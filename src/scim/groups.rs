//! `/Groups`: SCIM Groups as GitBook teams. The id is the team id; members
//! are named by user ids ([`super::id`]), which GitBook's team endpoints
//! accept as emails, so membership changes need no lookups.
//!
//! Membership changes go in one `PUT …/teams/{id}/members` with `add` and
//! `remove`; a full replacement (PUT, or PATCH `replace members`) first
//! reads the team's members and sends the difference.

use super::error::{ScimError, ScimType};
use super::filter::Attribute;
use super::list::{list_response, ListQuery};
use super::patch::{OpKind, Target};
use super::resource::{self, member_email, member_values, title_of, GroupInput};
use super::users;
use crate::error::{Error, FailureKind};
use crate::gitbook::model::{Member, Team};
use crate::gitbook::ops::{self, MemberFilter, MAX_PAGE_LIMIT};
use crate::gitbook::pagination::Cursor;
use crate::gitbook::Client;
use crate::io::Io;
use crate::validate::{Email, GitBookId, MemberRef, TeamTitle};
use serde_json::Value;
use std::collections::HashMap;

type Result<T> = std::result::Result<T, ScimError>;

/// Above this many members, a new group's members are found with one
/// listing of the organization rather than one search each.
const LOOKUPS_BEFORE_LISTING: usize = 10;

fn team_id(id: &str) -> Result<GitBookId> {
    GitBookId::parse("id", id).map_err(|_| not_found(id))
}

fn not_found(id: &str) -> ScimError {
    let shown: String = id.chars().take(100).collect();
    ScimError::not_found(format!("no group with id {shown:?}"))
}

/// GitBook's 404 for the team is the group's 404.
fn or_not_found(id: &str) -> impl Fn(Error) -> ScimError + '_ {
    move |error| match error.kind() {
        Some(FailureKind::NotFound) => not_found(id),
        _ => ScimError::from_gitbook(&error),
    }
}

fn get_team<I: Io>(id: &str, client: &mut Client<I>) -> Result<(GitBookId, Team)> {
    let team = team_id(id)?;
    let found = client.execute(ops::get_team(client.settings(), &team)).map_err(or_not_found(id))?;
    Ok((team, found))
}

/// Every member of a team, across pages.
fn team_members<I: Io>(team: &GitBookId, client: &mut Client<I>) -> Result<Vec<Member>> {
    let mut cursor = Cursor::new(MAX_PAGE_LIMIT);
    let mut members = Vec::new();
    while let Some(page) = cursor.next_page() {
        let page = page.map(str::to_owned);
        let call = ops::list_team_members_page(client.settings(), team, page.as_deref());
        let result = client.execute(call)?;
        cursor
            .advance(result.items.len(), result.count, result.next.map(|n| n.page))
            .map_err(|message| ScimError::new(502, None, format!("GitBook: listing the team's members: {message}")))?;
        members.extend(result.items.into_iter().map(|m| m.organization));
    }
    Ok(members)
}

fn email_of_member(member: &Member) -> Option<Email> {
    Email::parse("email", member.user.email.as_deref()?).ok()
}

/// `GET /Groups?…`: by `displayName` (exact, case-insensitive) or all teams.
pub fn list<I: Io>(query: &ListQuery, client: &mut Client<I>) -> Result<Value> {
    let teams = match &query.filter {
        None => client.list_teams(None)?,
        Some(filter) => {
            if let Some(c) =
                filter.clauses.iter().find(|c| !matches!(c.attribute, Attribute::DisplayName | Attribute::ExternalId))
            {
                return Err(ScimError::bad(
                    ScimType::InvalidFilter,
                    format!("groups are filtered by displayName (or externalId), not {}", c.attribute.name()),
                ));
            }
            let titles: Vec<&str> = filter.values(&[Attribute::DisplayName]).collect();
            let same = titles.windows(2).all(|w| w[0].trim().eq_ignore_ascii_case(w[1].trim()));
            match titles.first().map(|t| TeamTitle::parse("displayName", t)) {
                // externalId is not stored; different titles, or a title
                // GitBook could not have, match nothing.
                _ if filter.mentions(Attribute::ExternalId) || !same => Vec::new(),
                Some(Ok(title)) => {
                    client.list_teams(Some(title.as_str()))?.into_iter().filter(|t| title.matches(&t.title)).collect()
                }
                Some(Err(_)) | None => Vec::new(),
            }
        }
    };
    let total = teams.len() as u64;
    let range = query.window();
    let mut resources = Vec::new();
    for team in teams.iter().skip(range.start as usize).take((range.end - range.start) as usize) {
        let members = match query.exclude_members {
            true => None,
            false => Some(team_members(&team_id(&team.id)?, client)?),
        };
        resources.push(resource::group(team, members.as_deref()));
    }
    Ok(list_response(total, query.start_index, resources))
}

/// `GET /Groups/{id}`.
pub fn get<I: Io>(id: &str, exclude_members: bool, client: &mut Client<I>) -> Result<Value> {
    let (team_id, team) = get_team(id, client)?;
    let members = if exclude_members { None } else { Some(team_members(&team_id, client)?) };
    Ok(resource::group(&team, members.as_deref()))
}

/// `POST /Groups`: 409 when a team has the title; otherwise the team is
/// created with its members in one request (members are found by email
/// first, as team creation takes user ids).
pub fn create<I: Io>(input: &GroupInput, client: &mut Client<I>) -> Result<Value> {
    if client.find_team_by_title(&input.title)?.is_some() {
        return Err(ScimError::conflict(format!("a GitBook team is already titled {:?}", input.title.as_str())));
    }
    let members = find_members(&input.members, client)?;
    let ids = members.iter().map(users::member_id).collect::<Result<Vec<_>>>()?;
    let team = client.create_team(&input.title, &ids)?;
    Ok(resource::group(&team, Some(&members)))
}

/// The organization members with these emails; anyone missing is 400.
fn find_members<I: Io>(emails: &[Email], client: &mut Client<I>) -> Result<Vec<Member>> {
    let mut found: HashMap<Email, Member> = HashMap::new();
    if emails.len() > LOOKUPS_BEFORE_LISTING {
        for member in client.list_members(&MemberFilter::default())? {
            if let Some(email) = email_of_member(&member).filter(|e| emails.contains(e)) {
                found.insert(email, member);
            }
        }
    } else {
        for email in emails {
            if let Some(member) = client.find_member_by_email(email)? {
                found.insert(email.clone(), member);
            }
        }
    }
    emails
        .iter()
        .map(|email| {
            found.remove(email).ok_or_else(|| {
                ScimError::bad(
                    ScimType::InvalidValue,
                    format!("{email} is not a member of the GitBook organization; provision the user first"),
                )
            })
        })
        .collect()
}

/// `PUT /Groups/{id}`: renamed if the title changed, and the members made
/// exactly those given, in one request for the difference.
pub fn replace<I: Io>(id: &str, input: &GroupInput, client: &mut Client<I>) -> Result<Value> {
    let (team_id, team) = get_team(id, client)?;
    let team = rename(&team_id, team, &input.title, client)?;
    let current = team_members(&team_id, client)?;
    let (add, remove) = difference(&current, &input.members, &[]);
    client.update_team_members(&team_id, &add, &remove)?;
    let members = if add.is_empty() && remove.is_empty() { current } else { team_members(&team_id, client)? };
    Ok(resource::group(&team, Some(&members)))
}

/// Renames when the title differs (exactly: a change of case is a rename).
fn rename<I: Io>(team_id: &GitBookId, team: Team, title: &TeamTitle, client: &mut Client<I>) -> Result<Team> {
    if team.title == title.as_str() {
        return Ok(team);
    }
    Ok(client.execute(ops::rename_team(client.settings(), team_id, title))?)
}

/// What to send for the team to hold `wanted` plus `also` (and nobody
/// else with an email): new people by email, leavers by id. Members
/// without a visible email cannot be named by the IdP and stay.
fn difference(current: &[Member], wanted: &[Email], also: &[Email]) -> (Vec<MemberRef>, Vec<MemberRef>) {
    let current_emails: Vec<Option<Email>> = current.iter().map(email_of_member).collect();
    let add = wanted
        .iter()
        .chain(also)
        .filter(|e| !current_emails.contains(&Some((*e).clone())))
        .map(|e| MemberRef::Email(e.clone()))
        .collect();
    let remove = current
        .iter()
        .zip(&current_emails)
        .filter(|(_, email)| email.as_ref().is_some_and(|e| !wanted.contains(e) && !also.contains(e)))
        .filter_map(|(m, _)| GitBookId::parse("user-id", &m.id).ok().map(MemberRef::Id))
        .collect();
    (add, remove)
}

/// A Group PATCH, folded in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupChanges {
    pub title: Option<TeamTitle>,
    /// A full replacement of the members, when one was asked for.
    pub replace: Option<Vec<Email>>,
    pub add: Vec<Email>,
    pub remove: Vec<Email>,
}

impl GroupChanges {
    fn add(&mut self, emails: Vec<Email>) {
        for email in emails {
            self.remove.retain(|e| *e != email);
            if !self.add.contains(&email) {
                self.add.push(email);
            }
        }
    }

    fn remove(&mut self, emails: Vec<Email>) {
        for email in emails {
            self.add.retain(|e| *e != email);
            if !self.remove.contains(&email) {
                self.remove.push(email);
            }
        }
    }

    fn replace(&mut self, emails: Vec<Email>) {
        self.replace = Some(emails);
        self.add.clear();
        self.remove.clear();
    }
}

/// Reads a Group PATCH's targets.
pub fn changes(targets: &[Target]) -> Result<GroupChanges> {
    let mut changes = GroupChanges::default();
    for target in targets {
        let path = &target.path;
        if path.extension {
            continue;
        }
        let value = target.value.as_ref();
        match (path.plain().as_str(), &path.selector, target.op) {
            ("displayname", None, OpKind::Remove) => {
                return Err(ScimError::bad(ScimType::Mutability, "displayName is required and cannot be removed"));
            }
            ("displayname", None, _) => {
                let title = value
                    .and_then(Value::as_str)
                    .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "displayName must be a string"))?;
                changes.title = Some(title_of(title)?);
            }
            ("members", Some((attribute, id)), OpKind::Remove) if attribute == "value" => {
                changes.remove(vec![member_email(id)?]);
            }
            ("members", None, OpKind::Add) => changes.add(member_values(value.unwrap_or(&Value::Null))?),
            ("members", None, OpKind::Remove) => match value {
                Some(value) => changes.remove(member_values(value)?),
                None => changes.replace(Vec::new()),
            },
            ("members", None, OpKind::Replace) => changes.replace(member_values(value.unwrap_or(&Value::Null))?),
            ("id" | "externalid" | "schemas" | "meta", None, _) => {}
            _ => {
                let shown: String = path.plain().chars().take(100).collect();
                return Err(ScimError::bad(
                    ScimType::InvalidPath,
                    format!(
                        "{shown:?} with this operation is not supported on a Group: use displayName, members, or \
                         members[value eq \"<id>\"] to remove one member"
                    ),
                ));
            }
        }
    }
    Ok(changes)
}

/// `PATCH /Groups/{id}` (answered with 204): a rename when the title
/// differs, and the membership in one request.
pub fn patch<I: Io>(id: &str, targets: &[Target], client: &mut Client<I>) -> Result<()> {
    let changes = changes(targets)?;
    let (team_id, team) = get_team(id, client)?;
    if let Some(title) = &changes.title {
        rename(&team_id, team, title, client)?;
    }
    let (add, remove) = match &changes.replace {
        Some(wanted) => {
            let current = team_members(&team_id, client)?;
            let wanted: Vec<Email> = wanted.iter().filter(|e| !changes.remove.contains(e)).cloned().collect();
            difference(&current, &wanted, &changes.add)
        }
        None => (
            changes.add.iter().cloned().map(MemberRef::Email).collect(),
            changes.remove.iter().cloned().map(MemberRef::Email).collect(),
        ),
    };
    client.update_team_members(&team_id, &add, &remove)?;
    Ok(())
}

/// `DELETE /Groups/{id}`: 404 when there was no such team.
pub fn delete<I: Io>(id: &str, client: &mut Client<I>) -> Result<()> {
    let team = team_id(id)?;
    let existed = client.execute(ops::delete_team(client.settings(), &team)).map_err(or_not_found(id))?;
    if existed {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::{id, patch};
    use serde_json::json;

    fn email(s: &str) -> Email {
        Email::parse("e", s).unwrap()
    }

    fn uid(s: &str) -> String {
        id::user_id(&email(s))
    }

    fn changes_of(body: Value) -> Result<GroupChanges> {
        changes(&patch::parse(&body)?)
    }

    #[test]
    fn entra_s_and_okta_s_membership_forms_fold_into_add_and_remove() {
        let body = json!({"Operations": [
            {"op": "Add", "path": "members", "value": [{"value": uid("a@x.io")}, {"value": uid("b@x.io")}]},
            {"op": "remove", "path": format!("members[value eq \"{}\"]", uid("c@x.io"))},
            {"op": "Remove", "path": "members", "value": [{"value": uid("b@x.io")}]},
            {"op": "replace", "value": {"id": "t1", "displayName": "Data"}}
        ]});
        let got = changes_of(body).unwrap();
        assert_eq!(got.add, [email("a@x.io")]);
        assert_eq!(got.remove, [email("c@x.io"), email("b@x.io")]);
        assert_eq!(got.title.unwrap().as_str(), "Data");
        assert_eq!(got.replace, None);
    }

    #[test]
    fn a_replace_resets_what_came_before_and_later_changes_apply_on_top() {
        let body = json!({"Operations": [
            {"op": "add", "path": "members", "value": [{"value": uid("a@x.io")}]},
            {"op": "replace", "path": "members", "value": [{"value": uid("b@x.io")}]},
            {"op": "add", "path": "members", "value": [{"value": uid("c@x.io")}]}
        ]});
        let got = changes_of(body).unwrap();
        assert_eq!((got.replace, got.add), (Some(vec![email("b@x.io")]), vec![email("c@x.io")]));
        let all = changes_of(json!({"Operations": [{"op": "remove", "path": "members"}]})).unwrap();
        assert_eq!(all.replace, Some(vec![]));
    }

    #[test]
    fn unsupported_group_changes_say_what_is_supported() {
        for (body, kind) in [
            (json!({"Operations": [{"op": "remove", "path": "displayName"}]}), ScimType::Mutability),
            (json!({"Operations": [{"op": "add", "path": "owners", "value": 1}]}), ScimType::InvalidPath),
            (
                json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "010101"}]}]}),
                ScimType::InvalidValue,
            ),
            (json!({"Operations": [{"op": "replace", "path": "displayName", "value": ""}]}), ScimType::InvalidValue),
        ] {
            assert_eq!(changes_of(body.clone()).unwrap_err().scim_type, Some(kind), "{body}");
        }
    }

    #[test]
    fn the_difference_adds_by_email_and_removes_by_id() {
        let member = |id: &str, mail: &str| -> Member {
            serde_json::from_value(json!({"id": id, "role": null, "disabled": false, "joinedAt": "x", "sso": false,
                                          "user": {"id": id, "displayName": id, "email": mail}}))
            .unwrap()
        };
        let current = [member("u1", "a@x.io"), member("u2", "B@x.io")];
        let (add, remove) = difference(&current, &[email("b@x.io"), email("c@x.io")], &[]);
        assert_eq!(add, [MemberRef::Email(email("c@x.io"))]);
        assert_eq!(remove, [MemberRef::Id(GitBookId::parse("i", "u1").unwrap())]);
    }
}
