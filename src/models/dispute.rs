//! Disputed identity documents: a claim by one account on a document another account held,
//! open until an administrator or an official of the issuer concerned assigns the document to
//! one of them (or the claimant stores another document).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{application_identity_documents, applications, cards, document_disputes};

/// A dispute as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = document_disputes)]
pub struct Dispute {
    /// UUID v7.
    pub id: Uuid,
    /// Blind index of the disputed document.
    pub id_number_index: String,
    /// The account that held the document when the claim was made.
    pub holder_id: Uuid,
    /// The account that claimed it.
    pub claimant_id: Uuid,
    /// When the claim was made.
    pub opened_at: DateTime<Utc>,
    /// When it was resolved or withdrawn.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who resolved it (`None` for a claim withdrawn by the claimant).
    pub resolved_by: Option<Uuid>,
    /// Who holds the document after it.
    pub assigned_to: Option<Uuid>,
}

/// Opens a claim of `claimant_id` on the document `index` held by `holder_id`, or finds the
/// open one (a claim repeated is the same claim). Returns its id.
pub async fn open(
    conn: &mut AsyncPgConnection,
    index: &str,
    holder_id: Uuid,
    claimant_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Uuid> {
    let inserted: Option<Uuid> = diesel::insert_into(document_disputes::table)
        .values((
            document_disputes::id.eq(Uuid::now_v7()),
            document_disputes::id_number_index.eq(index),
            document_disputes::holder_id.eq(holder_id),
            document_disputes::claimant_id.eq(claimant_id),
            document_disputes::opened_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .returning(document_disputes::id)
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(id) => Ok(id),
        None => {
            document_disputes::table
                .filter(document_disputes::id_number_index.eq(index))
                .filter(document_disputes::claimant_id.eq(claimant_id))
                .filter(document_disputes::resolved_at.is_null())
                .select(document_disputes::id)
                .first(conn)
                .await
        }
    }
}

/// Closes the open claims of `claimant_id` on documents other than `keep` (the claimant stored
/// another document: the claim is withdrawn, the holder keeps theirs). Returns their ids.
pub async fn withdraw_claims(
    conn: &mut AsyncPgConnection,
    claimant_id: Uuid,
    keep: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    diesel::update(
        document_disputes::table
            .filter(document_disputes::claimant_id.eq(claimant_id))
            .filter(document_disputes::id_number_index.ne(keep))
            .filter(document_disputes::resolved_at.is_null()),
    )
    .set(document_disputes::resolved_at.eq(now))
    .returning(document_disputes::id)
    .get_results(conn)
    .await
}

/// The open dispute `id`, locked until the transaction ends.
pub async fn lock_open(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Dispute>> {
    document_disputes::table
        .find(id)
        .filter(document_disputes::resolved_at.is_null())
        .select(Dispute::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The dispute `id`, open or not.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Dispute>> {
    document_disputes::table
        .find(id)
        .select(Dispute::as_select())
        .first(conn)
        .await
        .optional()
}

/// Records the resolution of an open dispute: the document goes to `assigned_to`.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    assigned_to: Uuid,
    resolved_by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        document_disputes::table
            .find(id)
            .filter(document_disputes::resolved_at.is_null()),
    )
    .set((
        document_disputes::resolved_at.eq(now),
        document_disputes::resolved_by.eq(resolved_by),
        document_disputes::assigned_to.eq(assigned_to),
    ))
    .execute(conn)
    .await
}

/// An open dispute on the document `index`, if there is one.
pub async fn open_on(conn: &mut AsyncPgConnection, index: &str) -> QueryResult<Option<Uuid>> {
    document_disputes::table
        .filter(document_disputes::id_number_index.eq(index))
        .filter(document_disputes::resolved_at.is_null())
        .order(document_disputes::opened_at.asc())
        .select(document_disputes::id)
        .first(conn)
        .await
        .optional()
}

/// Whether the issuer `issuer` is concerned by a dispute between `a` and `b`: one of them has
/// an application submitted to it, or holds one of its cards.
pub async fn concerns_issuer(
    conn: &mut AsyncPgConnection,
    a: Uuid,
    b: Uuid,
    issuer: &str,
) -> QueryResult<bool> {
    use diesel::dsl::{exists, select};
    let applied = applications::table
        .filter(applications::talent_id.eq_any([a, b]))
        .filter(applications::issuer.eq(issuer))
        .filter(applications::submitted_at.is_not_null());
    let carded = cards::table
        .filter(cards::holder_id.eq_any([a, b]))
        .filter(cards::issuer.eq(issuer));
    select(exists(applied).or(exists(carded)))
        .get_result(conn)
        .await
}

/// Whether the application may be approved as far as its identity document goes: it was
/// submitted with a document (applications loaded in bulk, with none, are not held back), and
/// that document is still its applicant's, undisputed, with no open claim on it.
pub async fn document_settled(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
    talent_id: Uuid,
) -> QueryResult<bool> {
    let Some(index) = application_identity_documents::table
        .find(application_id)
        .select(application_identity_documents::id_number_index)
        .first::<String>(conn)
        .await
        .optional()?
    else {
        return Ok(true);
    };
    let held = super::profile::find(conn, talent_id)
        .await?
        .is_some_and(|p| p.id_number_index == index && p.disputed_at.is_none());
    Ok(held && open_on(conn, &index).await?.is_none())
}
