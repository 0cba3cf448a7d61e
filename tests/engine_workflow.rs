//! The Obelisk example's workflow (examples/obelisk/workflow), turned into a
//! component the way Obelisk turns it (`wit_component::ComponentEncoder` on
//! the wasm32-unknown-unknown core module) and run in wasmtime with its
//! imports served as the deployment configures Obelisk: each
//! `gitbook:directory-sync/client` call is one run of the real component
//! against the stand-in (`max_retries = 0`: never repeated by the host), and
//! `workflow-support.sleep` is recorded and returns at once (an engine
//! persists the wait; nothing here depends on its length).
//!
//! What it proves without the engine: the workflow links against the
//! component's `client` interface as built, performs the guide's three
//! requests once each, rides out an outage longer than the component's
//! retry bounds with durable sleeps, and gives up as designed. The same
//! runs against the real engine are examples/obelisk/run.sh.

mod common;

use common::{compiled, ORG, TOKEN};
use host_test::bindings::exports::gitbook::directory_sync::types::{Error, InviteRequest, Removal, Settings};
use host_test::demo::authority;
use host_test::standin::{Fault, FaultKind, Org, StandIn};
use host_test::wasmtime;
use host_test::{Host, HostConfig};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::component::{Component, ComponentType, Lift, Linker, Lower};
use wasmtime::{Engine, Store};

const GUIDE: &str = "gitbook:directory-sync-guide/guide@0.1.0";
const CLIENT: &str = "gitbook:directory-sync/client@0.3.0";
const SUPPORT: &str = "obelisk:workflow/workflow-support@6.0.0";
const EMAIL: &str = "dana@acme.test";

/// `guide.outcome` of the workflow's WIT.
#[derive(ComponentType, Lift, Debug)]
#[component(record)]
struct Outcome {
    #[component(name = "user-id")]
    user_id: String,
    invited: u32,
    removal: Removal,
}

/// `guide.step-failed` of the workflow's WIT.
#[allow(dead_code)] // payloads are read through `Debug` in failure messages
#[derive(ComponentType, Lift, Debug)]
#[component(variant)]
enum StepFailed {
    #[component(name = "invite")]
    Invite(Error),
    #[component(name = "no-user-id")]
    NoUserId,
    #[component(name = "join-team")]
    JoinTeam(Error),
    #[component(name = "leave")]
    Leave(Error),
    #[component(name = "execution-failed")]
    ExecutionFailed,
}

/// `obelisk:types/time` as the workflow passes it to `sleep`.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug)]
#[component(record)]
struct Datetime {
    seconds: u64,
    nanoseconds: u32,
}

#[allow(dead_code)] // only `milliseconds` is expected
#[derive(ComponentType, Lift, Debug)]
#[component(variant)]
enum Duration {
    #[component(name = "milliseconds")]
    Milliseconds(u64),
    #[component(name = "seconds")]
    Seconds(u64),
    #[component(name = "minutes")]
    Minutes(u32),
    #[component(name = "hours")]
    Hours(u32),
    #[component(name = "days")]
    Days(u32),
}

#[allow(dead_code)] // only `in` is expected
#[derive(ComponentType, Lift, Debug)]
#[component(variant)]
enum ScheduleAt {
    #[component(name = "now")]
    Now,
    #[component(name = "at")]
    At(Datetime),
    #[component(name = "in")]
    In(Duration),
}

impl ScheduleAt {
    fn millis(&self) -> u64 {
        match self {
            ScheduleAt::In(Duration::Milliseconds(ms)) => *ms,
            other => panic!("the workflow sleeps for milliseconds, not {other:?}"),
        }
    }
}

/// The workflow's core module, built as examples/obelisk/run.sh builds it
/// (own target directory: the test's cargo holds the workspace's lock).
fn workflow_core_module() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| {
        let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("obelisk-workflow");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--locked", "--release", "-p", "obelisk-guide-workflow"])
            .args(["--target", "wasm32-unknown-unknown"])
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the workflow failed (needs `rustup target add wasm32-unknown-unknown`)");
        std::fs::read(target_dir.join("wasm32-unknown-unknown/release/obelisk_guide_workflow.wasm"))
            .expect("the workflow was built")
    })
}

/// What one run of the workflow did.
struct Run {
    result: Result<Outcome, StepFailed>,
    standin: StandIn,
    sleeps_ms: Vec<u64>,
    activity_calls: Vec<&'static str>,
}

impl Run {
    /// `METHOD path` of every request, with `!` after the method of a faulted one.
    fn requests(&self) -> Vec<String> {
        self.standin
            .requests()
            .iter()
            .map(|r| format!("{}{} {}", r.method, if r.fault.is_some() { "!" } else { "" }, r.path))
            .collect()
    }
}

/// Runs `join-team-leave(EMAIL, team)` against a fresh sample organization
/// with `faults` queued, the team being "Engineering" unless `team` says.
fn run_workflow(faults: Vec<Fault>, team: Option<&str>) -> Run {
    let standin = StandIn::start(Org::sample()).expect("the stand-in starts");
    for fault in faults {
        standin.inject(fault);
    }
    let engineering = standin.teams().into_iter().find(|t| t.title == "Engineering").expect("Engineering").id;
    let team = team.map_or(engineering, str::to_string);

    // The activity: the component as the deployment configures it, settings
    // from its environment, the stand-in the only allowed host.
    let (engine, component) = compiled();
    let mut config = HostConfig::allowing(authority(&standin));
    config.env = vec![
        ("GITBOOK_TOKEN".into(), TOKEN.into()),
        ("GITBOOK_ORG".into(), ORG.into()),
        ("GITBOOK_API_URL".into(), standin.base_url()),
        ("GITBOOK_ALLOW_INSECURE_HTTP".into(), "1".into()),
    ];
    let host = Arc::new(Host::from_component(engine.clone(), component.clone(), config).expect("the host links"));

    let workflow_engine = Engine::default();
    let encoded = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(workflow_core_module())
        .expect("the core module carries its component type")
        .encode()
        .expect("the core module becomes a component");
    let workflow = Component::new(&workflow_engine, encoded).expect("the workflow component compiles");

    let calls: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let sleeps: Arc<Mutex<Vec<u64>>> = Arc::default();
    let mut linker = Linker::<()>::new(&workflow_engine);
    {
        let mut client = linker.instance(CLIENT).expect("the client instance");
        let (h, c) = (host.clone(), calls.clone());
        client
            .func_wrap("invite", move |_, (settings, request): (Settings, InviteRequest)| {
                c.lock().unwrap().push("invite");
                let (result, _) = h
                    .call(|store, client| client.call_invite(store, &settings, &request))
                    .map_err(wasmtime::Error::from_anyhow)?;
                Ok((result,))
            })
            .expect("invite links");
        let (h, c) = (host.clone(), calls.clone());
        client
            .func_wrap(
                "update-team-members",
                move |_, (settings, team, add, remove): (Settings, String, Vec<String>, Vec<String>)| {
                    c.lock().unwrap().push("update-team-members");
                    let (result, _) = h
                        .call(|store, client| client.call_update_team_members(store, &settings, &team, &add, &remove))
                        .map_err(wasmtime::Error::from_anyhow)?;
                    Ok((result,))
                },
            )
            .expect("update-team-members links");
        let (h, c) = (host.clone(), calls.clone());
        client
            .func_wrap("remove-member", move |_, (settings, user_id): (Settings, String)| {
                c.lock().unwrap().push("remove-member");
                let (result, _) = h
                    .call(|store, client| client.call_remove_member(store, &settings, &user_id))
                    .map_err(wasmtime::Error::from_anyhow)?;
                Ok((result,))
            })
            .expect("remove-member links");
        let mut support = linker.instance(SUPPORT).expect("the workflow-support instance");
        let s = sleeps.clone();
        support
            .func_wrap("sleep", move |_, (at, _name): (ScheduleAt, Option<String>)| {
                s.lock().unwrap().push(at.millis());
                Ok((Ok::<Datetime, ()>(Datetime { seconds: 0, nanoseconds: 0 }),))
            })
            .expect("sleep links");
    }
    let mut store = Store::new(&workflow_engine, ());
    let instance = linker.instantiate(&mut store, &workflow).expect("the workflow links against the component's types");
    let guide = instance.get_export_index(&mut store, None, GUIDE).expect("the workflow exports guide");
    let func = instance.get_export_index(&mut store, Some(&guide), "join-team-leave").expect("join-team-leave");
    let join_team_leave = instance
        .get_typed_func::<(&str, &str), (Result<Outcome, StepFailed>,)>(&mut store, func)
        .expect("join-team-leave has the WIT's type");
    let (result,) = join_team_leave.call(&mut store, (EMAIL, &team)).expect("the workflow runs to its end");

    let activity_calls = calls.lock().unwrap().clone();
    let sleeps_ms = sleeps.lock().unwrap().clone();
    Run { result, standin, sleeps_ms, activity_calls }
}

fn team_path(run: &Run) -> String {
    let team = run.standin.teams().into_iter().find(|t| t.title == "Engineering").unwrap().id;
    format!("/v1/orgs/{ORG}/teams/{team}/members")
}

#[test]
fn the_guide_invites_adds_to_the_team_and_removes_by_the_kept_id_once_each() {
    let run = run_workflow(Vec::new(), None);
    let outcome = run.result.as_ref().expect("the workflow succeeds");
    assert_eq!(outcome.invited, 1);
    assert!(matches!(outcome.removal, Removal::Deleted));
    let user = &outcome.user_id;
    assert_eq!(
        run.requests(),
        [
            format!("POST /v1/orgs/{ORG}/invites"),
            format!("PUT {}", team_path(&run)),
            format!("DELETE /v1/orgs/{ORG}/members/{user}"),
        ]
    );
    let requests = run.standin.requests();
    assert_eq!(requests[0].json().unwrap()["emails"], serde_json::json!([EMAIL]));
    assert_eq!(requests[1].json().unwrap(), serde_json::json!({"add": [user], "remove": []}));
    assert!(run.standin.member_by_email(EMAIL).is_none(), "dana left");
    assert_eq!(run.activity_calls, ["invite", "update-team-members", "remove-member"]);
    assert!(run.sleeps_ms.is_empty());
}

#[test]
fn an_outage_longer_than_the_components_retries_is_ridden_out_with_a_durable_sleep() {
    // Five 503s exhaust the component's attempts; two more hit the
    // workflow's second call of the step, whose third attempt goes through.
    let run = run_workflow(vec![Fault::on("PUT", "/members", FaultKind::ServerError { status: 503 }, 7)], None);
    let outcome = run.result.as_ref().expect("the workflow succeeds");
    assert!(matches!(outcome.removal, Removal::Deleted));
    let put = format!("PUT {}", team_path(&run));
    let mut expected = vec![format!("POST /v1/orgs/{ORG}/invites")];
    expected.extend(std::iter::repeat_n(format!("PUT! {}", team_path(&run)), 7));
    expected.push(put);
    expected.push(format!("DELETE /v1/orgs/{ORG}/members/{}", outcome.user_id));
    assert_eq!(run.requests(), expected);
    assert_eq!(run.activity_calls, ["invite", "update-team-members", "update-team-members", "remove-member"]);
    assert_eq!(run.sleeps_ms, [2_000]);
    let team = run.standin.teams().into_iter().find(|t| t.title == "Engineering").unwrap();
    assert_eq!(run.standin.team_member_ids(&team.id).len(), 3, "the member left the team again with the org");
}

#[test]
fn an_outage_outlasting_three_calls_ends_the_workflow_at_that_step() {
    let run = run_workflow(vec![Fault::on("PUT", "/members", FaultKind::ServerError { status: 503 }, 1_000)], None);
    let Err(StepFailed::JoinTeam(Error::ServerError(failure))) = &run.result else {
        panic!("expected join-team(server-error), got {:?}", run.result)
    };
    assert_eq!((failure.status, failure.attempts), (Some(503), 5));
    let mut expected = vec![format!("POST /v1/orgs/{ORG}/invites")];
    expected.extend(std::iter::repeat_n(format!("PUT! {}", team_path(&run)), 15));
    assert_eq!(run.requests(), expected, "no removal was sent");
    assert_eq!(run.activity_calls, ["invite", "update-team-members", "update-team-members", "update-team-members"]);
    assert_eq!(run.sleeps_ms, [2_000, 4_000]);
    assert!(run.standin.member_by_email(EMAIL).is_some(), "invited once, not removed");
}

#[test]
fn a_permanent_error_ends_the_workflow_at_once() {
    let run = run_workflow(Vec::new(), Some("no-such-team"));
    let Err(StepFailed::JoinTeam(Error::NotFound(_))) = &run.result else {
        panic!("expected join-team(not-found), got {:?}", run.result)
    };
    assert_eq!(
        run.requests(),
        [format!("POST /v1/orgs/{ORG}/invites"), format!("PUT /v1/orgs/{ORG}/teams/no-such-team/members")]
    );
    assert!(run.sleeps_ms.is_empty(), "nothing transient to wait for");
}

#[test]
fn the_workflow_imports_only_the_client_and_sleep_and_no_wasi() {
    let engine = Engine::default();
    let encoded = wit_component::ComponentEncoder::default()
        .module(workflow_core_module())
        .expect("the core module carries its component type")
        .encode()
        .expect("the core module becomes a component");
    let workflow = Component::new(&engine, encoded).expect("the workflow compiles");
    let imports: Vec<String> = workflow.component_type().imports(&engine).map(|(name, _)| name.to_string()).collect();
    // No WASI: Obelisk gives workflows none (they must be deterministic).
    // Only what the code calls is imported, with the type-only interfaces
    // those functions use.
    assert_eq!(imports, ["gitbook:directory-sync/types@0.3.0", CLIENT, "obelisk:types/time@5.0.0", SUPPORT,]);
}
