//! # signet-verifier
//!
//! The central service: stores policies, keys, trust roots, clusters, tokens and
//! decisions; answers REST (with OpenAPI) and gRPC `Review` / `VerifyImage` calls.
//! Handlers are thin: they extract, call [`service::Service`], and map the result through
//! the one error table in [`error`].

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod grpc;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod service;
pub mod store;
