//! The middleware that notes access denials for the audit log.
//!
//! It looks only at the answer's status and the request's route pattern: a 401, 403 or 404 on
//! a route the application has is counted in [`crate::audit::denials::DenialLog`] under the
//! caller the role extractors left in the request ([`KnownActor`]), else `anonymous`. A path no
//! route matches is a scanner's guess, not a denial of a resource, and is not counted (the
//! access log and the request metrics see it). Nothing is written to the database here: the
//! request pays a map update, the flush pays one row per key.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::audit::Actor;
use crate::audit::denials::{DenialKey, DenialKind, KnownActor};
use crate::state::AppState;

/// Middleware: counts the answer when it is a denial of a matched route. Wrapped innermost,
/// around the router alone: handlers' and extractors' errors reach it as answers with their
/// status (actix turns them into responses at the route), and no middleware of ours sits
/// between it and them to answer with an `Err` instead.
pub async fn note_denials(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    if let Some(kind) = DenialKind::of(response.status()) {
        note(response.request(), kind);
    }
    Ok(response)
}

fn note(request: &HttpRequest, kind: DenialKind) {
    let Some(route) = request.match_pattern() else {
        return;
    };
    let Some(state) = request.app_data::<web::Data<AppState>>() else {
        return;
    };
    let actor = request
        .extensions()
        .get::<KnownActor>()
        .map_or(Actor::Anonymous, |known| known.0.clone());
    let key = DenialKey::new(kind, request.method(), route, actor);
    state.denials.note(key, state.now());
}
