use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use talentcard::db::{MIGRATIONS, revert_all_migrations, run_migrations};

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_migration_goes_down_and_up_again() {
    let app = spawn_app().await;
    let url = app.database.url.clone();
    let total = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    let reverted = revert_all_migrations(&url).await.unwrap();
    assert_eq!(reverted, total, "every migration has a down.sql that ran");
    let ran = run_migrations(&url).await.unwrap();
    assert_eq!(ran, total);
    // A second round proves the down migrations left nothing behind that blocks an up.
    assert_eq!(revert_all_migrations(&url).await.unwrap(), total);
    assert_eq!(run_migrations(&url).await.unwrap(), total);
}

/// The migration that put the masked name on the card row filled it for the cards already
/// issued, in SQL: it must mask exactly as the service does (`mask_name`), names of every
/// length, and the family member's name on a dependant card.
#[tokio::test]
async fn the_masked_name_backfill_masks_as_the_service_does() {
    use diesel::sql_types::Text;
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    use talentcard::domain::recognition::mask_name;

    #[derive(diesel::QueryableByName)]
    struct Shown {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        name_masked: String,
    }

    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let names = ["王", "李明", "张小明", "欧阳小明", "Ann Lee", " 赵磊 "];
    for (i, name) in names.iter().enumerate() {
        let dependant = if i == 3 { "'欧阳娜娜'" } else { "NULL" };
        let sql = format!(
            "INSERT INTO accounts (id, email, password_hash, full_name, role) \
             VALUES ('00000000-0000-7000-8000-00000000000{i}', 'backfill{i}@example.cn', 'x', \
                     '{name}', 'talent');
             INSERT INTO cards (id, number, holder_id, scheme, issuer, tier, status, valid_from, \
                                valid_until, issued_at, name_masked, kind, relation, dependant_name, \
                                principal_card) \
             VALUES ('00000000-0000-7000-8000-00000000010{i}', 'BACKFILL-{i}', \
                     '00000000-0000-7000-8000-00000000000{i}', 'XIONGAN', 'XA', 'B', 'active', \
                     current_date, current_date + 1, now(), 'unset', \
                     CASE WHEN {dependant} IS NULL THEN 'principal' ELSE 'dependant' END, \
                     CASE WHEN {dependant} IS NULL THEN NULL ELSE 'child' END, {dependant}, \
                     CASE WHEN {dependant} IS NULL THEN NULL \
                          ELSE '00000000-0000-7000-8000-000000000102'::uuid END);"
        );
        conn.batch_execute(&sql).await.unwrap();
    }
    conn.batch_execute("ALTER TABLE cards DROP COLUMN name_masked")
        .await
        .unwrap();
    conn.batch_execute(include_str!(
        "../../migrations/2026-12-15-000001_name_on_card/up.sql"
    ))
    .await
    .unwrap();

    let shown: Vec<Shown> = diesel::sql_query(
        "SELECT coalesce(c.dependant_name, a.full_name) AS name, c.name_masked
           FROM cards c JOIN accounts a ON a.id = c.holder_id WHERE c.number LIKE 'BACKFILL-%'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(shown.len(), names.len());
    for card in &shown {
        assert_eq!(card.name_masked, mask_name(&card.name), "{}", card.name);
    }
    assert!(shown.iter().any(|card| card.name_masked == "欧**娜"));
}

/// The holder's log names cards without a foreign key (its lock on the card row cost every
/// logged check a write to a random card page); what the key guarded, a log row naming a card
/// that is gone, cannot happen because cards are never deleted or truncated.
#[tokio::test]
async fn cards_are_never_deleted_so_the_log_never_names_a_missing_card() {
    use diesel_async::SimpleAsyncConnection;

    let app = spawn_app().await;
    let mut conn = app.connect().await;
    conn.batch_execute(
        "INSERT INTO accounts (id, email, password_hash, full_name, role) \
         VALUES ('00000000-0000-7000-8000-0000000000a1', 'kept@example.cn', 'x', '李明', 'talent');
         INSERT INTO cards (id, number, holder_id, scheme, issuer, tier, status, valid_from, \
                            valid_until, issued_at, name_masked) \
         VALUES ('00000000-0000-7000-8000-0000000000c1', 'KEPT-1', \
                 '00000000-0000-7000-8000-0000000000a1', 'XIONGAN', 'XA', 'B', 'revoked', \
                 current_date, current_date + 1, now(), '李*');",
    )
    .await
    .unwrap();
    for statement in ["DELETE FROM cards", "TRUNCATE cards CASCADE"] {
        let refused = conn.batch_execute(statement).await.unwrap_err();
        assert!(
            refused.to_string().contains("never deleted"),
            "{statement}: {refused}"
        );
    }
}
