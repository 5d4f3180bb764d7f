//! Employers (用人单位) and the accounts that speak for them. An employer is known by its
//! unified social credit code; the applications naming that code in `facts.employer` are the
//! ones its accounts endorse and list, and no others (the predicate sits in the SQL).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{accounts, applications, employer_accounts, employers};
use crate::domain::application_status::Status;

/// A registered employer.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, Insertable, ToSchema)]
#[diesel(table_name = employers)]
pub struct RegisteredEmployer {
    /// UUID v7.
    pub id: Uuid,
    /// The employer's name.
    pub name: String,
    /// Its 18-character unified social credit code.
    pub credit_code: String,
    /// District code.
    pub district: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// Registers an employer; a credit code registered already is a `UniqueViolation` (409).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    employer: &RegisteredEmployer,
) -> QueryResult<RegisteredEmployer> {
    diesel::insert_into(employers::table)
        .values(employer)
        .returning(RegisteredEmployer::as_returning())
        .get_result(conn)
        .await
}

/// An employer by id.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<RegisteredEmployer>> {
    employers::table
        .find(id)
        .select(RegisteredEmployer::as_select())
        .first(conn)
        .await
        .optional()
}

/// The registered employer with `credit_code`, if any.
pub async fn by_credit_code(
    conn: &mut AsyncPgConnection,
    credit_code: &str,
) -> QueryResult<Option<RegisteredEmployer>> {
    employers::table
        .filter(employers::credit_code.eq(credit_code))
        .select(RegisteredEmployer::as_select())
        .first(conn)
        .await
        .optional()
}

/// Where a first submission naming `credit_code` goes: to the employer (`awaiting_employer`,
/// endorsement `pending`) when it is registered, else straight to the officials (`submitted`,
/// endorsement `unavailable`).
pub async fn submission_route(
    conn: &mut AsyncPgConnection,
    credit_code: &str,
) -> QueryResult<(Status, Option<String>)> {
    Ok(match by_credit_code(conn, credit_code).await? {
        Some(_) => (Status::AwaitingEmployer, Some("pending".to_owned())),
        None => (Status::Submitted, Some("unavailable".to_owned())),
    })
}

/// Binds an account to the employer it speaks for.
pub async fn bind_account(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    employer_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(employer_accounts::table)
        .values((
            employer_accounts::account_id.eq(account_id),
            employer_accounts::employer_id.eq(employer_id),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The employer an account speaks for.
pub async fn of_account(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
) -> QueryResult<Option<RegisteredEmployer>> {
    employer_accounts::table
        .inner_join(employers::table)
        .filter(employer_accounts::account_id.eq(account_id))
        .select(RegisteredEmployer::as_select())
        .first(conn)
        .await
        .optional()
}

/// What an employer sees of an application naming it: the applicant's name, scheme, status and
/// the endorsement; the employer facts are opened by the handler.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct Named {
    /// The application.
    pub id: Uuid,
    /// Scheme code.
    pub scheme: String,
    /// Status name.
    pub status: String,
    /// Sealed facts (only `employer` is ever shown).
    pub facts: Vec<u8>,
    /// `pending`, `confirmed`, `declined` or `unavailable`.
    pub employer_endorsement: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The submitted applications naming `credit_code` (drafts are the talent's own business),
/// oldest first, after the (created_at, id) cursor; with the applicants' names.
pub async fn applications_naming(
    conn: &mut AsyncPgConnection,
    credit_code: &str,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Named, String)>> {
    let query = applications::table
        .inner_join(accounts::table.on(accounts::id.eq(applications::talent_id)))
        .filter(applications::employer_credit_code.eq(credit_code))
        .filter(applications::status.ne("draft"))
        .into_boxed();
    let query = match after {
        Some((at, id)) => query.filter(
            applications::created_at
                .gt(at)
                .or(applications::created_at.eq(at).and(applications::id.gt(id))),
        ),
        None => query,
    };
    query
        .order((applications::created_at.asc(), applications::id.asc()))
        .limit(limit)
        .select((Named::as_select(), accounts::full_name))
        .load(conn)
        .await
}

/// One application naming `credit_code` (anyone else's is `None`: 404 to the employer).
pub async fn application_naming(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    credit_code: &str,
) -> QueryResult<Option<crate::models::application::Application>> {
    use crate::models::application::Application;
    applications::table
        .filter(applications::id.eq(id))
        .filter(applications::employer_credit_code.eq(credit_code))
        .filter(applications::status.ne("draft"))
        .select(Application::as_select())
        .first(conn)
        .await
        .optional()
}

/// The employer's answer, applied while the application still awaits it: confirm → submitted
/// (into the officials' queue, with its deadline from now), decline → rejected
/// `employer_declined`. `None` when it no longer waits (decided, withdrawn, or a racing answer).
#[derive(Debug)]
pub struct Endorsement<'a> {
    /// The application.
    pub id: Uuid,
    /// `confirmed` or `declined`.
    pub endorsement: &'a str,
    /// The status it moves to.
    pub to: &'a str,
    /// The employer's account.
    pub by: Uuid,
    /// The employer's comment.
    pub comment: Option<&'a str>,
    /// The review deadline when confirmed.
    pub review_due: Option<chrono::NaiveDate>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Applies an [`Endorsement`].
pub async fn endorse(
    conn: &mut AsyncPgConnection,
    e: &Endorsement<'_>,
) -> QueryResult<Option<crate::models::application::Application>> {
    use crate::models::application::Application;
    let declined = e.to == "rejected";
    diesel::update(
        applications::table
            .find(e.id)
            .filter(applications::status.eq("awaiting_employer")),
    )
    .set((
        applications::status.eq(e.to),
        applications::employer_endorsement.eq(e.endorsement),
        applications::endorsed_by.eq(e.by),
        applications::endorsed_at.eq(e.now),
        applications::endorsement_comment.eq(e.comment),
        applications::submitted_at.eq((!declined).then_some(e.now)),
        applications::review_due.eq(e.review_due),
        applications::decision.eq(declined.then_some("reject")),
        applications::reason_code.eq(declined.then_some("employer_declined")),
        applications::decided_by.eq(declined.then_some(e.by)),
        applications::decided_at.eq(declined.then_some(e.now)),
        applications::updated_at.eq(e.now),
    ))
    .returning(Application::as_returning())
    .get_result(conn)
    .await
    .optional()
}
