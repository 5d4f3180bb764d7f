//! Row types and queries, one file per table or aggregate. Functions return `QueryResult`;
//! turning a database answer into an HTTP answer is the handlers' business.

pub mod account;
pub mod address_rate;
pub mod agency;
pub mod application;
pub mod card;
pub mod card_status;
pub mod dispute;
pub mod document;
pub mod holder_key;
pub mod idempotency;
pub mod issuer_key;
pub mod key_samples;
pub mod policy;
pub mod prepared;
pub mod presentation;
pub mod profile;
pub mod redemption;
pub mod reference;
pub mod scheme;
pub mod session;
pub mod shown_card;
pub mod standing;
pub mod status_list;
pub mod sweep;
pub mod throttle;
pub mod verification;
