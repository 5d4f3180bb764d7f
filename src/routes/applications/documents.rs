//! Evidence: `POST /api/v1/applications/{id}/documents` (multipart `file`: PDF, JPEG or PNG, at
//! most 10 MiB, the type sniffed from the content), `GET` to list, and
//! `GET …/documents/{doc_id}` to download. Only the owner and officials of the issuer see them.
//! An account's evidence is bounded across its applications (files and bytes, configured under
//! `[documents]`), and a withdrawn draft's files are deleted with the withdrawal.

use actix_multipart::Multipart;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{invalid_transition, own_application, viewer, visible_application};
use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::domain::application_status::{Action, Status};
use crate::domain::file_name;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{AuthUser, Talent};
use crate::extract::{BodyLimits, body_timed_out};
use crate::models::document::{self, DocumentInfo, NewDocument};
use crate::models::{account, application};
use crate::state::AppState;

/// Largest document accepted: 10 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Most documents one application may carry.
const MAX_DOCUMENTS: usize = 30;

/// The multipart form of an upload.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the form for OpenAPI only")]
pub struct Upload {
    /// The file: PDF, JPEG or PNG, at most 10 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The media type the content really is, by its first bytes; `None` for anything else
/// (executables, archives, HTML, SVG…), whatever the name or header claims.
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        "a document may be at most 10 MiB",
    )
}

/// The whole multipart body may carry the file plus this much framing.
const MAX_BODY_BYTES: usize = MAX_DOCUMENT_BYTES + 64 * 1024;

/// Uploads held in memory at once per instance (each holds up to three copies of 10 MiB).
static UPLOAD_SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(4));

/// The request body as a stream that fails once it passes [`MAX_BODY_BYTES`], so neither the
/// file nor multipart framing (part headers, preamble) can grow without bound.
fn capped(
    payload: web::Payload,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> {
    payload.scan(0usize, |seen, chunk| {
        let chunk = chunk.and_then(|bytes| {
            *seen += bytes.len();
            if *seen > MAX_BODY_BYTES {
                Err(actix_web::error::PayloadError::Overflow)
            } else {
                Ok(bytes)
            }
        });
        std::future::ready(Some(chunk))
    })
}

/// Reads the `file` field, refusing more than 10 MiB without reading further.
async fn read_file(mut form: Multipart) -> Result<(String, Vec<u8>), ApiError> {
    let malformed = |_| {
        ApiError::new(
            ErrorCode::MalformedRequest,
            "the body must be multipart/form-data with a `file` field",
        )
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        if field.name() != Some("file") {
            continue;
        }
        let filename =
            file_name::display_name(field.content_disposition().and_then(|cd| cd.get_filename()));
        let mut content = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if content.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large());
            }
            content.extend_from_slice(&chunk);
        }
        return Ok((filename, content));
    }
    Err(ApiError::invalid_field("file", "is required"))
}

/// Uploads a document to the caller's draft (or to an application waiting for a supplement).
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body(content = Upload, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored document", body = DocumentInfo),
        (status = 404, description = "not_found: no such application of the caller's"),
        (status = 409, description = "invalid_transition: the application no longer takes evidence; evidence_quota_exceeded: the account holds as many files or bytes of evidence as it may"),
        (status = 413, description = "payload_too_large: the file is larger than allowed"),
        (status = 415, description = "unsupported_media_type: the file is not a PDF, JPEG or PNG, or the body not multipart/form-data"),
    )
)]
#[post("/applications/{id}/documents")]
pub async fn upload_document(
    req: HttpRequest,
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let owner = talent.0.account_id;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let (found, _) = {
        let mut conn = state.pool.get().await?;
        own_application(&mut conn, *id, owner, Action::Update, "given new evidence").await?
    };
    let _slot = tokio::time::timeout(std::time::Duration::from_secs(10), UPLOAD_SLOTS.acquire())
        .await
        .map_err(|_| ApiError::unavailable())?
        .map_err(ApiError::internal)?;
    let deadline = BodyLimits::of(&req).upload_timeout;
    let form = Multipart::new(req.headers(), capped(payload));
    let (filename, content) = tokio::time::timeout(deadline, read_file(form))
        .await
        .map_err(|_| body_timed_out())??;
    if content.is_empty() {
        return Err(ApiError::invalid_field("file", "is empty"));
    }
    let content_type = sniff(&content).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "only PDF, JPEG and PNG documents are accepted",
        )
    })?;
    let doc_id = Uuid::now_v7();
    let size = i32::try_from(content.len()).map_err(|_| too_large())?;
    let pii = state.pii.clone();
    // Hashing and sealing up to 10 MiB is CPU work: off the async workers.
    let (sha256, sealed) = tokio::task::spawn_blocking(move || {
        let sha256 = hex::encode(Sha256::digest(&content));
        pii.seal_bytes(&content, Field::Document, doc_id.as_bytes())
            .map(|sealed| (sha256, sealed))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let new = NewDocument {
        id: doc_id,
        application_id: found.id,
        filename: &filename,
        content_type,
        size,
        sha256: &sha256,
        content: &sealed,
        key_id: state.pii.key_id(),
        created_at: state.now(),
    };
    let mut conn = state.pool.get().await?;
    let stored = conn
        .transaction(async |c| {
            // Re-checked under the row lock: the application may have been submitted while the
            // body was arriving, and parallel uploads must not pass the cap together.
            let current = application::lock_status(c, found.id).await?.unwrap_or_default();
            let still_open = Status::parse(&current).is_some_and(|s| s.after(Action::Update).is_some());
            if !still_open {
                return Err(invalid_transition(&current, "given new evidence"));
            }
            if document::list(c, found.id).await?.len() >= MAX_DOCUMENTS {
                let message = format!("an application holds at most {MAX_DOCUMENTS} documents");
                return Err(ApiError::invalid_field("file", message));
            }
            within_quota(&state, c, owner, i64::from(size)).await?;
            let stored = document::insert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(owner),
                action: "document.uploaded",
                entity_type: "application",
                entity_id: Some(found.id.to_string()),
                detail: json!({ "document": doc_id, "content_type": content_type, "size": size, "sha256": sha256 }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(stored)
        })
        .await?;
    Ok(HttpResponse::Created().json(stored))
}

/// The account's evidence quota (files and bytes across all its applications, see
/// [`crate::configuration::DocumentSettings`]), counted under the account's row lock so racing
/// uploads queue and the second sees the first: 409 `evidence_quota_exceeded` past it.
async fn within_quota(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    owner: Uuid,
    size: i64,
) -> Result<(), ApiError> {
    account::lock_holder(conn, owner).await?;
    let (files, bytes) = document::usage_of_account(conn, owner).await?;
    let limits = &state.documents;
    if files >= limits.max_files_per_account || bytes + size > limits.max_bytes_per_account {
        let detail = format!(
            "your applications hold {files} files and {bytes} bytes of evidence; an account may \
             hold at most {} files and {} bytes (withdrawing a draft frees its files)",
            limits.max_files_per_account, limits.max_bytes_per_account
        );
        return Err(ApiError::new(ErrorCode::EvidenceQuotaExceeded, detail));
    }
    Ok(())
}

/// Lists an application's documents.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application's documents", body = Vec<DocumentInfo>),
        (status = 404, description = "not_found: no such application the caller may see"),
    )
)]
#[get("/applications/{id}/documents")]
pub async fn list_documents(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let mut conn = state.pool.get().await?;
    let found = visible_application(&mut conn, *id, &viewer).await?;
    Ok(HttpResponse::Ok().json(document::list(&mut conn, found.id).await?))
}

/// Downloads a document.
#[utoipa::path(
    tag = "applications",
    params(
        ("id" = Uuid, Path, description = "Application id"),
        ("doc_id" = Uuid, Path, description = "Document id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "not_found: no such document of an application the caller may see"),
    )
)]
#[get("/applications/{id}/documents/{doc_id}")]
pub async fn download_document(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, doc_id) = path.into_inner();
    let viewer = viewer(&user)?;
    let mut conn = state.pool.get().await?;
    let found = visible_application(&mut conn, id, &viewer).await?;
    let (info, sealed) = document::find(&mut conn, found.id, doc_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // An official reading someone's evidence is a read of personal data: recorded before the
    // content leaves, and nothing is served when it cannot be. The owner's own reads are not.
    if let crate::models::application::Viewer::Official(_) = viewer {
        let event = AuditEvent {
            actor: Actor::Account(user.account_id),
            action: "document.downloaded",
            entity_type: "application",
            entity_id: Some(found.id.to_string()),
            detail: json!({ "document": doc_id, "talent": found.talent_id }),
        };
        conn.transaction(async |c| audit::record(c, &event).await)
            .await?;
    }
    drop(conn);
    let pii = state.pii.clone();
    let content = tokio::task::spawn_blocking(move || {
        pii.open_bytes(&sealed, Field::Document, doc_id.as_bytes())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        info.filename.replace(|c: char| !c.is_ascii(), "_")
    );
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, info.content_type))
        .insert_header((CONTENT_DISPOSITION, disposition))
        .body(content))
}
