//! The process's log: tracing's `fmt` output, filtered by `RUST_LOG`.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// What is logged when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,signet_verifier=info";

/// Installs the global subscriber, writing to `writer` (standard output in the binary).
/// The benches install it too, writing nowhere, so that what each call's span costs a
/// deployed verifier is in their figures.
pub fn init<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into()),
        )
        .with_writer(writer)
        .init();
}
