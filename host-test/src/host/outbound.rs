//! The outbound allow-list: the guest may reach only the authorities the
//! embedder configured, so a hostile `next.page`, a redirect or a wrong base
//! URL cannot carry the token elsewhere. Timeouts the guest asks for are
//! capped by the host.

use http_body_util::BodyExt;
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

pub struct OutboundPolicy {
    allowed: Vec<String>,
    max_timeout: Duration,
}

impl OutboundPolicy {
    pub fn new(allowed: Vec<String>, max_timeout: Duration) -> OutboundPolicy {
        let allowed = allowed.into_iter().map(|a| a.to_ascii_lowercase()).collect();
        OutboundPolicy { allowed, max_timeout }
    }

    /// `host:port` of a request, with the scheme's default port filled in.
    fn authority_of(request: &http::Request<WasiBody>) -> Option<String> {
        let uri = request.uri();
        let authority = uri.authority()?;
        let port = authority.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
        Some(format!("{}:{port}", authority.host().to_ascii_lowercase()))
    }

    pub fn allows(&self, authority: &str) -> bool {
        self.allowed.iter().any(|allowed| allowed == authority)
    }

    fn cap(&self, options: Option<RequestOptions>) -> RequestOptions {
        let cap = |d: Option<Duration>| Some(d.map_or(self.max_timeout, |d| d.min(self.max_timeout)));
        let options = options.unwrap_or_default();
        RequestOptions {
            connect_timeout: cap(options.connect_timeout),
            first_byte_timeout: cap(options.first_byte_timeout),
            between_bytes_timeout: cap(options.between_bytes_timeout),
        }
    }
}

type ResponseFuture = Box<
    dyn std::future::Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), Error>> + Send>),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        _ = fut;
        let allowed = Self::authority_of(&request).is_some_and(|a| self.allows(&a));
        let options = self.cap(options);
        Box::new(async move {
            if !allowed {
                return Err(Error::HttpRequestDenied);
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}
