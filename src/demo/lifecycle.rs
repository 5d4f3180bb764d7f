//! Demo data for the holder's year: a card that ends soon (so its renewal window is open and
//! the holder's reminders show it), and an open change report in the issuer's queue.

use chrono::{Days, Months, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use uuid::Uuid;

use crate::crypto::pii::{Field, PiiCipher};
use crate::domain::eligibility::{Facts, evaluate, parse_rule_set};
use crate::domain::holder_year::is_late;
use crate::domain::working_days::Calendar;
use crate::models::card::Card;
use crate::models::card_change::{self, NewCardChange};
use crate::models::scheme;

/// A change report the demo holder has filed.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoChange {
    /// `employer`, `residence`, `title` or `other`.
    kind: String,
    /// How many days ago it took effect.
    effective_days_ago: u32,
    /// The facts as they are now.
    facts: Facts,
}

/// The validity of a card issued today that ends `ends_in_days` from today: it started as long
/// before as its tier lasts. `(None, None)`: the ordinary validity from today.
pub fn dates_ending_in(
    today: NaiveDate,
    validity_years: i32,
    ends_in_days: Option<u32>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let Some(days) = ends_in_days else {
        return (None, None);
    };
    let until = today.checked_add_days(Days::new(u64::from(days)));
    let months = u32::try_from(validity_years.clamp(1, 10) * 12).unwrap_or(12);
    let from = until
        .and_then(|u| u.checked_sub_months(Months::new(months)))
        .and_then(|d| d.succ_opt());
    match (from, until) {
        (Some(from), Some(until)) => (Some(from), Some(until)),
        _ => (None, None),
    }
}

/// Files the change report on `card`, evaluated with the rules in force, unless one exists.
pub async fn load_change(
    conn: &mut AsyncPgConnection,
    cipher: &PiiCipher,
    calendar: &Calendar,
    card: &Card,
    demo: &DemoChange,
) -> anyhow::Result<()> {
    if !card_change::of_card(conn, card.id).await?.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let today = crate::clock::china_date(now);
    let found = scheme::find(conn, &card.scheme)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no scheme {}", card.scheme))?;
    let rules_row = scheme::rules_in_force(conn, &card.scheme, today)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no rules"))?;
    let rules = parse_rule_set(&rules_row.document, &found.tier_codes())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let evaluation = evaluate(&rules, &demo.facts, today);
    let id = Uuid::now_v7();
    let facts = cipher.seal(
        &serde_json::to_string(&demo.facts)?,
        Field::ChangeFacts,
        id.as_bytes(),
    )?;
    let trace = cipher.seal(
        &serde_json::to_string(&evaluation.trace)?,
        Field::ChangeEvaluationTrace,
        id.as_bytes(),
    )?;
    let effective_on = today
        .checked_sub_days(Days::new(u64::from(demo.effective_days_ago)))
        .unwrap_or(today);
    let new = NewCardChange {
        id,
        card_id: card.id,
        holder_id: card.holder_id,
        issuer: &card.issuer,
        kind: &demo.kind,
        effective_on,
        reported_at: now,
        late: is_late(effective_on, today, 10),
        facts: &facts,
        key_id: cipher.key_id(),
        suggested_tier: evaluation.tier.as_deref(),
        eligible: evaluation.eligible,
        rules_version: rules_row.version,
        evaluation_trace: &trace,
        review_due: calendar
            .add_working_days(today, u32::try_from(found.row.review_days).unwrap_or(10)),
        status: "open",
    };
    card_change::insert(conn, &new).await?;
    Ok(())
}
