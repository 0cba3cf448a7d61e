//! `cargo bench -p host-test`: request economy, reconcile time at scale,
//! cold start, per-event cost and size, side by side with the official
//! JavaScript client (`@gitbook/api`, run by Node.js against the same
//! stand-in). Prints the report and writes it to `BENCHMARKS.md`.
//!
//! Knobs (environment): `BENCH_LATENCY_MS` (20), `BENCH_REPS` (runs per
//! measurement, 3; single events 5), `BENCH_MAX_MEMBERS` (100000; 10000
//! skips the large case), `BENCH_SKIP_SIZE_VARIANTS=1`, `BENCH_OUT` (where to
//! write the report), `BENCH_PROBE=<members>` (only one reconcile by the
//! component at that size, its figures printed and nothing written: to see a
//! change's effect on time and memory in seconds rather than the whole run),
//! `BENCH_CONCURRENCY` (the probe's concurrency, 1), `BENCH_PROBE_CLIENT=node`
//! (the probe runs `@gitbook/api` instead, BENCH_CONCURRENCY requests at a
//! time), `BENCH_PROBE_RATE_LIMIT=headers|429` (the probe runs against
//! section 3's rate limit),
//! `BENCH_COMPONENT=<file.wasm>` (measure that build instead of this tree's,
//! e.g. an earlier commit's, to compare), `BENCH_RATE_LIMIT_REPS` (runs of
//! each rate-limited reconcile, 1), `BENCH_SKIP_RATE_LIMIT=1`,
//! `BENCH_PROBE_LOGGING=1` (only the logging cost per webhook event, printed).

mod coldstart;
mod metered;
mod node;
mod release;
mod scenarios;
mod size;

use anyhow::{anyhow, bail, Context, Result};
use host_test::bindings::exports::gitbook::directory_sync::reconcile::{PlanOptions, Strategy, SyncPlan};
use host_test::bindings::exports::gitbook::directory_sync::types::{
    Error, InviteRequest, MemberFilter, Role, Settings,
};
use host_test::demo::{authority, local_settings};
use host_test::standin::{RateLimit, StandIn};
use host_test::wasmtime::component::Component;
use host_test::wasmtime::Engine;
use host_test::{component_path, new_engine};
use metered::MeteredHost;
use node::Node;
use scenarios::{Events, Floor, MEMBERS, ORG, TEAMS, TOKEN};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Sections 1 and 2: one request at a time, as before concurrency existed,
/// so their rows stay comparable with earlier runs.
const SERIAL: u32 = 1;
/// The concurrency levels of section 3 (beside [`SERIAL`]).
const LEVELS: [u32; 3] = [4, 8, 16];
/// The level the goals are set at (the component's default).
const GOAL_LEVEL: u32 = 8;
/// Goals: wall ÷ (floor × latency) at [`GOAL_LEVEL`], by organization size.
const GOAL_RATIO_10K: f64 = 0.30;
const GOAL_RATIO_100K: f64 = 0.40;
/// `@gitbook/api` with `Promise.all`: requests per batch.
const NODE_BATCH: usize = 8;
/// The enforced rate limit of section 3: 60 requests per 10 s window.
const RATE_LIMIT: u32 = 60;
const RATE_WINDOW_SECS: u64 = 10;
/// Goal: extra requests caused by 429s, as a share of the floor.
const GOAL_EXTRA_SHARE: f64 = 0.02;

/// The stand-in's settings with `concurrency` requests in flight at most.
fn settings(standin: &StandIn, concurrency: u32) -> Settings {
    Settings { concurrency: Some(concurrency), ..local_settings(standin, ORG, TOKEN) }
}

fn api<T>(result: std::result::Result<T, Error>) -> Result<T> {
    result.map_err(|e| anyhow!("the component returned {e:?}"))
}

struct Ctx {
    engine: Engine,
    component: Component,
    latency: Duration,
    node: Result<Node>,
    scratch: PathBuf,
}

// ---- the single-event jobs ---------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Job {
    Join,
    LeaveById,
    LeaveByEmail,
    GroupChange,
    List,
}

impl Job {
    const ALL: [Job; 5] = [Job::Join, Job::LeaveById, Job::LeaveByEmail, Job::GroupChange, Job::List];

    fn title(self) -> String {
        match self {
            Job::Join => "one join".into(),
            Job::LeaveById => "one leave by ID".into(),
            Job::LeaveByEmail => "one leave by email".into(),
            Job::GroupChange => "one group change".into(),
            Job::List => format!("list {} members", thousands(MEMBERS as u64)),
        }
    }

    fn floor(self) -> usize {
        match self {
            Job::Join => scenarios::JOIN_FLOOR,
            Job::LeaveById => scenarios::LEAVE_BY_ID_FLOOR,
            Job::LeaveByEmail => scenarios::LEAVE_BY_EMAIL_FLOOR,
            Job::GroupChange => scenarios::GROUP_CHANGE_FLOOR,
            Job::List => scenarios::pages(MEMBERS),
        }
    }

    fn node_job(self, events: &Events) -> (&'static str, Value) {
        match self {
            Job::Join => ("join", json!({"email": events.joiner, "role": "read"})),
            Job::LeaveById => ("leaveById", json!({"userId": events.leaver_id})),
            Job::LeaveByEmail => ("leaveByEmail", json!({"email": events.leaver_email})),
            Job::GroupChange => {
                ("groupChange", json!({"teamId": events.team_id, "add": events.add, "remove": events.remove}))
            }
            Job::List => ("list", json!({})),
        }
    }
}

/// Requests and wall time of each run.
#[derive(Default)]
struct Runs {
    requests: Vec<usize>,
    ms: Vec<f64>,
}

impl Runs {
    fn push(&mut self, (requests, ms): (usize, f64)) {
        self.requests.push(requests);
        self.ms.push(ms);
    }

    /// The request count (every run makes the same requests; a spread is
    /// shown as min–max).
    fn requests(&self) -> String {
        let (min, max) = (self.requests.iter().min(), self.requests.iter().max());
        match (min, max) {
            (Some(min), Some(max)) if min == max => thousands(*min as u64),
            (Some(min), Some(max)) => format!("{min}–{max}"),
            _ => "n/a".into(),
        }
    }

    fn max_requests(&self) -> usize {
        self.requests.iter().copied().max().unwrap_or(0)
    }

    fn median_ms(&self) -> f64 {
        median(&mut self.ms.clone())
    }
}

fn fresh_standin(members: usize) -> Result<StandIn> {
    StandIn::start(scenarios::org(members, TEAMS))
}

fn component_job(ctx: &Ctx, job: Job) -> Result<(usize, f64)> {
    let standin = fresh_standin(MEMBERS)?;
    let events = Events::on(&standin);
    let host = MeteredHost::new(&ctx.engine, &ctx.component, &authority(&standin))?;
    let settings = settings(&standin, SERIAL);
    standin.set_latency(ctx.latency);
    standin.clear_requests();
    let start = Instant::now();
    match job {
        Job::Join => {
            let request = InviteRequest {
                emails: vec![events.joiner.clone()],
                with_roles: vec![],
                role: Some(Role::Read),
                sso: true,
            };
            let invited = api(host.client(|s, c| c.call_invite(s, &settings, &request))?.0)?;
            if invited.invited != 1 {
                bail!("invited {}", invited.invited);
            }
        }
        Job::LeaveById => {
            api(host.client(|s, c| c.call_remove_member(s, &settings, &events.leaver_id))?.0)?;
        }
        Job::LeaveByEmail => {
            let removal =
                api(host.client(|s, c| c.call_remove_member_by_email(s, &settings, &events.leaver_email))?.0)?;
            removal.user_id.context("the leaver was found")?;
        }
        Job::GroupChange => {
            api(host
                .client(|s, c| c.call_update_team_members(s, &settings, &events.team_id, &events.add, &events.remove))?
                .0)?;
        }
        Job::List => {
            let filter = MemberFilter { role: None, search: None };
            let members = api(host.client(|s, c| c.call_list_members(s, &settings, &filter))?.0)?;
            if members.len() != MEMBERS {
                bail!("listed {} members", members.len());
            }
        }
    }
    let elapsed = ms(start.elapsed());
    let (reads, writes) = count(&standin);
    Ok((reads + writes, elapsed))
}

fn node_job(ctx: &Ctx, node: &Node, job: Job, limit: Option<usize>) -> Result<(usize, f64)> {
    let standin = fresh_standin(MEMBERS)?;
    let events = Events::on(&standin);
    let (name, args) = job.node_job(&events);
    standin.set_latency(ctx.latency);
    standin.clear_requests();
    let run = node.run(&standin, name, &args, limit, None)?;
    if job == Job::List && run.result != json!(MEMBERS) {
        bail!("Node listed {} members", run.result);
    }
    let (reads, writes) = count(&standin);
    Ok((reads + writes, run.ms))
}

// ---- reconciliation ----------------------------------------------------

struct ReconcileRun {
    reads: usize,
    writes: usize,
    ms: f64,
    /// The client's CPU time: host + guest (this process less the
    /// stand-in's threads), or Node's.
    cpu_ms: f64,
    /// The stand-in's CPU time (its processing, JSON included).
    standin_cpu_ms: f64,
    /// Peak guest linear memory (component: the larger of plan and apply)
    /// or max RSS (Node), bytes.
    memory: u64,
    /// The component's plan call alone: host + guest CPU, peak memory.
    plan_cpu_ms: f64,
    plan_memory: u64,
    apply_memory: u64,
    /// The most requests the stand-in was processing at once.
    max_in_flight: usize,
    /// Requests the stand-in refused with 429 (its rate limit), counted in
    /// `reads` and `writes`.
    rate_limited: usize,
}

fn options(floor_removals: usize) -> PlanOptions {
    PlanOptions {
        strategy: Strategy::Sync,
        max_removals: Some(floor_removals as u32 + 10),
        max_removal_percent: None,
        allow_mass_removal: false,
    }
}

/// A drifted organization of `members`, its snapshot and floor.
fn drifted(members: usize) -> Result<(StandIn, Value, Floor, scenarios::Drift)> {
    let standin = StandIn::start(scenarios::org(members, TEAMS))?;
    let (snapshot, drift) = scenarios::drifted(&standin);
    let floor = scenarios::reconcile_floor(&standin, &snapshot);
    Ok((standin, snapshot, floor, drift))
}

/// (reads, writes) the stand-in received, Node's warm-up request left out.
fn count(standin: &StandIn) -> (usize, usize) {
    let requests = standin.requests();
    let requests: Vec<_> = requests.iter().filter(|r| r.path != node::WARMUP_PATH).collect();
    let reads = requests.iter().filter(|r| r.method == "GET").count();
    (reads, requests.len() - reads)
}

/// The stand-in's worker threads are named `gitbook-standin…`.
fn standin_cpu() -> f64 {
    coldstart::threads_cpu("gitbook-standin").map_or(f64::NAN, ms)
}

fn process_cpu() -> f64 {
    coldstart::process_cpu().map_or(f64::NAN, ms)
}

/// The body of `GET path` (raw HTTP/1.1, a new connection).
fn raw_get(standin: &StandIn, path: &str) -> Result<Vec<u8>> {
    use std::io::{Read, Write};
    let addr = authority(standin);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n");
    let mut stream = std::net::TcpStream::connect(&addr)?;
    stream.write_all(request.as_bytes())?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    if !reply.starts_with(b"HTTP/1.1 200") {
        bail!("GET {path}: the stand-in answered {}", String::from_utf8_lossy(&reply));
    }
    let body = reply.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |p| p + 4);
    Ok(reply.split_off(body))
}

/// Median wall time of a minimal request (one member, raw HTTP/1.1 from
/// the bench): the latency as the stand-in actually serves it.
fn round_trip_ms(standin: &StandIn, runs: usize) -> Result<f64> {
    let id = standin.members().first().context("a member")?.id.clone();
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        raw_get(standin, &format!("/v1/orgs/{ORG}/members/{id}"))?;
        times.push(ms(start.elapsed()));
    }
    Ok(median(&mut times))
}

/// About how much JSON the floor's reads bring: the size of one full page
/// of members and of team members, scaled to the organization.
fn json_read_estimate(standin: &StandIn) -> Result<u64> {
    let teams = standin.teams();
    let members = standin.members().len();
    let page = raw_get(standin, &format!("/v1/orgs/{ORG}/members?limit=1000"))?.len();
    let per_member = page as f64 / members.min(1000) as f64;
    let team = teams.iter().max_by_key(|t| t.member_ids.len()).context("a team")?;
    let team_page = raw_get(standin, &format!("/v1/orgs/{ORG}/teams/{}/members?limit=1000", team.id))?.len();
    let per_membership = team_page as f64 / team.member_ids.len().min(1000) as f64;
    let memberships: usize = teams.iter().map(|t| t.member_ids.len()).sum();
    let team_list = raw_get(standin, &format!("/v1/orgs/{ORG}/teams?limit=1000"))?.len();
    Ok((per_member * members as f64 + per_membership * memberships as f64) as u64 + team_list as u64)
}

/// After a run, planning again (without latency) must find nothing to do.
fn check_converged(ctx: &Ctx, standin: &StandIn, snapshot: &str, options: PlanOptions, who: &str) -> Result<()> {
    standin.set_latency(Duration::ZERO);
    let host = MeteredHost::new(&ctx.engine, &ctx.component, &authority(standin))?;
    let settings = local_settings(standin, ORG, TOKEN);
    let plan: SyncPlan = api(host.reconcile(|s, r| r.call_plan(s, &settings, snapshot, options))?.0)?;
    let left = plan.invites.len()
        + plan.removals.len()
        + plan.team_updates.len()
        + plan.role_changes.len()
        + plan.create_teams.len();
    if left != 0 {
        bail!("after {who}'s reconcile, {left} changes are still planned: {plan:?}");
    }
    Ok(())
}

/// The snapshot's size and the JSON the floor's reads bring, bytes.
type Volumes = Option<(u64, u64)>;

/// How one reconciliation by the component is run.
#[derive(Clone, Copy)]
struct Reconcile {
    members: usize,
    concurrency: u32,
    /// A rate limit the stand-in enforces during the run.
    rate_limit: Option<RateLimit>,
    /// Also check that planning again finds nothing to do, and measure the
    /// volumes.
    check: bool,
}

/// One reconciliation by the component; with `check`, also its volumes.
fn component_reconcile(ctx: &Ctx, how: Reconcile) -> Result<(ReconcileRun, Floor, Volumes)> {
    let Reconcile { members, concurrency, rate_limit, check } = how;
    let (standin, snapshot, floor, drift) = drifted(members)?;
    let text = snapshot.to_string();
    let options = options(drift.leavers);
    let host = MeteredHost::new(&ctx.engine, &ctx.component, &authority(&standin))?;
    let settings = settings(&standin, concurrency);
    standin.set_latency(ctx.latency);
    standin.clear_requests();
    standin.reset_max_in_flight();
    standin.set_rate_limit(rate_limit);

    let (cpu0, standin0) = (process_cpu(), standin_cpu());
    let start = Instant::now();
    let (plan, plan_peak) = host.reconcile(|s, r| r.call_plan(s, &settings, &text, options))?;
    let plan_cpu_ms = process_cpu() - cpu0 - (standin_cpu() - standin0);
    let plan = api(plan)?;
    if let Some(stop) = &plan.safety {
        bail!("safety stop: {}", stop.reason);
    }
    let (report, apply_peak) = host.reconcile(|s, r| r.call_apply(s, &settings, &plan))?;
    let report = api(report)?;
    let elapsed = ms(start.elapsed());
    let standin_cpu_ms = standin_cpu() - standin0;
    let cpu_ms = process_cpu() - cpu0 - standin_cpu_ms;
    let (max_in_flight, rate_limited) = (standin.max_in_flight(), standin.rate_limited_count());
    standin.set_rate_limit(None);
    if report.failed != 0 || report.not_attempted != 0 {
        bail!("apply failed: {report:?}");
    }
    let (reads, writes) = count(&standin);
    if check {
        check_converged(ctx, &standin, &text, options, "the component")?;
    }
    let memory = plan_peak.max(apply_peak) as u64;
    let (plan_memory, apply_memory) = (plan_peak as u64, apply_peak as u64);
    let run = ReconcileRun {
        reads,
        writes,
        ms: elapsed,
        cpu_ms,
        standin_cpu_ms,
        memory,
        plan_cpu_ms,
        plan_memory,
        apply_memory,
        max_in_flight,
        rate_limited,
    };
    if check {
        standin.set_latency(Duration::ZERO);
        return Ok((run, floor, Some((text.len() as u64, json_read_estimate(&standin)?))));
    }
    Ok((run, floor, None))
}

/// How `@gitbook/api` lists (`limit`: page size, `None` the API's
/// default) and sends (`batch`: requests at a time with `Promise.all`,
/// `None` one at a time).
#[derive(Clone, Copy)]
struct NodeStyle {
    limit: Option<usize>,
    batch: Option<usize>,
}

fn node_reconcile(ctx: &Ctx, node: &Node, members: usize, style: NodeStyle, check: bool) -> Result<ReconcileRun> {
    let (standin, snapshot, _, drift) = drifted(members)?;
    let text = snapshot.to_string();
    let path = ctx.scratch.join(format!("snapshot-{members}.json"));
    std::fs::write(&path, &text)?;
    standin.set_latency(ctx.latency);
    standin.clear_requests();
    let standin0 = standin_cpu();
    let run = node.run(&standin, "reconcile", &json!({"snapshotPath": path}), style.limit, style.batch)?;
    let standin_cpu_ms = standin_cpu() - standin0;
    // The warm-up request is in the stand-in's maximum too: it comes first,
    // alone, so it cannot raise it.
    let max_in_flight = standin.max_in_flight();
    let (reads, writes) = count(&standin);
    if check {
        check_converged(ctx, &standin, &text, options(drift.leavers), "Node")?;
    }
    let memory = run.max_rss_kb * 1024;
    Ok(ReconcileRun {
        reads,
        writes,
        ms: run.ms,
        cpu_ms: run.cpu_ms,
        standin_cpu_ms,
        memory,
        plan_cpu_ms: 0.0,
        plan_memory: 0,
        apply_memory: 0,
        max_in_flight,
        rate_limited: 0,
    })
}

#[derive(Default)]
struct Scale {
    floor: Floor,
    volumes: Volumes,
    /// One request at a time ([`SERIAL`]).
    component: Vec<ReconcileRun>,
    /// At each of [`LEVELS`].
    concurrent: Vec<(u32, Vec<ReconcileRun>)>,
    node_limit: Vec<ReconcileRun>,
    node_default: Vec<ReconcileRun>,
    /// `limit: 1000` and `Promise.all` in batches of [`NODE_BATCH`].
    node_batched: Vec<ReconcileRun>,
    node_error: Option<String>,
}

impl Scale {
    /// The component's runs at every concurrency, [`SERIAL`] first.
    fn by_concurrency(&self) -> Vec<(u32, &[ReconcileRun])> {
        let mut all = vec![(SERIAL, self.component.as_slice())];
        all.extend(self.concurrent.iter().map(|(c, runs)| (*c, runs.as_slice())));
        all
    }

    fn at(&self, concurrency: u32) -> Option<&[ReconcileRun]> {
        self.by_concurrency().into_iter().find(|(c, _)| *c == concurrency).map(|(_, runs)| runs)
    }
}

fn median_of(runs: &[ReconcileRun], f: impl Fn(&ReconcileRun) -> f64) -> f64 {
    median(&mut runs.iter().map(f).collect::<Vec<_>>())
}

fn requests_of(runs: &[ReconcileRun]) -> String {
    let totals: Vec<usize> = runs.iter().map(|r| r.reads + r.writes).collect();
    match (totals.iter().min(), totals.iter().max()) {
        (Some(a), Some(b)) if a == b => {
            let r = &runs[0];
            format!("{} ({} + {})", thousands(*a as u64), thousands(r.reads as u64), thousands(r.writes as u64))
        }
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "n/a".into(),
    }
}

fn measure_scale(ctx: &Ctx, members: usize, reps: usize, node_reps: usize) -> Result<Scale> {
    let mut scale = Scale::default();
    for concurrency in std::iter::once(SERIAL).chain(LEVELS) {
        let mut runs = Vec::new();
        for rep in 0..reps {
            eprintln!("reconcile {members}: component at concurrency {concurrency}, run {}/{reps}", rep + 1);
            let how = Reconcile { members, concurrency, rate_limit: None, check: rep == 0 };
            let (run, floor, volumes) = component_reconcile(ctx, how)?;
            // Concurrency must not cost a request: a run off the floor fails
            // the benchmark rather than being reported as a time.
            if run.reads != floor.reads || run.writes != floor.writes {
                bail!(
                    "reconcile {members} members at concurrency {concurrency}: {} reads + {} writes, the floor is                      {} + {}",
                    run.reads,
                    run.writes,
                    floor.reads,
                    floor.writes
                );
            }
            scale.floor = floor;
            if concurrency == SERIAL {
                scale.volumes = volumes.or(scale.volumes);
            }
            runs.push(run);
        }
        if concurrency == SERIAL {
            scale.component = runs;
        } else {
            scale.concurrent.push((concurrency, runs));
        }
    }
    match &ctx.node {
        Ok(node) => {
            let mut node_runs = || -> Result<()> {
                let styles = [
                    ("limit=1000", NodeStyle { limit: Some(scenarios::PAGE), batch: None }),
                    ("default page size", NodeStyle { limit: None, batch: None }),
                    ("limit=1000, batches of 8", NodeStyle { limit: Some(scenarios::PAGE), batch: Some(NODE_BATCH) }),
                ];
                for (name, style) in styles {
                    let mut runs = Vec::new();
                    for rep in 0..node_reps {
                        eprintln!("reconcile {members}: @gitbook/api {name} run {}/{node_reps}", rep + 1);
                        runs.push(node_reconcile(ctx, node, members, style, rep == 0)?);
                    }
                    match style {
                        NodeStyle { batch: Some(_), .. } => scale.node_batched = runs,
                        NodeStyle { limit: Some(_), .. } => scale.node_limit = runs,
                        NodeStyle { limit: None, .. } => scale.node_default = runs,
                    }
                }
                Ok(())
            };
            if let Err(e) = node_runs() {
                scale.node_error = Some(format!("{e:#}"));
            }
        }
        Err(e) => scale.node_error = Some(format!("{e:#}")),
    }
    Ok(scale)
}

/// Section 3's reconciliations against an enforced rate limit.
struct Limited {
    /// The stand-in sends `X-RateLimit-*` on every answer (otherwise only
    /// on the 429).
    headers_on_every_answer: bool,
    floor: Floor,
    runs: Vec<ReconcileRun>,
}

impl Limited {
    fn rule(headers_on_every_answer: bool) -> RateLimit {
        RateLimit { limit: RATE_LIMIT, window_secs: RATE_WINDOW_SECS, headers_on_every_answer }
    }

    /// The most requests over the floor in one run (each one a 429, retried).
    fn max_extra(&self) -> usize {
        self.runs.iter().map(|r| (r.reads + r.writes).saturating_sub(self.floor.total())).max().unwrap_or(0)
    }

    /// Every run's answered requests (not refused) are exactly the floor:
    /// nothing was sent twice but the refused ones.
    fn answered_at_floor(&self) -> bool {
        self.runs.iter().all(|r| r.reads + r.writes - r.rate_limited == self.floor.total())
    }
}

/// Reconcile [`MEMBERS`] at [`GOAL_LEVEL`] against the stand-in's rate limit,
/// with the headers on every answer and with only the 429.
fn measure_rate_limited(ctx: &Ctx, reps: usize) -> Result<Vec<Limited>> {
    let mut all = Vec::new();
    for headers_on_every_answer in [true, false] {
        let mut limited = Limited { headers_on_every_answer, floor: Floor::default(), runs: Vec::new() };
        for rep in 0..reps {
            eprintln!(
                "reconcile {MEMBERS} against {RATE_LIMIT} requests per {RATE_WINDOW_SECS} s ({}), run {}/{reps}",
                if headers_on_every_answer { "headers on every answer" } else { "429 only" },
                rep + 1
            );
            let how = Reconcile {
                members: MEMBERS,
                concurrency: GOAL_LEVEL,
                rate_limit: Some(Limited::rule(headers_on_every_answer)),
                check: rep == 0,
            };
            let (run, floor, _) = component_reconcile(ctx, how)?;
            limited.floor = floor;
            limited.runs.push(run);
        }
        all.push(limited);
    }
    Ok(all)
}

// ---- formatting --------------------------------------------------------

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration(ms: f64) -> String {
    if ms.is_nan() {
        "n/a".into()
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn kib(bytes: u64) -> String {
    format!("{} KiB", thousands(bytes.div_ceil(1024)))
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_nan() || b.is_nan() || b == 0.0 {
        "n/a".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or_default().trim().to_owned())
        .unwrap_or_else(|| "n/a".into())
}

fn locked_version(workspace: &Path, krate: &str) -> String {
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).unwrap_or_default();
    let needle = format!("name = \"{krate}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|i| lock[i + needle.len()..].split('"').next())
        .map(str::to_owned)
        .unwrap_or_else(|| "?".into())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let kernel = command_line("uname", &["-sr"]);
    format!("{model}, {cores} cores, {:.0} GiB, {kernel}", mem_kb as f64 / (1024.0 * 1024.0))
}

// ---- the run -----------------------------------------------------------

fn main() -> Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmarks: run with `cargo bench -p host-test` (skipped under cargo test)");
        return Ok(());
    }
    let started = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?.to_path_buf();
    let scratch = workspace.join("target/bench");
    std::fs::create_dir_all(&scratch)?;
    let latency = Duration::from_millis(env_usize("BENCH_LATENCY_MS", 20) as u64);
    let reps = env_usize("BENCH_REPS", 3).max(1);
    let max_members = env_usize("BENCH_MAX_MEMBERS", 100_000);
    let wasm = std::env::var_os("BENCH_COMPONENT").map_or_else(component_path, PathBuf::from);
    let engine = new_engine()?;
    let component = Component::from_file(&engine, &wasm)
        .map_err(|e| anyhow!("{e:#}"))
        .with_context(|| format!("compiling {}", wasm.display()))?;
    let node = Node::find(&workspace);
    if let Err(e) = &node {
        eprintln!("the Node.js comparison is skipped: {e:#}");
    }
    let ctx = Ctx { engine, component, latency, node, scratch: scratch.clone() };
    if std::env::var("BENCH_PROBE_LOGGING").is_ok_and(|v| v == "1") {
        for cost in coldstart::logging_costs(&ctx.engine, &ctx.component, 200)? {
            println!(
                "{}: {} lines, {} bytes, host CPU {} per event, wall {} ({} events)",
                cost.setting,
                cost.lines,
                cost.log_bytes,
                cost.cpu_ms.map_or("n/a".into(), duration),
                duration(cost.wall_ms),
                cost.events
            );
        }
        return Ok(());
    }
    if let Some(members) = std::env::var("BENCH_PROBE").ok().and_then(|v| v.parse().ok()) {
        // BENCH_PROBE_RATE_LIMIT: `headers` or `429` runs it against section
        // 3's rate limit.
        let rate_limit = match std::env::var("BENCH_PROBE_RATE_LIMIT").as_deref() {
            Ok("headers") => Some(Limited::rule(true)),
            Ok("429") => Some(Limited::rule(false)),
            _ => None,
        };
        let concurrency = env_usize("BENCH_CONCURRENCY", SERIAL as usize) as u32;
        if std::env::var("BENCH_PROBE_CLIENT").is_ok_and(|v| v == "node") {
            // `@gitbook/api` with `limit: 1000`, BENCH_CONCURRENCY requests at
            // a time (1: each call awaited).
            let node = ctx.node.as_ref().map_err(|e| anyhow!("{e:#}"))?;
            let batch = (concurrency > 1).then_some(concurrency as usize);
            let style = NodeStyle { limit: Some(scenarios::PAGE), batch };
            let run = node_reconcile(&ctx, node, members, style, true)?;
            println!(
                "@gitbook/api reconcile {members} members at {} ms/request, batches of {concurrency}: {} reads + {} \
                 writes, {:.0} ms wall, {:.0} ms CPU, max in flight {}",
                ms(latency),
                run.reads,
                run.writes,
                run.ms,
                run.cpu_ms,
                run.max_in_flight
            );
            return Ok(());
        }
        let (run, floor, _) = component_reconcile(&ctx, Reconcile { members, concurrency, rate_limit, check: false })?;
        println!(
            "reconcile {members} members at {} ms/request, concurrency {concurrency}: {} reads + {} writes \
             (floor {} + {}; {} refused with 429), {:.0} ms wall, {:.0} ms CPU (plan {:.0} ms), peak guest memory \
             plan {} / apply {}, max in flight {}",
            ms(latency),
            run.reads,
            run.writes,
            floor.reads,
            floor.writes,
            run.rate_limited,
            run.ms,
            run.cpu_ms,
            run.plan_cpu_ms,
            mib(run.plan_memory),
            mib(run.apply_memory),
            run.max_in_flight
        );
        return Ok(());
    }
    let lat_ms = ms(latency);
    if std::env::var("BENCH_PROBE_RELEASE").is_ok_and(|v| v == "1") {
        // Section 6 alone, printed, nothing written.
        let opt_level = release::profile_opt_level(&workspace)?;
        let variants = size::build_variants(&workspace, &workspace.join("target/bench-size"), &opt_level);
        let rows = release::measure(&ctx, &release::candidates(&wasm, &opt_level, &variants), reps)?;
        let mut md = String::new();
        write_release(&mut md, &rows, lat_ms, reps)?;
        println!("{md}");
        return Ok(());
    }

    // The latency as served: the stand-in's timer and its own work add to it.
    let round_trip = {
        let standin = fresh_standin(MEMBERS)?;
        standin.set_latency(latency);
        round_trip_ms(&standin, 20)?
    };

    // 1. Single events and the 10k list.
    let event_reps = reps.max(5);
    let mut jobs: BTreeMap<usize, (Runs, Runs, Runs)> = BTreeMap::new();
    for (i, job) in Job::ALL.iter().enumerate() {
        let job_reps = if *job == Job::List { reps } else { event_reps };
        let (mut component, mut node_default, mut node_limit) = (Runs::default(), Runs::default(), Runs::default());
        for _ in 0..job_reps {
            eprintln!("{}: component", job.title());
            component.push(component_job(&ctx, *job)?);
            if let Ok(node) = &ctx.node {
                eprintln!("{}: @gitbook/api", job.title());
                node_default.push(node_job(&ctx, node, *job, None)?);
                node_limit.push(node_job(&ctx, node, *job, Some(scenarios::PAGE))?);
            }
        }
        jobs.insert(i, (component, node_default, node_limit));
    }

    // 2. Reconciliation at 10k and 100k members.
    let mut scales = Vec::new();
    scales.push((MEMBERS, reps, reps, measure_scale(&ctx, MEMBERS, reps, reps)?));
    if max_members >= 100_000 {
        // Fewer runs of the slow Node.js cases at 100k (one each by default).
        let node_reps = env_usize("BENCH_NODE_REPS_100K", 1).max(1);
        scales.push((100_000, reps, node_reps, measure_scale(&ctx, 100_000, reps, node_reps)?));
    }

    // 3. Against an enforced rate limit, 10k members.
    let limited = if std::env::var("BENCH_SKIP_RATE_LIMIT").is_ok_and(|v| v == "1") {
        Vec::new()
    } else {
        measure_rate_limited(&ctx, env_usize("BENCH_RATE_LIMIT_REPS", 1).max(1))?
    };

    // 4. Cold start and per-event cost.
    eprintln!("cold start");
    let cold = coldstart::measure(&ctx.engine, &wasm, &scratch, reps.max(5))?;
    eprintln!("CPU per event");
    let event_costs = coldstart::event_costs(&ctx.engine, &ctx.component, 200)?;
    eprintln!("CPU per event by logging setting");
    let logging_costs = coldstart::logging_costs(&ctx.engine, &ctx.component, 200)?;

    // 5. Size.
    let size = std::fs::metadata(&wasm)?.len();
    let opt_level = release::profile_opt_level(&workspace)?;
    let variants = if std::env::var("BENCH_SKIP_SIZE_VARIANTS").is_ok_and(|v| v == "1") {
        Vec::new()
    } else {
        size::build_variants(&workspace, &workspace.join("target/bench-size"), &opt_level)
    };

    // 6. Which build to release: "s" and "z", with and without wasm-opt.
    let release_rows = if variants.is_empty() {
        Vec::new()
    } else {
        release::measure(&ctx, &release::candidates(&wasm, &opt_level, &variants), reps)?
    };
    let unstripped = variants.iter().find(|b| b.variant.name == "no-strip").and_then(|b| b.result.as_ref().ok());

    // ---- the report ----
    let mut md = String::new();
    let w = &mut md;
    let bench_secs = started.elapsed().as_secs();
    writeln!(w, "# Benchmarks\n")?;
    writeln!(
        w,
        "Generated by `cargo bench -p host-test` ([`host-test/benches/benchmarks/`](host-test/benches/benchmarks/main.rs)) \
         on {}; do not edit by hand. The run took {} min {} s.\n",
        command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        bench_secs / 60,
        bench_secs % 60
    )?;
    let node_line = match &ctx.node {
        Ok(node) => format!("Node.js {} with `@gitbook/api` {}", node.version, node.client_version),
        Err(e) => format!("Node.js comparison skipped ({e})"),
    };
    writeln!(w, "- **Machine**: {} (shared with other builds while this ran).", machine())?;
    writeln!(
        w,
        "- **Versions**: {}; wasmtime {} (the host, built with the workspace's bench profile: `opt-level = \"s\"`, \
         fat LTO, 1 codegen unit); {node_line}; {}.",
        command_line("rustc", &["--version"]),
        locked_version(&workspace, "wasmtime"),
        command_line("wasm-tools", &["--version"])
    )?;
    writeln!(
        w,
        "- **Method**: the component runs in a wasmtime host like the reference one (one fresh instance per call) \
         against the GitBook stand-in on 127.0.0.1, which adds **{lat_ms:.0} ms to every response** to model a real \
         network. The official client is [`benches/node/sync.mjs`](benches/node/sync.mjs): the same jobs written with \
         `@gitbook/api` the way its README shows (`await` each call), run by Node.js against the same stand-in in the \
         same run. Requests are counted at the stand-in. Times are medians of {event_reps} runs for single events and \
         {reps} for lists and reconciliations unless a table says otherwise; a fresh stand-in is started for every run. \
         In sections 1 and 2 both clients send one request at a time, as before: the component with \
         `concurrency: 1`, so those rows stay comparable with earlier runs. Section 3 measures concurrent requests \
         (the component's `settings.concurrency`, `@gitbook/api` with `Promise.all`) and an enforced rate limit.\n"
    )?;

    // Headline.
    let all_at_floor = Job::ALL.iter().enumerate().all(|(i, job)| jobs[&i].0.max_requests() == job.floor())
        && scales.iter().all(|(_, _, _, s)| s.component.iter().all(|r| r.reads + r.writes == s.floor.total()));
    let wall_ratio = |s: &Scale| median_of(&s.component, |r| r.ms) / (s.floor.total() as f64 * lat_ms);
    let join_cost = event_costs.iter().find(|c| c.gitbook_requests == 1);
    let big = scales.iter().find(|(m, _, _, _)| *m == 100_000);
    writeln!(w, "## Headline\n")?;
    writeln!(w, "| what | goal | result | |")?;
    writeln!(w, "|---|---|---|---|")?;
    writeln!(
        w,
        "| requests, every scenario of section 1 | the floor | {} | {} |",
        if all_at_floor { "at the floor in every scenario" } else { "over the floor somewhere (see 1)" },
        verdict(all_at_floor)
    )?;
    for (members, _, _, s) in &scales {
        let goal = if *members >= 100_000 { GOAL_RATIO_100K } else { GOAL_RATIO_10K };
        let runs = s.at(GOAL_LEVEL).unwrap_or_default();
        let c = median_of(runs, |r| r.ms);
        let r = c / (s.floor.total() as f64 * lat_ms);
        writeln!(
            w,
            "| reconcile {} members at concurrency {GOAL_LEVEL}, wall ÷ (floor × {lat_ms:.0} ms), requests at the \
             floor | ≤ {goal:.2} | {r:.2} ({} vs {}; {} requests, the floor) | {} |",
            thousands(*members as u64),
            duration(c),
            duration(s.floor.total() as f64 * lat_ms),
            thousands(s.floor.total() as u64),
            verdict(r <= goal)
        )?;
    }
    if let Some(l) = limited.iter().find(|l| l.headers_on_every_answer) {
        let extra = l.max_extra();
        let share = extra as f64 / l.floor.total() as f64;
        writeln!(
            w,
            "| reconcile {} members against {RATE_LIMIT} requests per {RATE_WINDOW_SECS} s (`X-RateLimit-*` on every \
             answer): extra requests caused by 429s ÷ floor | ≤ {:.0}% | {:.1}% ({extra} over {}; completed in {}) \
             | {} |",
            thousands(MEMBERS as u64),
            GOAL_EXTRA_SHARE * 100.0,
            share * 100.0,
            l.floor.total(),
            duration(median_of(&l.runs, |r| r.ms)),
            verdict(share <= GOAL_EXTRA_SHARE && l.answered_at_floor())
        )?;
    }
    for (members, _, _, s) in &scales {
        let r = wall_ratio(s);
        writeln!(
            w,
            "| reconcile {} members one request at a time (`concurrency: 1`), wall ÷ (floor × {lat_ms:.0} ms) | \
             ≤ 1.10× | {r:.2}× ({} vs {}) | {} |",
            thousands(*members as u64),
            duration(median_of(&s.component, |r| r.ms)),
            duration(s.floor.total() as f64 * lat_ms),
            verdict(r <= 1.10)
        )?;
    }
    for (members, _, _, s) in &scales {
        let share = median_of(&s.component, |r| r.cpu_ms) / (s.floor.total() as f64 * lat_ms);
        writeln!(
            w,
            "| reconcile {} members one request at a time, the component's own part: host + guest CPU ÷ (floor × \
             {lat_ms:.0} ms) | ≤ 0.10 | {share:.3} (the rest of the gap is the stand-in's: its timer and JSON work, see \
             2) | {} |",
            thousands(*members as u64),
            verdict(share <= 0.10)
        )?;
    }
    if let Some((_, _, _, s)) = big {
        let peak = s.by_concurrency().iter().flat_map(|(_, runs)| runs.iter()).map(|r| r.memory).max().unwrap_or(0);
        writeln!(
            w,
            "| peak guest memory, reconcile 100,000 members, any concurrency | ≤ 64 MiB | {} | {} |",
            mib(peak),
            verdict(peak <= 64 << 20)
        )?;
    }
    if let Some(cost) = join_cost {
        let cpu = cost.cpu_ms.unwrap_or(f64::NAN);
        writeln!(
            w,
            "| host CPU per webhook event (`user.joined`, beyond its one round trip) | ≤ 1 ms | {} CPU, {} wall | {} |",
            duration(cpu),
            duration(cost.wall_ms),
            verdict(cpu <= 1.0)
        )?;
    }
    writeln!(
        w,
        "| release component size | ≤ 400 KiB | {} ({} bytes) | {} |",
        kib(size),
        thousands(size),
        verdict(size <= 400 * 1024)
    )?;
    if let (Some((_, _, _, s)), Ok(_)) = (scales.first(), &ctx.node) {
        if !s.node_limit.is_empty() && !s.node_default.is_empty() {
            let c = median_of(&s.component, |r| r.ms);
            writeln!(
                w,
                "| vs `@gitbook/api`, reconcile 10,000 members, one request at a time | | requests {} vs {} \
                 (limit=1000) / {} (default page size); wall {} / {} of the component's | |",
                thousands(s.component[0].reads as u64 + s.component[0].writes as u64),
                thousands((s.node_limit[0].reads + s.node_limit[0].writes) as u64),
                thousands((s.node_default[0].reads + s.node_default[0].writes) as u64),
                ratio(median_of(&s.node_limit, |r| r.ms), c),
                ratio(median_of(&s.node_default, |r| r.ms), c),
            )?;
        }
        if !s.node_batched.is_empty() {
            let c = median_of(s.at(GOAL_LEVEL).unwrap_or_default(), |r| r.ms);
            writeln!(
                w,
                "| vs `@gitbook/api`, reconcile 10,000 members, {GOAL_LEVEL} at a time (`Promise.all` in batches of \
                 {NODE_BATCH}, `limit: 1000`) | | requests {} vs {}; wall {} of the component's at concurrency \
                 {GOAL_LEVEL} ({} vs {}) | |",
                thousands(s.floor.total() as u64),
                thousands((s.node_batched[0].reads + s.node_batched[0].writes) as u64),
                ratio(median_of(&s.node_batched, |r| r.ms), c),
                duration(median_of(&s.node_batched, |r| r.ms)),
                duration(c),
            )?;
        }
    }

    // 1. Request economy.
    writeln!(w, "\n## 1. Request economy\n")?;
    writeln!(
        w,
        "The floor is the fewest requests GitBook's API allows for the job, computed from the organization and the \
         snapshot (not from the component's plan): pages of 1,000 (the API's largest), one invite request per 1,000 \
         joiners, one team update per changed team (additions and removals together), one request per removal \
         (there is no bulk delete). `@gitbook/api` is counted twice: as its README shows it (no `limit`, so the \
         API's default page of 50) and with `limit: 1000` on every list call. The organization has {} members and \
         {TEAMS} teams.\n",
        thousands(MEMBERS as u64)
    )?;
    writeln!(w, "| job | floor | component | `@gitbook/api`, README usage | `@gitbook/api`, `limit: 1000` |")?;
    writeln!(w, "|---|---|---|---|---|")?;
    for (i, job) in Job::ALL.iter().enumerate() {
        let (c, nd, nl) = &jobs[&i];
        writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            job.title(),
            job.floor(),
            c.requests(),
            nd.requests(),
            nl.requests()
        )?;
    }
    if let Some((_, _, _, s)) = scales.first() {
        writeln!(
            w,
            "| reconcile {} members / {TEAMS} teams / 1% drift | {} ({} reads + {} writes) | {} | {} | {} |",
            thousands(MEMBERS as u64),
            s.floor.total(),
            s.floor.reads,
            s.floor.writes,
            requests_of(&s.component),
            requests_of(&s.node_default),
            requests_of(&s.node_limit)
        )?;
    }
    writeln!(
        w,
        "\n1% drift: 0.4% of the members leave the directory (readers), 0.4% join it (each into a team), 0.2% of \
         the editors move to another group; the sync strategy (removals allowed). Reconcile counts are \
         reads + writes. After the first run of each client, planning again finds nothing left to do."
    )?;

    writeln!(w, "\n### Wall time of the same jobs ({lat_ms:.0} ms per request)\n")?;
    writeln!(
        w,
        "| job | floor × latency | component | ÷ floor × latency | `@gitbook/api`, README usage | `@gitbook/api`, `limit: 1000` | `limit: 1000` ÷ component |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|")?;
    for (i, job) in Job::ALL.iter().enumerate() {
        let (c, nd, nl) = &jobs[&i];
        let floor_ms = job.floor() as f64 * lat_ms;
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            job.title(),
            duration(floor_ms),
            duration(c.median_ms()),
            ratio(c.median_ms(), floor_ms),
            duration(nd.median_ms()),
            duration(nl.median_ms()),
            ratio(nl.median_ms(), c.median_ms())
        )?;
    }
    writeln!(
        w,
        "\nThe component's time includes a fresh instance per call (the reference host's model); Node's is the job \
         alone, in a process already started, with the client constructed and one warm-up request made (to a path \
         left out of the counts), as in a long-running service (start-up: section 4). A minimal request (one member, \
         raw HTTP/1.1 from the benchmark, a new connection) takes **{}** at this latency: the stand-in's timer and \
         its own work are part of every request, for both clients.",
        duration(round_trip)
    )?;

    // 2. Reconcile at scale.
    writeln!(w, "\n## 2. Reconcile at scale ({lat_ms:.0} ms per request)\n")?;
    writeln!(
        w,
        "Plan (reads only) then apply, {TEAMS} teams, 1% drift, sync strategy; the component's wall time covers both \
         calls. Peak guest memory is the largest linear memory the component asked for (a `ResourceLimiter` in the \
         host records it; plan and apply are separate instances; the larger is shown). For Node.js, the process's \
         max RSS. CPU: this process's CPU time during the run (`CLOCK_PROCESS_CPUTIME_ID`) less that of the \
         stand-in's threads (from `/proc/self/task`, 10 ms resolution); Node's from `process.cpuUsage()`. With one \
         request at a time, wall ≈ requests × latency + client CPU + stand-in CPU.\n"
    )?;
    writeln!(
        w,
        "| members | floor (reads + writes) | floor × latency | component: requests | component: wall | ÷ floor × latency | CPU: host + guest (plan + apply) | CPU: stand-in | peak guest memory (plan / apply) | runs |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|---|---|---|")?;
    for (members, reps, _, s) in &scales {
        let floor_ms = s.floor.total() as f64 * lat_ms;
        let c = median_of(&s.component, |r| r.ms);
        let cpu = format!(
            "{} ({} + {})",
            duration(median_of(&s.component, |r| r.cpu_ms)),
            duration(median_of(&s.component, |r| r.plan_cpu_ms)),
            duration(median_of(&s.component, |r| r.cpu_ms - r.plan_cpu_ms))
        );
        let memory = format!(
            "{} / {}",
            mib(s.component.iter().map(|r| r.plan_memory).max().unwrap_or(0)),
            mib(s.component.iter().map(|r| r.apply_memory).max().unwrap_or(0))
        );
        writeln!(
            w,
            "| {} | {} ({} + {}) | {} | {} | {} | {} | {cpu} | {} | {memory} | {reps} |",
            thousands(*members as u64),
            thousands(s.floor.total() as u64),
            thousands(s.floor.reads as u64),
            thousands(s.floor.writes as u64),
            duration(floor_ms),
            requests_of(&s.component),
            duration(c),
            ratio(c, floor_ms),
            duration(median_of(&s.component, |r| r.standin_cpu_ms)),
        )?;
    }
    for (members, _, _, s) in &scales {
        if let Some((snapshot, json)) = s.volumes {
            writeln!(
                w,
                "\nAt {} members the snapshot handed to `plan` is {} of JSON, and the floor's reads bring about {} \
                 of JSON (GitBook's member objects; a team member carries the whole member).",
                thousands(*members as u64),
                mib(snapshot),
                mib(json)
            )?;
        }
    }
    writeln!(w, "\nThe same reconciliations with `@gitbook/api`, same run, same stand-in and latency:\n")?;
    writeln!(w, "| members | client | requests | wall | ÷ component | CPU: Node | CPU: stand-in | max RSS | runs |")?;
    writeln!(w, "|---|---|---|---|---|---|---|---|---|")?;
    for (members, _, node_reps, s) in &scales {
        let c = median_of(&s.component, |r| r.ms);
        if let Some(e) = &s.node_error {
            writeln!(w, "| {} | `@gitbook/api` | n/a ({e}) | | | | | | |", thousands(*members as u64))?;
            continue;
        }
        for (label, runs) in
            [("`@gitbook/api`, `limit: 1000`", &s.node_limit), ("`@gitbook/api`, README usage", &s.node_default)]
        {
            let n = median_of(runs, |r| r.ms);
            writeln!(
                w,
                "| {} | {label} | {} | {} | {} | {} | {} | {} | {node_reps} |",
                thousands(*members as u64),
                requests_of(runs),
                duration(n),
                ratio(n, c),
                duration(median_of(runs, |r| r.cpu_ms)),
                duration(median_of(runs, |r| r.standin_cpu_ms)),
                mib(runs.iter().map(|r| r.memory).max().unwrap_or(0)),
            )?;
        }
    }

    write_concurrency(w, &scales, &limited, lat_ms)?;

    // 4. Cold start.
    writeln!(w, "\n## 4. Cold start in a host\n")?;
    writeln!(w, "| step | time | |")?;
    writeln!(w, "|---|---|---|")?;
    writeln!(
        w,
        "| compile the component (`Component::new`, Cranelift, parallel) | {} | median of {} |",
        duration(cold.compile_ms),
        cold.compile_runs
    )?;
    writeln!(
        w,
        "| precompile to `.cwasm` (`Engine::precompile_component`) | {} | {} |",
        duration(cold.precompile_ms),
        kib(cold.cwasm_bytes)
    )?;
    writeln!(w, "| load the `.cwasm` (`Component::deserialize`) | {} | median of 50 |", duration(cold.deserialize_ms))?;
    writeln!(
        w,
        "| load the `.cwasm` file (`Component::deserialize_file`, mmap) | {} | median of 50 |",
        duration(cold.deserialize_file_ms)
    )?;
    writeln!(
        w,
        "| link WASI + `wasi:http` and pre-instantiate (`Linker::instantiate_pre`) | {} | median of 50 |",
        duration(cold.instantiate_pre_ms)
    )?;
    writeln!(
        w,
        "| instantiate: fresh store + `InstancePre::instantiate` (compiled) | {:.0} µs | median of {} |",
        cold.instantiate_us, cold.instantiate_runs
    )?;
    writeln!(
        w,
        "| instantiate: fresh store + `InstancePre::instantiate` (from `.cwasm`) | {:.0} µs | median of {} |",
        cold.instantiate_cwasm_us, cold.instantiate_runs
    )?;
    if let Ok(node) = &ctx.node {
        let standin = fresh_standin(10)?;
        let mut setups = Vec::new();
        for _ in 0..reps.max(5) {
            setups.push(node.run(&standin, "list", &json!({}), None, None)?.setup_ms);
        }
        writeln!(
            w,
            "| for comparison: Node.js process start to `@gitbook/api` client ready | {} | median of {} |",
            duration(median(&mut setups)),
            reps.max(5)
        )?;
    }

    // 4. Per event.
    writeln!(w, "\n### Host cost per webhook event\n")?;
    writeln!(
        w,
        "`Host::handle_http` (a fresh instance per request, as `wasmtime serve` does) with the stand-in in another \
         process (`host-test standin`, no added latency), so this process's CPU time (every thread, user + system, \
         `CLOCK_PROCESS_CPUTIME_ID`) is the host's and the guest's alone; nothing is subtracted, so the CPU spent \
         on the HTTP round trip is included.\n"
    )?;
    writeln!(w, "| request | GitBook requests | events | host CPU per event | wall per event |")?;
    writeln!(w, "|---|---|---|---|---|")?;
    for cost in &event_costs {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            cost.what,
            cost.gitbook_requests,
            cost.events,
            cost.cpu_ms.map_or("n/a".into(), duration),
            duration(cost.wall_ms)
        )?;
    }

    writeln!(w, "\n### Logging cost per webhook event\n")?;
    writeln!(
        w,
        "The one-invite event above, measured the same way at each logging setting (`GITBOOK_LOG`, \
         `GITBOOK_LOG_EMAILS`; see docs/operations.md). The guest's stderr is captured in memory by the host, \
         so writing the lines is included; shipping them is the log collector's cost. The four settings run \
         twice in turn and the second round is kept.\n"
    )?;
    writeln!(w, "| logging | lines per event | log bytes per event | events | host CPU per event | wall per event |")?;
    writeln!(w, "|---|---|---|---|---|---|")?;
    for cost in &logging_costs {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            cost.setting,
            cost.lines,
            cost.log_bytes,
            cost.events,
            cost.cpu_ms.map_or("n/a".into(), duration),
            duration(cost.wall_ms)
        )?;
    }

    // 5. Size.
    writeln!(w, "\n## 5. Size\n")?;
    let gz = size::gzipped(&wasm).map_or(String::new(), |g| format!(", {} gzipped", kib(g)));
    writeln!(
        w,
        "The release component (`cargo build --release --target wasm32-wasip2`): **{}** ({} bytes{gz}). Goal: ≤ 400 KiB.\n",
        kib(size),
        thousands(size)
    )?;
    if !variants.is_empty() {
        writeln!(
            w,
            "What each profile setting buys: the component rebuilt with one `CARGO_PROFILE_RELEASE_*` override each \
             (scratch target directory `target/bench-size/`).\n"
        )?;
        writeln!(w, "| profile | size | vs the workspace profile |")?;
        writeln!(w, "|---|---|---|")?;
        writeln!(
            w,
            "| the workspace profile (`opt-level = \"{opt_level}\"`, `lto = true`, `codegen-units = 1`, `strip = true`, `panic = \"abort\"`) | {} | |",
            kib(size)
        )?;
        for built in &variants {
            match &built.result {
                Ok((_, len)) => writeln!(
                    w,
                    "| {} | {} | {:+.1}% |",
                    built.variant.describe(),
                    kib(*len),
                    (*len as f64 / size as f64 - 1.0) * 100.0
                )?,
                Err(e) => {
                    writeln!(w, "| {} | could not build: {} | |", built.variant.describe(), e.replace('|', "\\|"))?
                }
            }
        }
    }
    if let Some((path, _)) = unstripped {
        match size::largest_module(path) {
            Ok(module) => write_contributors(w, size, &module, &variants)?,
            Err(e) => writeln!(w, "\nCould not read {}: {e:#}", path.display())?,
        }
    }

    if !release_rows.is_empty() {
        write_release(w, &release_rows, lat_ms, reps)?;
    }

    let out = std::env::var("BENCH_OUT").map(PathBuf::from).unwrap_or_else(|_| workspace.join("BENCHMARKS.md"));
    // The "Directory sources" section is written by its own bench
    // (`--bench sources`): keep it as it stands rather than drop it.
    let previous = std::fs::read_to_string(&out).unwrap_or_default();
    if let (Some(start), Some(end)) = (previous.find(SOURCES_BEGIN), previous.find(SOURCES_END)) {
        if start < end {
            md.push('\n');
            md.push_str(&previous[start..end + SOURCES_END.len()]);
        }
    }
    std::fs::write(&out, &md)?;
    println!("{md}");
    eprintln!("wrote {} in {} s", out.display(), started.elapsed().as_secs());
    Ok(())
}

/// The markers around the section `cargo bench --bench sources` writes.
const SOURCES_BEGIN: &str = "<!-- sources:begin -->";
const SOURCES_END: &str = "<!-- sources:end -->\n";

/// Section 6: the release candidates side by side.
fn write_release(w: &mut String, rows: &[release::Row], lat_ms: f64, reps: usize) -> Result<()> {
    writeln!(w, "\n## 6. Which build to release: size against cold start and throughput\n")?;
    writeln!(
        w,
        "The component built with `opt-level = \"s\"` and `\"z\"` (otherwise the workspace profile), each also shrunk \
         by `wasm-opt -Oz` (section 5's variants). **Compile**: `Component::new` (Cranelift, parallel), median of \
         {n}. **First call, fresh process**: `wasmtime run -S http … members list` against the stand-in (7 members, \
         one GitBook request, no added latency), process start to exit, median of {n}: without the compilation cache \
         (`-C cache=n`: every start compiles) and with a warm one (`-C cache=y`, the cache filled by one run before). \
         **Reconcile**: 10,000 members one request at a time at {lat} ms per request, host + guest CPU and wall, \
         median of {n}. **Per event**: host CPU per `POST /events` (one invite) through `Host::handle_http`, as in \
         section 4. ✓ marks the workspace profile, what `scripts/release.sh` builds.\n",
        n = reps,
        lat = lat_ms
    )?;
    writeln!(
        w,
        "| build | size | gzipped | compile | first call, no cache | first call, cached | reconcile CPU | reconcile wall | CPU per event |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|---|---|")?;
    let cell = |r: &std::result::Result<f64, String>| match r {
        Ok(v) => duration(*v),
        Err(e) => format!("not measured: {}", short(e, 80).replace('|', "\\|")),
    };
    for row in rows {
        writeln!(
            w,
            "| {}{} | {} ({} bytes) | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            if row.current { " ✓" } else { "" },
            kib(row.bytes),
            thousands(row.bytes),
            row.gzipped.map_or("".into(), kib),
            duration(row.compile_ms),
            cell(&row.cli_uncached_ms),
            cell(&row.cli_cached_ms),
            duration(row.reconcile_cpu_ms),
            duration(row.reconcile_wall_ms),
            row.event_cpu_ms.map_or("".into(), |v| format!("{v:.2} ms")),
        )?;
    }
    Ok(())
}

/// Section 3: the reconciliations at every concurrency, `@gitbook/api` with
/// `Promise.all`, and the rate-limited runs.
fn write_concurrency(
    w: &mut String,
    scales: &[(usize, usize, usize, Scale)],
    limited: &[Limited],
    lat_ms: f64,
) -> Result<()> {
    writeln!(w, "\n## 3. Concurrency ({lat_ms:.0} ms per request)\n")?;
    writeln!(
        w,
        "The reconciliations of section 2 with `settings.concurrency` at {SERIAL} (section 2's runs), {} ({GOAL_LEVEL} \
         is the default): the member walk (a chain of pages) runs beside the managed teams' member reads, and each \
         apply stage's requests run together, the stages still in order. The benchmark's host allows 16 requests in \
         flight per call, the reference host's default (`HostConfig::max_requests_in_flight`). Max in flight is the \
         most requests the stand-in was processing at once. Every run must make exactly the floor's requests: one \
         that does not fails the benchmark. Memory and CPU as in section 2.\n",
        LEVELS.map(|c| c.to_string()).join(", ")
    )?;
    writeln!(
        w,
        "| members | concurrency | requests | wall | ÷ (floor × latency) | CPU: host + guest (plan + apply) | CPU: stand-in | peak guest memory (plan / apply) | max in flight | runs |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|---|---|---|")?;
    for (members, _, _, s) in scales {
        let floor_ms = s.floor.total() as f64 * lat_ms;
        for (concurrency, runs) in s.by_concurrency() {
            let c = median_of(runs, |r| r.ms);
            writeln!(
                w,
                "| {} | {concurrency} | {} | {} | {} | {} ({} + {}) | {} | {} / {} | {} | {} |",
                thousands(*members as u64),
                requests_of(runs),
                duration(c),
                ratio(c, floor_ms).trim_end_matches('×'),
                duration(median_of(runs, |r| r.cpu_ms)),
                duration(median_of(runs, |r| r.plan_cpu_ms)),
                duration(median_of(runs, |r| r.cpu_ms - r.plan_cpu_ms)),
                duration(median_of(runs, |r| r.standin_cpu_ms)),
                mib(runs.iter().map(|r| r.plan_memory).max().unwrap_or(0)),
                mib(runs.iter().map(|r| r.apply_memory).max().unwrap_or(0)),
                runs.iter().map(|r| r.max_in_flight).max().unwrap_or(0),
                runs.len()
            )?;
        }
    }
    writeln!(
        w,
        "\nBeside it, `@gitbook/api` with `limit: 1000`, as in section 2 (each call awaited) and as a careful user \
         would write it with `Promise.all` (`BATCH={NODE_BATCH}` in [`benches/node/sync.mjs`](benches/node/sync.mjs)): \
         the member walk beside the team list and then the mapped teams' member reads, {NODE_BATCH} at a time; then \
         each write stage (invites, team updates, role changes, removals, in that order) {NODE_BATCH} requests at a \
         time. Same run, same stand-in and latency; the last column compares with the component at concurrency \
         {GOAL_LEVEL}.\n"
    )?;
    writeln!(
        w,
        "| members | client | requests | wall | ÷ (floor × latency) | CPU: Node | max RSS | max in flight | runs | ÷ component at concurrency {GOAL_LEVEL} |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|---|---|---|")?;
    for (members, _, _, s) in scales {
        let floor_ms = s.floor.total() as f64 * lat_ms;
        if let Some(e) = &s.node_error {
            writeln!(w, "| {} | `@gitbook/api` | n/a ({e}) | | | | | | | |", thousands(*members as u64))?;
            continue;
        }
        let component = median_of(s.at(GOAL_LEVEL).unwrap_or_default(), |r| r.ms);
        for (label, runs) in [
            ("`@gitbook/api`, `limit: 1000`, each call awaited".to_owned(), &s.node_limit),
            (format!("`@gitbook/api`, `limit: 1000`, `Promise.all` in batches of {NODE_BATCH}"), &s.node_batched),
        ] {
            let n = median_of(runs, |r| r.ms);
            writeln!(
                w,
                "| {} | {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
                thousands(*members as u64),
                requests_of(runs),
                duration(n),
                ratio(n, floor_ms).trim_end_matches('×'),
                duration(median_of(runs, |r| r.cpu_ms)),
                mib(runs.iter().map(|r| r.memory).max().unwrap_or(0)),
                runs.iter().map(|r| r.max_in_flight).max().unwrap_or(0),
                runs.len(),
                ratio(n, component),
            )?;
        }
    }

    if limited.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "\n### Against an enforced rate limit ({} members, concurrency {GOAL_LEVEL})\n",
        thousands(MEMBERS as u64)
    )?;
    let floor = limited[0].floor.total();
    writeln!(
        w,
        "The stand-in allows {RATE_LIMIT} requests per {RATE_WINDOW_SECS} s window (fixed windows aligned to the \
         clock) and answers 429 with `X-RateLimit-Reset` past it, as GitBook documents; either it also sends \
         `X-RateLimit-Limit`, `-Remaining` and `-Reset` on every answer, or only on the 429 (whether GitBook sends \
         them on every answer is not documented). The floor, {floor} requests, spans at least {} windows: more than \
         {} s wherever in a window the run starts. Plan and apply are separate calls (a fresh instance each), so apply starts \
         without what plan learnt of the window. Requests counted at the stand-in include the refused ones; \
         \"answered\" are the rest, which must be exactly the floor (nothing sent twice but the refused).\n",
        floor.div_ceil(RATE_LIMIT as usize),
        (floor.div_ceil(RATE_LIMIT as usize) as u64).saturating_sub(2) * RATE_WINDOW_SECS
    )?;
    writeln!(
        w,
        "| the server sends | requests | refused (429) | extra ÷ floor | answered | max in flight | wall | runs |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|---|")?;
    for l in limited {
        let refused: Vec<usize> = l.runs.iter().map(|r| r.rate_limited).collect();
        let answered: Vec<usize> = l.runs.iter().map(|r| r.reads + r.writes - r.rate_limited).collect();
        writeln!(
            w,
            "| {} | {} | {} | {:.1}% | {} ({}) | {} | {} | {} |",
            if l.headers_on_every_answer {
                "`X-RateLimit-*` on every answer"
            } else {
                "only the 429 (with `X-RateLimit-Reset`)"
            },
            requests_of(&l.runs),
            spread(&refused),
            l.max_extra() as f64 * 100.0 / l.floor.total() as f64,
            spread(&answered),
            if l.answered_at_floor() { "the floor" } else { "**not the floor**" },
            l.runs.iter().map(|r| r.max_in_flight).max().unwrap_or(0),
            duration(median_of(&l.runs, |r| r.ms)),
            l.runs.len()
        )?;
    }
    if let Some(l) = limited.iter().find(|l| !l.headers_on_every_answer) {
        writeln!(
            w,
            "\nWith only the 429, the component learns of the limit only by exceeding it: the requests that reach a \
             spent window are refused ({} in all, {:.1}% of the floor, with at most {GOAL_LEVEL} in flight), a 429 \
             pauses every new request until its `X-RateLimit-Reset`, and the refused requests are retried after it \
             within their retry bounds. The job still completes, in {}.",
            spread(&l.runs.iter().map(|r| r.rate_limited).collect::<Vec<_>>()),
            l.max_extra() as f64 * 100.0 / l.floor.total() as f64,
            duration(median_of(&l.runs, |r| r.ms))
        )?;
    }
    Ok(())
}

/// A count that every run shares, or its min–max.
fn spread(values: &[usize]) -> String {
    match (values.iter().min(), values.iter().max()) {
        (Some(a), Some(b)) if a == b => thousands(*a as u64),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "n/a".into(),
    }
}

fn write_contributors(w: &mut String, size: u64, module: &size::ModuleSizes, variants: &[size::Built]) -> Result<()> {
    let section = |name: &str| module.custom.iter().filter(|(n, _)| n == name).map(|(_, l)| *l as u64).sum::<u64>();
    let debug: u64 = module.custom.iter().filter(|(n, _)| n.starts_with(".debug")).map(|(_, l)| *l as u64).sum();
    writeln!(w, "\n### What takes the space\n")?;
    writeln!(
        w,
        "From the unstripped build (`strip = false`, otherwise the workspace profile): its main core module holds \
         **code {}** in {} functions and data (string constants, tables) {}; the rest of that build is the `name` \
         section ({}) and the standard library's debug info ({}), both stripped in release. So nearly all of the \
         {} release file is code.\n",
        kib(module.code as u64),
        thousands(module.functions.len() as u64),
        kib(module.data as u64),
        kib(section("name")),
        kib(debug),
        kib(size)
    )?;
    let mut by_origin: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (name, len) in &module.functions {
        let entry = by_origin.entry(size::origin(name)).or_default();
        entry.0 += len;
        entry.1 += 1;
    }
    let mut origins: Vec<(String, (usize, usize))> = by_origin.into_iter().collect();
    origins.sort_by_key(|(_, (bytes, _))| std::cmp::Reverse(*bytes));
    writeln!(
        w,
        "Code by origin: the crate of each function (from the `name` section; generic code counts for the crate \
         that defines it, e.g. `alloc` for `Vec<T>` of our types), the component's own crate by module:\n"
    )?;
    writeln!(w, "| origin | code | share of code | functions |")?;
    writeln!(w, "|---|---|---|---|")?;
    for (origin, (bytes, n)) in origins.iter().take(20) {
        let origin = if origin.contains(' ') { origin.clone() } else { format!("`{origin}`") };
        writeln!(
            w,
            "| {origin} | {} | {:.1}% | {n} |",
            kib(*bytes as u64),
            *bytes as f64 * 100.0 / module.code.max(1) as f64
        )?;
    }
    let mut functions: Vec<&(String, usize)> = module.functions.iter().collect();
    functions.sort_by_key(|(_, len)| std::cmp::Reverse(*len));
    writeln!(w, "\nThe largest functions:\n")?;
    writeln!(w, "| function | size |")?;
    writeln!(w, "|---|---|")?;
    for (name, len) in functions.iter().take(15) {
        writeln!(w, "| `{}` | {} |", short(&size::display_name(name), 110).replace('|', "\\|"), kib(*len as u64))?;
    }

    // Facts behind the suggestions.
    let sum_where = |f: &dyn Fn(&str) -> bool| -> (usize, usize) {
        module
            .functions
            .iter()
            .map(|(n, l)| (size::display_name(n), *l))
            .filter(|(n, _)| f(n))
            .fold((0, 0), |(bytes, count), (_, l)| (bytes + l, count + 1))
    };
    let (float_bytes, float_n) = sum_where(&|n| size::is_float_code(n));
    let (de_bytes, de_n) = sum_where(&|n| n.contains("serde") && n.contains("deserialize"));
    let (json_bytes, _) = sum_where(&|n| n.starts_with("serde_json") || n.contains("serde_json::"));
    let (exec_bytes, exec_n) = sum_where(&|n| n.contains("Client<I>::execute"));
    let (glue_bytes, glue_n) = sum_where(&|n| size::origin(n).starts_with("WIT export glue"));
    let (cli_bytes, _) = sum_where(&|n| size::origin(n) == "gitbook_directory_sync::cli");
    let variant_size = |name: &str| {
        variants.iter().find(|b| b.variant.name == name).and_then(|b| b.result.as_ref().ok()).map(|(_, l)| *l)
    };
    writeln!(w, "\n### Where the 400 KiB could come from\n")?;
    let saving =
        |len: Option<u64>| len.map_or("n/a".into(), |l| format!("{} (saves {})", kib(l), kib(size.saturating_sub(l))));
    writeln!(
        w,
        "- **Tooling, no code change**: `opt-level = \"z\"` gives {}; binaryen's `wasm-opt -Oz` on the core module \
         gives {}; both together {}. These are measured above, and not enough on their own.",
        saving(variant_size("opt-z")),
        saving(variant_size("wasm-opt")),
        saving(variant_size("opt-z-wasm-opt"))
    )?;
    writeln!(
        w,
        "- **Float formatting and parsing** ({} in {float_n} functions: `core::num::flt2dec` Grisu/Dragon, \
         `dec2flt`, serde_json's `zmij`): pulled in by `f64` values (`max-removal-percent`, JSON numbers read or \
         written as floats). Keeping percentages as integers (e.g. tenths of a percent) and never formatting or \
         parsing an `f64` drops most of it.",
        kib(float_bytes as u64)
    )?;
    writeln!(
        w,
        "- **Monomorphized deserialization**: serde's `deserialize` code is {} in {de_n} functions (serde_json \
         itself {} in all): each `#[derive(Deserialize)]` struct gets its own copy of the parser's struct and map \
         loops. Fewer derived shapes (one member shape for every answer that carries members, only the fields the \
         component uses) keep fewer copies; a hand-written reader like the crate's `json_fields` trades a little \
         speed for size.",
        kib(de_bytes as u64),
        kib(json_bytes as u64)
    )?;
    writeln!(
        w,
        "- **One copy of each operation per export**: the {glue_n} WIT export functions are {} because each inlines \
         its operation, and `Client<I>::execute` exists {exec_n} times ({}). A non-generic `execute` (the response \
         parser passed as a `fn` pointer or `&dyn`) and `#[inline(never)]` on the per-operation bodies would share \
         the request, retry and error paths.",
        kib(glue_bytes as u64),
        kib(exec_bytes as u64)
    )?;
    writeln!(
        w,
        "- **The command line** (`gitbook_directory_sync::cli`) is {}: the price of `wasi:cli/run` in the same \
         artifact; it would only go by building the CLI as a second component.",
        kib(cli_bytes as u64)
    )?;
    Ok(())
}

fn short(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max - 1;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}
