use std::path::Path;

use base64::Engine;
use talentcard::configuration::{Environment, Settings};

use crate::helpers::manifest_dir;

/// A config directory holding the real base.toml and local.toml plus a custom environment file.
fn config_dir_with(environment_file: &str, contents: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["base.toml", "local.toml"] {
        std::fs::copy(
            manifest_dir().join("config").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join(environment_file), contents).unwrap();
    dir
}

const TOKEN: &str = "TALENTCARD__SECRETS__TOKEN_SIGNING_KEY";
const PII: &str = "TALENTCARD__SECRETS__PII_ENCRYPTION_KEY";
const INDEX: &str = "TALENTCARD__SECRETS__PII_INDEX_KEY";
const PLATFORM: &str = "TALENTCARD__SECRETS__PLATFORM_SIGNING_KEY";
const AUDIT: &str = "TALENTCARD__SECRETS__AUDIT_HMAC_KEY";

fn random_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(talentcard::crypto::random::bytes::<32>())
}

/// What a production environment gives: fresh random secrets (in no file) and DATABASE_URL.
fn production_variables() -> Vec<(String, String)> {
    [TOKEN, PII, INDEX, PLATFORM, AUDIT]
        .into_iter()
        .map(|var| (var.to_owned(), random_base64()))
        .chain([(
            "DATABASE_URL".to_owned(),
            "postgres://talentcard_service@db.internal:5432/talentcard".to_owned(),
        )])
        .collect()
}

/// [`production_variables`] with `var` set to `value` (or removed, for `None`).
fn with(var: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut variables: Vec<_> = production_variables()
        .into_iter()
        .filter(|(name, _)| name != var)
        .collect();
    if let Some(value) = value {
        variables.push((var.to_owned(), value.to_owned()));
    }
    variables
}

fn error_with(dir: &Path, environment: Environment, variables: Vec<(String, String)>) -> String {
    Settings::load_with(dir, environment, variables)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn error_of(dir: &Path, environment: Environment) -> String {
    error_with(dir, environment, production_variables())
}

#[test]
fn production_starts_with_its_own_secrets() {
    let dir = config_dir_with("production.toml", "");
    let variables = production_variables();
    let settings = Settings::load_with(dir.path(), Environment::Production, variables.clone())
        .expect("random secrets from the environment");
    assert_eq!(settings.environment, Environment::Production);
    let printed = format!("{settings:?}");
    for (_, value) in variables {
        assert!(!printed.contains(&value), "secrets never print: {printed}");
    }
}

/// The development secrets are in local.toml; the repository's files are public.
#[test]
fn production_refuses_the_development_secrets() {
    let dir = config_dir_with("production.toml", "");
    let local: toml::Table =
        toml::from_str(&std::fs::read_to_string(manifest_dir().join("config/local.toml")).unwrap())
            .unwrap();
    let dev_token = local["secrets"]["token_signing_key"].as_str().unwrap();
    let error = error_with(
        dir.path(),
        Environment::Production,
        with(TOKEN, Some(dev_token)),
    );
    assert!(error.contains(TOKEN), "{error}");
    assert!(error.contains("local.toml"), "{error}");
}

/// Any file under the configuration directory counts: the test suite's secrets, and a secret
/// written into production.toml itself.
#[test]
fn production_refuses_any_secret_found_in_a_configuration_file() {
    let real = manifest_dir().join("config");
    let test: toml::Table =
        toml::from_str(&std::fs::read_to_string(real.join("test.toml")).unwrap()).unwrap();
    let test_audit = test["secrets"]["audit_hmac_key"].as_str().unwrap();
    let error = error_with(
        &real,
        Environment::Production,
        with(AUDIT, Some(test_audit)),
    );
    assert!(
        error.contains(AUDIT) && error.contains("test.toml"),
        "{error}"
    );

    let index = random_base64();
    let dir = config_dir_with(
        "production.toml",
        &format!("[secrets]\npii_index_key = \"{index}\"\n"),
    );
    let error = error_with(dir.path(), Environment::Production, with(INDEX, None));
    assert!(
        error.contains(INDEX) && error.contains("production.toml"),
        "{error}"
    );
    // The same value from the environment alone starts.
    let clean = config_dir_with("production.toml", "");
    assert!(
        Settings::load_with(
            clean.path(),
            Environment::Production,
            with(INDEX, Some(&index))
        )
        .is_ok()
    );
}

#[test]
fn production_refuses_guessable_secrets() {
    let dir = config_dir_with("production.toml", "");
    for (var, weak) in [
        (TOKEN, "a".repeat(64)),
        (INDEX, "0123".repeat(16)),
        (AUDIT, "password-password-password-password".to_owned()),
        (
            PII,
            base64::engine::general_purpose::STANDARD.encode([7_u8; 32]),
        ),
    ] {
        let error = error_with(dir.path(), Environment::Production, with(var, Some(&weak)));
        assert!(
            error.contains(var) && error.contains("guessable"),
            "{var}: {error}"
        );
    }
}

/// One key for two purposes is refused everywhere, as text or as the bytes it keys.
#[test]
fn no_two_purposes_share_a_key_in_any_environment() {
    let dir = config_dir_with("production.toml", "");
    let variables = production_variables();
    let token = variables
        .iter()
        .find(|(n, _)| n == TOKEN)
        .unwrap()
        .1
        .clone();
    let error = error_with(
        dir.path(),
        Environment::Production,
        with(AUDIT, Some(&token)),
    );
    assert!(error.contains(TOKEN) && error.contains(AUDIT), "{error}");

    let pii = variables.iter().find(|(n, _)| n == PII).unwrap().1.clone();
    let error = error_with(
        dir.path(),
        Environment::Production,
        with(PLATFORM, Some(&pii)),
    );
    assert!(error.contains("same key"), "{error}");

    let local_index = "dev-only-token-signing-key-0123456789abcdef0123456789abcdef";
    let error = error_with(
        dir.path(),
        Environment::Local,
        vec![(INDEX.to_owned(), local_index.to_owned())],
    );
    assert!(error.contains(INDEX) || error.contains(TOKEN), "{error}");
    assert!(error.contains("same key"), "{error}");
}

#[test]
fn production_requires_database_url_from_the_environment() {
    let dir = config_dir_with(
        "production.toml",
        "[database]\nurl = \"postgres://talentcard_service@127.0.0.1:5432/talentcard\"\n",
    );
    let error = error_with(
        dir.path(),
        Environment::Production,
        with("DATABASE_URL", None),
    );
    assert!(error.contains("DATABASE_URL"), "{error}");
    assert!(error.contains("production"), "{error}");
    let settings = Settings::load_with(
        dir.path(),
        Environment::Production,
        with(
            "TALENTCARD__DATABASE__URL",
            Some("postgres://svc@db:5432/talentcard"),
        ),
    )
    .expect("TALENTCARD__DATABASE__URL counts as the environment's");
    assert_eq!(settings.database.url(), "postgres://svc@db:5432/talentcard");
}

#[test]
fn a_missing_secret_names_the_variable_to_set() {
    let dir = config_dir_with("production.toml", "[log]\nformat = \"json\"\n");
    let error = error_with(dir.path(), Environment::Production, with(PLATFORM, None));
    assert!(error.contains(PLATFORM), "{error}");
    assert!(error.contains("not set"), "{error}");
}

#[test]
fn a_bad_encryption_key_and_a_bad_pool_size_are_refused() {
    let dir = config_dir_with("production.toml", "");
    let error = error_with(
        dir.path(),
        Environment::Production,
        with(PII, Some("c2hvcnQ=")),
    );
    assert!(
        error.contains("TALENTCARD__SECRETS__PII_ENCRYPTION_KEY"),
        "{error}"
    );

    let dir = config_dir_with("production.toml", "[database]\npool_size = 0\n");
    let error = error_of(dir.path(), Environment::Production);
    assert!(error.contains("TALENTCARD__DATABASE__POOL_SIZE"), "{error}");
}

#[test]
fn the_environment_name_is_checked() {
    let error = "staging"
        .parse::<Environment>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("TALENTCARD_ENV"), "{error}");
}

#[test]
fn the_unknown_numbers_limit_defaults_to_20_and_must_be_positive() {
    let dir = config_dir_with("production.toml", "");
    let settings =
        Settings::load_with(dir.path(), Environment::Production, production_variables()).unwrap();
    assert_eq!(settings.partners.unknown_numbers_per_hour, 20);
    for bad in ["0", "-1", "2147483648"] {
        let file = format!("[partners]\nunknown_numbers_per_hour = {bad}\n");
        let dir = config_dir_with("production.toml", &file);
        let error = error_of(dir.path(), Environment::Production);
        assert!(
            error.contains("TALENTCARD__PARTNERS__UNKNOWN_NUMBERS_PER_HOUR"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn the_public_base_url_is_an_origin_and_nothing_more() {
    for good in [
        "https://cards.example.cn",
        "http://127.0.0.1:8080",
        "https://x.cn/",
    ] {
        let file = format!("[application]\npublic_base_url = \"{good}\"\n");
        let dir = config_dir_with("production.toml", &file);
        assert!(
            Settings::load_with(dir.path(), Environment::Production, production_variables())
                .is_ok(),
            "{good}"
        );
    }
    // Issuer metadata lives at the origin's root: a path would put `iss` where no verifier looks.
    for bad in [
        "https://cards.example.cn/talent",
        "ftp://cards.example.cn",
        "cards.example.cn",
        "https://user@cards.example.cn",
        "https://cards.example.cn/?a=1",
    ] {
        let file = format!("[application]\npublic_base_url = \"{bad}\"\n");
        let dir = config_dir_with("production.toml", &file);
        let error = error_of(dir.path(), Environment::Production);
        assert!(
            error.contains("TALENTCARD__APPLICATION__PUBLIC_BASE_URL"),
            "{bad}: {error}"
        );
    }
}

/// Production names its two logins itself; the local shortcut of one superuser URL is refused.
#[test]
fn production_refuses_the_local_service_login_shortcut() {
    let contents = "[database]\nservice_login_from_owner = true\n";
    let dir = config_dir_with("production.toml", contents);
    let error = error_of(dir.path(), Environment::Production);
    assert!(
        error.contains("TALENTCARD__DATABASE__SERVICE_LOGIN_FROM_OWNER"),
        "{error}"
    );
}
