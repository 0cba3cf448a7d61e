//! A host like `host_test::Host` (same engine configuration, WASI and
//! `wasi:http` linked, the same outbound allow-list and cap on requests in
//! flight, one store per call)
//! whose stores record the largest linear memory the guest asked for, with a
//! `wasmtime::ResourceLimiter`. Linear memory never shrinks, so that is the
//! guest's peak.

use anyhow::Result;
use host_test::bindings::exports::gitbook::directory_sync::client::Guest as Client;
use host_test::bindings::exports::gitbook::directory_sync::reconcile::Guest as Reconcile;
use host_test::bindings::{DirectorySync, DirectorySyncPre};
use host_test::host::{HostConfig, OutboundPolicy};
use host_test::wasmtime;
use std::time::Duration;
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Records the largest memory requested; refuses growth past `cap`.
pub struct PeakMemory {
    pub peak: usize,
    cap: usize,
}

impl ResourceLimiter for PeakMemory {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.peak = self.peak.max(desired);
        Ok(desired <= self.cap)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

pub struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: OutboundPolicy,
    pub memory: PeakMemory,
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

/// Links WASI and `wasi:http` as the reference host does.
pub fn linker(engine: &Engine) -> Result<Linker<State>> {
    let mut linker = Linker::<State>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
    Ok(linker)
}

pub struct MeteredHost {
    engine: Engine,
    pre: DirectorySyncPre<State>,
    allowed: String,
}

impl MeteredHost {
    /// `allowed` is the one `host:port` the guest may reach.
    pub fn new(engine: &Engine, component: &Component, allowed: &str) -> Result<MeteredHost> {
        let pre: InstancePre<State> = linker(engine)?.instantiate_pre(component)?;
        Ok(MeteredHost { engine: engine.clone(), pre: DirectorySyncPre::new(pre)?, allowed: allowed.to_owned() })
    }

    /// A fresh store, as the reference host makes one per call (no epoch
    /// ticker here, so the deadline is never reached), with the reference
    /// host's default cap on requests in flight.
    pub fn store(&self) -> Store<State> {
        let state = State {
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundPolicy::new(vec![self.allowed.clone()], Duration::from_secs(60))
                .in_flight_at_most(HostConfig::allowing(&self.allowed).max_requests_in_flight),
            memory: PeakMemory { peak: 0, cap: 1 << 32 },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        store.set_epoch_deadline(1 << 40);
        store
    }

    pub fn instantiate(&self, store: &mut Store<State>) -> Result<DirectorySync> {
        Ok(self.pre.instantiate(store)?)
    }

    /// Runs `f` on the `client` interface of a fresh instance; returns its
    /// result and the guest's peak memory in bytes.
    pub fn client<R>(&self, f: impl FnOnce(&mut Store<State>, &Client) -> wasmtime::Result<R>) -> Result<(R, usize)> {
        let mut store = self.store();
        let instance = self.instantiate(&mut store)?;
        let result = f(&mut store, instance.gitbook_directory_sync_client())?;
        Ok((result, store.data().memory.peak))
    }

    /// Runs `f` on the `reconcile` interface of a fresh instance.
    pub fn reconcile<R>(
        &self,
        f: impl FnOnce(&mut Store<State>, &Reconcile) -> wasmtime::Result<R>,
    ) -> Result<(R, usize)> {
        let mut store = self.store();
        let instance = self.instantiate(&mut store)?;
        let result = f(&mut store, instance.gitbook_directory_sync_reconcile())?;
        Ok((result, store.data().memory.peak))
    }
}
