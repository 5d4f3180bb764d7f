//! Secondary indexes set aside while `seed --cards` loads a fresh benchmark database, and built
//! again afterwards by sorting: maintaining ten B-trees row by row (card numbers, status
//! indexes and e-mail addresses arrive in random order) cost more than the load itself, and
//! one sort per index is several times cheaper.
//!
//! Only on a scratch database: the caller sets indexes aside when the user is a superuser (the
//! same condition under which it skips the reference triggers) and no card exists yet. The
//! primary keys stay (foreign keys of other tables rest on them, and UUIDv7 keys arrive in
//! order). Each index comes back with exactly the definition PostgreSQL printed for it
//! (`pg_get_indexdef`), a unique constraint as its constraint again (`ADD CONSTRAINT … USING
//! INDEX`), so a duplicate fails the seed as it would have during the load.

use tokio_postgres::Client;

/// The tables `seed --cards` loads.
const TABLES: [&str; 3] = ["accounts", "applications", "cards"];

/// One index set aside: how to build it again.
#[derive(Debug, Clone)]
pub(super) struct SetAside {
    table: String,
    name: String,
    definition: String,
    /// The unique constraint it backs, to attach again once built.
    constraint: Option<String>,
}

/// Drops the secondary indexes (and the unique constraints they back) of the loaded tables;
/// answers how to build them again. Indexes that a foreign key rests on are kept.
pub(super) async fn set_aside(client: &mut Client) -> anyhow::Result<Vec<SetAside>> {
    let rows = client
        .query(
            "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), c.conname
               FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
               LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = t.oid
              WHERE t.relname = ANY($1)
                AND NOT x.indisprimary
                AND (c.oid IS NULL OR (c.contype = 'u' AND NOT c.condeferrable))
                AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                                 WHERE f.contype = 'f' AND f.conindid = x.indexrelid)
              ORDER BY t.relname, i.relname",
            &[&TABLES.to_vec()],
        )
        .await?;
    let set_aside: Vec<SetAside> = rows
        .iter()
        .map(|row| SetAside {
            table: row.get(0),
            name: row.get(1),
            definition: row.get(2),
            constraint: row.get(3),
        })
        .collect();
    let tx = client.transaction().await?;
    for index in &set_aside {
        let drop = match &index.constraint {
            Some(constraint) => format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                quoted(&index.table),
                quoted(constraint)
            ),
            None => format!("DROP INDEX {}", quoted(&index.name)),
        };
        tx.batch_execute(&drop).await?;
    }
    tx.commit().await?;
    Ok(set_aside)
}

/// Builds the indexes again, `connections` at a time (each on its own connection, with a
/// larger sort memory), then attaches the unique constraints.
pub(super) async fn restore(
    url: &str,
    set_aside: Vec<SetAside>,
    connections: usize,
) -> anyhow::Result<()> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(set_aside.clone()));
    let mut builders = Vec::new();
    for _ in 0..connections.max(1) {
        let (queue, url) = (queue.clone(), url.to_owned());
        builders.push(tokio::spawn(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            let connection = tokio::spawn(connection);
            client
                .batch_execute("SET maintenance_work_mem = '256MB'")
                .await?;
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(index) = next else { break };
                client.batch_execute(&index.definition).await?;
            }
            drop(client);
            connection.await??;
            Ok::<_, anyhow::Error>(())
        }));
    }
    for builder in builders {
        builder.await??;
    }
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    for index in &set_aside {
        if let Some(constraint) = &index.constraint {
            client
                .batch_execute(&format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}",
                    quoted(&index.table),
                    quoted(constraint),
                    quoted(&index.name)
                ))
                .await?;
        }
    }
    drop(client);
    connection.await??;
    Ok(())
}

/// An identifier quoted for SQL (the names come from the catalog, not from a user).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
