//! # signet-proto
//!
//! The gRPC contract between `signet-relay`, pipelines and `signet-verifier`, generated
//! from `proto/signet/v1/verifier.proto`: prost messages, a tonic client
//! ([`v1::verifier_client::VerifierClient`]) and server
//! ([`v1::verifier_server::VerifierServer`]).
//!
//! The crate depends on tonic and prost only, so that the relay stays small.

/// `signet.v1`: the `Verifier` service (`Review`, `VerifyImage`) and its messages.
// Generated code documents only what the .proto comments; some fields have none.
#[allow(missing_docs)]
pub mod v1 {
    tonic::include_proto!("signet.v1");
}
