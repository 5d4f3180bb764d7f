//! Keys that do not fit the stored data: start-up refuses with a message naming the variable to
//! fix, and `/readyz` answers 503 while stored data does not open (it used to answer 200, and
//! every read of personal data then failed with 500).

use base64::Engine;
use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
use talentcard::configuration::{Environment, Settings};
use talentcard::startup::Application;

use crate::helpers::{TestApp, manifest_dir, problem, spawn_app};

const PII: &str = "TALENTCARD__SECRETS__PII_ENCRYPTION_KEY";
const INDEX: &str = "TALENTCARD__SECRETS__PII_INDEX_KEY";

fn random_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(talentcard::crypto::random::bytes::<32>())
}

/// The test settings on `app`'s database, with `variables` set in their environment.
fn settings_on(app: &TestApp, variables: Vec<(String, String)>) -> Settings {
    let mut settings =
        Settings::load_with(&manifest_dir().join("config"), Environment::Test, variables)
            .expect("settings");
    settings.application.reference_dir = manifest_dir().join("config/reference");
    settings.application.schemes_dir = manifest_dir().join("config/schemes");
    settings.database.url = SecretString::from(app.database.url.clone());
    settings
}

async fn refusal(settings: &Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("start-up accepted a key that does not fit the stored data"),
        Err(error) => format!("{error:#}"),
    }
}

#[tokio::test]
async fn start_up_refuses_a_personal_data_key_that_does_not_open_the_issuer_keys() {
    let app = spawn_app().await;
    let wrong = settings_on(&app, vec![(PII.to_owned(), random_base64())]);
    let error = refusal(&wrong).await;
    assert!(error.contains(PII), "{error}");
    assert!(error.contains("issuer signing keys"), "{error}");

    Application::build(&settings_on(&app, Vec::new()))
        .await
        .expect("the right keys start");
}

#[tokio::test]
async fn start_up_refuses_an_index_key_that_does_not_reproduce_the_stored_index() {
    let app = spawn_app().await;
    let talent = app.talent("index-key@example.com").await;
    app.put_profile(&talent, 41).await;

    let wrong = settings_on(&app, vec![(INDEX.to_owned(), random_base64())]);
    let error = refusal(&wrong).await;
    assert!(error.contains(INDEX), "{error}");
    assert!(!error.contains(PII), "the PII key does fit: {error}");
}

#[tokio::test]
async fn readyz_answers_503_while_stored_data_does_not_open_and_200_once_it_does() {
    let app = spawn_app().await;
    let talent = app.talent("readyz-keys@example.com").await;
    app.put_profile(&talent, 42).await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);

    // As the owner: what a restore from another environment, or a writer's slip, leaves behind.
    let mut owner = AsyncPgConnection::establish(&app.database.url)
        .await
        .expect("owner connection");
    let run = |sql: &'static str| sql_query(sql);
    run("UPDATE profiles SET id_number_index = 'stale' || id_number_index")
        .execute(&mut owner)
        .await
        .expect("stale index");
    problem(app.get("/readyz").await, 503, "service_unavailable").await;

    run("UPDATE profiles SET id_number_index = substr(id_number_index, 6)")
        .execute(&mut owner)
        .await
        .expect("index restored");
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);

    run(
        "UPDATE issuer_keys SET private_key_sealed = private_key_sealed || '\\x00'::bytea \
         WHERE kid = (SELECT kid FROM issuer_keys ORDER BY created_at DESC, kid DESC LIMIT 1)",
    )
    .execute(&mut owner)
    .await
    .expect("sealed seed damaged");
    problem(app.get("/readyz").await, 503, "service_unavailable").await;
}
