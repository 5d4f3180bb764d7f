//! Pure domain rules with no I/O: validated value types and, later, eligibility, card numbers
//! and status machines. Everything here is unit-tested beside its code.

pub mod credit_code;
pub mod eligibility;
pub mod email;
pub mod id_document;
pub mod password;
pub mod throttle;
