//! `/Users`: SCIM Users as GitBook organization members, without a
//! database. The id carries the email ([`super::id`]); everything else is
//! read from GitBook on each request.
//!
//! Deactivation removes the member from the organization and reactivation
//! invites them again (with the role the IdP sends, else the default role:
//! GitBook's `disabled` flag cannot be set through its API, and no role or
//! team is remembered). Someone who is not a member reads as
//! `active: false`, whether deactivated, deleted or never invited: without
//! state these look the same.
//!
//! A deactivation always takes effect: `active: false` in a PUT or a PATCH
//! (with or without a path, inside the core schema's URN, as a boolean or
//! a string in any case) removes the member the id names, whatever else the
//! request carries. Anything else in it that is refused (an email change,
//! an unknown role) is reported after the removal, as the request's 400;
//! without a deactivation, a refusal changes nothing.
//!
//! `roles`: a role given is applied; an absent, `null` or empty `roles` (or
//! a PATCH removing it) leaves the role as it is, in PUT and PATCH alike
//! (Entra sends `roles: []` for everyone it has no role mapping for).

use super::error::{ScimError, ScimType};
use super::filter::{Attribute, Filter};
use super::id;
use super::list::{list_response, ListQuery};
use super::patch::{boolean, OpKind, Target};
use super::resource::{self, absent_user, RoleChoice, UserInput};
use crate::gitbook::model::{Member, Removal};
use crate::gitbook::ops::{self, Invite, Invitee, MemberFilter, MAX_PAGE_LIMIT};
use crate::gitbook::pagination::Cursor;
use crate::gitbook::Client;
use crate::io::Io;
use crate::role::Role;
use crate::sync::events::JoinDefaults;
use crate::validate::{Email, GitBookId};
use serde_json::Value;

type Result<T> = std::result::Result<T, ScimError>;

/// A user as an id names them: the GitBook email, and the IdP's
/// `userName` when it is something else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub email: Email,
    pub user_name: Option<String>,
}

impl Named {
    /// The user an id names; an id this service did not make is 404.
    pub fn from_id(id: &str) -> Result<Named> {
        let (email, user_name) = id::parse(id).ok_or_else(|| {
            let shown: String = id.chars().take(100).collect();
            ScimError::not_found(format!("no user with id {shown:?}"))
        })?;
        Ok(Named { email, user_name })
    }

    /// A resource as the IdP knows this user: the id it was given and its
    /// `userName` (`renamed`: the one the request just set).
    fn answer(&self, mut resource: Value, renamed: Option<&str>) -> Value {
        if let Some(name) = &self.user_name {
            resource["id"] = Value::String(id::named_user_id(&self.email, Some(name)));
            resource["userName"] = Value::String(name.clone());
        }
        if let Some(name) = renamed {
            resource["userName"] = Value::String(name.to_owned());
        }
        resource
    }

    /// Whether `user_name` is this user's (case-insensitively, as
    /// `userName` is `caseExact: false`).
    fn has_user_name(&self, user_name: &str) -> bool {
        match &self.user_name {
            Some(name) => name.eq_ignore_ascii_case(user_name),
            None => same_email(user_name, &self.email),
        }
    }
}

/// The email a user id names; an id this service did not make is 404.
pub fn email_of(id: &str) -> Result<Email> {
    Named::from_id(id).map(|named| named.email)
}

/// `GET /Users?…`.
pub fn list<I: Io>(query: &ListQuery, client: &mut Client<I>) -> Result<Value> {
    match &query.filter {
        Some(filter) => {
            let found = filtered(filter, client)?;
            Ok(window(query, found))
        }
        None => everyone(query, client),
    }
}

/// The members a filter selects, as resources.
fn filtered<I: Io>(filter: &Filter, client: &mut Client<I>) -> Result<Vec<Value>> {
    // externalId is not stored: nobody has the one asked for.
    if filter.mentions(Attribute::ExternalId) {
        return Ok(Vec::new());
    }
    let emails: Vec<&str> = filter.values(&[Attribute::UserName, Attribute::Email]).collect();
    let names: Vec<&str> = filter.values(&[Attribute::DisplayName]).collect();
    let same = |values: &[&str]| values.windows(2).all(|w| w[0].eq_ignore_ascii_case(w[1]));
    if !same(&emails) || !same(&names) {
        return Ok(Vec::new());
    }
    let name_matches =
        |m: &Member| names.first().is_none_or(|n| m.user.display_name.trim().eq_ignore_ascii_case(n.trim()));
    if let Some(email) = emails.first() {
        // Entra's connection test asks for a random GUID: not an email, nobody.
        let Ok(email) = Email::parse("userName", &plus_for_spaces(email)) else {
            return Ok(Vec::new());
        };
        let member = client.find_member_by_email(&email)?;
        return Ok(member.filter(|m| name_matches(m)).map(|m| resource::user(&m, &email)).into_iter().collect());
    }
    let Some(name) = names.first() else {
        return Ok(Vec::new());
    };
    // GitBook's search is fuzzy and bounded; the exact match is ours.
    let Ok(search) = MemberFilter::parse(None, Some(name)) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    client.for_each_member_page(&search, |items, _| {
        found.extend(items.into_iter().filter(|m| name_matches(m)).filter_map(|m| rendered(&m)));
        true
    })?;
    Ok(found)
}

/// An email filter value as sent: an email has no spaces, so a space in
/// one is a `+` that form decoding (`+` for a space) turned into one, as
/// when a client leaves the `+` of `ann+eng@x.io` unencoded in the query.
fn plus_for_spaces(value: &str) -> String {
    value.trim().replace(' ', "+")
}

/// A member with a usable email, as a resource.
fn rendered(member: &Member) -> Option<Value> {
    let email = Email::parse("email", member.user.email.as_deref()?).ok()?;
    Some(resource::user(member, &email))
}

/// The window of an already complete result list.
fn window(query: &ListQuery, all: Vec<Value>) -> Value {
    let total = all.len() as u64;
    let range = query.window();
    let page = all.into_iter().skip(range.start as usize).take((range.end - range.start) as usize).collect();
    list_response(total, query.start_index, page)
}

/// Every member, windowed, oldest first (`sort=joinedAt&order=asc`): a
/// join lands after every window already read, so paging while people join
/// repeats and skips nobody. GitBook's cursors cannot jump, so the walk goes
/// from the first page (1000 members a request) to the window's end. The
/// total is GitBook's `count`; a GitBook that gave none is walked to the
/// end, so that `totalResults` is exact.
fn everyone<I: Io>(query: &ListQuery, client: &mut Client<I>) -> Result<Value> {
    if query.count == 0 {
        // Only the total: the smallest page says it.
        let first = client.execute(ops::list_members_by_join_page(client.settings(), None, 1))?;
        if let Some(total) = first.count {
            return Ok(list_response(total, query.start_index, Vec::new()));
        }
    }
    let range = query.window();
    let (mut seen, mut total, mut page) = (0u64, None, Vec::new());
    let mut cursor = Cursor::new(MAX_PAGE_LIMIT);
    while let Some(token) = cursor.next_page() {
        let token = token.map(str::to_owned);
        let call = ops::list_members_by_join_page(client.settings(), token.as_deref(), MAX_PAGE_LIMIT);
        let result = client.execute(call)?;
        total = total.or(result.count);
        let n = result.items.len() as u64;
        if seen + n > range.start && seen < range.end {
            let skip = range.start.saturating_sub(seen) as usize;
            let take = (range.end - seen.max(range.start)) as usize;
            page.extend(result.items.iter().skip(skip).take(take).filter_map(rendered));
        }
        seen += n;
        cursor
            .advance(result.items.len(), result.count, result.next.map(|n| n.page))
            .map_err(|message| ScimError::new(502, None, format!("GitBook: listing the members: {message}")))?;
        if seen >= range.end && total.is_some() {
            break;
        }
    }
    Ok(list_response(total.unwrap_or(seen), query.start_index, page))
}

/// `GET /Users/{id}`: the member, or `active: false` when not a member.
pub fn get<I: Io>(id: &str, client: &mut Client<I>) -> Result<Value> {
    let who = Named::from_id(id)?;
    let email = &who.email;
    Ok(who.answer(
        match client.find_member_by_email(email)? {
            Some(member) => resource::user(&member, email),
            None => absent_user(email),
        },
        None,
    ))
}

/// `POST /Users`: 409 when already a member; otherwise invited (when
/// active), and the new member read back.
pub fn create<I: Io>(input: &UserInput, defaults: &JoinDefaults, client: &mut Client<I>) -> Result<Value> {
    let (email, user_name) = input.identity.clone()?;
    let role = input.role.clone()?;
    let who = Named { email, user_name };
    if client.find_member_by_email(&who.email)?.is_some() {
        return Err(ScimError::conflict(format!("{} is already a member of the GitBook organization", who.email)));
    }
    if input.active == Some(false) {
        return Ok(who.answer(absent_user(&who.email), None));
    }
    Ok(who.answer(invite(&who.email, role.unwrap_or(defaults.role), defaults, client)?, None))
}

/// `PUT /Users/{id}`: the email must stay the same; `active` and `roles`
/// are applied (an absent `active` leaves it as it is).
pub fn replace<I: Io>(id: &str, input: &UserInput, defaults: &JoinDefaults, client: &mut Client<I>) -> Result<Value> {
    let who = Named::from_id(id)?;
    let mut changes = Changes { active: input.active, ..Changes::default() };
    match &input.identity {
        Ok((email, _)) if *email != who.email => changes.refuse(changed_email(email.as_str(), &who)),
        // The same GitBook email under another userName: nothing changes in
        // GitBook; the answer carries the userName as sent.
        Ok((_, Some(name))) if !who.has_user_name(name) => changes.user_name = Some(name.clone()),
        Ok((email, None)) if who.user_name.is_some() => changes.user_name = Some(email.to_string()),
        Ok(_) => {}
        Err(error) => changes.refuse(error.clone()),
    }
    match &input.role {
        Ok(role) => changes.role = *role,
        Err(error) => changes.refuse(error.clone()),
    }
    apply(&who, changes, defaults, client)
}

/// `PATCH /Users/{id}`.
pub fn patch<I: Io>(id: &str, targets: &[Target], defaults: &JoinDefaults, client: &mut Client<I>) -> Result<Value> {
    let who = Named::from_id(id)?;
    let changes = changes(targets, &who)?;
    apply(&who, changes, defaults, client)
}

/// `DELETE /Users/{id}`: removed from the organization; someone who is not a
/// member is already gone (Entra deletes users it deactivated long before).
pub fn delete<I: Io>(id: &str, client: &mut Client<I>) -> Result<()> {
    let email = email_of(id)?;
    client.remove_member_by_email(&email)?;
    Ok(())
}

/// What a PUT or PATCH asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Changes {
    active: Option<bool>,
    role: RoleChoice,
    /// A new `userName` that leaves the GitBook email as it is: answered
    /// back as sent (the id, which RFC 7643 makes immutable, keeps the
    /// first one).
    user_name: Option<String>,
    /// The first change refused: the answer after a deactivation, and
    /// instead of anything else without one.
    refused: Option<ScimError>,
}

impl Changes {
    fn refuse(&mut self, error: ScimError) {
        self.refused.get_or_insert(error);
    }
}

fn apply<I: Io>(who: &Named, changes: Changes, defaults: &JoinDefaults, client: &mut Client<I>) -> Result<Value> {
    let email = &who.email;
    let deactivating = changes.active == Some(false);
    if let (false, Some(refused)) = (deactivating, &changes.refused) {
        return Err(refused.clone());
    }
    let member = client.find_member_by_email(email)?;
    let answer = match (member, changes.active) {
        (Some(member), Some(false)) => {
            let user = member_id(&member)?;
            match client.remove_member(&user)? {
                Removal::Deleted | Removal::NotAMember => absent_user(email),
                // GitBook asked its admins to approve: still a member until then.
                Removal::ApprovalRequested => resource::user(&member, email),
            }
        }
        (Some(member), _) => match changes.role {
            Some(role) if role != member.role => {
                let updated = client.set_member_role(&member_id(&member)?, role)?;
                resource::user(&updated, email)
            }
            _ => resource::user(&member, email),
        },
        (None, Some(true)) => invite(email, changes.role.unwrap_or(defaults.role), defaults, client)?,
        // Not a member and not asked to be: nothing to keep a role in.
        (None, _) => absent_user(email),
    };
    match changes.refused {
        Some(refused) => Err(ScimError {
            detail: format!(
                "{email} is deactivated (not a member of the GitBook organization); the rest of the request was \
                 refused: {}",
                refused.detail
            ),
            ..refused
        }),
        None => Ok(who.answer(answer, changes.user_name.as_deref())),
    }
}

/// Invites one person with their role, then reads the member back.
fn invite<I: Io>(email: &Email, role: Option<Role>, defaults: &JoinDefaults, client: &mut Client<I>) -> Result<Value> {
    let invite = Invite {
        emails: Vec::new(),
        with_roles: vec![Invitee { email: email.clone(), role }],
        default_role: role,
        sso: defaults.sso,
    };
    let result = client.invite(&invite)?;
    let member = match result.user_ids.first().map(|id| GitBookId::parse("user-id", id)) {
        Some(Ok(user)) => Some(client.get_member(&user)?),
        _ => client.find_member_by_email(email)?,
    };
    match member {
        Some(member) => Ok(resource::user(&member, email)),
        None => {
            Err(ScimError::new(502, None, format!("GitBook accepted the invite of {email} but does not list them")))
        }
    }
}

/// The member's GitBook id, checked before it goes into a URL path.
pub fn member_id(member: &Member) -> Result<GitBookId> {
    GitBookId::parse("user-id", &member.id).map_err(|_| {
        let shown: String = member.id.chars().take(100).collect();
        ScimError::new(502, None, format!("GitBook returned the member ID {shown:?}, which is not a valid ID"))
    })
}

fn changed_email(to: &str, from: &Named) -> ScimError {
    let shown: String = to.chars().take(100).collect();
    let known = match &from.user_name {
        Some(name) => format!("{} (userName {name:?})", from.email),
        None => from.email.to_string(),
    };
    ScimError::bad(
        ScimType::Mutability,
        format!(
            "the email and userName of a GitBook member cannot change: this user is {known}, and the request says \
             {shown:?}. If the person's address changed, deprovision the user and provision them again"
        ),
    )
}

/// A User PATCH's targets as changes: `active`, `roles`; `userName` and the
/// work email may be "changed" to what they are (anything else is refused);
/// every other attribute, known to SCIM or not, is accepted and ignored:
/// GitBook does not store it.
fn changes(targets: &[Target], who: &Named) -> Result<Changes> {
    let mut changes = Changes::default();
    for target in targets {
        let path = &target.path;
        if path.extension {
            continue;
        }
        let value = target.value.as_ref();
        let removal = target.op == OpKind::Remove;
        match path.top() {
            "active" if removal => {
                changes.refuse(ScimError::bad(ScimType::Mutability, "active cannot be removed; replace it"))
            }
            "active" => {
                let active = value.and_then(boolean).ok_or_else(|| {
                    ScimError::bad(ScimType::InvalidValue, "active must be true or false (or \"True\"/\"False\")")
                })?;
                changes.active = Some(active);
            }
            "roles" => match (removal, value) {
                (true, _) | (false, None) => {}
                (false, Some(value)) => match resource::roles(value) {
                    Ok(Some(role)) => changes.role = Some(role),
                    Ok(None) => {}
                    Err(error) => changes.refuse(error),
                },
            },
            // The GitBook email changes only through the work email; a new
            // userName is answered back as sent.
            "username" => match (removal, value.and_then(Value::as_str)) {
                (false, Some(name)) if who.has_user_name(name) => {}
                (false, Some(name)) if id::keepable(name) => changes.user_name = Some(name.to_owned()),
                (false, Some(_)) => changes.refuse(ScimError::bad(
                    ScimType::InvalidValue,
                    format!(
                        "userName must have 1 to {} bytes without control characters or surrounding spaces",
                        id::MAX_USER_NAME
                    ),
                )),
                _ => changes.refuse(ScimError::bad(ScimType::Mutability, "userName cannot be removed")),
            },
            "emails" => {
                let work = path.selector.as_ref().is_none_or(|(a, v)| a == "type" && v.eq_ignore_ascii_case("work"));
                if !work || removal {
                    // Another kind of email: not stored. Removing the work
                    // email leaves GitBook's as it is.
                    continue;
                }
                for address in email_values(value) {
                    if !same_email(address, &who.email) {
                        changes.refuse(changed_email(address, who));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(changes)
}

/// The addresses in an `emails` value: a string, or objects' `value`s (the
/// work or primary one when several are given).
fn email_values(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(array @ Value::Array(entries)) => match resource::work_email(array) {
            Some(address) => vec![address],
            None => entries.first().and_then(|e| e.get("value")).and_then(Value::as_str).into_iter().collect(),
        },
        Some(object @ Value::Object(_)) => object.get("value").and_then(Value::as_str).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn same_email(given: &str, email: &Email) -> bool {
    Email::parse("userName", given).is_ok_and(|given| given == *email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::patch;
    use serde_json::json;

    fn email(s: &str) -> Email {
        Email::parse("e", s).unwrap()
    }

    fn changes_of(body: Value) -> Result<Changes> {
        changes(&patch::parse(&body)?, &Named { email: email("ann@x.io"), user_name: None })
    }

    fn deactivation() -> Changes {
        Changes { active: Some(false), ..Changes::default() }
    }

    #[test]
    fn okta_and_entra_deactivations_read_as_active_false() {
        for body in [
            json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
            json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
            json!({"Operations": [{"op": "replace", "value": {"active": false, "name.givenName": "Ann",
                                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D"}}]}),
            json!({"Operations": [{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"active": false}}}]}),
            json!({"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": "FALSE"}]}),
        ] {
            assert_eq!(changes_of(body).unwrap(), deactivation());
        }
    }

    #[test]
    fn profile_updates_that_gitbook_does_not_store_change_nothing() {
        let body = json!({"Operations": [
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "Ann@X.io"},
            {"op": "Replace", "path": "name.familyName", "value": "B"},
            {"op": "Replace", "path": "userName", "value": "ann@x.io"},
            {"op": "Add", "path": "externalId", "value": "e1"},
            {"op": "Replace", "path": "emails", "value": [{"value": "ann@x.io", "primary": true}]},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1"},
            {"op": "Replace", "path": "manager", "value": "m1"},
            {"op": "Add", "path": "costCentre", "value": null}
        ]});
        assert_eq!(changes_of(body).unwrap(), Changes::default());
    }

    #[test]
    fn roles_are_set_and_an_empty_or_removed_roles_changes_nothing() {
        let set = json!({"Operations": [{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": "edit"}]});
        assert_eq!(changes_of(set).unwrap().role, Some(Some(Role::Edit)));
        for body in [
            json!({"Operations": [{"op": "remove", "path": "roles"}]}),
            json!({"Operations": [{"op": "replace", "path": "roles", "value": []}]}),
        ] {
            assert_eq!(changes_of(body).unwrap().role, None);
        }
    }

    #[test]
    fn a_new_email_is_refused_but_does_not_hide_a_deactivation() {
        let kind = |changes: Changes| changes.refused.and_then(|e| e.scim_type);
        let renamed = json!({"Operations": [{"op": "replace", "path": "userName", "value": "new@x.io"}]});
        assert_eq!(changes_of(renamed).unwrap().user_name.as_deref(), Some("new@x.io"));
        for body in [
            json!({"Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "n@x.io"}]}),
            json!({"Operations": [{"op": "remove", "path": "active"}]}),
        ] {
            assert_eq!(kind(changes_of(body.clone()).unwrap()), Some(ScimType::Mutability), "{body}");
        }
        let entra = json!({"Operations": [
            {"op": "Replace", "path": "userName", "value": "ann.new@x.io"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.new@x.io"},
            {"op": "Replace", "path": "active", "value": "False"}
        ]});
        let changes = changes_of(entra).unwrap();
        assert_eq!((changes.active, kind(changes.clone())), (Some(false), Some(ScimType::Mutability)));
        let bad = json!({"Operations": [{"op": "replace", "path": "active", "value": "no"}]});
        assert_eq!(changes_of(bad).unwrap_err().scim_type, Some(ScimType::InvalidValue));
    }

    fn page(emails: &[&str], count: Option<u64>, next: Option<&str>) -> crate::gitbook::fake::Answer {
        let items: Vec<Value> = emails
            .iter()
            .map(|e| {
                json!({"id": e.replace(['@', '.'], "_"), "role": "read", "disabled": false, "joinedAt": "x",
                       "sso": true, "user": {"id": "u", "displayName": e, "email": e}})
            })
            .collect();
        let mut body = json!({"items": items});
        if let Some(count) = count {
            body["count"] = json!(count);
        }
        if let Some(next) = next {
            body["next"] = json!({"page": next});
        }
        crate::gitbook::fake::json(200, &body.to_string())
    }

    fn listed(query: &[(&str, &str)], answers: Vec<crate::gitbook::fake::Answer>) -> (Value, usize) {
        let pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let query = ListQuery::parse(&pairs).unwrap();
        let settings = crate::gitbook::fake::settings();
        let mut io = crate::gitbook::fake::ScriptedIo::new(answers);
        let list = list(&query, &mut Client::new(&settings, &mut io)).unwrap();
        (list, io.sent.len())
    }

    #[test]
    fn a_window_across_two_gitbook_pages_stops_at_its_end() {
        let answers =
            vec![page(&["a@x.io", "b@x.io"], Some(5), Some("p2")), page(&["c@x.io", "d@x.io"], Some(5), Some("p3"))];
        let (list, requests) = listed(&[("startIndex", "2"), ("count", "2")], answers);
        let names: Vec<&str> =
            list["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
        assert_eq!((names, requests), (vec!["b@x.io", "c@x.io"], 2));
        assert_eq!((list["totalResults"].as_u64(), list["startIndex"].as_u64()), (Some(5), Some(2)));
    }

    #[test]
    fn without_gitbook_s_count_the_walk_goes_on_so_the_total_is_exact() {
        let answers = vec![page(&["a@x.io", "b@x.io"], None, Some("p2")), page(&["c@x.io"], None, None)];
        let (list, requests) = listed(&[("count", "1")], answers);
        assert_eq!((list["totalResults"].as_u64(), list["itemsPerPage"].as_u64(), requests), (Some(3), Some(1), 2));
        let (list, requests) = listed(&[("count", "0")], vec![page(&["a@x.io"], Some(9), Some("p2"))]);
        assert_eq!((list["totalResults"].as_u64(), list["Resources"].clone(), requests), (Some(9), json!([]), 1));
    }

    #[test]
    fn ids_that_name_no_email_are_not_found() {
        assert_eq!(email_of("010101").unwrap_err().status, 404);
        assert_eq!(email_of(&id::user_id(&email("ann@x.io"))).unwrap(), email("ann@x.io"));
    }
}
