//! The documentation a clone of the repository has: the README leads to the API guide in
//! docs/, the guide describes every operation the service serves and every error code it
//! answers, and nothing points outside the repository (a clone has no ../shared/).

use crate::helpers::{manifest_dir, spawn_app};

fn read(relative: &str) -> String {
    std::fs::read_to_string(manifest_dir().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The guide names each operation as `METHOD /path` (paths under /api/v1 without the prefix),
/// so an operation added without a word in the guide fails here.
#[tokio::test]
async fn the_api_guide_describes_every_operation_and_error_code_the_service_serves() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let guide = read("docs/API.md");
    let mut missing = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        let short = path.strip_prefix("/api/v1").unwrap_or(path);
        for method in operations.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                let named = format!("{} {short}", method.to_uppercase());
                if !guide.contains(&named) {
                    missing.push(named);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/API.md does not describe {missing:?}"
    );
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    assert!(codes.len() > 10);
    for code in codes {
        let code = code.as_str().unwrap();
        assert!(
            guide.contains(&format!("`{code}`")),
            "docs/API.md does not explain the error code {code}"
        );
    }
}

#[test]
fn the_readme_leads_to_the_guide_and_nothing_points_outside_the_repository() {
    let readme = read("README.md");
    assert!(
        readme.contains("(docs/API.md)"),
        "the README links the API guide"
    );
    for file in [
        "README.md",
        "SECURITY.md",
        "docs/API.md",
        "supply-chain/README.md",
        "scripts/faults/README.md",
        "fuzz/README.md",
    ] {
        let text = read(file);
        // The project's shared documents live outside the repository; a file may name the
        // optional advisory snapshot beside a checkout (scripts/advisories), not a document.
        for outside in [
            "](../shared",
            "shared/API.md",
            "SECURITY-REQUIREMENTS.md",
            "DOMAIN.md",
            "STACK.md",
            "STYLE.md",
        ] {
            assert!(!text.contains(outside), "{file} points at {outside}");
        }
    }
}
