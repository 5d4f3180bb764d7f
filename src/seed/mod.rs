//! `talentcard seed`: bulk data for benchmarks. Loads talent with submitted applications through
//! large batched inserts (not the HTTP API), with facts and traces sealed and evaluated exactly
//! as a real submission would be, so every endpoint can read them.

use std::io::Write;

use anyhow::Context;
use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::auth::password;
use crate::configuration::Settings;
use crate::crypto::pii::Field;
use crate::crypto::pii::PiiCipher;
use crate::db::schema::{accounts, applications};
use crate::domain::application_status::Status;
use crate::domain::eligibility::{Facts, evaluate, parse_rule_set};
use crate::models::scheme;

mod cards;
mod indexes;
mod presentations;

pub use cards::cards;
pub use presentations::{BOUND_CARDS, HORIZON_SECS, presentations};

const BATCH: usize = 1_000;

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct SeedAccount {
    id: Uuid,
    email: String,
    password_hash: String,
    full_name: String,
    role: &'static str,
}

#[derive(Insertable)]
#[diesel(table_name = applications)]
struct SeedApplication {
    id: Uuid,
    talent_id: Uuid,
    scheme: String,
    issuer: String,
    status: &'static str,
    facts: Vec<u8>,
    key_id: String,
    suggested_tier: Option<String>,
    eligible: bool,
    rules_version: i32,
    evaluation_trace: Vec<u8>,
    submitted_at: chrono::DateTime<Utc>,
    review_due: NaiveDate,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

fn facts(i: usize) -> anyhow::Result<Facts> {
    let age = 24 + (i % 40);
    let born = format!("{}-03-01", 2026 - age);
    let degree = ["bachelor", "master", "doctorate"][i % 3];
    Ok(serde_json::from_value(json!({
        "birth_date": born, "highest_degree": degree, "invention_patents": i % 5,
        "annual_salary_cny": 150_000 + (i % 20) * 40_000, "income_tax_cny": 10_000 + (i % 20) * 8_000,
        "employer": { "name": "雄安基准科技", "credit_code": "91130600MA0D123455", "district": "xiongan" },
    }))?)
}

/// Creates `count` talent, each with one application to XIONGAN at XA submitted within the last
/// 30 days; prints progress on standard error.
pub async fn applications(settings: &Settings, count: usize) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(settings.database.owner_url()).await?;
    let cipher = PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
    let scheme = scheme::find(&mut conn, "XIONGAN")
        .await?
        .context("the XIONGAN scheme is missing")?;
    let today = Utc::now().date_naive();
    let rules_row = scheme::rules_in_force(&mut conn, "XIONGAN", today)
        .await?
        .context("no XIONGAN rules")?;
    let rules = parse_rule_set(&rules_row.document, &scheme.tier_codes())
        .map_err(|e| anyhow::anyhow!("stored rules do not parse: {e:?}"))?;
    // One argon2 hash for every seeded talent: seeding must not take an hour of hashing.
    let hash = password::hash(SecretString::from("seeded talent passphrase".to_owned())).await?;
    let calendar = crate::domain::working_days::Calendar::default();
    let started = std::time::Instant::now();
    let now = Utc::now();
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let mut people = Vec::with_capacity(end - start);
        let mut rows = Vec::with_capacity(end - start);
        for i in start..end {
            let talent_id = Uuid::now_v7();
            let id = Uuid::now_v7();
            let facts = facts(i)?;
            let evaluation = evaluate(&rules, &facts, today);
            let submitted_at = now - Duration::minutes(i64::try_from(i % 43_200).unwrap_or(0));
            people.push(SeedAccount {
                id: talent_id,
                email: format!("seed-{talent_id}@example.cn"),
                password_hash: hash.clone(),
                full_name: format!("种子 {i}"),
                role: "talent",
            });
            rows.push(SeedApplication {
                id,
                talent_id,
                scheme: "XIONGAN".into(),
                issuer: "XA".into(),
                status: Status::Submitted.as_str(),
                facts: cipher.seal(&serde_json::to_string(&facts)?, Field::Facts, id.as_bytes())?,
                key_id: cipher.key_id().to_owned(),
                suggested_tier: evaluation.tier.clone(),
                eligible: evaluation.eligible,
                rules_version: rules_row.version,
                evaluation_trace: cipher.seal(
                    &serde_json::to_string(&evaluation.trace)?,
                    Field::EvaluationTrace,
                    id.as_bytes(),
                )?,
                submitted_at,
                review_due: calendar.add_working_days(submitted_at.date_naive(), 10),
                created_at: submitted_at,
                updated_at: submitted_at,
            });
        }
        conn.transaction(async |c| {
            diesel::insert_into(accounts::table)
                .values(&people)
                .execute(c)
                .await?;
            diesel::insert_into(applications::table)
                .values(&rows)
                .execute(c)
                .await?;
            Ok::<_, diesel::result::Error>(())
        })
        .await?;
        eprint!(
            "\rseeded {end}/{count} applications ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    let event = AuditEvent {
        actor: Actor::Cli,
        action: "seed.applications",
        entity_type: "application",
        entity_id: None,
        detail: json!({ "count": count }),
    };
    conn.transaction(async |c| audit::record(c, &event).await)
        .await?;
    Ok(())
}
