//! Pure domain rules with no I/O: validated value types, the eligibility engine, card numbers,
//! the application status machine, working days. Everything here is unit-tested beside its code.

pub mod application_status;
pub mod card_number;
pub mod card_status;
pub mod credit_code;
pub mod dependants;
pub mod eligibility;
pub mod email;
pub mod file_name;
pub mod free_text;
pub mod holder_year;
pub mod id_document;
pub mod password;
pub mod recognition;
pub mod standing;
pub mod throttle;
pub mod working_days;
