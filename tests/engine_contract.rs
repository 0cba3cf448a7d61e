//! What a workflow engine needs from the built component, checked on the
//! release `.wasm` itself (its component type, through wasmtime's type API),
//! so CI proves it without installing an engine (examples/obelisk/run.sh
//! runs the real one).
//!
//! - Obelisk accepts an exported function as an activity only if it returns
//!   `result<T, E>` with `E` a variant that has a payload-less
//!   `execution-failed` case (or `E` is `string`, or there is no `E`); other
//!   functions are skipped silently, so a change to the WIT could make the
//!   component useless there without any error.
//! - Obelisk retries an `err` unless its case name contains `permanent`;
//!   none of ours does, so the example deployment turns the engine's
//!   retries off (the component retries transient failures itself).
//! - Secrets reach the component as an opaque placeholder that the engine
//!   replaces in outgoing requests: the component must accept it as a token
//!   and send it verbatim.
//! - Which hosts can run the component depends on its imports: the ones
//!   outside the `wasi:http/proxy` world are listed exactly.

mod common;

use common::{compiled, World, ORG};
use host_test::bindings::exports::gitbook::directory_sync::types::{InviteRequest, Role};
use host_test::standin::Org;
use host_test::wasmtime::component::types::{ComponentFunc, ComponentItem};
use host_test::wasmtime::component::Type;
use std::collections::BTreeSet;

/// The interfaces whose functions an engine runs as activities.
const INTERFACES: [&str; 3] = [
    "gitbook:directory-sync/client@0.3.0",
    "gitbook:directory-sync/reconcile@0.3.0",
    "gitbook:directory-sync/events@0.3.0",
];

/// Every function of an exported interface, by name.
fn functions(interface: &str) -> Vec<(String, ComponentFunc)> {
    let (engine, component) = compiled();
    let ty = component.component_type();
    let export = ty.get_export(engine, interface).unwrap_or_else(|| panic!("the component exports {interface}"));
    let ComponentItem::ComponentInstance(instance) = export.ty else { panic!("{interface} is an instance") };
    instance
        .exports(engine)
        .filter_map(|(name, item)| match item.ty {
            ComponentItem::ComponentFunc(func) => Some((name.to_string(), func)),
            _ => None,
        })
        .collect()
}

/// Obelisk's rule for an activity function, as its 0.41 source applies it:
/// `Ok` if the engine accepts the function, else why not.
fn activity_compatible(func: &ComponentFunc) -> Result<Vec<String>, String> {
    let results: Vec<Type> = func.results().collect();
    let [Type::Result(result)] = &results[..] else { return Err(format!("returns {results:?}, not a result")) };
    match result.err() {
        None | Some(Type::String) => Ok(Vec::new()),
        Some(Type::Variant(variant)) => {
            let cases: Vec<(String, bool)> = variant.cases().map(|c| (c.name.to_string(), c.ty.is_some())).collect();
            match cases.iter().find(|(name, _)| name == "execution-failed") {
                Some((_, false)) => Ok(cases.into_iter().map(|(name, _)| name).collect()),
                Some((_, true)) => Err("its `execution-failed` case carries a payload".into()),
                None => Err(format!("its error variant has no `execution-failed` case: {cases:?}")),
            }
        }
        Some(other) => Err(format!("its error type {other:?} is neither a string nor a variant")),
    }
}

#[test]
fn every_exported_function_is_accepted_as_an_obelisk_activity() {
    let mut checked = Vec::new();
    for interface in INTERFACES {
        for (name, func) in functions(interface) {
            if let Err(why) = activity_compatible(&func) {
                panic!("{interface}.{name} would be skipped by Obelisk: {why}");
            }
            checked.push(format!("{interface}.{name}"));
        }
    }
    // Ten client functions, plan, plan-from-source and apply, and
    // events.apply: none was missed because an interface went unread.
    assert_eq!(checked.len(), 14, "{checked:#?}");
}

#[test]
fn every_function_fails_with_the_one_error_variant_and_none_of_its_cases_is_permanent_to_obelisk() {
    let mut variants = BTreeSet::new();
    for interface in INTERFACES {
        for (name, func) in functions(interface) {
            let cases = activity_compatible(&func).unwrap_or_else(|why| panic!("{interface}.{name}: {why}"));
            variants.insert(cases);
        }
    }
    let [cases] = &variants.into_iter().collect::<Vec<_>>()[..] else { panic!("more than one error type") };
    let expected = [
        "invalid-input",
        "unauthorized",
        "forbidden",
        "not-found",
        "conflict",
        "rejected",
        "rate-limited",
        "server-error",
        "invalid-response",
        "transport",
        "deadline-exceeded",
        "safety-stop",
        "execution-failed",
    ];
    assert_eq!(cases, &expected);
    // Obelisk reads a case whose name contains "permanent" as not worth
    // retrying, and retries every other one: to the engine every case of
    // ours looks transient. That is why the example deployment sets
    // `max_retries = 0` (see the next test) and README says who retries.
    assert!(cases.iter().all(|case| !case.contains("permanent")));
}

/// The one-line `key = value` settings of the example deployment's
/// `[[activity_wasm]]` section (the lines of a multi-line array are skipped:
/// their keys are not bare).
fn activity_settings() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/obelisk/deployment.toml");
    let text = std::fs::read_to_string(path).expect("examples/obelisk/deployment.toml exists");
    let bare = |key: &str| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    let mut section = "";
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with("[[") || (line.starts_with('[') && line.ends_with(']') && !line.contains('=')) {
            section = line;
        } else if let (Some((key, value)), "[[activity_wasm]]") = (line.split_once('='), section) {
            if bare(key.trim()) {
                settings.push((key.trim().to_string(), value.trim().to_string()));
            }
        }
    }
    assert!(!settings.is_empty(), "{path} has an [[activity_wasm]] section");
    settings
}

#[test]
fn the_example_deployment_leaves_retries_to_the_component_and_outlasts_its_deadline() {
    let settings = activity_settings();
    let get = |key: &str| {
        settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("{key} is set"))
    };
    assert_eq!(get("location"), "\"gitbook_directory_sync.wasm\"");
    // The engine would otherwise run a failed call again on top of the
    // component's own attempts: 5 engine retries x 5 attempts = 30 requests.
    assert_eq!(get("max_retries"), "0");
    // Obelisk's default lock expiry (1 s) would time out any call that
    // retries; the lock must outlast the component's default deadline for
    // one operation (120 s, WIT `retry-policy`).
    let expiry: u64 = get("exec.lock_expiry.seconds").parse().expect("a number of seconds");
    assert!(expiry > 120, "lock expiry {expiry} s");
}

#[test]
fn an_engine_secret_placeholder_is_accepted_as_the_token_and_sent_verbatim() {
    // What Obelisk 0.41 puts in the guest's environment for a secret: the
    // real token is swapped in only in requests to the allowed host.
    let placeholder = format!("OBELISK_SECRET_{}", "0123456789abcdef".repeat(4));
    let world = World::configured(Org { token: placeholder.clone(), ..Org::sample() }, &[]);
    let mut settings = world.settings.clone();
    settings.token = None;
    settings.organization = None;
    let request =
        InviteRequest { emails: vec!["dana@acme.test".into()], with_roles: vec![], role: Some(Role::Read), sso: true };
    let (result, _) = world.host.call(|store, client| client.call_invite(store, &settings, &request)).unwrap();
    assert_eq!(result.expect("the invite succeeds").invited, 1);
    let requests = world.standin.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, format!("/v1/orgs/{ORG}/invites"));
    assert_eq!(requests[0].header("authorization"), Some(format!("Bearer {placeholder}").as_str()));
}

/// The imports of the `wasi:http/proxy` world (0.2), by interface name
/// without version: what a proxy-only host (`wasmtime serve` without
/// `-S cli`, Spin, wasmCloud's HTTP server) provides.
const PROXY_IMPORTS: [&str; 10] = [
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
    "wasi:http/types",
];

#[test]
fn the_imports_outside_the_wasi_http_proxy_world_are_the_cli_filesystem_and_seed_ones() {
    let (engine, component) = compiled();
    let imports: BTreeSet<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.split('@').next().unwrap_or(name).to_string())
        .collect();
    assert!(imports.contains("wasi:http/outgoing-handler"), "{imports:?}");
    let outside: Vec<&str> = imports
        .iter()
        .map(String::as_str)
        .filter(|name| !PROXY_IMPORTS.contains(name) && *name != "wasi:http/outgoing-handler")
        .collect();
    // README "Which hosts can run it" relies on this list: the environment
    // (settings fall back to it) and exit (the CLI's status 2) are the
    // component's own; the terminal, filesystem and insecure-seed imports
    // come with Rust's standard library for wasm32-wasip2.
    let expected = [
        "wasi:cli/environment",
        "wasi:cli/exit",
        "wasi:cli/terminal-input",
        "wasi:cli/terminal-output",
        "wasi:cli/terminal-stderr",
        "wasi:cli/terminal-stdin",
        "wasi:cli/terminal-stdout",
        "wasi:filesystem/preopens",
        "wasi:filesystem/types",
        "wasi:random/insecure-seed",
    ];
    assert_eq!(outside, expected, "all imports: {imports:?}");
}
