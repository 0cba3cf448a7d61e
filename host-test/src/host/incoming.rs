//! Calling the component's `wasi:http/incoming-handler` from the host, as a
//! proxy or workflow engine would for each webhook request.

use super::{Host, Output};
use anyhow::{anyhow, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::WasiHttpView;

/// The component's answer to one request.
#[derive(Clone, Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the reply is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Host {
    /// Sends one HTTP request to the component's incoming handler in a fresh
    /// instance.
    pub fn handle_http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(HttpReply, Output)> {
        let mut builder = http::Request::builder().method(method).uri(format!("http://localhost{path}"));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(
            Full::new(Bytes::from(body)).map_err(|never: Infallible| -> wasmtime_wasi_http::Error { match never {} }),
        )?;

        let (mut store, pipes, deadline) = self.store();
        let proxy = self.proxy.instantiate(&mut store)?;
        let incoming = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().http().new_response_outparam(sender)?;

        // The guest's body writes wait for a reader: read concurrently.
        let reader = std::thread::spawn(move || -> Result<HttpReply> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let response = receiver.await.map_err(|_| anyhow!("the component set no response"))?;
                let response = response.map_err(|code| anyhow!("the component answered with an error: {code:?}"))?;
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                    .collect();
                let body = response.into_body().collect().await.map_err(|e| anyhow!("reading the reply: {e:?}"))?;
                Ok(HttpReply { status, headers, body: body.to_bytes().to_vec() })
            })
        });
        let called = proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam);
        let reply = reader.join().map_err(|_| anyhow!("the reply reader panicked"))?;
        // A handler past its deadline ends as exceeded even if it had replied.
        deadline.decide(called)?;
        Ok((reply?, Output::of_call(&store, pipes)))
    }
}
