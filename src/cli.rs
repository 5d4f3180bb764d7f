//! The command line. Every subcommand loads the same configuration, so `DATABASE_URL` and
//! `TALENTCARD__…` variables apply to all of them.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::SecretString;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::auth::password;
use crate::configuration::{Environment, Settings};

mod verify_offline;
use crate::domain::email::Email;
use crate::domain::free_text;
use crate::domain::password::NewPassword;
use crate::models::account::{self, NewAccount, Role};
use crate::startup::{Application, prepare_database};
use crate::{demo, telemetry};

/// Issue and verify mutually recognised talent service cards.
#[derive(Debug, Parser)]
#[command(name = "talentcard", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database if needed, migrate, and serve HTTP.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (default from configuration).
        #[arg(long)]
        bind: Option<String>,
        /// Load demo accounts and data and print their logins.
        #[arg(long)]
        demo: bool,
    },
    /// Create the database if needed and run pending migrations.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Load bulk data for benchmarks (never in production). Needs `--applications`, `--cards`,
    /// `--presentations` or several: without any there is nothing to do, and the usage says so
    /// (exit 2).
    #[command(group(clap::ArgGroup::new("what").required(true).multiple(true)
        .args(["applications", "cards", "presentations"])))]
    Seed {
        /// Talent, each with one application submitted to XIONGAN at XA (1 or more).
        #[arg(long, value_parser = at_least_one)]
        applications: Option<usize>,
        /// Active XIONGAN B cards at XA, each with its holder and approved application (1 or
        /// more).
        #[arg(long, value_parser = at_least_one)]
        cards: Option<usize>,
        /// Single-use material for holder-bound verification by `--agency-client`: this many
        /// dynamic codes (presentation-codes.txt) and this many presentations with a
        /// key-binding JWT over one of the agency's nonces each (presentations.txt; valid
        /// 300 s from now, so made right before the run). Needs active cards (1 or more).
        #[arg(long, value_parser = at_least_one, requires = "agency_client")]
        presentations: Option<usize>,
        /// The agency API client the presentations are addressed to (its agency owns the
        /// nonces), e.g. the demo hospital's 01936c2e-0000-7000-8000-0000000000c1.
        #[arg(long)]
        agency_client: Option<uuid::Uuid>,
        /// Where `--cards` writes card-numbers.txt and credentials.txt, and `--presentations`
        /// presentation-codes.txt and presentations.txt.
        #[arg(long, default_value = "target/seed")]
        out: std::path::PathBuf,
    },
    /// Verify card credentials offline against a downloaded trust list and status lists,
    /// loaded once; prints the verdict as JSON (one compact line per credential when given
    /// several), exits 0 when all are valid, 1 when one is not (one line on standard error
    /// says why; a credential whose list is missing counts as not valid), 2 when the material
    /// is bad (unsigned, stale, ambiguous, malformed).
    Verify {
        /// The platform's public key as a JWK file (`talentcard platform-key` prints it).
        #[arg(long)]
        platform_key: std::path::PathBuf,
        /// The signed trust list (GET /api/v1/trust-list.jws), as a file.
        #[arg(long)]
        trust_list: std::path::PathBuf,
        /// A status list: the platform-signed form (GET /api/v1/status-lists/{list}.jws) or the
        /// issuer's Status List Token (the credential's status uri with Accept:
        /// application/statuslist+jwt); repeat for several.
        #[arg(long, required = true)]
        status_list: Vec<std::path::PathBuf>,
        /// Refuse trust or status material issued longer ago than this (a list is re-stamped at
        /// least every half TTL and cached for one TTL: 600 s leaves room for skew only).
        #[arg(long, default_value_t = crate::credentials::offline::DEFAULT_MAX_AGE_SECS,
              value_parser = clap::value_parser!(i64).range(0..=MAX_AGE_LIMIT_SECS))]
        max_age_secs: i64,
        /// Accept material this much older than --max-age-secs all the same (a verifier that
        /// works offline for longer opts into it); the verdict then says "grace_used": true.
        #[arg(long, default_value_t = 0,
              value_parser = clap::value_parser!(i64).range(0..=MAX_AGE_LIMIT_SECS))]
        grace_secs: i64,
        /// Require a holder-bound presentation addressed to this verifier: the input must end
        /// with a key-binding JWT signed by the credential's `cnf.jwk` whose `aud` is this
        /// (an agency's client_id), over --nonce, signed in the last 300 s.
        #[arg(long, requires = "nonce")]
        audience: Option<String>,
        /// The nonce the holder was given for this presentation (with --audience).
        #[arg(long, requires = "audience")]
        nonce: Option<String>,
        /// The credential, or with --audience and --nonce the presentation; several are
        /// verified against the material loaded once (`-` reads one a line from standard
        /// input).
        #[arg(required = true)]
        credential: Vec<String>,
    },
    /// Print the platform's public key (JWK), which verifiers use to check /trust-list.jws.
    PlatformKey,
    /// Manage issuer signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Delete old rate windows, quiet login throttles, expired idempotency keys, dead sessions
    /// and expired presentation codes and verification nonces once, as every server does every
    /// `maintenance.sweep_interval_secs`.
    Sweep,
    /// Print the current TOTP code of a base32 secret (for the demo staff logins).
    Totp {
        /// The base32 secret, as `serve --demo` prints it.
        #[arg(long)]
        secret: String,
    },
}

/// A count for `seed`: zero would load nothing and say nothing, so it is a usage error.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be 1 or more".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The longest `--max-age-secs` or `--grace-secs` (a year): beyond it offline material is not
/// a revocation picture at all.
const MAX_AGE_LIMIT_SECS: i64 = 366 * 86_400;

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an administrator; the password is read from standard input.
    Create {
        /// The administrator's email.
        #[arg(long)]
        email: String,
        /// The administrator's display name.
        #[arg(long, default_value = "Administrator")]
        full_name: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Retire the issuer's active signing key and create a new one.
    Rotate {
        /// Issuer code, e.g. XA.
        #[arg(long)]
        issuer: String,
        /// The old key was compromised: withdraw it from the trust list at once.
        #[arg(long)]
        compromised: bool,
    },
    /// Withdraw one of an issuer's keys, active or retired, at once: verifiers refuse what it
    /// signed; an active key is replaced by a new one.
    Compromise {
        /// Issuer code, e.g. XA.
        #[arg(long)]
        issuer: String,
        /// The key id (`GET /api/v1/admin/issuers/{code}/keys` lists them).
        #[arg(long)]
        kid: String,
        /// What happened, for the audit log.
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit non-zero at the first broken row.
    Verify,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Totp { secret } => return print_totp(secret),
        Command::Verify {
            platform_key,
            trust_list,
            status_list,
            max_age_secs,
            grace_secs,
            audience,
            nonce,
            credential,
        } => {
            let freshness = crate::credentials::offline::Freshness {
                max_age: chrono::Duration::seconds(*max_age_secs),
                grace: chrono::Duration::seconds(*grace_secs),
            };
            let challenge = audience
                .as_deref()
                .zip(nonce.as_deref())
                .map(|(audience, nonce)| crate::credentials::offline::Challenge {
                    audience,
                    nonce,
                });
            return verify_offline::run(
                platform_key,
                trust_list,
                status_list,
                freshness,
                challenge,
                credential,
            );
        }
        _ => {}
    }
    let mut settings = Settings::load()?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Serve { bind, demo } => serve(&mut settings, bind, demo).await,
        Command::Migrate => {
            prepare_database(&settings).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::Create { email, full_name },
        } => create_admin(&settings, &email, &full_name).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => verify_audit(&settings).await,
        Command::Seed {
            applications,
            cards,
            presentations,
            agency_client,
            out,
        } => {
            if settings.environment == Environment::Production {
                anyhow::bail!("seeding is refused when TALENTCARD_ENV=production");
            }
            prepare_database(&settings).await?;
            if let Some(applications) = applications {
                crate::seed::applications(&settings, applications).await?;
            }
            if let Some(cards) = cards {
                crate::seed::cards(&settings, cards, &out).await?;
            }
            if let Some((count, client)) = presentations.zip(agency_client) {
                crate::seed::presentations(&settings, count, client, &out).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Totp { secret } => print_totp(&secret),
        Command::Verify { .. } => Ok(ExitCode::from(2)),
        Command::Keys {
            command:
                KeysCommand::Rotate {
                    issuer,
                    compromised,
                },
        } => {
            prepare_database(&settings).await?;
            let cipher =
                crate::crypto::pii::PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
            let mut conn = AsyncPgConnection::establish(&settings.database.service_url()?).await?;
            let known = crate::models::reference::list_issuers(&mut conn)
                .await?
                .iter()
                .any(|i| i.code == issuer);
            if !known {
                anyhow::bail!("no issuer {issuer}");
            }
            let (kid, retired) = crate::models::issuer_key::rotate(
                &mut conn,
                &issuer,
                &cipher,
                compromised,
                Actor::Cli,
                chrono::Utc::now(),
            )
            .await?
            .context("another rotation of this issuer's key won")?;
            println!(
                "issuer {issuer}: new key {kid}; retired {}",
                retired.unwrap_or_else(|| "none".into())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command:
                KeysCommand::Compromise {
                    issuer,
                    kid,
                    comment,
                },
        } => {
            prepare_database(&settings).await?;
            let cipher =
                crate::crypto::pii::PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
            let mut conn = AsyncPgConnection::establish(&settings.database.service_url()?).await?;
            use crate::models::issuer_key::{Compromise, compromise};
            match compromise(
                &mut conn,
                &issuer,
                &kid,
                comment.as_deref(),
                &cipher,
                Actor::Cli,
                chrono::Utc::now(),
            )
            .await?
            {
                Compromise::Withdrawn { was, replaced_by } => {
                    println!(
                        "issuer {issuer}: key {kid} ({was}) withdrawn; active key {}",
                        replaced_by.unwrap_or_else(|| "unchanged".into())
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Compromise::NotFound => anyhow::bail!("issuer {issuer} has no key {kid}"),
                Compromise::AlreadyCompromised => {
                    anyhow::bail!("key {kid} was withdrawn before")
                }
            }
        }
        Command::Sweep => sweep_once(&settings).await,
        Command::PlatformKey => {
            let key = crate::credentials::platform_key::PlatformKey::from_settings(&settings)?;
            println!("{}", serde_json::to_string_pretty(&key.jwk())?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_totp(secret: &str) -> anyhow::Result<ExitCode> {
    let bytes = totp_rs::Secret::Encoded(secret.trim().to_owned())
        .to_bytes()
        .map_err(|_| anyhow::anyhow!("--secret is not base32"))?;
    println!("{}", crate::auth::totp::code_at(&bytes, chrono::Utc::now()));
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    settings: &mut Settings,
    bind: Option<String>,
    demo: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(bind) = bind {
        let (host, port) = bind.rsplit_once(':').context("--bind must be HOST:PORT")?;
        settings.application.host = host.trim_matches(['[', ']']).to_owned();
        settings.application.port = port.parse().context("--bind has no valid port")?;
    }
    if demo && settings.environment == Environment::Production {
        anyhow::bail!("--demo is refused when TALENTCARD_ENV=production");
    }
    let application = Application::build(settings).await?;
    if demo {
        let logins = demo::load(settings, application.pool()).await?;
        demo::print_logins(&logins);
    }
    let host = &settings.application.host;
    let port = application.port();
    tracing::info!(%host, port, "serving");
    let metrics_host = &settings.metrics.host;
    let metrics_port = application.metrics_port();
    println!(
        "talentcard listening on http://{host}:{port} (API explorer: /docs), \
         metrics on http://{metrics_host}:{metrics_port}/metrics"
    );
    application.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn create_admin(
    settings: &Settings,
    email: &str,
    full_name: &str,
) -> anyhow::Result<ExitCode> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
    let full_name = free_text::NAME
        .required(full_name)
        .map_err(|e| anyhow::anyhow!("--full-name {e}"))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let raw = line.trim_end_matches(['\r', '\n']).to_owned();
    let new_password =
        NewPassword::parse(SecretString::from(raw)).map_err(|e| anyhow::anyhow!("password {e}"))?;
    prepare_database(settings).await?;
    let hash = password::hash(new_password.secret().clone()).await?;
    let mut conn = AsyncPgConnection::establish(&settings.database.service_url()?).await?;
    let new = NewAccount {
        id: Uuid::now_v7(),
        email: email.as_str(),
        password_hash: &hash,
        full_name: &full_name,
        role: Role::Admin.as_str(),
        issuer: None,
    };
    match account::create(&mut conn, new, Actor::Cli).await {
        Ok(created) => {
            println!("created administrator {} ({})", created.email, created.id);
            Ok(ExitCode::SUCCESS)
        }
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {
            eprintln!("error: an account with email {email} already exists");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

async fn sweep_once(settings: &Settings) -> anyhow::Result<ExitCode> {
    prepare_database(settings).await?;
    let mut conn = AsyncPgConnection::establish(settings.database.url())
        .await
        .context("could not connect to the database")?;
    let policy = crate::startup::sweep_policy(settings, chrono::Utc::now());
    match crate::models::sweep::run(&mut conn, policy).await? {
        Some(report) => {
            println!("swept: {}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("another instance is sweeping right now; nothing done");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn verify_audit(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut conn = AsyncPgConnection::establish(&settings.database.service_url()?)
        .await
        .context("could not connect to the database")?;
    let keys = audit::AuditKeyring::from_settings(settings)?;
    match audit::verify(&mut conn, &keys).await? {
        Ok(report) => {
            println!(
                "audit chain intact: {} rows ({} from before the chain was keyed), head {}",
                report.rows, report.unkeyed_rows, report.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("{broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}
