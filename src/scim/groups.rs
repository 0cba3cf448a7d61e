//! `/Groups`: SCIM Groups as GitBook teams. The id is the team id; members
//! are named by user ids ([`super::id`]), which carry their emails.
//!
//! Identity providers name people in groups who are not GitBook members:
//! Entra creates a disabled user (not invited) and then adds them to its
//! groups; a leaver stays in the IdP's group. Such people are left out of
//! what is sent to GitBook, never in the way of the others: everyone to add
//! is looked up first (one search each, or one listing of the organization
//! for more than [`LOOKUPS_BEFORE_LISTING`]) and added by GitBook user id,
//! so an email can never re-admit a leaver. The answer is what identity
//! providers expect (201 or 200 listing the members the team really has, or
//! 204 for a PATCH, as Microsoft asks), and [`LeftOut`] names who was left
//! out for the operator's log.
//!
//! Membership changes go in `PUT …/teams/{id}/members` requests of at most
//! [`TEAM_UPDATE_BATCH`] entries (`add` plus `remove`) each; a full
//! replacement (PUT, or PATCH `replace members`) first reads the team's
//! members and sends the difference. A new team is created with at most
//! that many members, the rest added the same way.

use super::error::{ScimError, ScimType};
use super::filter::Attribute;
use super::list::{list_response, ListQuery};
use super::patch::{OpKind, Target};
use super::resource::{self, member_values, title_of, GroupInput};
use super::users;
use crate::error::{Error, FailureKind};
use crate::gitbook::model::{Member, Team};
use crate::gitbook::ops::{self, MemberFilter, MAX_PAGE_LIMIT};
use crate::gitbook::pagination::Cursor;
use crate::gitbook::Client;
use crate::io::Io;
use crate::validate::{Email, GitBookId, MemberRef, TeamTitle};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

type Result<T> = std::result::Result<T, ScimError>;

/// Above this many people to add, members are found with one listing of the
/// organization rather than one search each.
pub const LOOKUPS_BEFORE_LISTING: usize = 10;
/// The most entries (`add` plus `remove`, or a new team's `members`) one
/// GitBook request carries: GitBook documents no bound, and 1000 is its
/// largest page and the invite batch, so one request stays bounded however
/// large the IdP's group (Okta pushes whole member lists).
pub const TEAM_UPDATE_BATCH: usize = 1000;

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
/// created with those of its members who are organization members (found
/// by email first, as team creation takes user ids). Creation looks the
/// title up before any repeat ([`Client::create_team`]), so a lost answer
/// never makes a second team.
pub fn create<I: Io>(input: &GroupInput, client: &mut Client<I>) -> Result<(Value, LeftOut)> {
    if client.find_team_by_title(&input.title)?.is_some() {
        return Err(ScimError::conflict(format!("a GitBook team is already titled {:?}", input.title.as_str())));
    }
    let found = find_members(&input.members, client)?;
    let ids = found.members.iter().map(users::member_id).collect::<Result<Vec<_>>>()?;
    let (first, rest) = ids.split_at(ids.len().min(TEAM_UPDATE_BATCH));
    let team = client.create_team(&input.title, first)?;
    if !rest.is_empty() {
        let rest: Vec<MemberRef> = rest.iter().cloned().map(MemberRef::Id).collect();
        update_members(&team_id(&team.id)?, &rest, &[], client)?;
    }
    Ok((resource::group(&team, Some(&found.members)), LeftOut(found.left_out)))
}

/// The people a group change named who are not organization members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeftOut(pub Vec<Email>);

impl LeftOut {
    /// A line for the operator's log, when anyone was left out.
    pub fn log_line(&self, team: &str) -> Option<String> {
        let (shown, more) =
            (self.0.iter().take(20).map(Email::as_str).collect::<Vec<_>>(), self.0.len().saturating_sub(20));
        (!self.0.is_empty()).then(|| {
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            format!(
                "SCIM: left out of team {team}, as they are not GitBook organization members: {}{more}",
                shown.join(", ")
            )
        })
    }
}

/// Who of the people named is an organization member.
struct Found {
    /// In the order asked for.
    members: Vec<Member>,
    /// Not (or no longer) organization members: left out.
    left_out: Vec<Email>,
}

/// The organization members with these emails, and who is not one.
fn find_members<I: Io>(emails: &[Email], client: &mut Client<I>) -> Result<Found> {
    let mut found: HashMap<Email, Member> = HashMap::new();
    if emails.len() > LOOKUPS_BEFORE_LISTING {
        let wanted: HashSet<&Email> = emails.iter().collect();
        client.for_each_member_page(&MemberFilter::default(), |items, _| {
            for member in items {
                if let Some(email) = email_of_member(&member).filter(|e| wanted.contains(e)) {
                    found.insert(email, member);
                }
            }
            true
        })?;
    } else {
        for email in emails {
            if let Some(member) = client.find_member_by_email(email)? {
                found.insert(email.clone(), member);
            }
        }
    }
    let (mut members, mut left_out) = (Vec::new(), Vec::new());
    for email in emails {
        match found.remove(email) {
            Some(member) => members.push(member),
            None => left_out.push(email.clone()),
        }
    }
    Ok(Found { members, left_out })
}

/// Sends membership changes in requests of at most [`TEAM_UPDATE_BATCH`]
/// entries; nothing to change sends nothing.
fn update_members<I: Io>(
    team: &GitBookId,
    add: &[MemberRef],
    remove: &[MemberRef],
    client: &mut Client<I>,
) -> Result<()> {
    let (mut add, mut remove) = (add, remove);
    while !add.is_empty() || !remove.is_empty() {
        let adding = add.len().min(TEAM_UPDATE_BATCH);
        let removing = remove.len().min(TEAM_UPDATE_BATCH - adding);
        client.update_team_members(team, &add[..adding], &remove[..removing])?;
        add = &add[adding..];
        remove = &remove[removing..];
    }
    Ok(())
}

/// `PUT /Groups/{id}`: renamed if the title changed, and the members made
/// exactly those given who are organization members.
pub fn replace<I: Io>(id: &str, input: &GroupInput, client: &mut Client<I>) -> Result<(Value, LeftOut)> {
    let (team_id, team) = get_team(id, client)?;
    let team = rename(&team_id, team, &input.title, client)?;
    let current = team_members(&team_id, client)?;
    let (members, left_out) = make_members(&team_id, current, &input.members, client)?;
    Ok((resource::group(&team, Some(&members)), LeftOut(left_out)))
}

/// Renames when the title differs (exactly: a change of case is a rename).
fn rename<I: Io>(team_id: &GitBookId, team: Team, title: &TeamTitle, client: &mut Client<I>) -> Result<Team> {
    if team.title == title.as_str() {
        return Ok(team);
    }
    Ok(client.execute(ops::rename_team(client.settings(), team_id, title))?)
}

/// Makes the team hold exactly the organization members among `wanted`
/// (members without a visible email cannot be named by the IdP and stay):
/// newcomers by user id, after looking them up; leavers by user id. Returns
/// the team's members afterwards, and who was left out.
fn make_members<I: Io>(
    team: &GitBookId,
    current: Vec<Member>,
    wanted: &[Email],
    client: &mut Client<I>,
) -> Result<(Vec<Member>, Vec<Email>)> {
    let wanted_set: HashSet<&Email> = wanted.iter().collect();
    let current_emails: HashSet<Email> = current.iter().filter_map(email_of_member).collect();
    let newcomers: Vec<Email> = wanted.iter().filter(|e| !current_emails.contains(*e)).cloned().collect();
    let found = find_members(&newcomers, client)?;
    let (kept, leaving): (Vec<Member>, Vec<Member>) =
        current.into_iter().partition(|m| email_of_member(m).is_none_or(|e| wanted_set.contains(&e)));
    let add = found.members.iter().map(|m| users::member_id(m).map(MemberRef::Id)).collect::<Result<Vec<_>>>()?;
    let remove = leaving.iter().map(|m| users::member_id(m).map(MemberRef::Id)).collect::<Result<Vec<_>>>()?;
    update_members(team, &add, &remove, client)?;
    Ok((kept.into_iter().chain(found.members).collect(), found.left_out))
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
        let adding: HashSet<&Email> = emails.iter().collect();
        self.remove.retain(|e| !adding.contains(e));
        let mut have: HashSet<Email> = self.add.iter().cloned().collect();
        self.add.extend(emails.into_iter().filter(|e| have.insert(e.clone())));
    }

    fn remove(&mut self, emails: Vec<Email>) {
        let removing: HashSet<&Email> = emails.iter().collect();
        self.add.retain(|e| !removing.contains(e));
        let mut have: HashSet<Email> = self.remove.iter().cloned().collect();
        self.remove.extend(emails.into_iter().filter(|e| have.insert(e.clone())));
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
                // An id this service never made names no team member.
                changes.remove(super::id::email_of(id).into_iter().collect());
            }
            ("members", None, OpKind::Add) => changes.add(member_values(value.unwrap_or(&Value::Null))?),
            ("members", None, OpKind::Remove) => match value {
                Some(value) => changes.remove(member_values(value)?),
                None => changes.replace(Vec::new()),
            },
            ("members", None, OpKind::Replace) => changes.replace(member_values(value.unwrap_or(&Value::Null))?),
            ("displayname" | "members", _, _) => {
                let shown: String = path.plain().chars().take(100).collect();
                return Err(ScimError::bad(
                    ScimType::InvalidPath,
                    format!(
                        "{shown:?} with this operation is not supported on a Group: use displayName, members, or \
                         members[value eq \"<id>\"] to remove one member"
                    ),
                ));
            }
            // Anything else (id, externalId, meta, attributes GitBook has no
            // place for) is accepted and ignored.
            _ => {}
        }
    }
    Ok(changes)
}

/// `PATCH /Groups/{id}` (answered 204): a rename when the title differs,
/// and the membership.
pub fn patch<I: Io>(id: &str, targets: &[Target], client: &mut Client<I>) -> Result<LeftOut> {
    let changes = changes(targets)?;
    let (team_id, team) = get_team(id, client)?;
    if let Some(title) = &changes.title {
        rename(&team_id, team, title, client)?;
    }
    let left_out = match &changes.replace {
        Some(replacement) => {
            let current = team_members(&team_id, client)?;
            let mut wanted: Vec<Email> = replacement.iter().filter(|e| !changes.remove.contains(e)).cloned().collect();
            wanted.extend(changes.add.iter().filter(|e| !replacement.contains(e)).cloned());
            make_members(&team_id, current, &wanted, client)?.1
        }
        None => {
            let found = find_members(&changes.add, client)?;
            let add =
                found.members.iter().map(|m| users::member_id(m).map(MemberRef::Id)).collect::<Result<Vec<_>>>()?;
            let remove: Vec<MemberRef> = changes.remove.iter().cloned().map(MemberRef::Email).collect();
            update_members(&team_id, &add, &remove, client)?;
            found.left_out
        }
    };
    Ok(LeftOut(left_out))
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
            (
                json!({"Operations": [{"op": "add", "path": "members[value eq \"x\"]", "value": 1}]}),
                ScimType::InvalidPath,
            ),
            (
                json!({"Operations": [{"op": "add", "path": "members", "value": [{"id": "010101"}]}]}),
                ScimType::InvalidValue,
            ),
            (json!({"Operations": [{"op": "replace", "path": "displayName", "value": ""}]}), ScimType::InvalidValue),
        ] {
            assert_eq!(changes_of(body.clone()).unwrap_err().scim_type, Some(kind), "{body}");
        }
    }

    #[test]
    fn attributes_gitbook_has_no_place_for_are_ignored() {
        let body = json!({"Operations": [
            {"op": "add", "path": "owners", "value": 1},
            {"op": "replace", "path": "externalId", "value": "g1"},
            {"op": "replace", "path": "urn:example:custom:2.0:Group:costCentre", "value": "7"}
        ]});
        assert_eq!(changes_of(body).unwrap(), GroupChanges::default());
    }
}
