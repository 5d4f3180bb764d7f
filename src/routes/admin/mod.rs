//! Administration: officials, agencies and their clients, disabling and unlocking accounts, the
//! audit log.
//! Every handler takes [`crate::extract::Admin`].

use utoipa_actix_web::service_config::ServiceConfig;

mod accounts;
mod agencies;
mod audit_log;
mod clients;
mod dependant_policy;
mod employers;
mod keys;
mod officials;
mod policies;
pub(crate) mod scheme_rules;
mod unlock;

/// Registers the routes under `/admin`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(officials::create_official)
        .service(agencies::create_agency)
        .service(agencies::list_agencies)
        .service(clients::create_client)
        .service(employers::create_employer)
        .service(employers::create_employer_account)
        .service(clients::revoke_client)
        .service(accounts::disable_account)
        .service(unlock::unlock_account)
        .service(audit_log::list_audit)
        .service(scheme_rules::publish_rules)
        .service(dependant_policy::publish_dependant_policy)
        .service(keys::rotate_key)
        .service(keys::compromise_key)
        .service(keys::list_keys)
        .service(policies::publish_recognitions)
        .service(policies::publish_entitlements);
}
