//! The OpenAPI document, generated from the handlers' annotations. `openapi/openapi.json`
//! is this document committed; a test fails when they differ.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{clusters, keys, ops, policies, reports};

/// The API description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Signet verifier", description = "Central container-image verification for Kubernetes fleets: Kyverno verifyImages policies, cosign signatures and attestations, reports."),
    paths(
        policies::apply, policies::lint, policies::list, policies::get, policies::delete,
        keys::put, keys::list, keys::get, keys::delete,
        keys::put_root, keys::list_roots, keys::get_root, keys::delete_root,
        keys::put_credential, keys::list_credentials, keys::delete_credential,
        clusters::register, clusters::list, clusters::get, clusters::set_labels, clusters::delete, clusters::policies,
        clusters::issue_token, clusters::list_tokens, clusters::revoke_token,
        reports::list, reports::summary, reports::policy_reports, reports::verify,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as committed: pretty JSON with a trailing newline.
pub fn document() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
