//! Dependants: the scheme's dependant policy in force, the person a dependant application is
//! for (ID sealed and blind-indexed), and the counts the policy is checked against.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{applications, cards, dependant_people, dependant_policies};
use crate::domain::dependants::DependantPolicy;

/// The statuses of a dependant application still waiting for a decision.
const PENDING: [&str; 2] = ["submitted", "supplement_requested"];

/// The dependant policy of `scheme` in force on `on`: the latest version effective by then,
/// else the built-in default (every shipped scheme's).
pub async fn policy_in_force(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    on: NaiveDate,
) -> QueryResult<(i32, DependantPolicy)> {
    let row: Option<(i32, serde_json::Value)> = dependant_policies::table
        .filter(dependant_policies::scheme.eq(scheme))
        .filter(dependant_policies::effective_from.le(on))
        .order((
            dependant_policies::effective_from.desc(),
            dependant_policies::version.desc(),
        ))
        .select((dependant_policies::version, dependant_policies::document))
        .first(conn)
        .await
        .optional()?;
    Ok(row
        .and_then(|(version, document)| Some((version, serde_json::from_value(document).ok()?)))
        .unwrap_or((0, DependantPolicy::default())))
}

/// Publishes the next version of a scheme's dependant policy; returns its number.
pub async fn publish_policy(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    effective_from: NaiveDate,
    policy: &DependantPolicy,
    published_by: &str,
) -> QueryResult<i32> {
    let latest: Option<i32> = dependant_policies::table
        .filter(dependant_policies::scheme.eq(scheme))
        .select(diesel::dsl::max(dependant_policies::version))
        .first(conn)
        .await?;
    let version = latest.unwrap_or(0) + 1;
    let document = serde_json::to_value(policy)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(dependant_policies::table)
        .values((
            dependant_policies::scheme.eq(scheme),
            dependant_policies::version.eq(version),
            dependant_policies::effective_from.eq(effective_from),
            dependant_policies::document.eq(document),
            dependant_policies::published_by.eq(published_by),
        ))
        .execute(conn)
        .await?;
    Ok(version)
}

/// The person a dependant application is for, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dependant_people)]
pub struct Person {
    /// The dependant application.
    pub application_id: Uuid,
    /// Scheme code (a person is a live dependant of one card per scheme).
    pub scheme: String,
    /// `spouse`, `child` or `parent`.
    pub relation: String,
    /// The family member's name.
    pub full_name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// `resident_id` or `passport`.
    pub id_type: String,
    /// AES-256-GCM sealed number, bound to the application id.
    pub id_number_ciphertext: Vec<u8>,
    /// The key that sealed it.
    pub id_number_key_id: String,
    /// Keyed blind index of the number (the same as a profile's for the same document).
    pub id_number_index: String,
    /// e.g. `110***********002X`.
    pub id_number_masked: String,
}

/// Stores the person of a dependant application.
pub async fn insert_person(conn: &mut AsyncPgConnection, person: &Person) -> QueryResult<()> {
    diesel::insert_into(dependant_people::table)
        .values(person)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The person of a dependant application.
pub async fn person(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
) -> QueryResult<Option<Person>> {
    dependant_people::table
        .find(application_id)
        .select(Person::as_select())
        .first(conn)
        .await
        .optional()
}

/// Serialises, until the transaction ends, every request for the person `index` under
/// `scheme`: two holders adding the same person at once queue, and the second sees the first.
pub async fn lock_person(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    index: &str,
) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 21)) IS NULL AS locked")
        .bind::<diesel::sql_types::Text, _>(format!("{scheme} {index}"))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Whether the person `index` is already a dependant under `scheme`: a dependant application
/// pending, or a live dependant card (active or suspended, valid on `today`).
pub async fn person_taken(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    index: &str,
    today: NaiveDate,
) -> QueryResult<bool> {
    let applications_of_person = dependant_people::table
        .filter(dependant_people::scheme.eq(scheme))
        .filter(dependant_people::id_number_index.eq(index))
        .select(dependant_people::application_id);
    let pending = diesel::select(diesel::dsl::exists(
        applications::table
            .filter(applications::id.eq_any(applications_of_person))
            .filter(applications::status.eq_any(PENDING)),
    ))
    .get_result::<bool>(conn)
    .await?;
    Ok(pending || person_live(conn, scheme, index, today).await?)
}

/// Whether the person `index` holds a live dependant card under `scheme` (active or
/// suspended, valid on `today`).
pub async fn person_live(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    index: &str,
    today: NaiveDate,
) -> QueryResult<bool> {
    let applications_of_person = dependant_people::table
        .filter(dependant_people::scheme.eq(scheme))
        .filter(dependant_people::id_number_index.eq(index))
        .select(dependant_people::application_id.nullable());
    diesel::select(diesel::dsl::exists(
        cards::table
            .filter(cards::application_id.eq_any(applications_of_person))
            .filter(cards::status.eq_any(["active", "suspended"]))
            .filter(cards::valid_until.ge(today)),
    ))
    .get_result(conn)
    .await
}

/// Live dependant cards of `principal` plus its pending dependant applications: what the
/// policy's maximum counts.
pub async fn live_count(
    conn: &mut AsyncPgConnection,
    principal: Uuid,
    today: NaiveDate,
) -> QueryResult<u32> {
    let cards: i64 = cards::table
        .filter(cards::principal_card.eq(principal))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .filter(cards::valid_until.ge(today))
        .count()
        .get_result(conn)
        .await?;
    let pending: i64 = applications::table
        .filter(applications::principal_card.eq(principal))
        .filter(applications::status.eq_any(PENDING))
        .count()
        .get_result(conn)
        .await?;
    Ok(u32::try_from(cards + pending).unwrap_or(u32::MAX))
}

/// The pending dependant applications of `principal`.
pub async fn pending_count(conn: &mut AsyncPgConnection, principal: Uuid) -> QueryResult<u32> {
    let pending: i64 = applications::table
        .filter(applications::principal_card.eq(principal))
        .filter(applications::status.eq_any(PENDING))
        .count()
        .get_result(conn)
        .await?;
    Ok(u32::try_from(pending).unwrap_or(u32::MAX))
}

/// The live dependant cards of `principal` (active or suspended; expired ones too, since an
/// expired card may still be revoked), oldest first, locked for the cascade.
pub async fn live_cards_of(
    conn: &mut AsyncPgConnection,
    principal: Uuid,
) -> QueryResult<Vec<crate::models::card::Card>> {
    cards::table
        .filter(cards::principal_card.eq(principal))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .order((cards::issued_at.asc(), cards::id.asc()))
        .select(crate::models::card::Card::as_select())
        .for_update()
        .load(conn)
        .await
}

/// A new dependant application's row values beyond a principal application's.
#[derive(Debug)]
pub struct NewDependantApplication<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// The principal card's holder.
    pub talent_id: Uuid,
    /// The principal card.
    pub principal_card: Uuid,
    /// Its scheme.
    pub scheme: &'a str,
    /// Its issuer (whose queue the application joins).
    pub issuer: &'a str,
    /// Sealed facts placeholder (`null`, bound to the id).
    pub facts: &'a [u8],
    /// The key that sealed it.
    pub key_id: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// The review deadline.
    pub review_due: NaiveDate,
}

/// Inserts a dependant application, submitted at once (nothing to draft: the holder's request
/// is complete), into the issuer's queue.
pub async fn insert_application(
    conn: &mut AsyncPgConnection,
    new: &NewDependantApplication<'_>,
) -> QueryResult<crate::models::application::Application> {
    use crate::models::application::Application;
    diesel::insert_into(applications::table)
        .values((
            applications::id.eq(new.id),
            applications::talent_id.eq(new.talent_id),
            applications::scheme.eq(new.scheme),
            applications::issuer.eq(new.issuer),
            applications::status.eq("submitted"),
            applications::facts.eq(new.facts),
            applications::key_id.eq(new.key_id),
            applications::submitted_at.eq(new.now),
            applications::review_due.eq(new.review_due),
            applications::created_at.eq(new.now),
            applications::updated_at.eq(new.now),
            applications::kind.eq("dependant"),
            applications::principal_card.eq(new.principal_card),
        ))
        .returning(Application::as_returning())
        .get_result(conn)
        .await
}

/// The principal card `id`, its row locked until the transaction ends: a dependant card issued
/// under it and a change of its status queue, so the change's cascade sees the new card, or the
/// issuance sees the change.
pub async fn lock_principal(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<crate::models::card::Card>> {
    cards::table
        .find(id)
        .select(crate::models::card::Card::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks a freshly issued card as the dependant card of `principal` for `person`.
pub async fn mark_dependant(
    conn: &mut AsyncPgConnection,
    card: Uuid,
    principal: Uuid,
    person: &Person,
) -> QueryResult<crate::models::card::Card> {
    diesel::update(cards::table.find(card))
        .set((
            cards::kind.eq("dependant"),
            cards::principal_card.eq(principal),
            cards::relation.eq(&person.relation),
            cards::dependant_name.eq(&person.full_name),
            cards::name_masked.eq(crate::domain::recognition::mask_name(&person.full_name)),
        ))
        .returning(crate::models::card::Card::as_returning())
        .get_result(conn)
        .await
}

/// An approved dependant application made for a dependant card carried over to the card that
/// superseded its principal: a card needs its own approval (one card per application).
#[derive(Debug)]
pub struct CarriedApplication<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// The new principal card.
    pub principal: &'a crate::models::card::Card,
    /// Sealed facts placeholder (`null`, bound to the id).
    pub facts: &'a [u8],
    /// The key that sealed it.
    pub key_id: &'a str,
    /// Who superseded the principal (an account), if anyone.
    pub decided_by: Option<Uuid>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Inserts the approved application of a carried-over dependant card.
pub async fn insert_carried_application(
    conn: &mut AsyncPgConnection,
    new: &CarriedApplication<'_>,
) -> QueryResult<()> {
    diesel::insert_into(applications::table)
        .values((
            applications::id.eq(new.id),
            applications::talent_id.eq(new.principal.holder_id),
            applications::scheme.eq(&new.principal.scheme),
            applications::issuer.eq(&new.principal.issuer),
            applications::status.eq("approved"),
            applications::facts.eq(new.facts),
            applications::key_id.eq(new.key_id),
            applications::submitted_at.eq(new.now),
            applications::decision.eq("approve"),
            applications::decided_tier.eq(&new.principal.tier),
            applications::decision_comment.eq("carried over to the superseding principal card"),
            applications::decided_by.eq(new.decided_by),
            applications::decided_at.eq(new.now),
            applications::created_at.eq(new.now),
            applications::updated_at.eq(new.now),
            applications::kind.eq("dependant"),
            applications::principal_card.eq(new.principal.id),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}
