//! Evidence documents of an application (content sealed at rest).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::application_documents;

/// A document's description (no content).
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = application_documents)]
pub struct DocumentInfo {
    /// UUID v7.
    pub id: Uuid,
    /// The file name given, cleaned.
    pub filename: String,
    /// Sniffed from the content: `application/pdf`, `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size: i32,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// A document to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = application_documents)]
pub struct NewDocument<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// The application.
    pub application_id: Uuid,
    /// Clean file name.
    pub filename: &'a str,
    /// Sniffed type.
    pub content_type: &'a str,
    /// Bytes.
    pub size: i32,
    /// SHA-256 hex.
    pub sha256: &'a str,
    /// Sealed content.
    pub content: &'a [u8],
    /// Key id.
    pub key_id: &'a str,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// Stores a document.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewDocument<'_>,
) -> QueryResult<DocumentInfo> {
    diesel::insert_into(application_documents::table)
        .values(new)
        .returning(DocumentInfo::as_returning())
        .get_result(conn)
        .await
}

/// The documents of an application, oldest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
) -> QueryResult<Vec<DocumentInfo>> {
    application_documents::table
        .filter(application_documents::application_id.eq(application_id))
        .order(application_documents::created_at.asc())
        .select(DocumentInfo::as_select())
        .load(conn)
        .await
}

/// One document with its sealed content, if it belongs to the application.
pub async fn find(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<(DocumentInfo, Vec<u8>)>> {
    application_documents::table
        .filter(application_documents::application_id.eq(application_id))
        .filter(application_documents::id.eq(id))
        .select((DocumentInfo::as_select(), application_documents::content))
        .first(conn)
        .await
        .optional()
}

/// What one account holds in evidence across all its applications: (files, bytes). Read under
/// the account's row lock ([`crate::models::account::lock_holder`]) by every upload, so racing
/// uploads see each other and cannot pass the quota together.
pub async fn usage_of_account(
    conn: &mut AsyncPgConnection,
    talent_id: Uuid,
) -> QueryResult<(i64, i64)> {
    use crate::db::schema::applications;
    use diesel::dsl::{count_star, sum};
    let (files, bytes): (i64, Option<i64>) = application_documents::table
        .inner_join(applications::table)
        .filter(applications::talent_id.eq(talent_id))
        .select((count_star(), sum(application_documents::size)))
        .first(conn)
        .await?;
    Ok((files, bytes.unwrap_or(0)))
}

/// Deletes the evidence of an application (a withdrawn draft's: nobody reviewed it and it can
/// never be submitted); returns how many files went.
pub async fn delete_of_application(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        application_documents::table
            .filter(application_documents::application_id.eq(application_id)),
    )
    .execute(conn)
    .await
}
