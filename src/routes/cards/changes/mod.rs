//! Change reports (`/cards/{id}/changes`): a holder reports a new employer, residence or title
//! within `cards.change_report_days` of it taking effect (later is flagged `late`); the new facts
//! are evaluated with the rules in force and the holder sees the explanation in the same
//! sentences as for an application. The issuer's officials find open reports in their queue
//! (`GET /card-changes`) with a working-day deadline, and decide `keep`, `retier`, `suspend` or
//! `revoke`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::crypto::pii::Field;
use crate::domain::eligibility::Facts;
use crate::error::ApiError;
use crate::models::card_change::CardChange;
use crate::routes::applications::{EvaluationView, open_json};
use crate::state::AppState;

mod decision;
mod list;
mod report;

pub use decision::decide_change;
pub use list::{change_queue, list_changes};
pub use report::report_change;

/// What changed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new employer.
    Employer,
    /// A new residence.
    Residence,
    /// A new professional title.
    Title,
    /// Anything else the rules weigh.
    Other,
}

impl ChangeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Employer => "employer",
            ChangeKind::Residence => "residence",
            ChangeKind::Title => "title",
            ChangeKind::Other => "other",
        }
    }
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Waiting for the issuer.
    Open,
    /// Decided.
    Decided,
}

/// The issuer's decision on a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeDecisionView {
    /// `keep`, `retier`, `suspend` or `revoke`.
    pub decision: String,
    /// The new tier of a `retier`.
    pub tier: Option<String>,
    /// The coded reason of a suspension or revocation.
    pub reason_code: Option<String>,
    /// The official's comment.
    pub comment: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The new tier's card a `retier` issued.
    pub new_card_id: Option<Uuid>,
}

/// A change report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// UUID v7.
    pub id: Uuid,
    /// The card reported on.
    pub card_id: Uuid,
    /// What changed.
    pub kind: ChangeKind,
    /// When it took effect.
    pub effective_on: NaiveDate,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// Reported more than `cards.change_report_days` after `effective_on`.
    pub late: bool,
    /// The new facts.
    pub facts: Facts,
    /// The rules in force applied to the new facts, explained rule by rule.
    pub evaluation: EvaluationView,
    /// `open` or `decided`.
    pub status: ChangeStatus,
    /// The review deadline (working days from the report).
    pub review_due: NaiveDate,
    /// Open and past its deadline.
    pub overdue: bool,
    /// The decision, once made.
    pub decision: Option<ChangeDecisionView>,
}

impl ChangeView {
    /// The view of a stored report (its facts and trace opened).
    pub fn build(state: &AppState, c: CardChange) -> Result<Self, ApiError> {
        let kind = match c.kind.as_str() {
            "employer" => ChangeKind::Employer,
            "residence" => ChangeKind::Residence,
            "title" => ChangeKind::Title,
            _ => ChangeKind::Other,
        };
        let status = if c.status == "open" {
            ChangeStatus::Open
        } else {
            ChangeStatus::Decided
        };
        let decision = c.decision.clone().map(|decision| ChangeDecisionView {
            decision,
            tier: c.decided_tier.clone(),
            reason_code: c.reason_code.clone(),
            comment: c.decision_comment.clone(),
            decided_at: c.decided_at,
            new_card_id: c.new_card_id,
        });
        Ok(ChangeView {
            facts: open_json(state, Field::ChangeFacts, c.id, &c.facts)?,
            evaluation: EvaluationView {
                suggested_tier: c.suggested_tier.clone(),
                eligible: c.eligible,
                rules_version: c.rules_version,
                trace: open_json(
                    state,
                    Field::ChangeEvaluationTrace,
                    c.id,
                    &c.evaluation_trace,
                )?,
            },
            overdue: status == ChangeStatus::Open && c.review_due < state.today(),
            id: c.id,
            card_id: c.card_id,
            kind,
            effective_on: c.effective_on,
            reported_at: c.reported_at,
            late: c.late,
            status,
            review_due: c.review_due,
            decision,
        })
    }
}
