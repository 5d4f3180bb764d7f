//! The tamper-evident audit log.
//!
//! Every state change writes one row in the same transaction as the change, through
//! [`record`]. Rows form a hash chain ([`chain`]), and each row carries an HMAC of its hash
//! under a key held outside the database ([`keys`]), so a database writer cannot re-chain the
//! log; [`verify`] walks it and names the first row that does not fit. The database itself
//! refuses UPDATE, DELETE and TRUNCATE on the table, and the service's role may only insert.

pub mod chain;
pub mod keys;
mod list;
mod record;
mod verify;

pub use keys::AuditKeyring;
pub use list::{AuditEntry, AuditFilter, list};
pub use record::{Actor, AuditEvent, anchor, record};
pub use verify::{ChainBreak, VerifyReport, verify};
