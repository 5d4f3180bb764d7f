//! Demo employers (with their accounts) and dependant cards: a registered employer whose
//! account has an application waiting for it, and a tier-A holder with a spouse's and a child's
//! card. Rows that exist are left alone.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde::Deserialize;
use uuid::Uuid;

use super::applications::account_id;
use crate::crypto::pii::{Field, PiiCipher};
use crate::domain::dependants::Relation;
use crate::domain::id_document::{IdNumber, IdType};
use crate::models::application::{self, DecisionChange};
use crate::models::card::{self, Issue};
use crate::models::dependant::{self, NewDependantApplication, Person};
use crate::models::employer::{self, RegisteredEmployer};

/// A demo employer and the emails of its accounts (listed among the demo accounts).
#[derive(Debug, Clone, Deserialize)]
pub struct DemoEmployer {
    name: String,
    credit_code: String,
    district: String,
    accounts: Vec<String>,
}

/// A demo dependant card on the holder's live card of `scheme`.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoDependant {
    email: String,
    scheme: String,
    full_name: String,
    relation: Relation,
    id_type: IdType,
    id_number: String,
    birth_date: NaiveDate,
}

/// Registers the employer and binds its accounts, unless it is registered.
pub async fn load_employer(
    conn: &mut AsyncPgConnection,
    demo: &DemoEmployer,
) -> anyhow::Result<()> {
    crate::domain::credit_code::check(&demo.credit_code)
        .map_err(|e| anyhow::anyhow!("demo credit_code {}: {e}", demo.credit_code))?;
    if employer::by_credit_code(conn, &demo.credit_code)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let new = RegisteredEmployer {
        id: Uuid::now_v7(),
        name: demo.name.clone(),
        credit_code: demo.credit_code.clone(),
        district: demo.district.clone(),
        created_at: Utc::now(),
    };
    let created = employer::insert(conn, &new).await?;
    for email in &demo.accounts {
        let account = account_id(conn, email).await?;
        employer::bind_account(conn, account, created.id).await?;
    }
    Ok(())
}

/// Adds and approves the dependant card, unless the person is a dependant already.
pub async fn load_dependant(
    conn: &mut AsyncPgConnection,
    cipher: &PiiCipher,
    demo: &DemoDependant,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let today = crate::clock::china_date(now);
    let holder = account_id(conn, &demo.email).await?;
    let number = IdNumber::parse(demo.id_type, &demo.id_number)
        .map_err(|e| anyhow::anyhow!("demo dependant id_number: {e}"))?;
    let index = cipher.blind_index(number.kind().as_str(), number.expose());
    if dependant::person_taken(conn, &demo.scheme, &index, today).await? {
        return Ok(());
    }
    let principal = card::live_of_holder(conn, holder, Some(&demo.scheme), today)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} holds no live {} card", demo.email, demo.scheme))?;
    let id = Uuid::now_v7();
    let facts = cipher.seal("null", Field::Facts, id.as_bytes())?;
    let new = NewDependantApplication {
        id,
        talent_id: holder,
        principal_card: principal.id,
        scheme: &principal.scheme,
        issuer: &principal.issuer,
        facts: &facts,
        key_id: cipher.key_id(),
        now,
        review_due: today,
    };
    let submitted = dependant::insert_application(conn, &new).await?;
    let person = Person {
        application_id: id,
        scheme: principal.scheme.clone(),
        relation: demo.relation.as_str().to_owned(),
        full_name: demo.full_name.clone(),
        birth_date: demo.birth_date,
        id_type: number.kind().as_str().to_owned(),
        id_number_ciphertext: cipher.seal(
            number.expose(),
            Field::DependantIdNumber,
            id.as_bytes(),
        )?,
        id_number_key_id: cipher.key_id().to_owned(),
        id_number_index: index,
        id_number_masked: number.masked(),
    };
    dependant::insert_person(conn, &person).await?;
    let change = DecisionChange {
        status: "approved",
        decision: "approve",
        decided_tier: None,
        reason_code: None,
        decision_comment: Some("demo data"),
        supplement_items: None,
        decided_by: holder,
        decided_at: now,
        updated_at: now,
    };
    application::decide(conn, id, &principal.issuer, submitted.updated_at, &change)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo dependant could not be approved"))?;
    let issue = Issue {
        application_id: Some(id),
        valid_from: None,
        valid_until: None,
        holder_id: holder,
        scheme: &principal.scheme,
        issuer: &principal.issuer,
        tier: &principal.tier,
        now,
    };
    let issued = card::issue_between(conn, &issue, today, principal.valid_until).await?;
    dependant::mark_dependant(conn, issued.id, principal.id, &person).await?;
    Ok(())
}
