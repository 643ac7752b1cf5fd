//! The one error type of the store.
//!
//! Messages name the resource and the kind of failure, never a value that was
//! written (a credential's ciphertext, a token, the database URL's password).

use sqlx::error::ErrorKind;

/// Everything a store call can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached: connection refused or lost, pool closed or
    /// exhausted, database shut down. The caller should fail the request (and `/readyz`).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The write clashes with what is stored (a cluster or token that already exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The named thing does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller passed something the store refuses (bad cursor, unknown role, bad JSON).
    #[error("invalid: {0}")]
    Invalid(String),
    /// Anything else: a bug, a schema mismatch, an unexpected database error.
    #[error("store error: {0}")]
    Internal(String),
}

/// SQLSTATE classes and codes that mean "the server or the connection is gone",
/// as opposed to "this statement is wrong".
fn is_unavailable_code(code: &str) -> bool {
    // 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now;
    // 53: insufficient resources; 3D000: database does not exist (dropped under us);
    // SQLite BUSY/LOCKED/IOERR/CANTOPEN (5/6/10/14) and their extended codes.
    if code.starts_with("08") || code.starts_with("57P") || code.starts_with("53") {
        return true;
    }
    if code == "3D000" {
        return true;
    }
    // SQLite result codes are short decimal numbers; SQLSTATEs always have five characters.
    if code.len() > 4 {
        return false;
    }
    match code.parse::<i64>() {
        Ok(n) => matches!(n & 0xff, 5 | 6 | 10 | 14),
        Err(_) => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(e) => StoreError::Unavailable(format!("database i/o: {e}")),
            sqlx::Error::Tls(e) => StoreError::Unavailable(format!("database tls: {e}")),
            sqlx::Error::Protocol(m) => StoreError::Unavailable(format!("database protocol: {m}")),
            sqlx::Error::PoolTimedOut => {
                StoreError::Unavailable("timed out waiting for a database connection".into())
            }
            sqlx::Error::PoolClosed => StoreError::Unavailable("the store is closed".into()),
            sqlx::Error::WorkerCrashed => {
                StoreError::Unavailable("the database worker stopped".into())
            }
            sqlx::Error::BeginFailed => {
                StoreError::Unavailable("could not begin a transaction".into())
            }
            sqlx::Error::Configuration(e) => {
                StoreError::Invalid(format!("database configuration: {e}"))
            }
            sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                match db.kind() {
                    ErrorKind::UniqueViolation => {
                        StoreError::Conflict(format!("already exists ({})", db.message()))
                    }
                    ErrorKind::ForeignKeyViolation => {
                        StoreError::Conflict(format!("reference violated ({})", db.message()))
                    }
                    ErrorKind::NotNullViolation | ErrorKind::CheckViolation => {
                        StoreError::Invalid(db.message().to_string())
                    }
                    _ if is_unavailable_code(&code) => {
                        StoreError::Unavailable(format!("database: {} ({code})", db.message()))
                    }
                    _ => StoreError::Internal(format!("database: {} ({code})", db.message())),
                }
            }
            sqlx::Error::Migrate(e) => StoreError::from(*e),
            other => StoreError::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(e) => StoreError::from(e),
            sqlx::migrate::MigrateError::ExecuteMigration(e, version) => {
                match StoreError::from(e) {
                    StoreError::Unavailable(m) => StoreError::Unavailable(m),
                    other => StoreError::Internal(format!("migration {version}: {other}")),
                }
            }
            // A database migrated by a newer build, or edited migrations: refuse to run
            // rather than guess at the schema.
            other => StoreError::Internal(format!("migrations: {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_codes_are_unavailable() {
        assert!(is_unavailable_code("08006"));
        assert!(is_unavailable_code("57P01"));
        assert!(is_unavailable_code("3D000"));
        assert!(is_unavailable_code("5"));
        assert!(is_unavailable_code("517"));
        assert!(!is_unavailable_code("23505"));
        assert!(!is_unavailable_code("42P01"));
        assert!(!is_unavailable_code("19"));
    }
}
