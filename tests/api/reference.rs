use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::spawn_app;

async fn list(path: &str) -> (Vec<serde_json::Value>, String) {
    let app = spawn_app().await;
    let response = app.get(path).await;
    assert_eq!(response.status().as_u16(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    (response.json().await.unwrap(), cache)
}

fn field(rows: &[serde_json::Value], key: &str, value: &str) -> BTreeMap<String, String> {
    rows.iter()
        .map(|r| {
            (
                r[key].as_str().unwrap().to_owned(),
                r[value].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn districts_of_the_contract_with_their_regions() {
    let (rows, cache) = list("/api/v1/districts").await;
    assert!(cache.contains("max-age"));
    let regions = field(&rows, "code", "region");
    let expected = [
        ("tongzhou", "BJ"),
        ("wuqing", "TJ"),
        ("baodi", "TJ"),
        ("langfang", "HE"),
        ("tangshan", "HE"),
        ("xiongan", "HE"),
        ("baoding", "HE"),
        ("shijiazhuang", "HE"),
    ];
    for (code, region) in expected {
        assert_eq!(
            regions.get(code).map(String::as_str),
            Some(region),
            "{code}"
        );
    }
    assert!(
        rows.iter()
            .all(|r| r["name"].is_string() && r["name_en"].is_string())
    );
}

#[tokio::test]
async fn issuers_of_the_contract_in_their_districts() {
    let (rows, _) = list("/api/v1/issuers").await;
    let districts = field(&rows, "code", "district");
    let expected = [
        ("XA", "xiongan"),
        ("TZ", "tongzhou"),
        ("WQ", "wuqing"),
        ("LF", "langfang"),
        ("BD", "baodi"),
        ("TS", "tangshan"),
    ];
    for (code, district) in expected {
        assert_eq!(
            districts.get(code).map(String::as_str),
            Some(district),
            "{code}"
        );
    }
}

#[tokio::test]
async fn the_service_catalogue_of_the_domain() {
    let (rows, _) = list("/api/v1/services").await;
    let codes: BTreeSet<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let expected = [
        "medical_green_channel",
        "annual_health_check",
        "recuperation",
        "children_schooling",
        "talent_housing",
        "cross_region_medical_settlement",
        "social_security_card",
        "tourism_pass",
        "elderly_care",
        "business_registration_priority",
        "work_permit_fast_track",
        "household_registration_transfer",
    ];
    assert_eq!(codes, expected.into_iter().collect());
    assert_eq!(
        rows[0]["code"], "medical_green_channel",
        "display order kept"
    );
}
