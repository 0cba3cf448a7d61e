//! Reading the state: every page, only the managed teams' members, and a
//! conflict for two teams sharing a managed title.

use super::testkit::{member, page_json, settings, team, team_members_json};
use super::{read_state, CurrentMember};
use crate::error::FailureKind;
use crate::gitbook::fake::{json, ScriptedIo};
use crate::gitbook::Client;
use crate::http::Method;
use crate::role::Role;
use crate::validate::TeamTitle;

fn titles(names: &[&str]) -> Vec<TeamTitle> {
    names.iter().map(|n| TeamTitle::parse("title", n).unwrap()).collect()
}

fn requests(io: &ScriptedIo) -> Vec<(Method, String)> {
    let base = "https://api.gitbook.com/v1/orgs/acme";
    io.sent.iter().map(|r| (r.method, r.url.strip_prefix(base).unwrap_or(&r.url).to_owned())).collect()
}

#[test]
fn every_page_is_read_but_only_managed_teams_members() {
    let ann = member("uann", "ann@example.com", Some(Role::Read));
    let bob = member("ubob", "bob@example.com", Some(Role::Edit));
    let cat = member("ucat", "cat@example.com", None);
    let teams = [team("teng", "Engineering"), team("tdes", "design"), team("tsales", "Sales")];
    let settings = settings();
    // Answers in the order the requests start: the teams first (the team
    // reads need their IDs), then the member walk beside the two managed
    // teams' reads, then the member walk's second page.
    let mut io = ScriptedIo::new([
        json(200, &page_json(&teams, 3, None)),
        json(200, &page_json(&[ann.clone(), bob.clone()], 3, Some("p2"))),
        json(200, &team_members_json(&[ann.clone(), bob.clone()])),
        json(200, &team_members_json(&[])),
        json(200, &page_json(std::slice::from_ref(&cat), 3, None)),
    ]);
    let state = read_state(&mut Client::new(&settings, &mut io), &titles(&["Engineering", "Design"])).unwrap();
    assert_eq!(
        requests(&io),
        [
            (Method::Get, "/teams?limit=1000".to_owned()),
            (Method::Get, "/members?limit=1000".to_owned()),
            (Method::Get, "/teams/teng/members?limit=1000".to_owned()),
            (Method::Get, "/teams/tdes/members?limit=1000".to_owned()),
            (Method::Get, "/members?limit=1000&page=p2".to_owned()),
        ]
    );
    assert_eq!(io.max_in_flight, 3, "the member walk ran beside both team reads");
    // Only what a plan needs of each member is kept.
    assert_eq!(state.members, [ann, bob, cat].map(CurrentMember::from));
    assert_eq!(state.teams, teams);
    let read: Vec<(&str, Vec<String>)> = state.team_members.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    assert_eq!(read, [("tdes", vec![]), ("teng", vec!["uann".to_owned(), "ubob".to_owned()])]);
}

#[test]
fn two_teams_with_a_managed_title_are_a_conflict_naming_both() {
    let teams = [team("t1", "Eng"), team("t2", "ENG"), team("t3", "Sales"), team("t4", "sales")];
    let settings = settings();
    let mut io = ScriptedIo::new([json(200, &page_json(&teams, 4, None))]);
    let error = read_state(&mut Client::new(&settings, &mut io), &titles(&["eng"])).unwrap_err();
    assert_eq!(error.kind(), Some(FailureKind::Conflict));
    let message = error.to_string();
    assert!(message.contains("t1, t2") && !message.contains("t3"), "{message}");
    assert_eq!(io.sent.len(), 1, "neither the members nor any team's members were read");
}

#[test]
fn a_failed_page_fails_the_read() {
    let settings = settings();
    let mut io = ScriptedIo::new([json(403, r#"{"error":{"code":403,"message":"not an admin"}}"#)]);
    let error = read_state(&mut Client::new(&settings, &mut io), &[]).unwrap_err();
    assert_eq!(error.kind(), Some(FailureKind::Forbidden));
}
