//! The caller's own account: `GET /me`, `PUT /me/profile`.

use utoipa_actix_web::service_config::ServiceConfig;

mod get_me;
mod put_profile;

/// Registers the routes under `/me`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me::get_me)
        .service(put_profile::put_profile);
}
