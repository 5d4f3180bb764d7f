//! Schemes, versioned rules and the public eligibility check.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

/// A doctorate of `age` working in Xiong'an.
pub fn doctorate(age: i32) -> Value {
    let born = format!("{}-01-01", 2026 - age - 1);
    json!({
        "birth_date": born, "highest_degree": "doctorate", "professional_title": "intermediate",
        "annual_salary_cny": 300000, "income_tax_cny": 40000,
        "employer": { "name": "雄安科技有限公司", "credit_code": "91130600MA0D123455", "district": "xiongan" }
    })
}

async fn eligibility(app: &TestApp, scheme: &str, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/schemes/{scheme}/eligibility"),
        &body,
        None,
    )
    .await
}

#[tokio::test]
async fn the_three_default_schemes_with_issuers_tiers_and_rules() {
    let app = spawn_app().await;
    let schemes: Vec<Value> = app.get("/api/v1/schemes").await.json().await.unwrap();
    let codes: Vec<&str> = schemes
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TBT", "TWL", "XIONGAN"]);
    let xiongan = &schemes[2];
    assert_eq!(xiongan["issuers"], json!(["XA"]));
    let tiers: Vec<(&str, i64)> = xiongan["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["code"].as_str().unwrap(),
                t["validity_years"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tiers, [("A", 5), ("B", 3), ("C", 2)]);
    assert_eq!(xiongan["rules_version"], 1);
    assert!(xiongan["rules"]["tiers"].is_array());
    assert_eq!(schemes[1]["issuers"], json!(["LF", "TZ", "WQ"]));
    assert_eq!(schemes[0]["issuers"], json!(["BD", "TS", "TZ"]));

    let one: Value = app.get("/api/v1/schemes/TWL").await.json().await.unwrap();
    assert_eq!(one["code"], "TWL");
    problem(app.get("/api/v1/schemes/NOPE").await, 404, "not_found").await;
    problem(
        app.get("/api/v1/schemes/XIONGAN/rules/99").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_doctorate_of_40_is_suggested_tier_b_with_reasons() {
    let app = spawn_app().await;
    let response = eligibility(&app, "XIONGAN", json!({ "facts": doctorate(40) })).await;
    assert_eq!(response.status().as_u16(), 200);
    let result: Value = response.json().await.unwrap();
    assert_eq!(result["eligible"], true);
    assert_eq!(result["tier"], "B");
    assert_eq!(result["rules_version"], 1);
    let trace = result["trace"].as_array().unwrap();
    let decided = trace
        .iter()
        .find(|t| t["rule"] == "doctorate_up_to_45")
        .unwrap();
    assert_eq!(decided["matched"], true);
    assert_eq!(decided["tier"], "B");
    assert!(decided["reasons"].as_array().unwrap().len() >= 2);
    let a_rule = trace
        .iter()
        .find(|t| t["rule"] == "top_salary_and_tax")
        .unwrap();
    assert_eq!(
        a_rule["matched"], false,
        "the trace explains the higher tier too"
    );
}

#[tokio::test]
async fn malformed_facts_are_422_with_the_field() {
    let app = spawn_app().await;
    let mut no_birth = doctorate(40);
    no_birth.as_object_mut().unwrap().remove("birth_date");
    let mut wrong_type = doctorate(40);
    wrong_type["invention_patents"] = json!("many");
    let mut bad_code = doctorate(40);
    bad_code["employer"]["credit_code"] = json!("91130600MA0D123456");
    let mut nowhere = doctorate(40);
    nowhere["employer"]["district"] = json!("atlantis");
    let mut future = doctorate(40);
    future["birth_date"] = json!("2099-01-01");
    let mut negative = doctorate(40);
    negative["annual_salary_cny"] = json!(-5);
    let mut unknown_degree = doctorate(40);
    unknown_degree["highest_degree"] = json!("wizard");
    let cases = [
        (no_birth, "facts.birth_date"),
        (wrong_type, "facts.invention_patents"),
        (bad_code, "facts.employer.credit_code"),
        (nowhere, "facts.employer.district"),
        (future, "facts.birth_date"),
        (negative, "facts.annual_salary_cny"),
        (unknown_degree, "facts.highest_degree"),
    ];
    for (facts, field) in cases {
        let body = problem(
            eligibility(&app, "XIONGAN", json!({ "facts": facts })).await,
            422,
            "validation_failed",
        )
        .await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{field}: {fields:?}");
    }
    problem(
        eligibility(&app, "NOPE", json!({ "facts": doctorate(40) })).await,
        404,
        "not_found",
    )
    .await;
}

fn rules_with_b_age(limit: i64) -> Value {
    let mut rules: Value =
        serde_json::from_str(include_str!("../../config/schemes/xiongan.rules.json")).unwrap();
    rules["tiers"][1]["rules"][0]["when"]["all"][1]["value"] = json!(limit);
    rules
}

#[tokio::test]
async fn publishing_rules_adds_a_version_and_keeps_the_old_one() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let at_48 = json!({ "facts": doctorate(48) });
    let before: Value = eligibility(&app, "XIONGAN", at_48.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["tier"], Value::Null);

    let body = json!({ "rules": rules_with_b_age(50) });
    let published = app
        .client
        .put(format!(
            "{}/api/v1/admin/schemes/XIONGAN/rules",
            app.address
        ))
        .bearer_auth(&admin.access)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(published.status().as_u16(), 201);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["version"], 2);

    let after: Value = eligibility(&app, "XIONGAN", at_48.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (after["tier"].clone(), after["rules_version"].clone()),
        (json!("B"), json!(2))
    );
    let old: Value = app
        .get("/api/v1/schemes/XIONGAN/rules/1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        old["rules"]["tiers"][1]["rules"][0]["when"]["all"][1]["value"],
        45
    );

    // A version that starts next year is not in force today, but answers for that date.
    let next_year = format!("{}-01-01", app.clock_year() + 1);
    let future = json!({ "effective_from": next_year, "rules": rules_with_b_age(55) });
    let response = app
        .client
        .put(format!(
            "{}/api/v1/admin/schemes/XIONGAN/rules",
            app.address
        ))
        .bearer_auth(&admin.access)
        .json(&future)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let today: Value = eligibility(&app, "XIONGAN", at_48.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(today["rules_version"], 2);
    let then = json!({ "facts": doctorate(48), "evaluation_date": next_year });
    let then: Value = eligibility(&app, "XIONGAN", then)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(then["rules_version"], 3);

    let audit: Value = app
        .get_as(
            "/api/v1/admin/audit?action=scheme.rules_published",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_invalid_rule_set_is_refused_with_its_path_and_nothing_is_published() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let mut rules = rules_with_b_age(45);
    rules["tiers"][0]["rules"][2]["when"]["all"][0]["fact"] = json!("shoe_size");
    rules["tiers"][1]["rules"][1]["when"]["op"] = json!("~=");
    rules["tiers"][2]["tier"] = json!("Z");
    let response = app
        .client
        .put(format!(
            "{}/api/v1/admin/schemes/XIONGAN/rules",
            app.address
        ))
        .bearer_auth(&admin.access)
        .json(&json!({ "rules": rules, "effective_from": "2000-01-01" }))
        .send()
        .await
        .unwrap();
    let body = problem(response, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for expected in [
        "effective_from",
        "rules.tiers[0].rules[2].when.all[0].fact",
        "rules.tiers[1].rules[1].when.op",
        "rules.tiers[2].tier",
    ] {
        assert!(fields.contains(&expected), "{expected} in {fields:?}");
    }
    let scheme: Value = app
        .get("/api/v1/schemes/XIONGAN")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scheme["rules_version"], 1, "nothing was published");
    let missing = app
        .client
        .put(format!("{}/api/v1/admin/schemes/NOPE/rules", app.address))
        .bearer_auth(&admin.access)
        .json(&json!({ "rules": rules_with_b_age(45) }))
        .send()
        .await
        .unwrap();
    problem(missing, 404, "not_found").await;
}
