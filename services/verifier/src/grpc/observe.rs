//! One layer around every gRPC call: the call counted by method and status code. Review
//! is the hot path: the per-call cost is one atomic add.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tonic::codegen::http::{HeaderMap, Request, Response};
use tonic::codegen::Service;
use tower_layer::Layer;

use crate::metrics::{GrpcMethod, GrpcRequests};

const REVIEW_PATH: &str = "/signet.v1.Verifier/Review";
const VERIFY_IMAGE_PATH: &str = "/signet.v1.Verifier/VerifyImage";

/// Wraps the server's routes in [`Observe`].
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    calls: Arc<GrpcRequests>,
}

impl ObserveLayer {
    /// Counts calls into `calls`.
    pub fn new(calls: Arc<GrpcRequests>) -> Self {
        ObserveLayer { calls }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            calls: self.calls.clone(),
        }
    }
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    calls: Arc<GrpcRequests>,
}

impl<S, B, R> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ObservedCall<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = match request.uri().path() {
            REVIEW_PATH => GrpcMethod::Review,
            VERIFY_IMAGE_PATH => GrpcMethod::VerifyImage,
            _ => GrpcMethod::Other,
        };
        ObservedCall {
            inner: self.inner.call(request),
            count: Count {
                calls: self.calls.clone(),
                method,
                counted: false,
            },
        }
    }
}

pin_project! {
    /// A call in flight; counted once it ends or is dropped.
    #[derive(Debug)]
    pub struct ObservedCall<F> {
        #[pin]
        inner: F,
        count: Count,
    }
}

impl<F, R, E> Future for ObservedCall<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        Poll::Ready(match ready!(this.inner.poll(cx)) {
            Ok(response) => {
                this.count.finish(code_of(response.headers()));
                Ok(response)
            }
            Err(e) => {
                this.count.finish(tonic::Code::Unknown);
                Err(e)
            }
        })
    }
}

/// Counts a call exactly once: with its code when it ends, or as CANCELLED when it is
/// dropped first (its deadline passed, or the caller went away), which is what the
/// caller is told.
#[derive(Debug)]
struct Count {
    calls: Arc<GrpcRequests>,
    method: GrpcMethod,
    counted: bool,
}

impl Count {
    fn finish(&mut self, code: tonic::Code) {
        if !self.counted {
            self.counted = true;
            self.calls.record(self.method, code);
        }
    }
}

impl Drop for Count {
    fn drop(&mut self) {
        self.finish(tonic::Code::Cancelled);
    }
}

/// A failed unary call is answered trailers-only, its `grpc-status` in the headers; a
/// successful one carries no status there (OK follows in the trailers).
fn code_of(headers: &HeaderMap) -> tonic::Code {
    headers
        .get("grpc-status")
        .map_or(tonic::Code::Ok, |v| tonic::Code::from_bytes(v.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;
    use crate::metrics::Metrics;

    /// A service that answers `status` (`None`: OK).
    fn answering(
        status: Option<tonic::Status>,
    ) -> impl Service<
        Request<()>,
        Response = Response<()>,
        Error = Infallible,
        Future = std::future::Ready<Result<Response<()>, Infallible>>,
    > + Clone {
        tower::service_fn(move |_: Request<()>| {
            std::future::ready(Ok(match status.clone() {
                None => Response::new(()),
                Some(s) => s.into_http::<()>().map(|_| ()),
            }))
        })
    }

    fn call_to(path: &str) -> Request<()> {
        Request::builder().uri(path).body(()).expect("request")
    }

    #[test]
    fn the_paths_are_the_generated_services() {
        use signet_proto::v1::verifier_server::VerifierServer;
        use tonic::server::NamedService;
        let name = <VerifierServer<crate::grpc::GrpcVerifier> as NamedService>::NAME;
        assert_eq!(REVIEW_PATH, format!("/{name}/Review"));
        assert_eq!(VERIFY_IMAGE_PATH, format!("/{name}/VerifyImage"));
    }

    #[tokio::test]
    async fn calls_are_counted_by_method_and_code_and_dropped_ones_as_cancelled() {
        let metrics = Metrics::default();
        let layer = ObserveLayer::new(metrics.grpc_requests());
        let mut ok = layer.layer(answering(None));
        let mut denied = layer.layer(answering(Some(tonic::Status::permission_denied("no"))));
        ok.call(call_to(REVIEW_PATH)).await.expect("ok");
        ok.call(call_to(VERIFY_IMAGE_PATH)).await.expect("ok");
        denied
            .call(call_to(VERIFY_IMAGE_PATH))
            .await
            .expect("infallible");
        ok.call(call_to("/signet.v1.Verifier/Nope"))
            .await
            .expect("ok");
        let mut never =
            ObserveLayer::new(metrics.grpc_requests()).layer(tower::service_fn(|_: Request<()>| {
                std::future::pending::<Result<Response<()>, Infallible>>()
            }));
        let abandoned = never.call(call_to(REVIEW_PATH));
        drop(abandoned);

        let text = metrics.render();
        for line in [
            "{method=\"Review\",code=\"Ok\"} 1\n",
            "{method=\"VerifyImage\",code=\"Ok\"} 1\n",
            "{method=\"VerifyImage\",code=\"PermissionDenied\"} 1\n",
            "{method=\"other\",code=\"Ok\"} 1\n",
            "{method=\"Review\",code=\"Cancelled\"} 1\n",
        ] {
            let line = format!("signet_grpc_requests_total{line}");
            assert!(text.contains(&line), "{line:?} missing from\n{text}");
        }
    }
}
