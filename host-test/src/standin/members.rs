//! `/orgs/{org}/members...` handlers.

use super::input::{check_fields, json_object, role_or_guest, Answer};
use super::model::Role;
use super::pagination::{decode_token, list_json, parse_limit, take_page};
use super::query::first;
use super::render;
use super::reply::Reply;
use super::state::{Directory, MemberRecord, Removal};

/// Sort keys from the spec's `memberSort`. The stand-in tracks no activity and uses the
/// join date as `lastSeenAt`, so both date sorts are join order.
#[derive(Clone, Copy)]
enum Sort {
    JoinedAt,
    LastSeenAt,
    Name,
}

/// Filters from `role` and `search`.
struct Filter {
    /// `Some(None)` = guests only.
    role: Option<Option<Role>>,
    /// Lower-cased; matched against display name and email (unless the email is hidden:
    /// a search must not reveal what the answer leaves out).
    search: Option<String>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.role.is_none() && self.search.is_none()
    }

    fn accepts(&self, m: &MemberRecord) -> bool {
        self.role.is_none_or(|r| m.state.role == r)
            && self
                .search
                .as_deref()
                .is_none_or(|s| m.name_lc.contains(s) || (!m.state.email_hidden && m.email_lc.contains(s)))
    }
}

fn not_a_member(id: &str) -> Reply {
    Reply::not_found(format!("Member {id} not found in this organization"))
}

/// `GET /members`: filtered, sorted, paginated.
pub(crate) fn list(dir: &Directory, query: &[(String, String)]) -> Answer {
    let limit = parse_limit(first(query, "limit")).map_err(Reply::bad_request)?;
    let descending = match first(query, "order") {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => return Err(Reply::bad_request(format!("Invalid order {other:?}: expected asc or desc"))),
    };
    let sort = match first(query, "sort") {
        None | Some("joinedAt") => Sort::JoinedAt,
        Some("lastSeenAt") => Sort::LastSeenAt,
        Some("name") => Sort::Name,
        Some(other) => {
            return Err(Reply::bad_request(format!("Invalid sort {other:?}: expected joinedAt, lastSeenAt or name")))
        }
    };
    let role = match first(query, "role") {
        None => None,
        Some("guest") => Some(None),
        Some(r) => Some(Some(Role::parse(r).ok_or_else(|| {
            Reply::bad_request(format!(
                "Invalid role {r:?}: expected admin, create, edit, review, comment, read or guest"
            ))
        })?)),
    };
    let search = first(query, "search").filter(|s| !s.is_empty()).map(str::to_lowercase);
    let filter = Filter { role, search };

    let sort_name = match sort {
        Sort::JoinedAt => "joinedAt",
        Sort::LastSeenAt => "lastSeenAt",
        Sort::Name => "name",
    };
    let scope = format!("members:{sort_name}:{}", if descending { "desc" } else { "asc" });
    let after = decode_token(&scope, first(query, "page")).map_err(Reply::bad_request)?;

    // Positions: for date sorts the member's slot (stable under inserts and removals);
    // for name sort the index in the sorted order.
    let positions: Box<dyn Iterator<Item = (usize, usize)>> = match sort {
        Sort::JoinedAt | Sort::LastSeenAt => {
            let n = dir.member_slot_count();
            if descending {
                let end = after.unwrap_or(n).min(n);
                Box::new((0..end).rev().map(|s| (s, s)))
            } else {
                let start = after.map_or(0, |p| p.saturating_add(1));
                Box::new((start..n).map(|s| (s, s)))
            }
        }
        Sort::Name => {
            let mut slots = dir.member_slots_by_name();
            if descending {
                slots.reverse();
            }
            let start = after.map_or(0, |p| p.saturating_add(1));
            Box::new(slots.into_iter().enumerate().skip(start))
        }
    };
    let matching =
        positions.filter_map(|(pos, slot)| dir.member_at(slot).filter(|m| filter.accepts(m)).map(|m| (pos, m)));
    let page = take_page(matching, limit);
    let count = if filter.is_empty() {
        dir.live_member_count()
    } else {
        (0..dir.member_slot_count()).filter_map(|s| dir.member_at(s)).filter(|m| filter.accepts(m)).count()
    };
    let items = page.items.into_iter().map(render::member).collect();
    Ok(Reply::json(200, &list_json(items, count, &scope, page.next)))
}

/// `GET /members/{id}`.
pub(crate) fn get(dir: &Directory, id: &str) -> Answer {
    let m = dir.member(id).ok_or_else(|| not_a_member(id))?;
    Ok(Reply::json(200, &render::member(m)))
}

/// `PATCH /members/{id}` with `{"role": <role or null>}`; no `role` key changes nothing.
pub(crate) fn patch(dir: &mut Directory, id: &str, body: &[u8], refuse_unknown: bool) -> Answer {
    let map = json_object(body)?;
    check_fields(&map, &["role"], "the body", refuse_unknown)?;
    let role = map.get("role").map(|v| role_or_guest(v, "role")).transpose()?;
    let m = match role {
        Some(role) => dir.set_role(id, role),
        None => dir.member(id),
    };
    let m = m.ok_or_else(|| not_a_member(id))?;
    Ok(Reply::json(200, &render::member(m)))
}

/// `DELETE /members/{id}`: 205 removed, 204 was not a member, 202 needs an admin.
pub(crate) fn delete(dir: &mut Directory, id: &str) -> Answer {
    Ok(Reply::empty(match dir.remove_member(id) {
        Removal::Removed => 205,
        Removal::NotAMember => 204,
        Removal::NeedsApproval => 202,
    }))
}

/// `POST /members/{id}/sso`.
pub(crate) fn set_sso(dir: &mut Directory, id: &str) -> Answer {
    let m = dir.set_sso(id).ok_or_else(|| not_a_member(id))?;
    Ok(Reply::json(200, &render::member(m)))
}
