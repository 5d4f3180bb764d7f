//! The two database roles: the migration owner, which owns every table, and the service role,
//! which reads and writes the tables but may only INSERT into the audit log.
//!
//! Only a table's owner (or a superuser) can drop or disable its triggers, so a service that
//! logs in as a non-owner cannot switch off the audit log's append-only trigger, and without
//! UPDATE, DELETE or TRUNCATE it cannot remove a row either, whatever it is made to run.

use diesel::QueryResult;
use diesel::connection::SimpleConnection;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Grants `role` what the service needs on every table the migrations made: read and write,
/// except the audit log (SELECT and INSERT only), its head (SELECT and UPDATE, the row lock
/// the writers queue on) and the migrations' own table (SELECT). Runs as the owner after each
/// migration run, so tables added later are covered; `role` is a checked SQL name.
pub fn grant_service_rights(conn: &mut impl SimpleConnection, role: &str) -> QueryResult<()> {
    conn.batch_execute(&format!(
        "GRANT USAGE ON SCHEMA public TO \"{role}\";
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\";
         GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO \"{role}\";
         REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit_log FROM \"{role}\";
         REVOKE INSERT, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit_chain_head FROM \"{role}\";
         REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON __diesel_schema_migrations FROM \"{role}\";"
    ))
}

/// Whether `role` exists on the server.
pub fn role_exists(conn: &mut impl SimpleConnection, role: &str) -> QueryResult<bool> {
    // batch_execute returns no rows; a failing statement is the portable "not found".
    let probe = conn.batch_execute(&format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN \
         RAISE EXCEPTION 'no role'; END IF; END $$;"
    ));
    match probe {
        Ok(()) => Ok(true),
        Err(diesel::result::Error::DatabaseError(_, info)) if info.message() == "no role" => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Creates `role` as a plain login role (no superuser, no role or database creation) when it is
/// missing, with `password` when the owner has one. Local and test setups only: in production
/// the operator creates the role (README, "Database roles"). Two processes creating it at once
/// are fine: the loser's duplicate is ignored.
pub fn create_login_role(
    conn: &mut impl SimpleConnection,
    role: &str,
    password: Option<&str>,
) -> QueryResult<()> {
    let password = password
        .map(|p| format!(" PASSWORD '{}'", p.replace('\'', "''")))
        .unwrap_or_default();
    conn.batch_execute(&format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
             CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE{password};
           END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;"
    ))
}

/// What the service's own login may do that it should not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct ServiceLogin {
    /// A superuser may do anything, triggers and replication roles included.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub superuser: bool,
    /// The owner (or a member of the owner's role) can disable the audit log's triggers.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub owns_audit_log: bool,
}

impl ServiceLogin {
    /// Whether the service could rewrite or switch off its own audit trail.
    pub fn can_rewrite_audit(&self) -> bool {
        self.superuser || self.owns_audit_log
    }
}

/// The rights of the connection's own login.
pub async fn service_login(conn: &mut AsyncPgConnection) -> QueryResult<ServiceLogin> {
    diesel::sql_query(
        "SELECT r.rolsuper AS superuser, \
                pg_has_role(current_user, c.relowner, 'USAGE') AS owns_audit_log \
         FROM pg_roles r, pg_class c \
         WHERE r.rolname = current_user AND c.oid = 'audit_log'::regclass",
    )
    .get_result(conn)
    .await
}
