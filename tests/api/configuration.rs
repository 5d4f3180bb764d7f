use std::path::Path;

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

fn error_of(dir: &Path, environment: Environment) -> String {
    Settings::load_from(dir, environment)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

const GOOD_SECRETS: &str = r#"
[secrets]
token_signing_key = "a-production-token-key-that-is-long-enough-000"
pii_encryption_key = "cHJvZC1waWktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="
pii_index_key = "a-production-blind-index-key-that-is-long-enough"
platform_signing_key = "cHJvZC1wbGF0Zm9ybS1zaWduaW5nLXNlZWQtMzItYnk="
audit_hmac_key = "a-production-audit-chain-key-that-is-long-enough"
"#;

#[test]
fn production_starts_with_its_own_secrets() {
    let dir = config_dir_with("production.toml", GOOD_SECRETS);
    let settings = Settings::load_from(dir.path(), Environment::Production).unwrap();
    assert_eq!(settings.environment, Environment::Production);
    let printed = format!("{settings:?}");
    assert!(
        !printed.contains("a-production-token-key"),
        "secrets never print: {printed}"
    );
}

#[test]
fn production_refuses_the_development_secrets() {
    let local = std::fs::read_to_string(manifest_dir().join("config/local.toml")).unwrap();
    let dir = config_dir_with("production.toml", &local);
    let error = error_of(dir.path(), Environment::Production);
    assert!(error.contains("TALENTCARD__SECRETS__"), "{error}");
    assert!(error.contains("development value"), "{error}");
}

#[test]
fn a_missing_secret_names_the_variable_to_set() {
    let dir = config_dir_with("production.toml", "[log]\nformat = \"json\"\n");
    let error = error_of(dir.path(), Environment::Production);
    assert!(error.contains("TALENTCARD__SECRETS__"), "{error}");
    assert!(error.contains("not set"), "{error}");
}

#[test]
fn a_bad_encryption_key_and_a_bad_pool_size_are_refused() {
    let short_key =
        GOOD_SECRETS.replace("cHJvZC1waWktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=", "c2hvcnQ=");
    let dir = config_dir_with("production.toml", &short_key);
    let error = error_of(dir.path(), Environment::Production);
    assert!(
        error.contains("TALENTCARD__SECRETS__PII_ENCRYPTION_KEY"),
        "{error}"
    );

    let pool = format!("{GOOD_SECRETS}\n[database]\npool_size = 0\n");
    let dir = config_dir_with("production.toml", &pool);
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
    let dir = config_dir_with("production.toml", GOOD_SECRETS);
    let settings = Settings::load_from(dir.path(), Environment::Production).unwrap();
    assert_eq!(settings.partners.unknown_numbers_per_hour, 20);
    for bad in ["0", "-1", "2147483648"] {
        let file = format!("{GOOD_SECRETS}\n[partners]\nunknown_numbers_per_hour = {bad}\n");
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
        let file = format!("{GOOD_SECRETS}\n[application]\npublic_base_url = \"{good}\"\n");
        let dir = config_dir_with("production.toml", &file);
        assert!(
            Settings::load_from(dir.path(), Environment::Production).is_ok(),
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
        let file = format!("{GOOD_SECRETS}\n[application]\npublic_base_url = \"{bad}\"\n");
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
    let contents = format!("{GOOD_SECRETS}\n[database]\nservice_login_from_owner = true\n");
    let dir = config_dir_with("production.toml", &contents);
    let error = error_of(dir.path(), Environment::Production);
    assert!(
        error.contains("TALENTCARD__DATABASE__SERVICE_LOGIN_FROM_OWNER"),
        "{error}"
    );
}
