//! The tamper-evident audit log.
//!
//! Every state change writes one row in the same transaction as the change, through
//! [`record`]. Rows form a hash chain ([`chain`]), and each row carries an HMAC of its hash
//! under a key held outside the database ([`keys`]), so a database writer cannot re-chain the
//! log; [`verify`] walks it and names the first row that does not fit. The database itself
//! refuses UPDATE, DELETE and TRUNCATE on the table, and the service's role may only insert.
//!
//! Access denials are the exception to one row per event: [`denials`] counts them in memory and
//! writes one row per kind, route, method and caller per interval, so their cost is bounded.

pub mod chain;
pub mod denials;
pub mod keys;
mod list;
mod record;
mod verify;

pub use keys::AuditKeyring;
pub use list::{AuditEntry, AuditFilter, list};
pub use record::{Actor, AuditEvent, anchor, record};
pub use verify::{ChainBreak, VerifyReport, verify};
