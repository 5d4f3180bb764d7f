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
