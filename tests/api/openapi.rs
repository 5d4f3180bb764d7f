//! The OpenAPI document and the API explorer: the document lists every operation and every
//! answer, passes an independent OpenAPI 3.1 validator, and the explorer works offline at
//! `/docs/` (and `/docs`).

use std::collections::BTreeSet;
use std::process::Command;

use crate::access::ENDPOINTS;
use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn the_document_lists_every_registered_operation() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|e| (e.method.to_owned(), e.template.to_owned()))
        .collect();
    assert_eq!(documented, expected);
    assert!(doc["components"]["schemas"]["ProblemDetails"].is_object());
}

#[tokio::test]
async fn the_api_explorer_works_offline() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("https://"),
        "no asset may come from the network: {html}"
    );
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(
        script.status().as_u16(),
        200,
        "assets are served by the service itself"
    );
}

/// `/docs` without the slash leads to the explorer (a permanent redirect that keeps the
/// method); other methods there are refused like any path the document does not list.
#[tokio::test]
async fn docs_without_the_slash_redirects_to_the_explorer() {
    let app = spawn_app().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status().as_u16(), 308);
    assert_eq!(
        redirect
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap()),
        Some("/docs/")
    );
    assert_eq!(
        redirect
            .headers()
            .get("x-content-type-options")
            .map(|v| v.to_str().unwrap()),
        Some("nosniff")
    );
    let post = app
        .client
        .post(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    problem(post, 404, "not_found").await;
}

/// OpenAPI requires a description on every response, and client generators name methods after
/// operationIds, which must therefore be unique.
#[tokio::test]
async fn every_operation_id_is_unique_and_every_response_described() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut ids = BTreeSet::new();
    let mut duplicates = Vec::new();
    let mut undescribed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            if !ids.insert(id.to_owned()) {
                duplicates.push(format!("{id} ({method} {path})"));
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                let described = response["description"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty());
                if !described {
                    undescribed.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(
        duplicates.is_empty(),
        "duplicate operationIds: {duplicates:#?}"
    );
    assert!(undescribed.is_empty(), "undescribed: {undescribed:#?}");
}

/// The served document passes an independent OpenAPI 3.1 validator (Python's
/// `openapi-spec-validator`, which checks schemas as JSON Schema 2020-12), not only our own
/// reading of the specification.
#[tokio::test]
async fn an_independent_validator_accepts_the_document() {
    let app = spawn_app().await;
    let text = app.get("/openapi.json").await.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, text).unwrap();
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--validation-errors", "all"])
        .arg(&file)
        .output()
        .expect("python3 with openapi-spec-validator (pip install openapi-spec-validator==0.9.0)");
    // Each finding, without the copy of the whole document some of them quote.
    let report: String = [&output.stdout, &output.stderr]
        .iter()
        .flat_map(|stream| {
            String::from_utf8_lossy(stream)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|line| line.chars().take(400).collect::<String>() + "\n")
        .collect();
    assert!(
        output.status.success(),
        "the validator refuses the document:\n{report}"
    );
    assert!(report.contains("OK"), "{report}");
    // The validator does refuse what the original check found: an answer without a
    // description.
    let mut broken: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    broken["paths"]["/healthz"]["get"]["responses"]["200"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    std::fs::write(&file, broken.to_string()).unwrap();
    let refused = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains("'description' is a required property")
    );
}

/// Every status the access matrix observes for an operation, as any role, is one the document
/// declares for it (with a problem+json body for the errors): clients generated from the
/// document handle every answer they can get.
#[tokio::test]
async fn the_document_declares_every_status_the_access_matrix_observes() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut undeclared = Vec::new();
    for endpoint in ENDPOINTS {
        let responses = &doc["paths"][endpoint.template][endpoint.method]["responses"];
        for status in BTreeSet::from(endpoint.expect) {
            let response = &responses[status.to_string()];
            if response.is_null() {
                undeclared.push(format!(
                    "{} {} {status}",
                    endpoint.method, endpoint.template
                ));
            } else if status >= 400 && endpoint.template != "/api/v1/auth/token" {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{} {} {status} is not problem+json: {response}",
                    endpoint.method,
                    endpoint.template
                );
            }
        }
    }
    assert!(undeclared.is_empty(), "undeclared: {undeclared:#?}");
}

/// The answers shared extractors give are declared on every operation that can give them.
#[tokio::test]
async fn every_operation_declares_the_answers_of_its_extractors() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let declared = |status: &str| operation["responses"][status].is_object();
            let what = format!("{method} {path}");
            if operation["security"].is_array() {
                assert!(declared("401"), "{what}: 401");
            }
            if operation["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(declared(status), "{what}: {status}");
                }
            }
            // A CORS preflight is answered before anything reads the database.
            if path.starts_with("/api/v1/") && method != "options" {
                assert!(declared("503"), "{what}: 503");
            }
        }
    }
}

/// A documented path asked with a method it does not have answers 405 with `Allow` (RFC 9110)
/// in problem+json; a path that does not exist stays 404.
#[tokio::test]
async fn a_method_a_path_does_not_have_is_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("DELETE", "/api/v1/districts", "GET"),
        ("TRACE", "/api/v1/applications", "GET, POST"),
        (
            "PUT",
            "/api/v1/cards/01936c2e-0000-7000-8000-000000000001",
            "GET",
        ),
        ("POST", "/api/v1/status-lists/XA.jws", "GET, OPTIONS"),
    ] {
        let response = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.address),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers().get("allow").map(|v| v.to_str().unwrap()),
            Some(allow),
            "{method} {path}"
        );
        problem(response, 405, "method_not_allowed").await;
    }
    let missing = app
        .client
        .delete(format!("{}/api/v1/no-such-thing", app.address))
        .send()
        .await
        .unwrap();
    assert!(missing.headers().get("allow").is_none());
    problem(missing, 404, "not_found").await;
}

#[tokio::test]
async fn the_document_describes_presentations_reversals_and_live_cards() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let properties = |schema: &str| -> BTreeSet<String> {
        schemas[schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {schema}"))
            .keys()
            .cloned()
            .collect()
    };
    for (schema, field) in [
        ("VerificationResult", "holder_bound"),
        ("VerificationResult", "presentation_id"),
        ("RedemptionRequest", "presentation_id"),
        ("RedemptionRequest", "card_number"),
        ("EntitlementRule", "presentation"),
        ("EntitlementUse", "presentation"),
        ("ReversalRequest", "reason_code"),
        ("ReversedRedemption", "reversed_at"),
        ("ReversedRedemption", "reversal_reason"),
        ("ApplicationView", "applicant_cards"),
        ("ApplicantCard", "valid_until"),
    ] {
        assert!(properties(schema).contains(field), "{schema}.{field}");
    }
    let reversal = &doc["paths"]["/api/v1/redemptions/{id}/reversal"]["post"]["responses"];
    for status in ["200", "404", "409", "422"] {
        assert!(reversal[status].is_object(), "reversal answers {status}");
    }
    let redemption = &doc["paths"]["/api/v1/redemptions"]["post"]["responses"]["422"];
    assert!(
        redemption["description"]
            .as_str()
            .unwrap()
            .contains("presentation_required")
    );
    let verification = &doc["paths"]["/api/v1/verifications"]["post"]["responses"]["429"];
    assert!(
        verification["headers"]["Retry-After"].is_object(),
        "{verification}"
    );
    let codes = schemas["ErrorCode"]["enum"].to_string();
    assert!(codes.contains("presentation_required"), "{codes}");
}

#[tokio::test]
async fn the_document_lists_the_holder_lifecycle_enums() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        values("ChangeKind"),
        ["employer", "residence", "title", "other"]
    );
    assert_eq!(
        values("ChangeDecisionKind"),
        ["keep", "retier", "suspend", "revoke"]
    );
    assert_eq!(
        values("ReminderKind"),
        ["renewal_open", "expires_soon", "change_report_due"]
    );
    assert!(values("ChangeReason").contains(&"employer_change_review".to_owned()));
    assert!(values("ErrorCode").contains(&"renewal_not_open".to_owned()));
    let create = &doc["paths"]["/api/v1/applications"]["post"]["responses"]["409"];
    assert!(
        create["description"]
            .as_str()
            .unwrap()
            .contains("renewal_not_open")
    );
    let queue = &doc["paths"]["/api/v1/card-changes"]["get"]["parameters"];
    assert!(queue.to_string().contains("decided"), "{queue}");
}
