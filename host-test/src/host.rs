//! The reference embedding: how a Rust workflow engine runs the component.
//!
//! - compile once, pre-instantiate once ([`Host::new`]);
//! - one fresh store per call, so no state leaks between calls;
//! - WASI and `wasi:http` linked, with an outbound allow-list: the guest
//!   reaches only the hosts the embedder names, whatever URL it is given;
//! - request timeouts capped by the host, a memory cap per instance, and a
//!   deadline per call that the host, not the guest, has the last word on
//!   ([`DeadlineExceeded`]).

use crate::bindings::exports::gitbook::directory_sync::client::Guest as ClientExports;
use crate::bindings::exports::gitbook::directory_sync::events::Guest as EventsExports;
use crate::bindings::exports::gitbook::directory_sync::reconcile::Guest as ReconcileExports;
use crate::bindings::{DirectorySync, DirectorySyncPre};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::sync::ProxyPre;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

mod incoming;
pub use incoming::HttpReply;

mod outbound;
pub use outbound::OutboundPolicy;

mod deadline;
use deadline::CallDeadline;
pub use deadline::DeadlineExceeded;

/// The component built by `host-test/build.rs` for this checkout.
pub fn component_path() -> PathBuf {
    PathBuf::from(env!("GITBOOK_DIRECTORY_SYNC_WASM"))
}

/// An engine configured as [`Host`] needs it (epoch interruption on), to
/// share one compiled component between several hosts.
pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Ok(Engine::new(&config)?)
}

/// How the host sandboxes each call.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// `host:port` authorities the guest may send requests to.
    pub allowed_authorities: Vec<String>,
    /// Environment variables the guest sees (e.g. `GITBOOK_TOKEN`).
    pub env: Vec<(String, String)>,
    /// Memory cap per instance.
    pub max_memory_bytes: usize,
    /// Wall-clock budget per call. Once it has passed the call ends in
    /// [`DeadlineExceeded`], whatever the guest does next: guest code is
    /// interrupted at the next epoch tick, every request's timeouts are cut
    /// to what is left of it (so a silent server cannot hold the guest in
    /// host I/O), and a call that returns after it, with any result, is
    /// reported as exceeded.
    pub call_deadline: Duration,
    /// The longest timeouts a guest may ask for; longer ones are cut to these.
    pub max_request_timeout: Duration,
    /// Pass the guest's stdout/stderr through (the demo) or capture them
    /// (tests inspect them).
    pub inherit_stdio: bool,
    /// Outgoing requests in flight at once per call, whatever concurrency
    /// the guest asks for: host policy beats guest wish. A request holds its
    /// place until its response body is done with.
    pub max_requests_in_flight: usize,
}

impl HostConfig {
    /// A sandbox that may reach only `authority` (e.g. `api.gitbook.com:443`).
    pub fn allowing(authority: impl Into<String>) -> HostConfig {
        HostConfig {
            allowed_authorities: vec![authority.into()],
            env: Vec::new(),
            max_memory_bytes: 256 << 20,
            call_deadline: Duration::from_secs(600),
            max_request_timeout: Duration::from_secs(60),
            inherit_stdio: false,
            max_requests_in_flight: 16,
        }
    }
}

/// The per-call store state.
pub struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: OutboundPolicy,
    limits: StoreLimits,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}

/// What the guest printed during one call, and what it took from the network.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// Response-body bytes handed to the guest over all of the call's
    /// requests: what it read, plus at most one buffered frame (a few hundred
    /// KiB at most with hyper's read buffer).
    pub response_body_bytes: u64,
}

impl Output {
    /// What the captured pipes hold (nothing when stdio was inherited) and
    /// what the call's outbound policy counted.
    pub(crate) fn of_call(store: &Store<State>, pipes: Option<(MemoryOutputPipe, MemoryOutputPipe)>) -> Output {
        let (stdout, stderr) = pipes
            .map(|(stdout, stderr)| {
                (
                    String::from_utf8_lossy(&stdout.contents()).into_owned(),
                    String::from_utf8_lossy(&stderr.contents()).into_owned(),
                )
            })
            .unwrap_or_default();
        Output { stdout, stderr, response_body_bytes: store.data().outbound.response_body_bytes() }
    }
}

/// A compiled, pre-instantiated component, ready for many calls.
pub struct Host {
    engine: Engine,
    pre: DirectorySyncPre<State>,
    proxy: ProxyPre<State>,
    config: HostConfig,
    ticker_stop: Arc<AtomicBool>,
}

/// Epoch ticks per second: how often running guest code checks the clock
/// against the call's deadline.
const TICKS_PER_SECOND: u64 = 100;

impl Host {
    /// Compiles the component at `wasm` and links WASI and `wasi:http`.
    pub fn new(wasm: &Path, config: HostConfig) -> Result<Host> {
        let engine = new_engine()?;
        let component = Component::from_file(&engine, wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading the component {}", wasm.display()))?;
        Host::from_component(engine, component, config)
    }

    /// Like [`Host::new`] with an already compiled component (for example
    /// one deserialized from a precompiled `.cwasm`).
    pub fn from_component(engine: Engine, component: Component, config: HostConfig) -> Result<Host> {
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        let instance_pre = linker.instantiate_pre(&component)?;
        let pre = DirectorySyncPre::new(instance_pre.clone())?;
        let proxy = ProxyPre::new(instance_pre)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking_engine, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1000 / TICKS_PER_SECOND));
                ticking_engine.increment_epoch();
            }
        });
        Ok(Host { engine, pre, proxy, config, ticker_stop })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// A fresh store for one call starting now, and the call's deadline.
    pub(crate) fn store(&self) -> (Store<State>, Option<(MemoryOutputPipe, MemoryOutputPipe)>, CallDeadline) {
        let deadline = CallDeadline::starting_now(self.config.call_deadline);
        let mut wasi = WasiCtx::builder();
        wasi.envs(&self.config.env);
        let pipes = if self.config.inherit_stdio {
            wasi.inherit_stdout().inherit_stderr();
            None
        } else {
            let (stdout, stderr) = (MemoryOutputPipe::new(1 << 20), MemoryOutputPipe::new(1 << 20));
            wasi.stdout(stdout.clone()).stderr(stderr.clone());
            Some((stdout, stderr))
        };
        let state = State {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundPolicy::new(self.config.allowed_authorities.clone(), self.config.max_request_timeout)
                .until(deadline.instant())
                .in_flight_at_most(self.config.max_requests_in_flight),
            limits: StoreLimitsBuilder::new().memory_size(self.config.max_memory_bytes).instances(4).build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        // Ticks only say "look at the clock": a ticker thread that oversleeps
        // under load must not stretch the deadline, so the clock decides.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| match deadline.exceeded() {
            Some(exceeded) => Err(exceeded.into()),
            None => Ok(UpdateDeadline::Continue(1)),
        });
        (store, pipes, deadline)
    }

    /// Runs `f` against a fresh instance and returns its result with what
    /// the guest printed.
    pub fn call<R>(
        &self,
        f: impl FnOnce(&mut Store<State>, &ClientExports) -> wasmtime::Result<R>,
    ) -> Result<(R, Output)> {
        self.call_instance(|store, instance| f(store, instance.gitbook_directory_sync_client()))
    }

    /// Runs `f` against the `reconcile` interface of a fresh instance.
    pub fn call_reconcile<R>(
        &self,
        f: impl FnOnce(&mut Store<State>, &ReconcileExports) -> wasmtime::Result<R>,
    ) -> Result<(R, Output)> {
        self.call_instance(|store, instance| f(store, instance.gitbook_directory_sync_reconcile()))
    }

    /// Runs `f` against the `events` interface of a fresh instance.
    pub fn call_events<R>(
        &self,
        f: impl FnOnce(&mut Store<State>, &EventsExports) -> wasmtime::Result<R>,
    ) -> Result<(R, Output)> {
        self.call_instance(|store, instance| f(store, instance.gitbook_directory_sync_events()))
    }

    fn call_instance<R>(
        &self,
        f: impl FnOnce(&mut Store<State>, &DirectorySync) -> wasmtime::Result<R>,
    ) -> Result<(R, Output)> {
        let (mut store, pipes, deadline) = self.store();
        let instance: DirectorySync = self.pre.instantiate(&mut store)?;
        let result = deadline.decide(f(&mut store, &instance))?;
        Ok((result, Output::of_call(&store, pipes)))
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
