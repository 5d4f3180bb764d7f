//! The default schemes (`config/schemes/*.toml`, each with a rules JSON file), loaded into a
//! new database. A scheme already present is left alone: after the first start, rules change
//! through `PUT /api/v1/admin/schemes/{code}/rules`, not through files.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::eligibility::parse_rule_set;
use crate::models::scheme::{self, Scheme, SchemeRow, Tier};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemeFile {
    code: String,
    name: String,
    name_en: String,
    issuers: Vec<String>,
    review_days: i32,
    rules_file: String,
    rules_effective_from: NaiveDate,
    tiers: Vec<TierFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    code: String,
    name: String,
    name_en: String,
    validity_years: i32,
}

/// A scheme file with its rules document, checked.
struct DefaultScheme {
    scheme: Scheme,
    effective_from: NaiveDate,
    rules: serde_json::Value,
}

fn read(dir: &Path) -> anyhow::Result<Vec<DefaultScheme>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("could not read {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files.iter().map(|path| read_one(dir, path)).collect()
}

fn read_one(dir: &Path, path: &Path) -> anyhow::Result<DefaultScheme> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let file: SchemeFile =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    let rules_path = dir.join(&file.rules_file);
    let rules_text = std::fs::read_to_string(&rules_path)
        .with_context(|| format!("could not read {}", rules_path.display()))?;
    let rules: serde_json::Value = serde_json::from_str(&rules_text)
        .with_context(|| format!("{} is not JSON", rules_path.display()))?;
    let tiers: Vec<Tier> = file
        .tiers
        .into_iter()
        .zip(1..)
        .map(|(t, rank)| Tier {
            code: t.code,
            name: t.name,
            name_en: t.name_en,
            rank,
            validity_years: t.validity_years,
        })
        .collect();
    let codes: Vec<&str> = tiers.iter().map(|t| t.code.as_str()).collect();
    if let Err(errors) = parse_rule_set(&rules, &codes) {
        let listed: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        anyhow::bail!(
            "{} has mistakes: {}",
            rules_path.display(),
            listed.join("; ")
        );
    }
    let scheme = Scheme {
        row: SchemeRow {
            code: file.code,
            name: file.name,
            name_en: file.name_en,
            review_days: file.review_days,
        },
        issuers: file.issuers,
        tiers,
    };
    Ok(DefaultScheme {
        scheme,
        effective_from: file.rules_effective_from,
        rules,
    })
}

/// Reads the scheme files on the blocking pool and creates the schemes that are missing, each
/// with its first rules version.
pub async fn load(dir: &Path, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let dir = dir.to_path_buf();
    let defaults = tokio::task::spawn_blocking(move || read(&dir)).await??;
    for default in defaults {
        if scheme::find(conn, &default.scheme.row.code)
            .await?
            .is_some()
        {
            continue;
        }
        let code = default.scheme.row.code.clone();
        let created = conn
            .transaction(async |c| {
                scheme::insert(c, &default.scheme).await?;
                let version = scheme::publish_rules(
                    c,
                    &code,
                    default.effective_from,
                    &default.rules,
                    "system",
                )
                .await?;
                let event = AuditEvent {
                    actor: Actor::System,
                    action: "scheme.created",
                    entity_type: "scheme",
                    entity_id: Some(code.clone()),
                    detail: json!({ "rules_version": version, "issuers": default.scheme.issuers }),
                };
                audit::record(c, &event).await?;
                Ok::<_, diesel::result::Error>(())
            })
            .await;
        match created {
            Ok(()) => tracing::info!(scheme = %code, "created default scheme"),
            // Another instance created it at the same moment.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) => return Err(e).with_context(|| format!("could not create scheme {code}")),
        }
    }
    Ok(())
}
