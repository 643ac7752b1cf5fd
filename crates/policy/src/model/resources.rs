use serde::Serialize;

/// `match` or `exclude` of a rule. The legacy form (`match.resources` without `any`/`all`)
/// is read as `all` with one filter, which is how Kyverno evaluates it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MatchResources {
    /// The request matches when any of these filters match.
    pub any: Vec<ResourceDescription>,
    /// The request matches when all of these filters match.
    pub all: Vec<ResourceDescription>,
}

/// The `resources` block of a filter.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescription {
    /// `kinds`: `Kind`, `Version/Kind`, `Group/Version/Kind`, wildcards, `Kind/subresource`.
    pub kinds: Vec<String>,
    /// `names` (and the deprecated `name`), wildcards allowed.
    pub names: Vec<String>,
    /// `namespaces`, wildcards allowed.
    pub namespaces: Vec<String>,
    /// `annotations` the resource must carry, wildcards allowed in values.
    pub annotations: Vec<(String, String)>,
    /// `selector` over the resource's labels.
    pub selector: Option<LabelSelector>,
    /// `namespaceSelector` over the labels of the request's namespace.
    pub namespace_selector: Option<LabelSelector>,
    /// `operations`; empty means any.
    pub operations: Vec<Operation>,
}

/// Admission operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// CREATE
    Create,
    /// UPDATE
    Update,
    /// DELETE
    Delete,
    /// CONNECT
    Connect,
}

impl Operation {
    /// Parses the API server's spelling (`CREATE`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CREATE" => Operation::Create,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            _ => return None,
        })
    }

    /// The API server's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`; Kyverno allows `*` and `?` wildcards in keys and values.
    pub match_labels: Vec<(String, String)>,
    /// `matchExpressions`.
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub operator: SelectorOperator,
    /// Values (empty for Exists/DoesNotExist).
    pub values: Vec<String>,
}

/// Label selector operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SelectorOperator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}
