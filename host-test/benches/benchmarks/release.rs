//! Section 6: which build to release. The component built with
//! `opt-level = "s"` and `"z"`, each also shrunk by binaryen's `wasm-opt`
//! (the size variants of `size.rs`), side by side on what a user of the
//! release pays: size, compile time, the first call in a fresh `wasmtime`
//! process with and without its compilation cache, and the throughput
//! figures of sections 2 and 4 (one request at a time, so the component's own
//! CPU shows).

use super::coldstart;
use super::size::{self, Built};
use super::{component_reconcile, median, ms, Ctx, Reconcile, MEMBERS, SERIAL};
use anyhow::{bail, Context, Result};
use host_test::standin::{Org, StandIn};
use host_test::wasmtime::component::Component;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub struct Candidate {
    pub label: String,
    /// Whether this is what the workspace profile builds (the release).
    pub current: bool,
    pub path: PathBuf,
}

pub struct Row {
    pub label: String,
    pub current: bool,
    pub bytes: u64,
    pub gzipped: Option<u64>,
    pub compile_ms: f64,
    /// A fresh `wasmtime run … members list` process, start to exit:
    /// compiling every time (`-C cache=n`), and with a warm cache.
    pub cli_uncached_ms: Result<f64, String>,
    pub cli_cached_ms: Result<f64, String>,
    /// Reconcile 10,000 members one request at a time: host + guest CPU
    /// and wall time.
    pub reconcile_cpu_ms: f64,
    pub reconcile_wall_ms: f64,
    /// Host CPU per `POST /events` (one invite) through `Host::handle_http`.
    pub event_cpu_ms: Option<f64>,
}

/// The workspace profile's `opt-level` (`"s"` or `"z"`), from Cargo.toml.
pub fn profile_opt_level(workspace: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml"))?;
    let release = manifest.split("[profile.release]").nth(1).context("Cargo.toml has no [profile.release]")?;
    let line = release.lines().find(|l| l.trim_start().starts_with("opt-level")).context("no opt-level")?;
    Ok(line.split('=').nth(1).context("opt-level = …")?.trim().trim_matches('"').to_owned())
}

/// The four candidates: the workspace build and the size variants with the
/// other opt-level and with `wasm-opt`, whichever opt-level the workspace
/// profile has.
pub fn candidates(workspace_wasm: &Path, opt_level: &str, variants: &[Built]) -> Vec<Candidate> {
    let variant = |name: &str| {
        variants.iter().find(|b| b.variant.name == name).and_then(|b| b.result.as_ref().ok()).map(|(p, _)| p.clone())
    };
    let mut out = Vec::new();
    for level in ["s", "z"] {
        let current = level == opt_level;
        let plain = if current { Some(workspace_wasm.to_owned()) } else { variant(&format!("opt-{level}")) };
        let shrunk = if current { variant("wasm-opt") } else { variant(&format!("opt-{level}-wasm-opt")) };
        if let Some(path) = plain {
            out.push(Candidate { label: format!("`opt-level = \"{level}\"`"), current, path });
        }
        if let Some(path) = shrunk {
            out.push(Candidate { label: format!("`opt-level = \"{level}\"` + `wasm-opt -Oz`"), current: false, path });
        }
    }
    out
}

pub fn measure(ctx: &Ctx, candidates: &[Candidate], reps: usize) -> Result<Vec<Row>> {
    let wasmtime = wasmtime_cli();
    let mut rows = Vec::new();
    for candidate in candidates {
        eprintln!("release candidate {}", candidate.label);
        let bytes = std::fs::read(&candidate.path)?;
        let mut compiles = Vec::new();
        let mut component = None;
        for _ in 0..reps {
            let start = Instant::now();
            component = Some(Component::new(&ctx.engine, &bytes).map_err(|e| anyhow::anyhow!("{e:#}"))?);
            compiles.push(ms(start.elapsed()));
        }
        let component = component.context("at least one compile")?;

        let cache_dir = ctx.scratch.join("release-cache").join(candidate.path.file_stem().unwrap_or_default());
        let (cli_uncached_ms, cli_cached_ms) = match &wasmtime {
            Ok(cli) => (
                first_call(cli, &candidate.path, None, reps).map_err(|e| format!("{e:#}")),
                first_call(cli, &candidate.path, Some(&cache_dir), reps).map_err(|e| format!("{e:#}")),
            ),
            Err(e) => (Err(e.clone()), Err(e.clone())),
        };

        let variant_ctx = Ctx {
            engine: ctx.engine.clone(),
            component: component.clone(),
            latency: ctx.latency,
            node: Err(anyhow::anyhow!("not used")),
            scratch: ctx.scratch.clone(),
        };
        let (mut cpu, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let how = Reconcile { members: MEMBERS, concurrency: SERIAL, rate_limit: None, check: false };
            let (run, _, _) = component_reconcile(&variant_ctx, how)?;
            cpu.push(run.cpu_ms);
            wall.push(run.ms);
        }
        let events = coldstart::event_costs(&ctx.engine, &component, 200)?;
        let event_cpu_ms = events.iter().find(|e| e.gitbook_requests == 1).and_then(|e| e.cpu_ms);

        rows.push(Row {
            label: candidate.label.clone(),
            current: candidate.current,
            bytes: bytes.len() as u64,
            gzipped: size::gzipped(&candidate.path),
            compile_ms: median(&mut compiles),
            cli_uncached_ms,
            cli_cached_ms,
            reconcile_cpu_ms: median(&mut cpu),
            reconcile_wall_ms: median(&mut wall),
            event_cpu_ms,
        });
    }
    Ok(rows)
}

/// The `wasmtime` CLI the tests use: $WASMTIME, else PATH, else cargo's bin.
fn wasmtime_cli() -> Result<PathBuf, String> {
    let candidates = [
        std::env::var_os("WASMTIME").map(PathBuf::from),
        Some(PathBuf::from("wasmtime")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/wasmtime")),
    ];
    for cli in candidates.into_iter().flatten() {
        if Command::new(&cli).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Ok(cli);
        }
    }
    Err("the wasmtime CLI is not installed".into())
}

/// The median wall time of `reps` fresh `wasmtime run -S http … members list`
/// processes against a stand-in (the sample organization, no added
/// latency): process start, compile or cache load, instantiate, one GitBook
/// request, print, exit. With `cache`, the cache directory is warmed by one
/// untimed run first; without, `-C cache=n` compiles every time.
fn first_call(cli: &Path, wasm: &Path, cache: Option<&Path>, reps: usize) -> Result<f64> {
    // The sample organization: acme, token gb_test_token.
    let standin = StandIn::start(Org::sample())?;
    let mut args: Vec<String> = vec!["run".into(), "-S".into(), "http".into()];
    match cache {
        None => args.extend(["-C".into(), "cache=n".into()]),
        Some(dir) => {
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir)?;
            let config = dir.join("cache.toml");
            std::fs::write(&config, format!("[cache]\ndirectory = {:?}\n", dir.join("store").display().to_string()))?;
            args.extend(["-C".into(), "cache=y".into(), "-C".into(), format!("cache-config={}", config.display())]);
        }
    }
    for (name, value) in [
        ("GITBOOK_TOKEN", "gb_test_token".to_owned()),
        ("GITBOOK_ORG", "acme".to_owned()),
        ("GITBOOK_API_URL", standin.base_url()),
        ("GITBOOK_ALLOW_INSECURE_HTTP", "1".to_owned()),
    ] {
        args.extend(["--env".into(), format!("{name}={value}")]);
    }
    args.push(wasm.display().to_string());
    args.extend(["members".into(), "list".into()]);
    let run = || -> Result<f64> {
        let start = Instant::now();
        let out = Command::new(cli).args(&args).stdin(Stdio::null()).output()?;
        let elapsed = ms(start.elapsed());
        if !out.status.success() || !String::from_utf8_lossy(&out.stdout).contains("alice@acme.test") {
            bail!("wasmtime run failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(elapsed)
    };
    if cache.is_some() {
        run()?; // fills the cache
    }
    let mut times = Vec::new();
    for _ in 0..reps {
        times.push(run()?);
    }
    Ok(median(&mut times))
}
