//! Applications. Every query takes a [`Viewer`] whose condition (the owner for talent, the
//! issuer for officials) sits in the SQL predicate itself, so a row the caller may not see is
//! never loaded, and the handler answers 404.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::applications;
use crate::domain::application_status::Status;

/// Whose applications a query may see.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// A talent sees their own.
    Talent(Uuid),
    /// An official sees their issuer's.
    Official(String),
}

/// A stored application (facts and trace sealed).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct Application {
    /// UUID v7.
    pub id: Uuid,
    /// The applicant.
    pub talent_id: Uuid,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// Status name.
    pub status: String,
    /// Sealed facts JSON.
    pub facts: Vec<u8>,
    /// The key that sealed facts and trace.
    pub key_id: String,
    /// The engine's suggestion at submission.
    pub suggested_tier: Option<String>,
    /// Whether the engine found the applicant eligible.
    pub eligible: Option<bool>,
    /// The rules version used.
    pub rules_version: Option<i32>,
    /// Sealed trace JSON.
    pub evaluation_trace: Option<Vec<u8>>,
    /// Last submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Review deadline.
    pub review_due: Option<NaiveDate>,
    /// `approve`, `reject` or `request_supplement`.
    pub decision: Option<String>,
    /// The tier approved.
    pub decided_tier: Option<String>,
    /// Coded rejection reason.
    pub reason_code: Option<String>,
    /// The official's comment.
    pub decision_comment: Option<String>,
    /// What is missing (supplement request).
    pub supplement_items: Option<serde_json::Value>,
    /// The official.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// The card this application renews or upgrades.
    pub replaces_card: Option<Uuid>,
    /// `principal` (the talent's own card) or `dependant` (a family member's).
    pub kind: String,
    /// For a dependant application, the principal card it adds to.
    pub principal_card: Option<Uuid>,
    /// The credit code of the employer named at submission.
    pub employer_credit_code: Option<String>,
    /// `pending`, `confirmed`, `declined` or `unavailable` (not registered), once submitted.
    pub employer_endorsement: Option<String>,
    /// The employer's account that answered.
    pub endorsed_by: Option<Uuid>,
    /// When it answered.
    pub endorsed_at: Option<DateTime<Utc>>,
    /// Its comment.
    pub endorsement_comment: Option<String>,
}

impl Application {
    /// Whether it asks for a dependant card.
    pub fn is_dependant(&self) -> bool {
        self.kind == "dependant"
    }

    /// The status, parsed.
    pub fn status(&self) -> Option<Status> {
        Status::parse(&self.status)
    }
}

/// A new draft.
#[derive(Debug, Insertable)]
#[diesel(table_name = applications)]
pub struct NewApplication<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// The applicant.
    pub talent_id: Uuid,
    /// Scheme code.
    pub scheme: &'a str,
    /// Issuer code.
    pub issuer: &'a str,
    /// Always `draft`.
    pub status: &'a str,
    /// Sealed facts.
    pub facts: &'a [u8],
    /// Key id.
    pub key_id: &'a str,
    /// Now.
    pub created_at: DateTime<Utc>,
    /// Now.
    pub updated_at: DateTime<Utc>,
    /// The card it renews or upgrades.
    pub replaces_card: Option<Uuid>,
}

type Boxed<'a> = applications::BoxedQuery<'a, Pg>;

fn visible_to(viewer: &Viewer) -> Boxed<'_> {
    let query = applications::table.into_boxed();
    match viewer {
        Viewer::Talent(id) => query.filter(applications::talent_id.eq(*id)),
        // Drafts are the talent's own business until first submitted.
        Viewer::Official(issuer) => query
            .filter(applications::issuer.eq(issuer.as_str()))
            .filter(applications::submitted_at.is_not_null()),
    }
}

/// Inserts a draft. A second open application for the same scheme is a `UniqueViolation`.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewApplication<'_>,
) -> QueryResult<Application> {
    diesel::insert_into(applications::table)
        .values(new)
        .returning(Application::as_returning())
        .get_result(conn)
        .await
}

/// The application if `viewer` may see it.
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    viewer: &Viewer,
) -> QueryResult<Option<Application>> {
    visible_to(viewer)
        .filter(applications::id.eq(id))
        .select(Application::as_select())
        .first(conn)
        .await
        .optional()
}

/// Locks the application row and returns its status: evidence is attached under this lock, so
/// a submission (whose update waits for it) cannot slip between the check and the insert.
pub async fn lock_status(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<String>> {
    applications::table
        .find(id)
        .select(applications::status)
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Filters of a list.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Exact status.
    pub status: Option<String>,
    /// Exact scheme.
    pub scheme: Option<String>,
    /// Exact suggested tier.
    pub suggested_tier: Option<String>,
    /// Only submitted applications past their deadline (`Some(today)`).
    pub overdue_on: Option<NaiveDate>,
    /// Exact kind (`principal` or `dependant`).
    pub kind: Option<String>,
}

/// A page of applications. Officials get the queue: oldest submission first (drafts, which
/// they never see, have none). Talent get their own, oldest first too. `after` is the
/// (sort time, id) of the last row of the previous page.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    filter: &ListFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Application>> {
    let mut query = visible_to(viewer);
    if let Some(status) = &filter.status {
        query = query.filter(applications::status.eq(status.clone()));
    }
    if let Some(scheme) = &filter.scheme {
        query = query.filter(applications::scheme.eq(scheme.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(applications::kind.eq(kind.clone()));
    }
    if let Some(tier) = &filter.suggested_tier {
        query = query.filter(applications::suggested_tier.eq(tier.clone()));
    }
    if let Some(today) = filter.overdue_on {
        query = query
            .filter(applications::status.eq(Status::Submitted.as_str()))
            .filter(applications::review_due.lt(today));
    }
    let query = match viewer {
        Viewer::Official(_) => {
            let sort = applications::submitted_at.assume_not_null();
            let query = match after {
                Some((at, id)) => {
                    query.filter(sort.gt(at).or(sort.eq(at).and(applications::id.gt(id))))
                }
                None => query,
            };
            query.order((sort.asc(), applications::id.asc()))
        }
        Viewer::Talent(_) => {
            let sort = applications::created_at;
            let query = match after {
                Some((at, id)) => {
                    query.filter(sort.gt(at).or(sort.eq(at).and(applications::id.gt(id))))
                }
                None => query,
            };
            query.order((sort.asc(), applications::id.asc()))
        }
    };
    query
        .select(Application::as_select())
        .limit(limit)
        .load(conn)
        .await
}

/// Replaces the facts while the status is still `from` (the status machine allows updates in
/// draft and supplement_requested). `None` when the row moved on meanwhile.
pub async fn update_facts(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: Status,
    sealed: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<Application>> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(from.as_str())),
    )
    .set((
        applications::facts.eq(sealed),
        applications::updated_at.eq(now),
    ))
    .returning(Application::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// The evaluation recorded at submission.
#[derive(Debug)]
pub struct SubmittedEvaluation<'a> {
    /// Suggested tier.
    pub suggested_tier: Option<&'a str>,
    /// Eligible or not.
    pub eligible: bool,
    /// Rules version used.
    pub rules_version: i32,
    /// Sealed trace.
    pub trace: &'a [u8],
    /// The review deadline (`None` while it awaits the employer: the deadline runs from the
    /// employer's confirmation).
    pub review_due: Option<NaiveDate>,
    /// `submitted`, or `awaiting_employer` when the employer named is registered.
    pub to: Status,
    /// The employer's credit code.
    pub employer_credit_code: &'a str,
    /// `pending` (registered employer), `unavailable`, or the earlier answer on a
    /// resubmission after a supplement request.
    pub employer_endorsement: Option<&'a str>,
}

/// Submits (from draft or supplement_requested), storing the evaluation and the deadline.
///
/// Only if the row is unchanged since `seen` (its `updated_at`): facts edited meanwhile are not
/// the facts that were evaluated.
pub async fn submit(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: Status,
    seen: DateTime<Utc>,
    evaluation: &SubmittedEvaluation<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Option<Application>> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(from.as_str()))
            .filter(applications::updated_at.eq(seen)),
    )
    .set((
        applications::status.eq(evaluation.to.as_str()),
        applications::suggested_tier.eq(evaluation.suggested_tier),
        applications::eligible.eq(evaluation.eligible),
        applications::rules_version.eq(evaluation.rules_version),
        applications::evaluation_trace.eq(evaluation.trace),
        // Officials see an application once it has a submission time: not while it awaits
        // the employer.
        applications::submitted_at.eq((evaluation.to == Status::Submitted).then_some(now)),
        applications::review_due.eq(evaluation.review_due),
        applications::updated_at.eq(now),
        applications::employer_credit_code.eq(evaluation.employer_credit_code),
        applications::employer_endorsement.eq(evaluation.employer_endorsement),
    ))
    .returning(Application::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Moves the status from `from` to `to` (withdrawal). `None` when the row moved on meanwhile.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: Status,
    to: Status,
    now: DateTime<Utc>,
) -> QueryResult<Option<Application>> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(from.as_str())),
    )
    .set((
        applications::status.eq(to.as_str()),
        applications::updated_at.eq(now),
    ))
    .returning(Application::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// An official's decision.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = applications, treat_none_as_null = true)]
pub struct DecisionChange<'a> {
    /// New status.
    pub status: &'a str,
    /// `approve`, `reject` or `request_supplement`.
    pub decision: &'a str,
    /// Tier approved.
    pub decided_tier: Option<&'a str>,
    /// Coded reason.
    pub reason_code: Option<&'a str>,
    /// Comment.
    pub decision_comment: Option<&'a str>,
    /// Missing items.
    pub supplement_items: Option<serde_json::Value>,
    /// The official.
    pub decided_by: Uuid,
    /// Now.
    pub decided_at: DateTime<Utc>,
    /// Now.
    pub updated_at: DateTime<Utc>,
}

/// Records a decision on a `submitted` application of `issuer`. The status condition makes
/// racing decisions safe: the second finds nothing to update. `None` then.
///
/// Only if the row is unchanged since `seen`, the version the decision was checked against.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    issuer: &str,
    seen: DateTime<Utc>,
    change: &DecisionChange<'_>,
) -> QueryResult<Option<Application>> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::issuer.eq(issuer))
            .filter(applications::status.eq(Status::Submitted.as_str()))
            .filter(applications::updated_at.eq(seen)),
    )
    .set(change)
    .returning(Application::as_returning())
    .get_result(conn)
    .await
    .optional()
}
