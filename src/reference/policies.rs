//! The default recognition and entitlement rules (`config/recognitions.toml`,
//! `config/entitlements.toml`), published as version 1 into a new database.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::domain::recognition::{EntitlementRule, RecognitionRule};
use crate::models::policy::{self, Kind};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct File<T> {
    effective_from: NaiveDate,
    rules: Vec<T>,
}

async fn load_one<T>(conn: &mut AsyncPgConnection, path: &Path, kind: Kind) -> anyhow::Result<()>
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    if policy::exists(conn, kind).await? {
        return Ok(());
    }
    let text = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("could not read {}", path.display()))?;
    let file: File<T> =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    let document = serde_json::json!({ "rules": file.rules });
    match policy::publish(conn, kind, file.effective_from, &document, "system").await {
        Ok(_) => Ok(()),
        // Another instance published version 1 at the same moment.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Publishes the default rules where none exist yet.
pub async fn load(config_dir: &Path, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    load_one::<RecognitionRule>(
        conn,
        &config_dir.join("recognitions.toml"),
        Kind::Recognitions,
    )
    .await?;
    load_one::<EntitlementRule>(
        conn,
        &config_dir.join("entitlements.toml"),
        Kind::Entitlements,
    )
    .await
}
