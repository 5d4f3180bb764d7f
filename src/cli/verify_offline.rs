//! `talentcard verify`: offline verification from files, with no configuration and no
//! database. The material is loaded once into an [`offline::Verifier`], so a batch of
//! credentials costs about one signature check each.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;

use crate::credentials::offline::{Challenge, Freshness, MaterialError, Verifier};

/// What `talentcard verify` reads before it can judge anything: the files and the credentials.
struct OfflineMaterial {
    platform_x: String,
    trust: String,
    lists: Vec<String>,
    credentials: Vec<String>,
}

/// Reads the files and the credentials given to `talentcard verify`. Any failure here is bad
/// material (exit 2, as documented), not a verdict on a credential.
fn read_material(
    platform_key: &std::path::Path,
    trust_list: &std::path::Path,
    status_lists: &[std::path::PathBuf],
    inputs: &[String],
) -> anyhow::Result<OfflineMaterial> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))
    };
    let jwk: serde_json::Value =
        serde_json::from_str(&read(platform_key)?).context("the platform key is not a JWK")?;
    let platform_x = jwk["x"]
        .as_str()
        .context("the platform key has no x")?
        .to_owned();
    let trust = read(trust_list)?;
    let lists = status_lists
        .iter()
        .map(|p| read(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut credentials = Vec::new();
    for input in inputs {
        if input == "-" {
            let before = credentials.len();
            for line in std::io::stdin().lock().lines() {
                let line = line.context("could not read the credentials from standard input")?;
                if !line.trim().is_empty() {
                    credentials.push(line.trim().to_owned());
                }
            }
            // Nothing on standard input is one empty credential: not valid (exit 1), never
            // a silent success.
            if credentials.len() == before {
                credentials.push(String::new());
            }
        } else {
            credentials.push(input.trim().to_owned());
        }
    }
    Ok(OfflineMaterial {
        platform_x,
        trust,
        lists,
        credentials,
    })
}

/// Runs `talentcard verify`. Exits 0 when every credential is valid, 1 when one is not (a
/// presentation whose holder binding fails included), 2 when the material cannot be read or
/// is bad. One credential prints its verdict as pretty JSON; several print one compact JSON
/// line each, in order.
pub(super) fn run(
    platform_key: &std::path::Path,
    trust_list: &std::path::Path,
    status_lists: &[std::path::PathBuf],
    freshness: Freshness,
    challenge: Option<Challenge<'_>>,
    inputs: &[String],
) -> anyhow::Result<ExitCode> {
    let material = match read_material(platform_key, trust_list, status_lists, inputs) {
        Ok(material) => material,
        Err(problem) => {
            eprintln!("error: {problem:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let lists: Vec<&str> = material.lists.iter().map(String::as_str).collect();
    let verifier = match Verifier::new(&material.platform_x, &material.trust, &lists, freshness) {
        Ok(verifier) => verifier,
        Err(problem) => {
            eprintln!("error: {problem}");
            return Ok(ExitCode::from(2));
        }
    };
    let now = chrono::Utc::now();
    let several = material.credentials.len() > 1;
    let mut all_valid = true;
    for (n, input) in material.credentials.iter().enumerate() {
        let outcome = match challenge {
            Some(challenge) => verifier.verify_presentation(input, challenge, now),
            None => verifier.verify(input, now),
        };
        // Which input a line on standard error speaks of, when there are several.
        let which = if several {
            format!(" (credential {})", n + 1)
        } else {
            String::new()
        };
        match outcome {
            Ok(verdict) => {
                if several {
                    println!("{}", serde_json::to_string(&verdict)?);
                } else {
                    println!("{}", serde_json::to_string_pretty(&verdict)?);
                }
                if !verdict.valid {
                    all_valid = false;
                    let reason = verdict.reason.as_deref().unwrap_or(verdict.status.as_str());
                    eprintln!("not valid{which}: {reason}");
                }
            }
            // Material that says nothing about this credential's list: its status is unknown,
            // so the credential is not valid (the material itself may be fine).
            Err(problem @ MaterialError::MissingStatusList(_)) => {
                all_valid = false;
                eprintln!("not valid{which}: {problem}");
            }
            Err(problem) => {
                eprintln!("error{which}: {problem}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
