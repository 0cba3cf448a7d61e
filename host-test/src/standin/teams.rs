//! `/orgs/{org}/teams...` handlers.

use std::collections::HashSet;

use super::input::{check_fields, json_object, string_list, team_memberships, team_title, Answer};
use super::model::TeamRole;
use super::pagination::{decode_token, list_json, parse_limit, take_page};
use super::query::first;
use super::render;
use super::reply::Reply;
use super::state::{Directory, TeamRecord};

fn no_team(id: &str) -> Reply {
    Reply::not_found(format!("Team {id} not found in this organization"))
}

fn not_a_member(field: &str, who: &str) -> Reply {
    Reply::bad_request(format!("Invalid {field} {who:?}: not a member of this organization"))
}

/// Resolves ids or emails to member slots; the first unknown one is a 400 naming it.
fn resolve_all(dir: &Directory, entries: &[String], field: &str) -> Result<Vec<usize>, Reply> {
    entries.iter().map(|e| dir.resolve_member(e).ok_or_else(|| not_a_member(field, e))).collect()
}

/// `GET /teams`: creation order, optional case-insensitive `title` filter, optional
/// `owner` (a user id): only the teams that member can manage, i.e. every team for an
/// organization admin, else the teams where they are an owner.
pub(crate) fn list(dir: &Directory, query: &[(String, String)]) -> Answer {
    let limit = parse_limit(first(query, "limit")).map_err(Reply::bad_request)?;
    let title = first(query, "title").filter(|t| !t.is_empty()).map(str::to_lowercase);
    let owner = match first(query, "owner") {
        None => None,
        Some(id) => Some(dir.member_slot(id).ok_or_else(|| not_a_member("owner", id))?),
    };
    let scope = "teams";
    let after = decode_token(scope, first(query, "page")).map_err(Reply::bad_request)?;
    let accepts = |t: &TeamRecord| {
        title.as_deref().is_none_or(|q| t.title.to_lowercase().contains(q))
            && owner.is_none_or(|o| dir.is_admin(o) || t.role_of(o) == TeamRole::Owner)
    };
    let start = after.map_or(0, |p| p.saturating_add(1));
    let matching = (start..dir.team_slot_count()).filter_map(|s| dir.team_at(s).filter(|t| accepts(t)).map(|t| (s, t)));
    let page = take_page(matching, limit);
    let count = if title.is_none() && owner.is_none() {
        dir.live_team_count()
    } else {
        (0..dir.team_slot_count()).filter_map(|s| dir.team_at(s)).filter(|t| accepts(t)).count()
    };
    let items = page.items.into_iter().map(render::team).collect();
    Ok(Reply::json(200, &list_json(items, count, scope, page.next)))
}

/// `PUT /teams` with `{"title": ..., "members": [user ids]?}`: 201 and the new team, its
/// members with the plain member role. `members` takes user ids only (the spec: "organization
/// member identifiers", where `add` of a team update says "a user ID or an email"); an
/// unknown one is a 400 naming it and no team is created.
pub(crate) fn create(dir: &mut Directory, body: &[u8], bound: Option<usize>, refuse_unknown: bool) -> Answer {
    let map = json_object(body)?;
    check_fields(&map, &["title", "members"], "the body", refuse_unknown)?;
    let title = team_title(&map)?;
    let listed = string_list(&map, "members")?;
    check_bound(listed.len(), bound)?;
    let members = listed
        .iter()
        .map(|id| dir.member_slot(id).ok_or_else(|| not_a_member("members entry", id)))
        .collect::<Result<Vec<_>, _>>()?;
    let slot = dir.create_team(&title, &members);
    let team = dir.team_at(slot).ok_or_else(|| Reply::error(500, "team vanished after creation"))?;
    Ok(Reply::json(201, &render::team(team)))
}

/// The modelled bound on people per team request (see the module docs).
fn check_bound(entries: usize, bound: Option<usize>) -> Result<(), Reply> {
    match bound {
        Some(bound) if entries > bound => {
            Err(Reply::bad_request(format!("Too many members in one request: {entries}; at most {bound} are accepted")))
        }
        _ => Ok(()),
    }
}

/// `GET /teams/{id}`.
pub(crate) fn get(dir: &Directory, id: &str) -> Answer {
    let team = dir.team(id).ok_or_else(|| no_team(id))?;
    Ok(Reply::json(200, &render::team(team)))
}

/// `PATCH /teams/{id}` with `{"title": ...}`.
pub(crate) fn rename(dir: &mut Directory, id: &str, body: &[u8], refuse_unknown: bool) -> Answer {
    let map = json_object(body)?;
    check_fields(&map, &["title"], "the body", refuse_unknown)?;
    let title = team_title(&map)?;
    let team = dir.rename_team(id, &title).ok_or_else(|| no_team(id))?;
    Ok(Reply::json(200, &render::team(team)))
}

/// `DELETE /teams/{id}`: 205 deleted, 204 did not exist.
pub(crate) fn delete(dir: &mut Directory, id: &str) -> Answer {
    Ok(Reply::empty(if dir.delete_team(id) { 205 } else { 204 }))
}

/// `GET /teams/{id}/members`: in the order members were added to the team, each with its
/// team role.
pub(crate) fn list_members(dir: &Directory, id: &str, query: &[(String, String)]) -> Answer {
    let team = dir.team(id).ok_or_else(|| no_team(id))?;
    let limit = parse_limit(first(query, "limit")).map_err(Reply::bad_request)?;
    let scope = format!("team-members:{id}");
    let after = decode_token(&scope, first(query, "page")).map_err(Reply::bad_request)?;
    let start = after.map_or(0, |p| p.saturating_add(1));
    let matching = team
        .entries
        .iter()
        .enumerate()
        .skip(start)
        .filter_map(|(pos, slot)| slot.and_then(|s| dir.member_at(s).map(|m| (pos, (s, m)))));
    let page = take_page(matching, limit);
    let items = page.items.into_iter().map(|(slot, m)| render::team_member(m, team.role_of(slot))).collect();
    Ok(Reply::json(200, &list_json(items, team.member_count(), &scope, page.next)))
}

/// `PUT /teams/{id}/members` with `{"add": [...], "remove": [...], "memberships": {...}}`
/// (users as ids or emails): 204. All `add` entries must be members or nothing is
/// applied; unknown `remove` entries are ignored; someone in both lists ends up removed.
/// `memberships` sets team roles (`owner` / `member`) of people who are in the team after
/// the update; an entry for someone who is not (neither in it before nor in `add`) is a
/// 400, one for someone in `remove` is ignored, as removal wins.
pub(crate) fn update_members(
    dir: &mut Directory,
    id: &str,
    body: &[u8],
    bound: Option<usize>,
    refuse_unknown: bool,
) -> Answer {
    let team = dir.team_slot(id).ok_or_else(|| no_team(id))?;
    let map = json_object(body)?;
    check_fields(&map, &["add", "remove", "memberships"], "the body", refuse_unknown)?;
    let (add, remove) = (string_list(&map, "add")?, string_list(&map, "remove")?);
    check_bound(add.len() + remove.len(), bound)?;
    let add = resolve_all(dir, &add, "add entry")?;
    let remove: Vec<usize> = remove.iter().filter_map(|e| dir.resolve_member(e)).collect();
    let mut roles = Vec::new();
    let adding: HashSet<usize> = add.iter().copied().collect();
    let removing: HashSet<usize> = remove.iter().copied().collect();
    for (who, role) in team_memberships(&map, refuse_unknown)? {
        let slot = dir.resolve_member(&who).ok_or_else(|| not_a_member("memberships key", &who))?;
        if removing.contains(&slot) {
            continue;
        }
        let in_team = dir.team_at(team).is_some_and(|t| t.contains(slot));
        if !in_team && !adding.contains(&slot) {
            return Err(Reply::bad_request(format!(
                "Invalid memberships key {who:?}: not in this team; list them in \"add\" too"
            )));
        }
        roles.push((slot, role));
    }
    dir.update_team_members(team, &add, &remove, &roles);
    Ok(Reply::empty(204))
}
