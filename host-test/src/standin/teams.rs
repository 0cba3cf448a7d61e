//! `/orgs/{org}/teams...` handlers.

use super::input::{json_object, string_list, team_title, Answer};
use super::pagination::{decode_token, list_json, parse_limit, take_page};
use super::query::first;
use super::render;
use super::reply::Reply;
use super::state::Directory;

fn no_team(id: &str) -> Reply {
    Reply::not_found(format!("Team {id} not found in this organization"))
}

/// Resolves ids or emails to member slots; the first unknown one is a 400 naming it.
fn resolve_all(dir: &Directory, entries: &[String], field: &str) -> Result<Vec<usize>, Reply> {
    entries
        .iter()
        .map(|e| {
            dir.resolve_member(e)
                .ok_or_else(|| Reply::bad_request(format!("Cannot {field} {e:?}: not a member of this organization")))
        })
        .collect()
}

/// `GET /teams`: creation order, optional case-insensitive `title` filter.
pub(crate) fn list(dir: &Directory, query: &[(String, String)]) -> Answer {
    let limit = parse_limit(first(query, "limit")).map_err(Reply::bad_request)?;
    let title = first(query, "title").filter(|t| !t.is_empty()).map(str::to_lowercase);
    let scope = "teams";
    let after = decode_token(scope, first(query, "page")).map_err(Reply::bad_request)?;
    let accepts = |t: &super::state::TeamRecord| title.as_deref().is_none_or(|q| t.title.to_lowercase().contains(q));
    let start = after.map_or(0, |p| p.saturating_add(1));
    let matching = (start..dir.team_slot_count()).filter_map(|s| dir.team_at(s).filter(|t| accepts(t)).map(|t| (s, t)));
    let page = take_page(matching, limit);
    let count = if title.is_none() {
        dir.live_team_count()
    } else {
        (0..dir.team_slot_count()).filter_map(|s| dir.team_at(s)).filter(|t| accepts(t)).count()
    };
    let items = page.items.into_iter().map(render::team).collect();
    Ok(Reply::json(200, &list_json(items, count, scope, page.next)))
}

/// `PUT /teams` with `{"title": ..., "members": [ids]?}`: 201 and the new team.
pub(crate) fn create(dir: &mut Directory, body: &[u8]) -> Answer {
    let map = json_object(body)?;
    let title = team_title(&map)?;
    let members = resolve_all(dir, &string_list(&map, "members")?, "add")?;
    let slot = dir.create_team(&title, &members);
    let team = dir.team_at(slot).ok_or_else(|| Reply::error(500, "team vanished after creation"))?;
    Ok(Reply::json(201, &render::team(team)))
}

/// `GET /teams/{id}`.
pub(crate) fn get(dir: &Directory, id: &str) -> Answer {
    let team = dir.team(id).ok_or_else(|| no_team(id))?;
    Ok(Reply::json(200, &render::team(team)))
}

/// `PATCH /teams/{id}` with `{"title": ...}`.
pub(crate) fn rename(dir: &mut Directory, id: &str, body: &[u8]) -> Answer {
    let map = json_object(body)?;
    let title = team_title(&map)?;
    let team = dir.rename_team(id, &title).ok_or_else(|| no_team(id))?;
    Ok(Reply::json(200, &render::team(team)))
}

/// `DELETE /teams/{id}`: 205 deleted, 204 did not exist.
pub(crate) fn delete(dir: &mut Directory, id: &str) -> Answer {
    Ok(Reply::empty(if dir.delete_team(id) { 205 } else { 204 }))
}

/// `GET /teams/{id}/members`: in the order members were added to the team.
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
        .filter_map(|(pos, slot)| slot.and_then(|s| dir.member_at(s)).map(|m| (pos, m)));
    let page = take_page(matching, limit);
    let items = page.items.into_iter().map(render::team_member).collect();
    Ok(Reply::json(200, &list_json(items, team.member_count(), &scope, page.next)))
}

/// `PUT /teams/{id}/members` with `{"add": [...], "remove": [...]}` (ids or emails): 204.
/// All `add` entries must be members or nothing is applied; unknown `remove` entries are
/// ignored; someone in both lists ends up removed. `memberships` (team roles) is accepted
/// and ignored, as team roles are not modelled.
pub(crate) fn update_members(dir: &mut Directory, id: &str, body: &[u8]) -> Answer {
    let team = dir.team_slot(id).ok_or_else(|| no_team(id))?;
    let map = json_object(body)?;
    let add = resolve_all(dir, &string_list(&map, "add")?, "add")?;
    let remove: Vec<usize> = string_list(&map, "remove")?.iter().filter_map(|e| dir.resolve_member(e)).collect();
    dir.update_team_members(team, &add, &remove);
    Ok(Reply::empty(204))
}
