//! One layer around every gRPC call: its request id (the caller's `x-request-id`, or a new
//! UUID), a tracing span carrying it, the id returned in the response metadata, and the
//! call counted by method and status code. One layer and one future, because Review is
//! the hot path: the per-call cost is a span, one header value and one atomic add.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tonic::codegen::http::header::HeaderName;
use tonic::codegen::http::{HeaderMap, HeaderValue, Request, Response};
use tonic::codegen::Service;
use tower_layer::Layer;
use tracing::Span;

use crate::metrics::{GrpcMethod, GrpcRequests};

/// The request id's metadata key, as on REST.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
        let id = match request.headers().get(&REQUEST_ID) {
            Some(given) => given.clone(),
            None => new_request_id(),
        };
        let span = tracing::info_span!(
            "grpc",
            method = method.as_str(),
            request_id = id.to_str().unwrap_or("")
        );
        let inner = span.in_scope(|| self.inner.call(request));
        ObservedCall {
            inner,
            span,
            id: Some(id),
            count: Count {
                calls: self.calls.clone(),
                method,
                counted: false,
            },
        }
    }
}

pin_project! {
    /// A call in flight under its span; counted once it ends or is dropped.
    #[derive(Debug)]
    pub struct ObservedCall<F> {
        #[pin]
        inner: F,
        span: Span,
        id: Option<HeaderValue>,
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
        let ended = {
            let _entered = this.span.enter();
            ready!(this.inner.poll(cx))
        };
        Poll::Ready(match ended {
            Ok(mut response) => {
                this.count.finish(code_of(response.headers()));
                if let Some(id) = this.id.take() {
                    response.headers_mut().insert(REQUEST_ID, id);
                }
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

/// A random (version 4) UUID, as REST makes them, formatted on the stack.
fn new_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut text);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Mutex;

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id};
    use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};

    use super::*;
    use crate::metrics::Metrics;

    /// Records every `request_id` field of new spans, and the spans events were logged in.
    #[derive(Default, Clone)]
    struct Spans {
        ids: Arc<Mutex<Vec<(u64, String)>>>,
        events_in: Arc<Mutex<Vec<u64>>>,
    }

    struct RequestId<'a>(&'a mut Option<String>);

    impl Visit for RequestId<'_> {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "request_id" {
                *self.0 = Some(value.to_owned());
            }
        }
        fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: LayerContext<'_, S>) {
            let mut found = None;
            attrs.record(&mut RequestId(&mut found));
            if let (Some(found), Ok(mut ids)) = (found, self.ids.lock()) {
                ids.push((id.into_u64(), found));
            }
        }
        fn on_event(&self, _: &tracing::Event<'_>, cx: LayerContext<'_, S>) {
            if let (Some(span), Ok(mut events)) = (cx.current_span().id(), self.events_in.lock()) {
                events.push(span.into_u64());
            }
        }
    }

    /// A service that logs one event and answers `status` (`None`: OK).
    fn answering(
        status: Option<tonic::Status>,
    ) -> impl Service<
        Request<()>,
        Response = Response<()>,
        Error = Infallible,
        Future = std::future::Ready<Result<Response<()>, Infallible>>,
    > + Clone {
        tower::service_fn(move |_: Request<()>| {
            tracing::info!("handling");
            std::future::ready(Ok(match status.clone() {
                None => Response::new(()),
                Some(s) => s.into_http::<()>().map(|_| ()),
            }))
        })
    }

    fn call_to(path: &str, id: Option<&'static str>) -> Request<()> {
        let mut request = Request::builder().uri(path);
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.body(()).expect("request")
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
    async fn the_id_is_echoed_or_made_and_put_on_the_span() {
        let spans = Spans::default();
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
        let metrics = Metrics::default();
        let mut svc = ObserveLayer::new(metrics.grpc_requests()).layer(answering(None));

        let given = svc
            .call(call_to(REVIEW_PATH, Some("caller-chosen-7")))
            .await
            .expect("infallible");
        assert_eq!(given.headers()[&REQUEST_ID], "caller-chosen-7");
        let made = svc
            .call(call_to(REVIEW_PATH, None))
            .await
            .expect("infallible");
        let made = made.headers()[&REQUEST_ID]
            .to_str()
            .expect("ascii")
            .to_owned();
        let parsed = uuid::Uuid::parse_str(&made).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4);

        let ids = spans.ids.lock().expect("ids").clone();
        let names: Vec<&str> = ids.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(names, ["caller-chosen-7", made.as_str()]);
        // The handler's events are logged inside the call's span.
        let events = spans.events_in.lock().expect("events").clone();
        assert_eq!(events, [ids[0].0, ids[1].0]);
    }

    #[tokio::test]
    async fn calls_are_counted_by_method_and_code_and_dropped_ones_as_cancelled() {
        let metrics = Metrics::default();
        let layer = ObserveLayer::new(metrics.grpc_requests());
        let mut ok = layer.layer(answering(None));
        let mut denied = layer.layer(answering(Some(tonic::Status::permission_denied("no"))));
        ok.call(call_to(REVIEW_PATH, None)).await.expect("ok");
        ok.call(call_to(VERIFY_IMAGE_PATH, None)).await.expect("ok");
        let response = denied
            .call(call_to(VERIFY_IMAGE_PATH, None))
            .await
            .expect("infallible");
        assert!(
            response.headers().contains_key(&REQUEST_ID),
            "an error carries the id too"
        );
        ok.call(call_to("/signet.v1.Verifier/Nope", None))
            .await
            .expect("ok");
        let mut never =
            ObserveLayer::new(metrics.grpc_requests()).layer(tower::service_fn(|_: Request<()>| {
                std::future::pending::<Result<Response<()>, Infallible>>()
            }));
        let abandoned = never.call(call_to(REVIEW_PATH, None));
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
