//! A talent's identity document and phone, sealed.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::profiles;

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
    /// e.g. `110***********002X`.
    pub id_number_masked: String,
    /// e.g. `138****5678`.
    pub phone_masked: Option<String>,
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
}

/// Creates or replaces the profile of `new.account_id`. Another account holding the same
/// document is a `UniqueViolation` on the blind index.
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
