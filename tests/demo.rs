//! The README's main command (`cargo run -p host-test -- demo`) replays the
//! guide's three workflows through the component and prints GitBook's answers.

#[test]
fn the_demo_replays_join_group_change_and_leave() {
    let mut out = Vec::new();
    host_test::demo::run(&mut out).expect("the demo runs");
    let out = String::from_utf8(out).unwrap();
    for expected in [
        "The organization has 7 members",
        "→ POST /v1/orgs/acme/invites {\"emails\":[\"dana@acme.test\"],\"role\":\"read\",\"sso\":true}",
        "{\"add\":[\"dana@acme.test\"],\"remove\":[\"bob@acme.test\"]}",
        "← GitBook: deleted (HTTP 205)",
        "→ GET /v1/orgs/acme/members?limit=1000&search=carol%40acme.test",
        "Done: the organization now has 6 members.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}
