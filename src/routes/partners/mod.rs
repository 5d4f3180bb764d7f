//! Partner agencies: the recognition and entitlement rules in force, verification,
//! redemptions and their reversal.

use utoipa_actix_web::service_config::ServiceConfig;

mod nonce;
mod policies;
mod redeem;
mod reversal;
mod verify;

/// Registers the partner routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(policies::get_recognitions)
        .service(policies::get_entitlement_rules)
        .service(nonce::create_verification_nonce)
        .service(verify::verify_card)
        .service(redeem::redeem)
        .service(reversal::reverse_redemption);
}
