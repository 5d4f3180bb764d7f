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
use crate::crypto::pii::PiiCipher;
use crate::db::schema::{accounts, applications};
use crate::domain::application_status::Status;
use crate::domain::eligibility::{Facts, evaluate, parse_rule_set};
use crate::models::scheme;

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
    let mut conn = AsyncPgConnection::establish(settings.database.url()).await?;
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
                facts: cipher.seal(&serde_json::to_string(&facts)?, id.as_bytes())?,
                key_id: cipher.key_id().to_owned(),
                suggested_tier: evaluation.tier.clone(),
                eligible: evaluation.eligible,
                rules_version: rules_row.version,
                evaluation_trace: cipher
                    .seal(&serde_json::to_string(&evaluation.trace)?, id.as_bytes())?,
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

#[derive(Insertable)]
#[diesel(table_name = crate::db::schema::cards)]
struct SeedCard {
    id: Uuid,
    number: String,
    application_id: Uuid,
    holder_id: Uuid,
    scheme: &'static str,
    issuer: &'static str,
    tier: &'static str,
    status: &'static str,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    issued_at: chrono::DateTime<Utc>,
    kid: String,
    status_index: i32,
}

/// Creates `count` active XIONGAN B cards at XA (each with its talent and approved application)
/// and writes their numbers, and the credentials of the first 10,000, to `out_dir` (for
/// benchmarks). One issuer's status list holds 131,072 cards, so `count` is capped there.
pub async fn cards(
    settings: &Settings,
    count: usize,
    out_dir: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::credentials::{keys, status_list, token};
    use crate::db::schema::{card_serials, cards};
    anyhow::ensure!(
        count <= status_list::ENTRIES,
        "at most {} cards for one issuer",
        status_list::ENTRIES
    );
    let mut conn = AsyncPgConnection::establish(settings.database.url()).await?;
    let cipher = PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
    crate::models::issuer_key::ensure_for_all_issuers(&mut conn, &cipher, Utc::now()).await?;
    let key = crate::models::issuer_key::active(&mut conn, "XA")
        .await?
        .context("no XA key")?;
    let der = keys::signing_der(&key.kid, &key.private_key_sealed, &cipher)?;
    let hash = password::hash(SecretString::from("seeded talent passphrase".to_owned())).await?;
    let now = Utc::now();
    let today = crate::clock::china_date(now);
    let valid_until = crate::models::card::valid_until(today, 3);
    let year = chrono::Datelike::year(&today);
    let base_url = settings
        .application
        .public_base_url
        .trim_end_matches('/')
        .to_owned();
    let mut numbers = String::new();
    let mut credentials = String::new();
    let started = std::time::Instant::now();
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let (mut people, mut apps, mut issued) = (Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let (talent_id, id, card_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
            let facts = facts(i)?;
            people.push(SeedAccount {
                id: talent_id,
                email: format!("seed-{talent_id}@example.cn"),
                password_hash: hash.clone(),
                full_name: format!("种子持卡人 {i}"),
                role: "talent",
            });
            apps.push(SeedApplication {
                id,
                talent_id,
                scheme: "XIONGAN".into(),
                issuer: "XA".into(),
                status: Status::Approved.as_str(),
                facts: cipher.seal(&serde_json::to_string(&facts)?, id.as_bytes())?,
                key_id: cipher.key_id().to_owned(),
                suggested_tier: Some("B".into()),
                eligible: true,
                rules_version: 1,
                evaluation_trace: cipher.seal("[]", id.as_bytes())?,
                submitted_at: now,
                review_due: today,
                created_at: now,
                updated_at: now,
            });
            // An odd multiplier is a bijection modulo 2^17: distinct, scattered indexes.
            let index =
                i32::try_from((i as u64 * 40_503) % status_list::ENTRIES as u64).unwrap_or(0);
            let number =
                crate::domain::card_number::format("XA", year, i64::try_from(i + 1).unwrap_or(0));
            numbers.push_str(&number);
            numbers.push('\n');
            if i < 10_000 {
                let salt =
                    cipher.blind_index("credential-salt", &card_id.to_string())[..22].to_owned();
                let card = token::CardCredential {
                    card_number: &number,
                    scheme: "XIONGAN",
                    tier: "B",
                    issuer: "XA",
                    valid_from: today,
                    valid_until,
                    status_index: u32::try_from(index).unwrap_or(0),
                    status_uri: format!("{base_url}/api/v1/status-lists/XA"),
                    holder_name: &format!("种子持卡人 {i}"),
                    salt: &salt,
                    issued_at: now,
                };
                credentials.push_str(&token::issue(&card, &key.kid, &der)?);
                credentials.push('\n');
            }
            issued.push(SeedCard {
                id: card_id,
                number,
                application_id: id,
                holder_id: talent_id,
                scheme: "XIONGAN",
                issuer: "XA",
                tier: "B",
                status: "active",
                valid_from: today,
                valid_until,
                issued_at: now,
                kid: key.kid.clone(),
                status_index: index,
            });
        }
        conn.transaction(async |c| {
            diesel::insert_into(accounts::table)
                .values(&people)
                .execute(c)
                .await?;
            diesel::insert_into(applications::table)
                .values(&apps)
                .execute(c)
                .await?;
            diesel::insert_into(cards::table)
                .values(&issued)
                .execute(c)
                .await?;
            Ok::<_, diesel::result::Error>(())
        })
        .await?;
        eprint!(
            "\rseeded {end}/{count} cards ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    diesel::insert_into(card_serials::table)
        .values((
            card_serials::issuer.eq("XA"),
            card_serials::year.eq(year),
            card_serials::last.eq(i64::try_from(count).unwrap_or(0)),
        ))
        .on_conflict((card_serials::issuer, card_serials::year))
        .do_update()
        .set(card_serials::last.eq(i64::try_from(count).unwrap_or(0)))
        .execute(&mut conn)
        .await?;
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(out_dir.join("card-numbers.txt"), numbers)?;
    std::fs::write(out_dir.join("credentials.txt"), credentials)?;
    Ok(())
}
