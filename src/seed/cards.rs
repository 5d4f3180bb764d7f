//! `talentcard seed --cards N`: N active XIONGAN B cards at XA, each with its holder and
//! approved application, for the verification benchmarks (a million in about 35 s on a busy
//! two-core machine). Their numbers have random serials, as issued cards do.
//!
//! Several writers load large batches with binary COPY in parallel, each on its own connection. When the
//! database user may (a superuser on a scratch database), writers skip the foreign-key triggers
//! (`session_replication_role = replica`): the seed writes every referenced row itself, and
//! checks afterwards that no card or application points at a missing row; on a fresh database
//! they also load without the secondary indexes, built once afterwards (`indexes`).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::{SeedAccount, SeedApplication, facts, indexes};
use crate::auth::password;
use crate::configuration::Settings;
use crate::credentials::{keys, status_list, token};
use crate::crypto::pii::Field;
use crate::crypto::pii::PiiCipher;
use crate::db::schema::card_serials;
use crate::domain::application_status::Status;
use crate::domain::card_number;

/// Cards per insert: three tables' rows for this many people in one transaction.
const BATCH: usize = 5_000;
/// Connections writing at once: enough to keep PostgreSQL busy while the next batch is built.
const WRITERS: usize = 3;
/// Credentials written to `credentials.txt` (signing every card would dominate the run).
const CREDENTIALS: usize = 10_000;
/// Odd, so `i * SPREAD` modulo a power of two visits every index once: scattered, distinct
/// status indexes, as random issuance would give.
const SPREAD: u64 = 40_503;

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
    issued_at: DateTime<Utc>,
    kid: String,
    status_index: i32,
    name_masked: String,
}

/// What every batch shares.
struct Plan {
    count: usize,
    capacity: u64,
    cipher: PiiCipher,
    password_hash: String,
    kid: String,
    der: Vec<u8>,
    base_url: String,
    /// The facts of card `i` are `facts_json[i % FACT_VARIANTS]`: serialised once, sealed per
    /// application.
    facts_json: Vec<String>,
    now: DateTime<Utc>,
    today: NaiveDate,
    valid_until: NaiveDate,
    year: i32,
    /// Card `i`'s random serial, drawn up front and distinct (a million random 13-digit
    /// serials clash once in about twenty runs otherwise, and COPY would fail on it).
    serials: Vec<i64>,
}

/// `facts(i)` repeats with this period (ages modulo 40, degrees 3, patents 5, salaries 20).
const FACT_VARIANTS: usize = 120;

/// Status lists XA needs for `count` cards: at most three quarters full, and a power of two so
/// that the spread above is a bijection.
fn lists_for(count: usize) -> usize {
    (count * 4 / 3 / status_list::ENTRIES + 1).next_power_of_two()
}

/// Creates `count` cards and writes their numbers, and the credentials of the first 10,000, to
/// `out_dir` (one per line: `card-numbers.txt`, `credentials.txt`).
pub async fn cards(
    settings: &Settings,
    count: usize,
    out_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let url = settings.database.owner_url().to_owned();
    let mut conn = AsyncPgConnection::establish(&url).await?;
    let cipher = PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
    let now = Utc::now();
    crate::models::issuer_key::ensure_for_all_issuers(&mut conn, &cipher, now).await?;
    let key = crate::models::issuer_key::active(&mut conn, "XA")
        .await?
        .context("no XA key")?;
    let lists = lists_for(count);
    for list_no in 0..lists {
        crate::models::status_list::ensure(&mut conn, "XA", i32::try_from(list_no)?, now).await?;
    }
    let today = crate::clock::china_date(now);
    let plan = Arc::new(Plan {
        count,
        capacity: (lists * status_list::ENTRIES) as u64,
        der: keys::signing_der(&key.kid, &key.private_key_sealed, &cipher)?,
        cipher,
        password_hash: password::hash(SecretString::from("seeded talent passphrase".to_owned()))
            .await?,
        kid: key.kid,
        base_url: settings
            .application
            .public_base_url
            .trim_end_matches('/')
            .to_owned(),
        facts_json: (0..FACT_VARIANTS)
            .map(|i| Ok(serde_json::to_string(&facts(i)?)?))
            .collect::<anyhow::Result<_>>()?,
        now,
        today,
        valid_until: crate::models::card::valid_until(today, 3),
        year: chrono::Datelike::year(&today),
        serials: distinct_serials(count),
    });
    let superuser: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
    ))
    .get_result(&mut conn)
    .await?;

    // A fresh benchmark database (a superuser's, no card yet): the secondary indexes are
    // built once after the load instead of row by row during it.
    let fresh: bool = superuser
        && diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "NOT EXISTS (SELECT 1 FROM cards)",
        ))
        .get_result(&mut conn)
        .await?;
    let set_aside = if fresh {
        let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
        let connection = tokio::spawn(connection);
        let set_aside = indexes::set_aside(&mut client).await?;
        drop(client);
        connection.await??;
        set_aside
    } else {
        Vec::new()
    };

    let started = Instant::now();
    let (next, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (plan, next, done, url) = (plan.clone(), next.clone(), done.clone(), url.clone());
            tokio::spawn(async move { write(&plan, &url, superuser, &next, &done).await })
        })
        .collect();
    while AtomicUsize::load(&done, Ordering::Relaxed) < count
        && !writers.iter().all(|w| w.is_finished())
    {
        progress(AtomicUsize::load(&done, Ordering::Relaxed), count, started);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut credentials = Vec::new();
    let mut failed = None;
    for writer in writers {
        match writer.await.map_err(anyhow::Error::from).and_then(|w| w) {
            Ok(signed) => credentials.extend(signed),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    progress(AtomicUsize::load(&done, Ordering::Relaxed), count, started);
    eprintln!();
    if !set_aside.is_empty() {
        // Built again even after a failed load, so the database keeps its indexes.
        let indexes_started = Instant::now();
        let restored = indexes::restore(&url, set_aside, WRITERS.min(2)).await;
        eprintln!(
            "indexes built in {:.1} s",
            indexes_started.elapsed().as_secs_f64()
        );
        if let Some(e) = failed {
            return Err(e);
        }
        restored?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let checks_started = Instant::now();
    if !superuser {
        eprintln!("(not a superuser: foreign keys were checked row by row)");
    } else {
        check_references(&mut conn).await?;
    }
    // The row counts the issuer's cards of the year (serials are random; see `card::issue`).
    let last = i64::try_from(count)?;
    diesel::insert_into(card_serials::table)
        .values((
            card_serials::issuer.eq("XA"),
            card_serials::year.eq(plan.year),
            card_serials::last.eq(last),
        ))
        .on_conflict((card_serials::issuer, card_serials::year))
        .do_update()
        .set(card_serials::last.eq(card_serials::last + last))
        .execute(&mut conn)
        .await?;
    record_credentials(&mut conn, &plan, credentials.len()).await?;
    eprintln!(
        "references checked and credentials recorded in {:.1} s",
        checks_started.elapsed().as_secs_f64()
    );
    credentials.sort();
    let numbers: String = (0..count)
        .map(|i| number(&plan, i) + "\n")
        .collect::<Vec<_>>()
        .concat();
    let credentials: String = credentials.into_iter().map(|(_, c)| c + "\n").collect();
    let out_dir = out_dir.to_owned();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&out_dir)?;
        std::fs::write(out_dir.join("card-numbers.txt"), numbers)?;
        std::fs::write(out_dir.join("credentials.txt"), credentials)
    })
    .await??;
    Ok(())
}

fn progress(done: usize, count: usize, started: Instant) {
    const WIDTH: usize = 40;
    let filled = done * WIDTH / count.max(1);
    eprint!(
        "\r[{}{}] {done}/{count} cards, {:.1} s",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        started.elapsed().as_secs_f64()
    );
    let _ = std::io::stderr().flush();
}

fn number(plan: &Plan, i: usize) -> String {
    card_number::format("XA", plan.year, plan.serials[i])
}

/// `count` distinct random serials, as `card::issue` draws them (a hash set of a million
/// numbers takes a few tens of milliseconds).
fn distinct_serials(count: usize) -> Vec<i64> {
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut serials = Vec::with_capacity(count);
    while serials.len() < count {
        let serial = crate::crypto::random::card_serial();
        if seen.insert(serial) {
            serials.push(serial);
        }
    }
    serials
}

/// One writer: takes the next batch until none is left and loads it with binary COPY; returns
/// the credentials it signed.
async fn write(
    plan: &Plan,
    url: &str,
    skip_reference_triggers: bool,
    next: &AtomicUsize,
    done: &AtomicUsize,
) -> anyhow::Result<Vec<(usize, String)>> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    // A scratch database: a crash loses the last batches, and the seed runs again.
    client.batch_execute("SET synchronous_commit = off").await?;
    if skip_reference_triggers {
        client
            .batch_execute("SET session_replication_role = replica")
            .await?;
    }
    let mut credentials = Vec::new();
    loop {
        let start = next.fetch_add(BATCH, Ordering::Relaxed);
        if start >= plan.count {
            drop(client);
            connection.await??;
            return Ok(credentials);
        }
        let end = (start + BATCH).min(plan.count);
        let (people, apps, issued) = batch(plan, start..end, &mut credentials)?;
        let tx = client.transaction().await?;
        copy_accounts(&tx, &people).await?;
        copy_applications(&tx, &apps).await?;
        copy_cards(&tx, &issued).await?;
        tx.commit().await?;
        done.fetch_add(end - start, Ordering::Relaxed);
    }
}

/// Starts `COPY table (columns) FROM STDIN (FORMAT binary)`.
async fn copy_in(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    columns: &[(&str, Type)],
) -> anyhow::Result<BinaryCopyInWriter> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let types: Vec<Type> = columns.iter().map(|(_, ty)| ty.clone()).collect();
    let sql = format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        names.join(", ")
    );
    Ok(BinaryCopyInWriter::new(tx.copy_in(&sql).await?, &types))
}

async fn copy_accounts(
    tx: &tokio_postgres::Transaction<'_>,
    rows: &[SeedAccount],
) -> anyhow::Result<()> {
    let columns = [
        ("id", Type::UUID),
        ("email", Type::TEXT),
        ("password_hash", Type::TEXT),
        ("full_name", Type::TEXT),
        ("role", Type::TEXT),
    ];
    let writer = copy_in(tx, "accounts", &columns).await?;
    futures_util::pin_mut!(writer);
    for r in rows {
        let row: [&(dyn ToSql + Sync); 5] =
            [&r.id, &r.email, &r.password_hash, &r.full_name, &r.role];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_applications(
    tx: &tokio_postgres::Transaction<'_>,
    rows: &[SeedApplication],
) -> anyhow::Result<()> {
    let columns = [
        ("id", Type::UUID),
        ("talent_id", Type::UUID),
        ("scheme", Type::TEXT),
        ("issuer", Type::TEXT),
        ("status", Type::TEXT),
        ("facts", Type::BYTEA),
        ("key_id", Type::TEXT),
        ("suggested_tier", Type::TEXT),
        ("eligible", Type::BOOL),
        ("rules_version", Type::INT4),
        ("evaluation_trace", Type::BYTEA),
        ("submitted_at", Type::TIMESTAMPTZ),
        ("review_due", Type::DATE),
        ("created_at", Type::TIMESTAMPTZ),
        ("updated_at", Type::TIMESTAMPTZ),
    ];
    let writer = copy_in(tx, "applications", &columns).await?;
    futures_util::pin_mut!(writer);
    for r in rows {
        let row: [&(dyn ToSql + Sync); 15] = [
            &r.id,
            &r.talent_id,
            &r.scheme,
            &r.issuer,
            &r.status,
            &r.facts,
            &r.key_id,
            &r.suggested_tier,
            &r.eligible,
            &r.rules_version,
            &r.evaluation_trace,
            &r.submitted_at,
            &r.review_due,
            &r.created_at,
            &r.updated_at,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_cards(tx: &tokio_postgres::Transaction<'_>, rows: &[SeedCard]) -> anyhow::Result<()> {
    let columns = [
        ("id", Type::UUID),
        ("number", Type::TEXT),
        ("application_id", Type::UUID),
        ("holder_id", Type::UUID),
        ("scheme", Type::TEXT),
        ("issuer", Type::TEXT),
        ("tier", Type::TEXT),
        ("status", Type::TEXT),
        ("valid_from", Type::DATE),
        ("valid_until", Type::DATE),
        ("issued_at", Type::TIMESTAMPTZ),
        ("kid", Type::TEXT),
        ("status_index", Type::INT4),
        ("name_masked", Type::TEXT),
    ];
    let writer = copy_in(tx, "cards", &columns).await?;
    futures_util::pin_mut!(writer);
    for r in rows {
        let row: [&(dyn ToSql + Sync); 14] = [
            &r.id,
            &r.number,
            &r.application_id,
            &r.holder_id,
            &r.scheme,
            &r.issuer,
            &r.tier,
            &r.status,
            &r.valid_from,
            &r.valid_until,
            &r.issued_at,
            &r.kid,
            &r.status_index,
            &r.name_masked,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

type Batch = (Vec<SeedAccount>, Vec<SeedApplication>, Vec<SeedCard>);

fn batch(
    plan: &Plan,
    range: std::ops::Range<usize>,
    credentials: &mut Vec<(usize, String)>,
) -> anyhow::Result<Batch> {
    let (mut people, mut apps, mut issued) = (Vec::new(), Vec::new(), Vec::new());
    for i in range {
        let (talent_id, id, card_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let holder_name = format!("种子持卡人 {i}");
        let name_masked = crate::domain::recognition::mask_name(&holder_name);
        let index = i32::try_from((i as u64 * SPREAD) % plan.capacity)?;
        let number = number(plan, i);
        if i < CREDENTIALS {
            let (list_no, entry) = status_list::locate(u32::try_from(index)?);
            let salt = token::disclosure_salt(&plan.cipher, card_id);
            let card = token::CardCredential {
                card_number: &number,
                scheme: "XIONGAN",
                tier: "B",
                issuer: "XA",
                valid_from: plan.today,
                valid_until: plan.valid_until,
                status_index: entry,
                status_uri: status_list::uri(&plan.base_url, "XA", list_no),
                holder_name: &holder_name,
                salt: &salt,
                issued_at: plan.now,
                base_url: &plan.base_url,
                holder_jwk: None,
            };
            let issued = token::issue(&card, &plan.kid, &plan.der)?;
            credentials.push((i, issued.presentation(false)));
        }
        apps.push(SeedApplication {
            id,
            talent_id,
            scheme: "XIONGAN".into(),
            issuer: "XA".into(),
            status: Status::Approved.as_str(),
            facts: plan.cipher.seal(
                &plan.facts_json[i % FACT_VARIANTS],
                Field::Facts,
                id.as_bytes(),
            )?,
            key_id: plan.cipher.key_id().to_owned(),
            suggested_tier: Some("B".into()),
            eligible: true,
            rules_version: 1,
            evaluation_trace: plan
                .cipher
                .seal("[]", Field::EvaluationTrace, id.as_bytes())?,
            submitted_at: plan.now,
            review_due: plan.today,
            created_at: plan.now,
            updated_at: plan.now,
        });
        people.push(SeedAccount {
            id: talent_id,
            email: format!("card-{i}@seed.example.cn"),
            password_hash: plan.password_hash.clone(),
            full_name: holder_name,
            role: "talent",
        });
        issued.push(SeedCard {
            id: card_id,
            number,
            application_id: id,
            holder_id: talent_id,
            scheme: "XIONGAN",
            issuer: "XA",
            tier: "B",
            status: "active",
            valid_from: plan.today,
            valid_until: plan.valid_until,
            issued_at: plan.now,
            kid: plan.kid.clone(),
            status_index: index,
            name_masked,
        });
    }
    Ok((people, apps, issued))
}

/// Records the credentials written to `credentials.txt` as signed by the seed's key, as the
/// service records each credential it serves: online verification accepts a key only for the
/// credentials on record.
async fn record_credentials(
    conn: &mut AsyncPgConnection,
    plan: &Plan,
    signed: usize,
) -> anyhow::Result<()> {
    let numbers: Vec<String> = (0..signed).map(|i| number(plan, i)).collect();
    diesel::sql_query(
        "INSERT INTO card_credentials (card_id, kid, iat, exp, first_served_at)
         SELECT id, kid, date_trunc('second', issued_at),
                (valid_until + 1)::timestamp AT TIME ZONE 'Asia/Shanghai', issued_at
           FROM cards WHERE number = ANY($1) AND kid IS NOT NULL
         ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&numbers)
    .execute(conn)
    .await?;
    Ok(())
}

/// With the reference triggers skipped, proves what they would have: every card's application
/// and holder exist, and every application's talent.
async fn check_references(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let orphans: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM cards c
            LEFT JOIN applications a ON a.id = c.application_id
            LEFT JOIN accounts h ON h.id = c.holder_id
          WHERE a.id IS NULL OR h.id IS NULL)
       + (SELECT count(*) FROM applications a
            LEFT JOIN accounts t ON t.id = a.talent_id WHERE t.id IS NULL)",
    ))
    .get_result(conn)
    .await?;
    anyhow::ensure!(orphans == 0, "{orphans} seeded rows reference missing rows");
    Ok(())
}
