//! Demo profiles and applications: what a newcomer sees in the XA official's queue.

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use uuid::Uuid;

use crate::crypto::pii::Field;
use crate::crypto::pii::PiiCipher;
use crate::domain::eligibility::{Facts, evaluate, parse_rule_set};
use crate::domain::email::Email;
use crate::domain::id_document::{IdNumber, IdType, mask};
use crate::domain::working_days::Calendar;
use crate::models::application::{self, NewApplication, SubmittedEvaluation, Viewer};
use crate::models::profile::{self, NewProfile};
use crate::models::{account, scheme};

/// A demo identity document.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoProfile {
    email: String,
    id_type: IdType,
    id_number: String,
    phone: Option<String>,
}

/// A demo application.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoApplication {
    email: String,
    scheme: String,
    issuer: String,
    submit: bool,
    /// Approve with this tier (the demo's official of the issuer decides).
    #[serde(default)]
    approve_tier: Option<String>,
    /// The approved card ends this many days from today (a card inside its renewal window),
    /// instead of lasting its tier's full validity from today.
    #[serde(default)]
    card_ends_in_days: Option<u32>,
    /// A change report the holder has filed on the approved card, open in the issuer's queue.
    #[serde(default)]
    change_report: Option<super::lifecycle::DemoChange>,
    facts: Facts,
}

pub(super) async fn account_id(conn: &mut AsyncPgConnection, email: &str) -> anyhow::Result<Uuid> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("demo email {email}: {e}"))?;
    let found = account::find_by_email(conn, &email).await?;
    Ok(found
        .ok_or_else(|| anyhow::anyhow!("demo account {email} is missing"))?
        .id)
}

/// Stores a profile unless the account has one.
pub async fn load_profile(
    conn: &mut AsyncPgConnection,
    cipher: &PiiCipher,
    demo: &DemoProfile,
) -> anyhow::Result<()> {
    let owner = account_id(conn, &demo.email).await?;
    if profile::find(conn, owner).await?.is_some() {
        return Ok(());
    }
    let number = IdNumber::parse(demo.id_type, &demo.id_number)
        .map_err(|e| anyhow::anyhow!("demo id_number: {e}"))?;
    let sealed = cipher.seal(number.expose(), Field::IdNumber, owner.as_bytes())?;
    let phone = demo
        .phone
        .as_deref()
        .map(|p| cipher.seal(p, Field::Phone, owner.as_bytes()))
        .transpose()?;
    let index = cipher.blind_index(number.kind().as_str(), number.expose());
    let masked = number.masked();
    let phone_masked = demo.phone.as_deref().map(|p| mask(p, 3, 4));
    let new = NewProfile {
        account_id: owner,
        id_type: number.kind().as_str(),
        id_number_ciphertext: &sealed,
        id_number_key_id: cipher.key_id(),
        id_number_index: &index,
        id_number_masked: &masked,
        phone_ciphertext: phone.as_deref(),
        phone_masked: phone_masked.as_deref(),
        disputed_at: None,
    };
    profile::upsert(conn, &new).await?;
    Ok(())
}

/// Creates (and submits) an application unless the talent already has one.
pub async fn load_application(
    conn: &mut AsyncPgConnection,
    cipher: &PiiCipher,
    calendar: &Calendar,
    demo: &DemoApplication,
) -> anyhow::Result<()> {
    let talent_id = account_id(conn, &demo.email).await?;
    let existing = application::list(
        conn,
        &Viewer::Talent(talent_id),
        &Default::default(),
        None,
        1,
    )
    .await?;
    if !existing.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    let sealed = cipher.seal(
        &serde_json::to_string(&demo.facts)?,
        Field::Facts,
        id.as_bytes(),
    )?;
    let new = NewApplication {
        id,
        talent_id,
        scheme: &demo.scheme,
        issuer: &demo.issuer,
        status: "draft",
        facts: &sealed,
        key_id: cipher.key_id(),
        created_at: now,
        updated_at: now,
        replaces_card: None,
    };
    let draft = application::insert(conn, &new).await?;
    if !demo.submit {
        return Ok(());
    }
    let today = crate::clock::china_date(now);
    let found = scheme::find(conn, &demo.scheme)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no scheme {}", demo.scheme))?;
    let rules_row = scheme::rules_in_force(conn, &demo.scheme, today)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no rules"))?;
    let rules = parse_rule_set(&rules_row.document, &found.tier_codes())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let evaluation = evaluate(&rules, &demo.facts, today);
    let trace = cipher.seal(
        &serde_json::to_string(&evaluation.trace)?,
        Field::EvaluationTrace,
        id.as_bytes(),
    )?;
    let (to, endorsement) =
        crate::models::employer::submission_route(conn, &demo.facts.employer.credit_code).await?;
    let recorded = SubmittedEvaluation {
        suggested_tier: evaluation.tier.as_deref(),
        eligible: evaluation.eligible,
        rules_version: rules_row.version,
        trace: &trace,
        review_due: (to == crate::domain::application_status::Status::Submitted).then(|| {
            calendar.add_working_days(today, u32::try_from(found.row.review_days).unwrap_or(10))
        }),
        to,
        employer_credit_code: &demo.facts.employer.credit_code,
        employer_endorsement: endorsement.as_deref(),
    };
    let status = draft
        .status()
        .ok_or_else(|| anyhow::anyhow!("unknown status"))?;
    let submitted = application::submit(conn, id, status, draft.updated_at, &recorded, now)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo application changed meanwhile"))?;
    // Like a real submission: the application keeps the document it was submitted with.
    profile::copy_to_application(conn, id, draft.talent_id, now).await?;
    if let Some(tier) = &demo.approve_tier {
        let card = approve(conn, &submitted, tier, demo.card_ends_in_days).await?;
        if let Some(change) = &demo.change_report {
            super::lifecycle::load_change(conn, cipher, calendar, &card, change).await?;
        }
    }
    Ok(())
}

/// Approves as the issuer's first official and issues the card.
async fn approve(
    conn: &mut AsyncPgConnection,
    submitted: &application::Application,
    tier: &str,
    ends_in_days: Option<u32>,
) -> anyhow::Result<crate::models::card::Card> {
    use crate::db::schema::accounts;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let official: Uuid = accounts::table
        .filter(accounts::role.eq("official"))
        .filter(accounts::issuer.eq(&submitted.issuer))
        .select(accounts::id)
        .first(conn)
        .await
        .map_err(|_| anyhow::anyhow!("no demo official of {}", submitted.issuer))?;
    let now = Utc::now();
    let change = application::DecisionChange {
        status: "approved",
        decision: "approve",
        decided_tier: Some(tier),
        reason_code: None,
        decision_comment: Some("demo data"),
        supplement_items: None,
        decided_by: official,
        decided_at: now,
        updated_at: now,
    };
    let decided = application::decide(
        conn,
        submitted.id,
        &submitted.issuer,
        submitted.updated_at,
        &change,
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("the demo application could not be approved"))?;
    let validity = crate::models::card::tier_validity(conn, &decided.scheme, tier)
        .await?
        .unwrap_or(1);
    let (valid_from, valid_until) =
        super::lifecycle::dates_ending_in(crate::clock::china_date(now), validity, ends_in_days);
    let issue = crate::models::card::Issue {
        application_id: Some(decided.id),
        holder_id: decided.talent_id,
        scheme: &decided.scheme,
        issuer: &decided.issuer,
        tier,
        now,
        valid_from,
        valid_until,
    };
    Ok(crate::models::card::issue(conn, &issue, validity).await?)
}
