//! Database roles made for one test: a unique name, a password, the grants the test gives,
//! dropped at its end. Roles need a superuser: the local stack's own admin path (its Unix
//! socket, where it trusts `postgres`), or `TWEETPIPE_TEST_ADMIN_URL` elsewhere.

use std::path::PathBuf;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::TestContext;

/// A login role of one test, and the test database's URL as that role.
pub struct Role {
    pub name: String,
    pub url: String,
    database: String,
}

/// A superuser connection to `database`.
async fn superuser(database: &str) -> anyhow::Result<PgPool> {
    let options = match std::env::var("TWEETPIPE_TEST_ADMIN_URL") {
        Ok(url) => url.parse::<PgConnectOptions>()?.database(database),
        Err(_) => {
            let stack = std::env::var_os("TWEETPIPE_STACK_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.stack"));
            let port: u16 = crate::fixture::endpoints().database_url.parse::<PgConnectOptions>()?.get_port();
            PgConnectOptions::new()
                .socket(stack.join("postgres/run"))
                .port(port)
                .username("postgres")
                .database(database)
        }
    };
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .context("a superuser connection (the stack's socket, or TWEETPIPE_TEST_ADMIN_URL)")
}

impl Role {
    /// Creates a login role named after `tag` and runs `grants` in the test's database as a
    /// superuser, `{role}` standing for the role's name.
    pub async fn create(ctx: &TestContext, tag: &str, grants: &[&str]) -> anyhow::Result<Self> {
        let name = format!("r_{tag}_{}", ctx.database.trim_start_matches("tp_"));
        let name: String = name.chars().take(63).collect();
        let password = format!("pw-{}", std::process::id());
        let admin = superuser("postgres").await?;
        sqlx::query(&format!("CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")).execute(&admin).await?;
        admin.close().await;
        let db = superuser(&ctx.database).await?;
        for grant in grants {
            sqlx::query(&grant.replace("{role}", &format!("\"{name}\""))).execute(&db).await?;
        }
        db.close().await;
        let (_, host) = ctx.database_url.rsplit_once('@').context("a URL with credentials")?;
        let url = format!("postgres://{name}:{password}@{host}");
        Ok(Self { name, url, database: ctx.database.clone() })
    }

    /// Drops the role, after what it owns and was granted in the test's database.
    pub async fn drop(self) {
        if let Ok(db) = superuser(&self.database).await {
            let _ = sqlx::query(&format!("DROP OWNED BY \"{}\"", self.name)).execute(&db).await;
            db.close().await;
        }
        if let Ok(admin) = superuser("postgres").await {
            let _ = sqlx::query(&format!("DROP ROLE IF EXISTS \"{}\"", self.name)).execute(&admin).await;
            admin.close().await;
        }
    }
}
