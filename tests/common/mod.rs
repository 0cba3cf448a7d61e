//! What every end-to-end test needs: the real component, compiled once per
//! test binary, in a wasmtime host that may reach only a fresh GitBook
//! stand-in on 127.0.0.1.

#![allow(dead_code)]

use host_test::bindings::exports::gitbook::directory_sync as exports;
use host_test::bindings::exports::gitbook::directory_sync::reconcile::{PlanOptions, Strategy};
use host_test::bindings::exports::gitbook::directory_sync::types::{
    ApiFailure, Error, MemberFilter, RetryPolicy, Settings,
};
use host_test::demo::{authority, local_settings};
use host_test::standin::{Org, RecordedRequest, StandIn};
use host_test::wasmtime;
use host_test::{component_path, new_engine, Host, HostConfig};
use serde_json::{json, Value};
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::Engine;

pub const ORG: &str = "acme";
pub const TOKEN: &str = "gb_test_token";

/// The component, compiled once per test binary (compiling it takes seconds).
pub fn compiled() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = new_engine().expect("engine");
        let component = Component::from_file(&engine, component_path()).expect("the component compiles");
        (engine, component)
    })
}

/// A stand-in serving `org` and a host allowed to reach only it.
pub struct World {
    pub standin: StandIn,
    pub host: Host,
    pub settings: Settings,
}

impl World {
    /// A world whose component has an empty environment: calls pass settings.
    pub fn new(org: Org) -> World {
        World::build(org, None, |_| {})
    }

    /// A world whose host is configured further by `host` (limits, say).
    pub fn with_host(org: Org, host: impl FnOnce(&mut HostConfig)) -> World {
        World::build(org, None, host)
    }

    /// A world whose component is configured through its environment, as
    /// under `wasmtime serve --env …`: the stand-in's URL and credentials,
    /// plus `env`.
    pub fn configured(org: Org, env: &[(&str, &str)]) -> World {
        World::build(org, Some(env), |_| {})
    }

    fn build(org: Org, env: Option<&[(&str, &str)]>, host: impl FnOnce(&mut HostConfig)) -> World {
        let (org_id, token) = (org.id.clone(), org.token.clone());
        let standin = StandIn::start(org).expect("the stand-in starts");
        let (engine, component) = compiled();
        let mut config = HostConfig::allowing(authority(&standin));
        if let Some(env) = env {
            config.env = vec![
                ("GITBOOK_TOKEN".into(), token.clone()),
                ("GITBOOK_ORG".into(), org_id.clone()),
                ("GITBOOK_API_URL".into(), standin.base_url()),
                ("GITBOOK_ALLOW_INSECURE_HTTP".into(), "1".into()),
            ];
            config.env.extend(env.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        }
        host(&mut config);
        let host =
            Host::from_component(engine.clone(), component.clone(), config).expect("the host links the component");
        let mut settings = local_settings(&standin, &org_id, &token);
        // Tests wait milliseconds, not seconds.
        settings.retry =
            Some(RetryPolicy { max_attempts: 4, max_wait_ms: 2_000, deadline_ms: 10_000, base_delay_ms: 20 });
        World { standin, host, settings }
    }

    pub fn sample() -> World {
        World::new(Org::sample())
    }

    /// Calls one export in a fresh instance.
    pub fn call<R>(&self, f: impl FnOnce(&mut Store, &exports::client::Guest, &Settings) -> wasmtime::Result<R>) -> R {
        untrapped(self.host.call(|store, client| f(store, client, &self.settings)))
    }

    /// Calls the `reconcile` interface in a fresh instance.
    pub fn reconcile<R>(
        &self,
        f: impl FnOnce(&mut Store, &exports::reconcile::Guest, &Settings) -> wasmtime::Result<R>,
    ) -> R {
        untrapped(self.host.call_reconcile(|store, reconcile| f(store, reconcile, &self.settings)))
    }

    /// Calls the `events` interface in a fresh instance.
    pub fn events<R>(
        &self,
        f: impl FnOnce(&mut Store, &exports::events::Guest, &Settings) -> wasmtime::Result<R>,
    ) -> R {
        untrapped(self.host.call_events(|store, events| f(store, events, &self.settings)))
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.standin.requests()
    }

    pub fn member_id(&self, email: &str) -> String {
        self.standin.member_by_email(email).unwrap_or_else(|| panic!("{email} is a member")).id
    }
}

type Store = wasmtime::Store<host_test::host::State>;

/// The call's result; a trap (or a host failure) fails the test.
fn untrapped<R, O, E: std::fmt::Debug>(call: Result<(R, O), E>) -> R {
    call.expect("the call does not trap").0
}

pub fn no_filter() -> MemberFilter {
    MemberFilter { role: None, search: None }
}

/// The request line and JSON body the stand-in saw.
pub fn summary(request: &RecordedRequest) -> (String, String, Option<serde_json::Value>) {
    let target = match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    };
    (request.method.clone(), target, request.json())
}

/// The field an invalid-input error names; panics on any other error.
pub fn invalid_field(error: Error) -> String {
    match error {
        Error::InvalidInput(input) => input.field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

/// An Okta System Log event as an Event Hook delivers it.
pub fn okta_event(uuid: &str, event_type: &str, published: &str, email: &str, group: Option<(&str, &str)>) -> Value {
    let mut target = vec![json!({"id": "00u_ann", "type": "User", "alternateId": email, "displayName": "Someone"})];
    if let Some((id, name)) = group {
        target.push(json!({"id": id, "type": "UserGroup", "alternateId": "unknown", "displayName": name}));
    }
    json!({
        "uuid": uuid, "published": published, "eventType": event_type, "version": "0",
        "displayMessage": "…", "severity": "INFO",
        "actor": {"id": "00u_admin", "type": "User", "alternateId": "admin@acme.test", "displayName": "Admin"},
        "outcome": {"result": "SUCCESS"},
        "target": target
    })
}

/// An Okta Event Hook delivery carrying `events`.
pub fn delivery(events: Vec<Value>) -> Value {
    json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/whoabc", "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
        "eventTime": "2024-05-01T10:00:01.000Z", "contentType": "application/json",
        "data": {"events": events}
    })
}

/// Plan options with the default removal limits.
pub fn plan_options(strategy: Strategy) -> PlanOptions {
    PlanOptions { strategy, max_removals: None, max_removal_percent: None, allow_mass_removal: false }
}

/// The failure inside any API error case; panics on invalid input.
pub fn failure(error: &Error) -> &ApiFailure {
    match error {
        Error::Unauthorized(f)
        | Error::Forbidden(f)
        | Error::NotFound(f)
        | Error::Conflict(f)
        | Error::Rejected(f)
        | Error::RateLimited(f)
        | Error::ServerError(f)
        | Error::InvalidResponse(f)
        | Error::Transport(f)
        | Error::DeadlineExceeded(f) => f,
        Error::InvalidInput(input) => panic!("expected an API failure, got invalid input {input:?}"),
        Error::SafetyStop(message) => panic!("expected an API failure, got a safety stop: {message}"),
        Error::ExecutionFailed => panic!("expected an API failure, got execution-failed"),
    }
}
