//! The tamper-evident audit log.
//!
//! Every state change writes one row in the same transaction as the change, through
//! [`record`]. Rows form a hash chain ([`chain`]); [`verify`] walks it and names the first row
//! that does not fit. The database itself refuses UPDATE, DELETE and TRUNCATE on the table.

pub mod chain;
mod list;
mod record;
mod verify;

pub use list::{AuditEntry, AuditFilter, list};
pub use record::{Actor, AuditEvent, record};
pub use verify::{ChainBreak, VerifyReport, verify};
