//! Cold start and per-event cost in a host: compiling the component,
//! loading a precompiled `.cwasm`, pre-instantiating, instantiating, and the
//! host's CPU time per webhook event through `Host::handle_http`.

use super::metered::{linker, MeteredHost};
use super::{median, ms};
use anyhow::{bail, Context, Result};
use host_test::wasmtime::component::Component;
use host_test::wasmtime::Engine;
use host_test::{Host, HostConfig};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ColdStart {
    pub compile_ms: f64,
    pub precompile_ms: f64,
    pub cwasm_bytes: u64,
    pub deserialize_ms: f64,
    pub deserialize_file_ms: f64,
    pub instantiate_pre_ms: f64,
    /// A fresh store and `InstancePre::instantiate`, from a compiled and
    /// from a deserialized component.
    pub instantiate_us: f64,
    pub instantiate_cwasm_us: f64,
    pub compile_runs: usize,
    pub instantiate_runs: usize,
}

fn time<R>(f: impl FnOnce() -> Result<R>) -> Result<(Duration, R)> {
    let start = Instant::now();
    let r = f()?;
    Ok((start.elapsed(), r))
}

pub fn measure(engine: &Engine, wasm: &Path, scratch: &Path, compile_runs: usize) -> Result<ColdStart> {
    let bytes = std::fs::read(wasm)?;
    let mut compiles = Vec::new();
    let mut component = None;
    for _ in 0..compile_runs {
        let (t, c) = time(|| Ok(Component::new(engine, &bytes)?))?;
        compiles.push(ms(t));
        component = Some(c);
    }
    let component = component.context("at least one compile run")?;

    let mut precompiles = Vec::new();
    let mut cwasm = Vec::new();
    for _ in 0..compile_runs {
        let (t, c) = time(|| Ok(engine.precompile_component(&bytes)?))?;
        precompiles.push(ms(t));
        cwasm = c;
    }
    let cwasm_path = scratch.join("gitbook_directory_sync.cwasm");
    std::fs::write(&cwasm_path, &cwasm)?;

    let runs = 50;
    let (mut loads, mut file_loads, mut pres) = (Vec::new(), Vec::new(), Vec::new());
    let mut loaded = None;
    for _ in 0..runs {
        // SAFETY: the bytes were produced just above by this engine's precompile_component.
        let (t, c) = time(|| Ok(unsafe { Component::deserialize(engine, &cwasm)? }))?;
        loads.push(ms(t));
        // SAFETY: the file was written just above from the same bytes.
        let (t, c2) = time(|| Ok(unsafe { Component::deserialize_file(engine, &cwasm_path)? }))?;
        file_loads.push(ms(t));
        drop(c2);
        let (t, _) = time(|| Ok(linker(engine)?.instantiate_pre(&c)?))?;
        pres.push(ms(t));
        loaded = Some(c);
    }
    let loaded = loaded.context("at least one load")?;

    let instantiate_runs = 500;
    let per_instance = |component: &Component| -> Result<f64> {
        let host = MeteredHost::new(engine, component, "127.0.0.1:9")?;
        let mut times = Vec::new();
        for _ in 0..instantiate_runs {
            let (t, _) = time(|| {
                let mut store = host.store();
                host.instantiate(&mut store)?;
                Ok(())
            })?;
            times.push(t.as_secs_f64() * 1e6);
        }
        Ok(median(&mut times))
    };
    Ok(ColdStart {
        compile_ms: median(&mut compiles),
        precompile_ms: median(&mut precompiles),
        cwasm_bytes: cwasm.len() as u64,
        deserialize_ms: median(&mut loads),
        deserialize_file_ms: median(&mut file_loads),
        instantiate_pre_ms: median(&mut pres),
        instantiate_us: per_instance(&component)?,
        instantiate_cwasm_us: per_instance(&loaded)?,
        compile_runs,
        instantiate_runs,
    })
}

/// Process CPU time (every thread of this process, user and system).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn process_cpu() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (two 64-bit fields on 64-bit Linux) to `ts`.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn process_cpu() -> Option<Duration> {
    None
}

/// CPU time of this process's threads whose name starts with `prefix`
/// (from `/proc/self/task`, in clock ticks of 10 ms); only threads alive now
/// count.
pub fn threads_cpu(prefix: &str) -> Option<Duration> {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        // After the name: state, ppid, … utime is the 14th field, stime the 15th.
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(11) + field(12);
    }
    Some(Duration::from_millis(ticks * 10))
}

/// A stand-in in its own process (`host-test standin`), so that this
/// process's CPU time is the host's and the guest's only.
struct StandInProcess {
    child: Child,
    url: String,
}

impl StandInProcess {
    fn start(members: usize, teams: usize) -> Result<StandInProcess> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_host-test"))
            .args(["standin", "--port", "0", "--members", &members.to_string(), "--teams", &teams.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .context("starting host-test standin")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        let url = line.trim().to_owned();
        if !url.starts_with("http://") {
            let _ = child.kill();
            bail!("host-test standin printed {url:?}");
        }
        Ok(StandInProcess { child, url })
    }
}

impl Drop for StandInProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A host serving the webhook against `standin`, with `env` added to the
/// settings; the guest's stderr is captured in memory, as a host that
/// forwards it to a log collector would read it.
fn webhook_host(
    engine: &Engine,
    component: &Component,
    standin: &StandInProcess,
    env: &[(&str, &str)],
) -> Result<Host> {
    let mut config = HostConfig::allowing(standin.url.trim_start_matches("http://"));
    config.env = [
        ("GITBOOK_TOKEN", super::scenarios::TOKEN),
        ("GITBOOK_ORG", super::scenarios::ORG),
        ("GITBOOK_API_URL", standin.url.as_str()),
        ("GITBOOK_ALLOW_INSECURE_HTTP", "1"),
        ("WEBHOOK_SECRET", SECRET),
    ]
    .iter()
    .chain(env)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Host::from_component(engine.clone(), component.clone(), config)
}

/// Host cost of one webhook event at one logging setting.
pub struct LogCost {
    pub setting: &'static str,
    /// Log lines the event wrote (stderr lines).
    pub lines: usize,
    pub log_bytes: usize,
    pub events: usize,
    pub cpu_ms: Option<f64>,
    pub wall_ms: f64,
}

/// The same one-invite webhook event as [`event_costs`] with logging off,
/// at the default (`info`: a request line and an audit line), with emails
/// hashed, and at `debug` (a line per GitBook request too).
pub fn logging_costs(engine: &Engine, component: &Component, events: usize) -> Result<Vec<LogCost>> {
    let standin = StandInProcess::start(1000, 10)?;
    let headers = [("authorization", SECRET), ("content-type", "application/json")];
    let settings: [(&str, &[(&str, &str)]); 4] = [
        ("`GITBOOK_LOG=off`", &[("GITBOOK_LOG", "off")]),
        ("`info` (the default)", &[]),
        ("`info`, `GITBOOK_LOG_EMAILS=hash`", &[("GITBOOK_LOG_EMAILS", "hash")]),
        ("`debug`", &[("GITBOOK_LOG", "debug")]),
    ];
    let mut costs = Vec::new();
    let mut offset = 0;
    // Twice round, keeping the second: the first warms caches for all four.
    for round in 0..2 {
        for (setting, env) in settings {
            let host = webhook_host(engine, component, &standin, env)?;
            let join = |n: usize| -> Result<String> {
                let event =
                    json!({"id": format!("l{n}"), "type": "user.joined", "email": format!("log-{n:06}@example.test")});
                let (reply, output) = host.handle_http("POST", "/events", &headers, event.to_string().into_bytes())?;
                if reply.status != 200 || reply.json()["applied"] != 1 {
                    bail!("POST /events answered {}: {}", reply.status, String::from_utf8_lossy(&reply.body));
                }
                Ok(output.stderr)
            };
            for n in 0..10 {
                join(offset + n)?; // warm-up
            }
            offset += 10;
            let (mut lines, mut log_bytes) = (0, 0);
            let (cpu0, wall0) = (process_cpu(), Instant::now());
            for n in 0..events {
                let stderr = join(offset + n)?;
                lines += stderr.lines().count();
                log_bytes += stderr.len();
            }
            let (cpu1, wall) = (process_cpu(), wall0.elapsed());
            offset += events;
            if round == 1 {
                let cpu_ms = cpu0.zip(cpu1).map(|(a, b)| ms(b - a) / events as f64);
                let (lines, log_bytes) = (lines / events, log_bytes / events);
                costs.push(LogCost { setting, lines, log_bytes, events, cpu_ms, wall_ms: ms(wall) / events as f64 });
            }
        }
    }
    Ok(costs)
}

/// Host cost of one webhook request.
pub struct EventCost {
    pub what: &'static str,
    pub gitbook_requests: usize,
    pub events: usize,
    pub cpu_ms: Option<f64>,
    pub wall_ms: f64,
}

const SECRET: &str = "whsec_bench";

/// Sends `events` webhook requests through `Host::handle_http` (a fresh
/// instance each, as `wasmtime serve` does) and divides the process's CPU
/// time and the wall time by their number.
pub fn event_costs(engine: &Engine, component: &Component, events: usize) -> Result<Vec<EventCost>> {
    let standin = StandInProcess::start(1000, 10)?;
    let host = webhook_host(engine, component, &standin, &[])?;
    let headers = [("authorization", SECRET), ("content-type", "application/json")];

    let health = |_: usize| -> Result<()> {
        let (reply, _) = host.handle_http("GET", "/healthz", &[], Vec::new())?;
        if reply.status != 200 {
            bail!("GET /healthz answered {}", reply.status);
        }
        Ok(())
    };
    let join = |n: usize| -> Result<()> {
        let event = json!({"id": format!("e{n}"), "type": "user.joined", "email": format!("hook-{n:06}@example.test")});
        let (reply, _) = host.handle_http("POST", "/events", &headers, event.to_string().into_bytes())?;
        if reply.status != 200 || reply.json()["applied"] != 1 {
            bail!("POST /events answered {}: {}", reply.status, String::from_utf8_lossy(&reply.body));
        }
        Ok(())
    };
    let mut costs = Vec::new();
    let mut offset = 0;
    for (what, gitbook_requests, send) in [
        ("`GET /healthz` (no GitBook call)", 0, &health as &dyn Fn(usize) -> Result<()>),
        ("`POST /events`, one generic `user.joined` (one invite)", 1, &join),
    ] {
        for n in 0..10 {
            send(offset + n)?; // warm-up
        }
        offset += 10;
        let (cpu0, wall0) = (process_cpu(), Instant::now());
        for n in 0..events {
            send(offset + n)?;
        }
        let (cpu1, wall) = (process_cpu(), wall0.elapsed());
        offset += events;
        let cpu_ms = cpu0.zip(cpu1).map(|(a, b)| ms(b - a) / events as f64);
        costs.push(EventCost { what, gitbook_requests, events, cpu_ms, wall_ms: ms(wall) / events as f64 });
    }
    Ok(costs)
}
