//! `GET /api/v1/me/reminders`: what the holder's live cards call for, computed on request from
//! the cards and the rules of `domain::holder_year`: a renewal that may be applied for now, a
//! card ending within 30 days, and a change to report. The service learns of a change when the
//! holder files a later application naming another employer (the unified social credit code
//! differs from the card's application): the card's issuer must then hear of it within
//! `cards.change_report_days`, unless a change report on the card was made since.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{applications, card_changes};
use crate::domain::eligibility::Facts;
use crate::domain::holder_year::{ReminderCard, ReminderKind, reminders};
use crate::error::ApiError;
use crate::extract::Talent;
use crate::models::application::Application;
use crate::models::card::{self, Card};
use crate::routes::applications::open_facts;
use crate::state::AppState;

/// One reminder.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reminder {
    /// The card it is about.
    pub card_id: Uuid,
    /// Its number.
    pub card_number: String,
    /// What is due.
    pub kind: ReminderKind,
    /// By when: the last day to apply for the renewal, the card's last day, or the last day
    /// to report the change on time.
    pub due_on: NaiveDate,
}

/// The holder's reminders, card by card.
#[utoipa::path(
    tag = "cards",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reminders of the caller's live cards", body = Vec<Reminder>),
        (status = 403, description = "forbidden: holders only"),
    )
)]
#[get("/me/reminders")]
pub async fn get_reminders(
    talent: Talent,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let holder = talent.0.account_id;
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let cards = card::live_of_holder(&mut conn, holder, None, today).await?;
    let mut out = Vec::new();
    for found in cards {
        let facts = ReminderCard {
            valid_until: found.valid_until,
            renewal_pending: renewal_pending(&mut conn, found.id).await?,
            unreported_change: unreported_change(&state, &mut conn, &found).await?,
        };
        let settings = &state.cards;
        for (kind, due_on) in reminders(
            &facts,
            settings.renewal_window_days,
            settings.change_report_days,
            today,
        ) {
            out.push(Reminder {
                card_id: found.id,
                card_number: found.number.clone(),
                kind,
                due_on,
            });
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Whether the card has a successor, or an open application replaces it.
async fn renewal_pending(conn: &mut AsyncPgConnection, card_id: Uuid) -> Result<bool, ApiError> {
    if crate::models::card_succession::successor(conn, card_id)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let open: i64 = applications::table
        .filter(applications::replaces_card.eq(card_id))
        .filter(applications::status.eq_any(["draft", "submitted", "supplement_requested"]))
        .count()
        .get_result(conn)
        .await?;
    Ok(open > 0)
}

fn employer_code(facts: &Facts) -> &str {
    facts.employer.credit_code.as_str()
}

/// The day the holder's latest application after the card was issued named another employer
/// than the card's own application, unless a change report on the card followed it.
async fn unreported_change(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    found: &Card,
) -> Result<Option<NaiveDate>, ApiError> {
    let Some(own_id) = found.application_id else {
        return Ok(None);
    };
    let later: Option<Application> = applications::table
        .filter(applications::talent_id.eq(found.holder_id))
        .filter(applications::id.ne(own_id))
        .filter(applications::submitted_at.gt(found.issued_at))
        .order(applications::submitted_at.desc())
        .select(Application::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(later) = later else {
        return Ok(None);
    };
    let Some(own) = applications::table
        .find(own_id)
        .select(Application::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let (own_facts, later_facts) = (open_facts(state, &own)?, open_facts(state, &later)?);
    if employer_code(&own_facts) == employer_code(&later_facts) {
        return Ok(None);
    }
    let Some(noticed) = later.submitted_at else {
        return Ok(None);
    };
    let reported: i64 = card_changes::table
        .filter(card_changes::card_id.eq(found.id))
        .filter(card_changes::reported_at.ge(noticed))
        .count()
        .get_result(conn)
        .await?;
    Ok((reported == 0).then(|| crate::clock::china_date(noticed)))
}
