//! A PostgreSQL database of each test's own.
//!
//! PostgreSQL is the server at `$DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates
//! `signet_test_<random>` there and drops it when it ends, whether it passed or not.

use sqlx::Connection as _;

/// A PostgreSQL database made for one test, dropped with it.
pub struct PgDb {
    /// The server's URL with its default database, for administration.
    pub admin_url: String,
    /// The database's name.
    pub name: String,
    /// The URL of the test's database.
    pub url: String,
}

impl PgDb {
    /// Creates `signet_test_<random>` on the server at `$DATABASE_URL`.
    pub async fn create() -> PgDb {
        let admin = admin_url();
        let name = format!("signet_test_{}", signet_verifier::store::new_id());
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL for the tests ($DATABASE_URL or 127.0.0.1:5432)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .expect("create test database");
        c.close().await.expect("close admin connection");
        PgDb {
            url: with_database(&admin, &name),
            admin_url: admin,
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        // Drop runs outside async (and maybe while unwinding): use a thread with its
        // own runtime. WITH (FORCE) ends the test's connections still open.
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        let done = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .map_err(|e| e.to_string())?;
                c.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(e)) | Err(e) = done.map_err(|_| "panicked".to_string()) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `url` with its database (the path) replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
