//! The snapshot format: the documented example, role resolution, scope, and
//! refusals that name the offending field.

use super::testkit::{email, snapshot};
use super::Snapshot;
use crate::error::Error;
use crate::role::Role;
use crate::validate::{GitBookId, MemberRef};
use serde_json::json;

fn field_of(error: Error) -> String {
    match error {
        Error::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    }
}

const EXAMPLE: &str = r#"{
  "users": [
    {"email": "ann@example.com", "role": "edit", "groups": ["eng", "admins"]},
    {"email": "bob@example.com", "groups": []}
  ],
  "rules": {
    "groupTeams": {"eng": "Engineering", "design": "Design"},
    "groupRoles": {"admins": "admin", "writers": "edit"},
    "defaultRole": "read",
    "scope": {"groups": ["eng", "design"]},
    "protected": ["ceo@example.com", "UserIdXYZ"],
    "manageAdmins": false,
    "sso": true
  }
}"#;

#[test]
fn the_documented_example_parses() {
    let snapshot = Snapshot::parse(EXAMPLE.as_bytes()).unwrap();
    let (ann, bob) = (&snapshot.users[0], &snapshot.users[1]);
    let rules = &snapshot.rules;
    assert_eq!(ann.email, email("ann@example.com"));
    assert_eq!(ann.role, Some(Some(Role::Edit)));
    assert_eq!(rules.role_for(ann), Some(Role::Admin), "the admins group outranks the user's own edit");
    assert_eq!(rules.role_for(bob), Some(Role::Read));
    assert!(rules.in_scope(ann) && !rules.in_scope(bob));
    assert_eq!(
        rules.protected,
        [MemberRef::Email(email("ceo@example.com")), MemberRef::Id(GitBookId::parse("id", "UserIdXYZ").unwrap())]
    );
    let titles: Vec<&str> = rules.group_teams.values().map(|t| t.as_str()).collect();
    assert_eq!(titles, ["Design", "Engineering"]);
    assert!(!rules.manage_admins && rules.sso);
}

#[test]
fn rules_default_safely_and_every_user_is_in_scope_without_a_scope() {
    let snapshot = snapshot(json!({"users": [{"email": "A@Example.com"}]}));
    let rules = &snapshot.rules;
    assert_eq!(snapshot.users[0].email, email("a@example.com"));
    assert_eq!((rules.default_role, rules.manage_admins, rules.sso), (Some(Role::Read), false, true));
    assert!(rules.scope.is_none() && rules.in_scope(&snapshot.users[0]));
}

#[test]
fn the_highest_role_wins_and_guest_is_lowest() {
    let snapshot = snapshot(json!({
        "users": [
            {"email": "a@x.io", "role": "guest"},
            {"email": "b@x.io", "role": "guest", "groups": ["writers"]},
            {"email": "c@x.io", "role": "admin", "groups": ["writers"]},
            {"email": "d@x.io", "groups": ["readers", "writers"]},
            {"email": "e@x.io", "groups": ["unmapped"]}
        ],
        "rules": {"groupRoles": {"writers": "edit", "readers": "read"}, "defaultRole": "guest"}
    }));
    let roles: Vec<Option<Role>> = snapshot.users.iter().map(|u| snapshot.rules.role_for(u)).collect();
    assert_eq!(roles, [None, Some(Role::Edit), Some(Role::Admin), Some(Role::Edit), None]);
}

#[test]
fn managed_titles_are_one_per_case_insensitive_title() {
    let snapshot = snapshot(json!({
        "users": [],
        "rules": {"groupTeams": {"eng": "Engineering", "eng-contractors": "ENGINEERING ", "design": "Design"}}
    }));
    let titles: Vec<String> = snapshot.rules.team_titles().iter().map(|t| t.as_str().to_owned()).collect();
    assert_eq!(titles, ["Design", "Engineering"]);
}

#[test]
fn a_duplicate_email_names_both_entries() {
    let error =
        Snapshot::parse(br#"{"users": [{"email": "a@x.io"}, {"email": "b@x.io"}, {"email": " A@X.io"}]}"#).unwrap_err();
    let Error::InvalidInput { field, message } = error else { panic!() };
    assert_eq!(field, "users[2].email");
    assert!(message.contains("users[0]") && message.contains("users[2]"), "{message}");
}

#[test]
fn errors_name_the_offending_field() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"users": [{"email": "a@x.io"}, {"email": "b@x.io"}, {"email": "c@x.io"}, {"email": "nope"}]}"#,
            "users[3].email",
        ),
        (r#"{"users": [{"mail": "a@x.io"}]}"#, "users[0].mail"),
        (r#"{"users": [{"role": "edit"}]}"#, "users[0].email"),
        (r#"{"users": [{"email": "a@x.io", "role": "owner"}]}"#, "users[0].role"),
        (r#"{"users": [{"email": "a@x.io", "groups": "eng"}]}"#, "users[0].groups"),
        (r#"{"users": [{"email": "a@x.io", "groups": ["eng", 3]}]}"#, "users[0].groups[1]"),
        (r#"{"users": [{"email": "a@x.io", "groups": [" "]}]}"#, "users[0].groups[0]"),
        (r#"{"users": ["a@x.io"]}"#, "users[0]"),
        (r#"{"users": {}}"#, "users"),
        (r#"{"rules": {}}"#, "users"),
        (r#"{"users": [], "rule": {}}"#, "rule"),
        (r#"{"users": [], "rules": {"manageAdmin": true}}"#, "rules.manageAdmin"),
        (r#"{"users": [], "rules": {"manageAdmins": "no"}}"#, "rules.manageAdmins"),
        (r#"{"users": [], "rules": {"sso": 1}}"#, "rules.sso"),
        (r#"{"users": [], "rules": {"groupTeams": {"eng": ""}}}"#, "rules.groupTeams.eng"),
        (r#"{"users": [], "rules": {"groupTeams": {"eng": 1}}}"#, "rules.groupTeams.eng"),
        (r#"{"users": [], "rules": {"groupTeams": []}}"#, "rules.groupTeams"),
        (r#"{"users": [], "rules": {"groupRoles": {"admins": "root"}}}"#, "rules.groupRoles.admins"),
        (r#"{"users": [], "rules": {"defaultRole": "owner"}}"#, "rules.defaultRole"),
        (r#"{"users": [], "rules": {"scope": {"group": ["eng"]}}}"#, "rules.scope.group"),
        (r#"{"users": [], "rules": {"scope": {"groups": []}}}"#, "rules.scope.groups"),
        (r#"{"users": [], "rules": {"scope": ["eng"]}}"#, "rules.scope"),
        (r#"{"users": [], "rules": {"protected": ["ok@x.io", "../x"]}}"#, "rules.protected[1]"),
        ("[]", "body"),
        (r#"{"users": [], "": 1}"#, "body"),
        ("not json", "body"),
    ];
    for (doc, field) in cases {
        let streamed = Snapshot::parse(doc.as_bytes()).unwrap_err();
        // The streaming parser and the tree-based one tell the same story.
        if let Ok(value) = serde_json::from_str(doc) {
            assert_eq!(Snapshot::parse_value(&value).as_ref(), Err(&streamed), "{doc}");
        }
        assert_eq!(field_of(streamed), *field, "{doc}");
    }
    let long_title = format!(r#"{{"users": [], "rules": {{"groupTeams": {{"eng": "{}"}}}}}}"#, "x".repeat(65));
    assert_eq!(field_of(Snapshot::parse(long_title.as_bytes()).unwrap_err()), "rules.groupTeams.eng");
}

#[test]
fn null_fields_count_as_absent_and_a_top_level_field_given_twice_is_refused() {
    let empty = Snapshot::parse(br#"{"rules": null, "users": []}"#).unwrap();
    assert_eq!(empty, snapshot(json!({"users": []})));
    assert_eq!(field_of(Snapshot::parse(br#"{"users": null}"#).unwrap_err()), "users");
    // With a tree, the last `users` would silently win: half a directory.
    let twice = br#"{"users": [{"email": "a@x.io"}], "rules": {}, "users": []}"#;
    let Error::InvalidInput { field, message } = Snapshot::parse(twice).unwrap_err() else { panic!() };
    assert_eq!((field.as_str(), message.as_str()), ("users", "is given twice; give it once"));
}

#[test]
fn a_broken_document_is_invalid_json_wherever_it_breaks() {
    for doc in [
        r#"{"users": [{"email": "a@x.io"}]} trailing"#,
        r#"{"users": [{"email": "a@x.io"},]}"#,
        r#"{"users": [{"email": "a@x.io"}"#,
        r#"{"users": [], "rules": {"sso": tru}}"#,
        r#"{"users": "#,
    ] {
        let Error::InvalidInput { field, message } = Snapshot::parse(doc.as_bytes()).unwrap_err() else { panic!() };
        assert_eq!(field, "body", "{doc}");
        assert!(message.starts_with("is not valid JSON"), "{doc}: {message}");
    }
}

#[test]
fn users_are_read_in_document_order_whichever_field_comes_first() {
    let rules_first = br#"{"rules": {"defaultRole": "edit"}, "users": [{"email": "b@x.io"}, {"email": "a@x.io"}]}"#;
    let parsed = Snapshot::parse(rules_first).unwrap();
    let emails: Vec<&str> = parsed.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["b@x.io", "a@x.io"]);
    assert_eq!(parsed.rules.default_role, Some(Role::Edit));
}
