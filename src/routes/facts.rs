//! Checking an applicant's facts beyond their types, shared by the eligibility check and the
//! application endpoints that accept facts, so each refuses the same facts with the same
//! field paths.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;

use crate::domain::eligibility::Facts;
use crate::error::{ApiError, FieldError};
use crate::models::reference;

/// Checks facts beyond their types: dates, text, the credit code's check character, and that
/// the employer's district exists. Field paths are prefixed with `prefix` (e.g. `facts.`).
pub async fn validate_facts(
    conn: &mut AsyncPgConnection,
    facts: &Facts,
    today: NaiveDate,
    prefix: &str,
) -> Result<(), ApiError> {
    let mut errors: Vec<FieldError> = facts
        .problems(today)
        .into_iter()
        .map(|(field, message)| FieldError {
            field: format!("{prefix}{field}"),
            message,
        })
        .collect();
    if !reference::district_exists(conn, &facts.employer.district).await? {
        errors.push(FieldError {
            field: format!("{prefix}employer.district"),
            message: "is not a known district (see GET /api/v1/districts)".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}
