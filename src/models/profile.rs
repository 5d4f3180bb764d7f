//! A talent's identity document and phone, sealed; the copy each application keeps of the
//! document it was submitted with; and the checks that bind a document to one person (frozen
//! while in use, one holder, claims on a held document kept as disputes).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{application_identity_documents, applications, cards, profiles};

/// A profile as stored; only masked values are readable without the key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles)]
pub struct Profile {
    /// The account it belongs to.
    pub account_id: Uuid,
    /// `resident_id` or `passport`.
    pub id_type: String,
    /// AES-256-GCM sealed number.
    pub id_number_ciphertext: Vec<u8>,
    /// The key that sealed it.
    pub id_number_key_id: String,
    /// Blind index of the number: equal for the same document, whoever stores it.
    pub id_number_index: String,
    /// e.g. `110***********002X`.
    pub id_number_masked: String,
    /// e.g. `138****5678`.
    pub phone_masked: Option<String>,
    /// Set while another account held this document when it was stored: the claim waits for
    /// an administrator or the issuer (see `models::dispute`).
    pub disputed_at: Option<DateTime<Utc>>,
}

/// A profile to store.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = profiles, treat_none_as_null = true)]
pub struct NewProfile<'a> {
    /// The account it belongs to.
    pub account_id: Uuid,
    /// `resident_id` or `passport`.
    pub id_type: &'a str,
    /// Sealed number.
    pub id_number_ciphertext: &'a [u8],
    /// Key id.
    pub id_number_key_id: &'a str,
    /// Blind index of the number.
    pub id_number_index: &'a str,
    /// Masked number.
    pub id_number_masked: &'a str,
    /// Sealed phone.
    pub phone_ciphertext: Option<&'a [u8]>,
    /// Masked phone.
    pub phone_masked: Option<&'a str>,
    /// When the document is claimed from another holder; `None` for a document held.
    pub disputed_at: Option<DateTime<Utc>>,
}

/// Creates or replaces the profile of `new.account_id`. Another account holding the same
/// document undisputed is a `UniqueViolation` on the blind index: callers check with
/// [`holder_of`] under [`lock_document`] first.
pub async fn upsert(conn: &mut AsyncPgConnection, new: &NewProfile<'_>) -> QueryResult<Profile> {
    diesel::insert_into(profiles::table)
        .values(new)
        .on_conflict(profiles::account_id)
        .do_update()
        .set(new)
        .returning(Profile::as_returning())
        .get_result(conn)
        .await
}

/// The profile of an account, if it has one.
pub async fn find(conn: &mut AsyncPgConnection, account_id: Uuid) -> QueryResult<Option<Profile>> {
    profiles::table
        .find(account_id)
        .select(Profile::as_select())
        .first(conn)
        .await
        .optional()
}

/// Serialises, until the transaction ends, everything that stores or assigns the document with
/// blind index `index`: two accounts storing one new number at once queue, and the second sees
/// the first as its holder.
pub async fn lock_document(conn: &mut AsyncPgConnection, index: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 17)) IS NULL AS locked")
        .bind::<diesel::sql_types::Text, _>(index)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The account other than `except` that holds the document `index` undisputed, if any.
pub async fn holder_of(
    conn: &mut AsyncPgConnection,
    index: &str,
    except: Uuid,
) -> QueryResult<Option<Uuid>> {
    profiles::table
        .filter(profiles::id_number_index.eq(index))
        .filter(profiles::disputed_at.is_null())
        .filter(profiles::account_id.ne(except))
        .select(profiles::account_id)
        .first(conn)
        .await
        .optional()
}

/// Whether the account's document is in use and so frozen: an application of it submitted and
/// not decided (submitted, waiting for a supplement), or a live card (active or suspended, not
/// expired on `today`). Its document then changes only through the issuer.
pub async fn document_in_use(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    today: NaiveDate,
) -> QueryResult<bool> {
    use diesel::dsl::{exists, select};
    let open = applications::table
        .filter(applications::talent_id.eq(account_id))
        .filter(applications::status.eq_any(["submitted", "supplement_requested"]));
    let live = cards::table
        .filter(cards::holder_id.eq(account_id))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .filter(cards::valid_until.ge(today));
    select(exists(open).or(exists(live))).get_result(conn).await
}

/// Frees a document: deletes the profile of `account_id` if it is the document `index` (the
/// loser of a resolved dispute stores their own document again). Returns rows deleted.
pub async fn release(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    index: &str,
) -> QueryResult<usize> {
    diesel::delete(
        profiles::table
            .find(account_id)
            .filter(profiles::id_number_index.eq(index)),
    )
    .execute(conn)
    .await
}

/// Makes `account_id` the undisputed holder of the document `index`, if its profile is that
/// document. Returns rows changed.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    index: &str,
) -> QueryResult<usize> {
    diesel::update(
        profiles::table
            .find(account_id)
            .filter(profiles::id_number_index.eq(index)),
    )
    .set(profiles::disputed_at.eq(None::<DateTime<Utc>>))
    .execute(conn)
    .await
}

/// The identity document an application was submitted with (sealed, bound to the applicant's
/// account like the profile it was copied from).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = application_identity_documents)]
pub struct SubmittedDocument {
    /// `resident_id` or `passport`.
    pub id_type: String,
    /// The sealed number.
    pub id_number_ciphertext: Vec<u8>,
    /// Blind index of the number.
    pub id_number_index: String,
    /// e.g. `110***********002X`.
    pub id_number_masked: String,
}

/// Copies the applicant's current profile document onto the application (at submission and
/// resubmission). Returns rows written: 0 when the applicant has no profile.
pub async fn copy_to_application(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
    talent_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use application_identity_documents as copy;
    let Some(current) = find(conn, talent_id).await? else {
        return Ok(0);
    };
    let values = (
        copy::id_type.eq(&current.id_type),
        copy::id_number_ciphertext.eq(&current.id_number_ciphertext),
        copy::id_number_key_id.eq(&current.id_number_key_id),
        copy::id_number_index.eq(&current.id_number_index),
        copy::id_number_masked.eq(&current.id_number_masked),
        copy::copied_at.eq(now),
    );
    diesel::insert_into(copy::table)
        .values((copy::application_id.eq(application_id), values))
        .on_conflict(copy::application_id)
        .do_update()
        .set(values)
        .execute(conn)
        .await
}

/// The document `application_id` was submitted with, if it was submitted with one.
pub async fn of_application(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
) -> QueryResult<Option<SubmittedDocument>> {
    application_identity_documents::table
        .find(application_id)
        .select(SubmittedDocument::as_select())
        .first(conn)
        .await
        .optional()
}
