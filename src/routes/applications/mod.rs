//! Applications from draft to decision: `/applications`, their evidence and the officials'
//! review queue. Handlers decide transitions with the status machine of
//! [`crate::domain::application_status`] and apply them with conditional updates.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::crypto::pii::Field;
use crate::domain::application_status::{Action, Status};
use crate::domain::dependants::{CardKind, Relation};
use crate::domain::eligibility::{Facts, TraceEntry};
use crate::error::{ApiError, ErrorCode};
use crate::extract::AuthUser;
use crate::models::account::Role;
use crate::models::application::{self, Application, Viewer};
use crate::state::AppState;

mod create;
mod decision;
mod documents;
mod endorsement;
mod get;
mod list;
pub mod renewal;
mod submit;
mod update;
mod withdraw;

/// Registers the routes under `/applications`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create::create_application)
        .service(list::list_applications)
        .service(get::get_application)
        .service(update::update_application)
        .service(submit::submit_application)
        .service(withdraw::withdraw_application)
        .service(decision::decide_application)
        .service(endorsement::endorse_application)
        .service(documents::upload_document)
        .service(documents::list_documents)
        .service(documents::download_document);
}

/// Talent see their own applications, officials their issuer's; nobody else any.
pub fn viewer(user: &AuthUser) -> Result<Viewer, ApiError> {
    match (user.role, &user.issuer) {
        (Role::Talent, _) => Ok(Viewer::Talent(user.account_id)),
        (Role::Official, Some(issuer)) => Ok(Viewer::Official(issuer.clone())),
        _ => Err(ApiError::new(
            ErrorCode::Forbidden,
            "this role has no applications",
        )),
    }
}

/// The refusal for a transition the status machine does not allow.
pub fn invalid_transition(status: &str, action: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidTransition,
        format!("an application that is {status} cannot be {action}"),
    )
}

/// The application `id` if `viewer` may see it (its applicant, or an official of its issuer),
/// else 404 `not_found`: an application the caller may not see answers exactly as one that does
/// not exist, so application ids cannot be probed.
async fn visible_application(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    viewer: &Viewer,
) -> Result<Application, ApiError> {
    application::find_visible(conn, id, viewer)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The caller's own application and its status, if `action` is allowed from that status:
/// 404 for someone else's, 409 for a transition the table refuses.
pub async fn own_application(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    owner: Uuid,
    action: Action,
    verb: &str,
) -> Result<(Application, Status), ApiError> {
    let found = visible_application(conn, id, &Viewer::Talent(owner)).await?;
    let status = found
        .status()
        .ok_or_else(|| ApiError::internal("unknown status"))?;
    if status.after(action).is_none() {
        return Err(invalid_transition(status.as_str(), verb));
    }
    Ok((found, status))
}

/// Seals facts for storage, bound to the application.
pub fn seal_facts(state: &AppState, id: Uuid, facts: &Facts) -> Result<Vec<u8>, ApiError> {
    let json = serde_json::to_string(facts).map_err(ApiError::internal)?;
    state
        .pii
        .seal(&json, Field::Facts, id.as_bytes())
        .map_err(ApiError::internal)
}

/// Opens a sealed JSON column bound to `id`.
pub(crate) fn open_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    field: Field,
    id: Uuid,
    sealed: &[u8],
) -> Result<T, ApiError> {
    let json = state
        .pii
        .open(sealed, field, id.as_bytes())
        .map_err(ApiError::internal)?;
    serde_json::from_str(&json).map_err(ApiError::internal)
}

/// Opens an application's facts.
pub fn open_facts(state: &AppState, application: &Application) -> Result<Facts, ApiError> {
    open_json(state, Field::Facts, application.id, &application.facts)
}

/// The engine's suggestion recorded at submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationView {
    /// The suggested tier, if eligible.
    pub suggested_tier: Option<String>,
    /// Whether the rules found the applicant eligible.
    pub eligible: bool,
    /// The rules version used.
    pub rules_version: i32,
    /// Every rule and why.
    pub trace: Vec<TraceEntry>,
}

/// An official's decision (or open supplement request).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// `approve`, `reject` or `request_supplement`.
    pub decision: String,
    /// The tier approved.
    pub tier: Option<String>,
    /// The coded rejection reason.
    pub reason_code: Option<String>,
    /// The official's comment.
    pub comment: Option<String>,
    /// What is missing.
    #[schema(value_type = Option<Vec<String>>)]
    pub items: Option<serde_json::Value>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
}

/// The applicant as officials see them: with the unmasked ID (every such read is audited).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicantView {
    /// The account.
    pub id: Uuid,
    /// Name.
    pub full_name: String,
    /// Email.
    pub email: String,
    /// `resident_id` or `passport` of the document the application was submitted with.
    pub id_type: Option<String>,
    /// Its full number (the copy kept with the application, whatever the profile says now).
    pub id_number: Option<String>,
    /// An open dispute on that document (another account claims it, or this applicant claimed
    /// it from another): the application is not approved until it is resolved with
    /// `POST /api/v1/document-disputes/{id}/resolution`.
    pub document_dispute: Option<Uuid>,
}

/// One of the applicant's live cards, as the official deciding an application sees it: a
/// second card of a scheme must replace the first, so the official needs to know of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicantCard {
    /// The card.
    pub id: Uuid,
    /// Its number.
    pub number: String,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// Tier code.
    pub tier: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Last valid day.
    pub valid_until: NaiveDate,
}

impl From<crate::models::card::Card> for ApplicantCard {
    fn from(card: crate::models::card::Card) -> Self {
        ApplicantCard {
            id: card.id,
            number: card.number,
            scheme: card.scheme,
            issuer: card.issuer,
            tier: card.tier,
            status: card.status,
            valid_until: card.valid_until,
        }
    }
}

/// An application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    /// UUID v7.
    pub id: Uuid,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// Status.
    pub status: Status,
    /// `principal` (the talent's own card) or `dependant` (a family member's).
    pub kind: CardKind,
    /// The facts as filed (absent on a dependant application, which has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// For a dependant application, the principal card it adds to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_card: Option<Uuid>,
    /// For a dependant application, the family member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependant: Option<DependantView>,
    /// The employer's endorsement once submitted: `pending` (awaiting the employer),
    /// `confirmed`, `declined` or `unavailable` (the employer is not registered).
    pub employer_endorsement: Option<String>,
    /// The employer's comment with its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorsement_comment: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Last submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The review deadline (working days from submission).
    pub review_due: Option<NaiveDate>,
    /// Submitted and past its deadline.
    pub overdue: bool,
    /// The engine's suggestion, once submitted.
    pub evaluation: Option<EvaluationView>,
    /// The decision, once made.
    pub decision: Option<DecisionView>,
    /// The card, once approved.
    pub card_id: Option<Uuid>,
    /// The card this application renews or upgrades.
    pub replaces_card: Option<Uuid>,
    /// Officials only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<ApplicantView>,
    /// Officials only: the applicant's live cards (active or suspended, still valid) of every
    /// scheme and issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant_cards: Option<Vec<ApplicantCard>>,
}

/// The family member a dependant application is for. The ID number is masked, except for
/// officials of the issuer reading the application (each such read audited).
#[derive(Debug, Serialize, ToSchema)]
pub struct DependantView {
    /// Name.
    pub full_name: String,
    /// Relation to the principal card's holder.
    pub relation: Relation,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// `resident_id` or `passport`.
    pub id_type: String,
    /// e.g. `110***********002X`.
    pub id_number_masked: String,
    /// The full number: officials only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

impl DependantView {
    /// The view of a stored person; `unmasked` opens the ID number (officials).
    pub fn build(
        state: &AppState,
        person: crate::models::dependant::Person,
        unmasked: bool,
    ) -> Result<Self, ApiError> {
        let id_number = if unmasked {
            Some(
                state
                    .pii
                    .open(
                        &person.id_number_ciphertext,
                        Field::DependantIdNumber,
                        person.application_id.as_bytes(),
                    )
                    .map_err(ApiError::internal)?,
            )
        } else {
            None
        };
        Ok(DependantView {
            full_name: person.full_name,
            relation: Relation::parse(&person.relation)
                .ok_or_else(|| ApiError::internal("unknown relation"))?,
            birth_date: person.birth_date,
            id_type: person.id_type,
            id_number_masked: person.id_number_masked,
            id_number,
        })
    }
}

/// Whether a submitted application is past its deadline on `today`.
pub fn is_overdue(application: &Application, today: NaiveDate) -> bool {
    application.status == Status::Submitted.as_str()
        && application.review_due.is_some_and(|due| due < today)
}

impl ApplicationView {
    /// The view of a stored application.
    pub fn build(
        state: &AppState,
        a: Application,
        card_id: Option<Uuid>,
    ) -> Result<Self, ApiError> {
        let facts = if a.is_dependant() {
            None
        } else {
            Some(open_facts(state, &a)?)
        };
        let evaluation = match (&a.evaluation_trace, a.rules_version, a.eligible) {
            (Some(sealed), Some(rules_version), Some(eligible)) => Some(EvaluationView {
                suggested_tier: a.suggested_tier.clone(),
                eligible,
                rules_version,
                trace: open_json(state, Field::EvaluationTrace, a.id, sealed)?,
            }),
            _ => None,
        };
        let decision = a.decision.clone().map(|decision| DecisionView {
            decision,
            tier: a.decided_tier.clone(),
            reason_code: a.reason_code.clone(),
            comment: a.decision_comment.clone(),
            items: a.supplement_items.clone(),
            decided_at: a.decided_at,
        });
        let status = a
            .status()
            .ok_or_else(|| ApiError::internal("unknown application status"))?;
        Ok(ApplicationView {
            overdue: is_overdue(&a, state.today()),
            id: a.id,
            scheme: a.scheme,
            issuer: a.issuer,
            status,
            kind: CardKind::parse(&a.kind),
            facts,
            principal_card: a.principal_card,
            dependant: None,
            employer_endorsement: a.employer_endorsement,
            endorsement_comment: a.endorsement_comment,
            created_at: a.created_at,
            updated_at: a.updated_at,
            submitted_at: a.submitted_at,
            review_due: a.review_due,
            evaluation,
            decision,
            card_id,
            replaces_card: a.replaces_card,
            applicant: None,
            applicant_cards: None,
        })
    }
}
