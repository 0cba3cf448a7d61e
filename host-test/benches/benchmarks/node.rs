//! The official client's side: `benches/node/sync.mjs` (the same jobs with
//! `@gitbook/api`) run by Node.js against the benchmark's stand-in.

use anyhow::{bail, Context, Result};
use host_test::standin::StandIn;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The script's warm-up request goes here (a 404); counts leave it out.
pub const WARMUP_PATH: &str = "/warmup";

pub struct Node {
    dir: PathBuf,
    pub version: String,
    pub client_version: String,
}

/// One run of a job, as the script measured it.
pub struct NodeRun {
    /// Wall time of the job itself (client already constructed, one
    /// warm-up request to [`WARMUP_PATH`] made before).
    pub ms: f64,
    /// Node's CPU time during the job.
    pub cpu_ms: f64,
    /// From process start to the client being ready.
    pub setup_ms: f64,
    pub max_rss_kb: u64,
    pub result: Value,
}

impl Node {
    /// Node.js with the script's dependencies installed (`npm ci` the first
    /// time), or why not.
    pub fn find(workspace: &Path) -> Result<Node> {
        let dir = workspace.join("benches/node");
        let version = output(Command::new("node").arg("--version")).context("Node.js is not installed")?;
        let package = dir.join("node_modules/@gitbook/api/package.json");
        if !package.exists() || !dir.join("node_modules/binaryen/package.json").exists() {
            eprintln!("installing @gitbook/api in {} (npm ci)", dir.display());
            let status = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).status()?;
            if !status.success() {
                bail!("npm ci failed in {}", dir.display());
            }
        }
        let manifest: Value = serde_json::from_str(&std::fs::read_to_string(&package)?)?;
        let client_version = manifest["version"].as_str().unwrap_or("?").to_owned();
        Ok(Node { dir, version, client_version })
    }

    /// Runs `job` with `args` against `standin`; `limit` is the page size
    /// passed to list calls (`None`: the API's default, as the README's
    /// usage gets); `batch` sends `reconcile`'s independent requests that
    /// many at a time with `Promise.all` (`None`: each call awaited).
    pub fn run(
        &self,
        standin: &StandIn,
        job: &str,
        args: &Value,
        limit: Option<usize>,
        batch: Option<usize>,
    ) -> Result<NodeRun> {
        let mut command = Command::new("node");
        command
            .arg("sync.mjs")
            .arg(job)
            .arg(args.to_string())
            .current_dir(&self.dir)
            .env("GITBOOK_API_URL", standin.base_url())
            .env("GITBOOK_TOKEN", super::scenarios::TOKEN)
            .env("GITBOOK_ORG", super::scenarios::ORG)
            .env("WARMUP_URL", format!("{}{WARMUP_PATH}", standin.base_url()))
            .env_remove("PAGE_LIMIT")
            .env_remove("BATCH");
        if let Some(limit) = limit {
            command.env("PAGE_LIMIT", limit.to_string());
        }
        if let Some(batch) = batch {
            command.env("BATCH", batch.to_string());
        }
        let line = output(&mut command).with_context(|| format!("node sync.mjs {job}"))?;
        let report: Value = serde_json::from_str(&line).with_context(|| format!("node printed {line:?}"))?;
        Ok(NodeRun {
            ms: report["ms"].as_f64().context("ms")?,
            cpu_ms: report["cpuMs"].as_f64().context("cpuMs")?,
            setup_ms: report["setupMs"].as_f64().context("setupMs")?,
            max_rss_kb: report["maxRssKb"].as_u64().unwrap_or(0),
            result: report["result"].clone(),
        })
    }
}

/// The last line a command printed on stdout, or its stderr as the error.
fn output(command: &mut Command) -> Result<String> {
    let out = command.output()?;
    if !out.status.success() {
        bail!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(stdout.lines().last().unwrap_or_default().trim().to_owned())
}
