//! What an official may decide and how a decision request is checked against the
//! application before anything is written: each kind's required fields, the tier, the items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::application_status::{Action, Status};
use crate::domain::free_text;
use crate::error::{ApiError, FieldError};
use crate::extract::Official;
use crate::models::application::{Application, DecisionChange};

/// Why an application is rejected.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The criteria are not met.
    NotEligible,
    /// Evidence is missing and was not supplied.
    IncompleteEvidence,
    /// Forged or false material.
    FraudulentMaterial,
    /// The same person already holds or applied.
    Duplicate,
    /// Something else (explained in the comment).
    Other,
}

/// What the official decides.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Approve with a tier.
    Approve,
    /// Reject with a coded reason.
    Reject,
    /// Ask for what is missing.
    RequestSupplement,
}

impl DecisionKind {
    /// What each decision does, as data: the application machine's action, the status it
    /// leads to, the stored decision and the audit action. The only match on the kind.
    pub(super) fn effect(self) -> (Action, Status, &'static str, &'static str) {
        match self {
            DecisionKind::Approve => (
                Action::Approve,
                Status::Approved,
                "approve",
                "application.approved",
            ),
            DecisionKind::Reject => (
                Action::Reject,
                Status::Rejected,
                "reject",
                "application.rejected",
            ),
            DecisionKind::RequestSupplement => (
                Action::RequestSupplement,
                Status::SupplementRequested,
                "request_supplement",
                "application.supplement_requested",
            ),
        }
    }
}

impl RejectReason {
    /// The stored code.
    fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotEligible => "not_eligible",
            RejectReason::IncompleteEvidence => "incomplete_evidence",
            RejectReason::FraudulentMaterial => "fraudulent_material",
            RejectReason::Duplicate => "duplicate",
            RejectReason::Other => "other",
        }
    }
}

/// A decision. `approve` needs `tier` (and `comment` when it differs from the suggestion);
/// `reject` needs `reason_code` and `comment`; `request_supplement` needs `comment` and may
/// list every missing item in `items`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The decision.
    pub decision: DecisionKind,
    /// Tier to approve.
    #[serde(default)]
    pub tier: Option<String>,
    /// Coded rejection reason.
    #[serde(default)]
    pub reason_code: Option<RejectReason>,
    /// The official's comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Everything missing, in one go.
    #[serde(default)]
    pub items: Option<Vec<String>>,
}

/// The most items one supplement request lists.
const MAX_ITEMS: usize = 30;

/// The items a decision lists, each a label by the rule for names, trimmed. Checked whatever
/// the decision, since whatever is given is stored and shown.
fn supplement_items(items: Option<&[String]>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let items = items.unwrap_or_default();
    if items.len() > MAX_ITEMS {
        errors.push(FieldError {
            field: "items".into(),
            message: format!("at most {MAX_ITEMS} items"),
        });
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            free_text::NAME
                .required(item)
                .map_err(|e| {
                    errors.push(FieldError {
                        field: format!("items[{i}]"),
                        message: e.to_string(),
                    })
                })
                .ok()
        })
        .collect()
}

/// Checks the request against the application; returns the change to apply.
pub(super) fn change<'a>(
    request: &'a DecisionRequest,
    application: &Application,
    tiers: &[String],
    official: &Official,
    now: DateTime<Utc>,
    comment: &'a Option<String>,
) -> Result<DecisionChange<'a>, ApiError> {
    let mut errors = Vec::new();
    let missing = |field: &str| FieldError {
        field: field.into(),
        message: "is required for this decision".into(),
    };
    match request.decision {
        // A dependant card takes its principal card's tier; only approve or reject apply.
        DecisionKind::Approve if application.is_dependant() => {
            if request.tier.is_some() {
                errors.push(FieldError {
                    field: "tier".into(),
                    message:
                        "a dependant is approved without a tier (it takes the principal card's)"
                            .into(),
                });
            }
        }
        DecisionKind::RequestSupplement if application.is_dependant() => {
            errors.push(FieldError {
                field: "decision".into(),
                message: "a dependant application is approved or rejected".into(),
            });
        }
        DecisionKind::Approve => match &request.tier {
            None => errors.push(missing("tier")),
            Some(tier) if !tiers.contains(tier) => {
                errors.push(FieldError {
                    field: "tier".into(),
                    message: format!("is not a tier of {}", application.scheme),
                });
            }
            Some(tier)
                if application.suggested_tier.as_ref() != Some(tier) && comment.is_none() =>
            {
                errors.push(FieldError {
                    field: "comment".into(),
                    message: "explain a tier other than the suggested one".into(),
                });
            }
            Some(_) => {}
        },
        DecisionKind::Reject => {
            if request.reason_code.is_none() {
                errors.push(missing("reason_code"));
            }
            if comment.is_none() {
                errors.push(missing("comment"));
            }
        }
        DecisionKind::RequestSupplement => {
            if comment.is_none() {
                errors.push(missing("comment"));
            }
        }
    }
    let items = supplement_items(request.items.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (_, status, decision, _) = request.decision.effect();
    Ok(DecisionChange {
        status: status.as_str(),
        decision,
        decided_tier: request
            .tier
            .as_deref()
            .filter(|_| request.decision == DecisionKind::Approve),
        reason_code: request
            .reason_code
            .filter(|_| request.decision == DecisionKind::Reject)
            .map(RejectReason::as_str),
        decision_comment: comment.as_deref(),
        supplement_items: Some(items).filter(|i| !i.is_empty()).map(|i| json!(i)),
        decided_by: official.account_id,
        decided_at: now,
        updated_at: now,
    })
}
