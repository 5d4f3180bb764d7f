//! `?limit=&cursor=` as the API contract defines them: a default of 50, at most 200.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 200;

/// Page parameters of a list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The checked page size.
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid_field(
                "limit",
                "must be between 1 and 200",
            )),
        }
    }
}

/// The cursor after a row ordered by (time, id): opaque to clients, so the order's keys can
/// change without breaking them, and stable under inserts, unlike an offset.
pub fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.to_rfc3339()))
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_field("cursor", "is not a cursor from this list")
}

/// The text inside a cursor (URL-safe base64 of UTF-8).
fn cursor_text(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad_cursor)
}

/// Reads a cursor of [`encode_cursor`]; anything else is a 422 naming `cursor`.
pub fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let text = cursor_text(cursor)?;
    let (at, id) = text.split_once('|').ok_or_else(bad_cursor)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad_cursor())?
        .with_timezone(&Utc);
    Ok((at, Uuid::parse_str(id).map_err(|_| bad_cursor())?))
}

/// The cursor after a row ordered by a time-ordered id (UUID v7) alone.
pub fn encode_id_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.to_string())
}

impl PageQuery {
    /// The checked cursor of a list ordered by id alone (see [`encode_id_cursor`]).
    pub fn after_id(&self) -> Result<Option<Uuid>, ApiError> {
        self.cursor
            .as_deref()
            .map(|cursor| Uuid::parse_str(&cursor_text(cursor)?).map_err(|_| bad_cursor()))
            .transpose()
    }

    /// The checked cursor, as the (time, id) of the last row of the previous page.
    pub fn after(&self) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}
