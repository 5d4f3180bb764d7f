//! API1, broken object-level authorisation: every id-bearing endpoint, called with an id the
//! caller may not touch, answers exactly as it does for an id that does not exist (so the answer
//! is no oracle for what exists), and writes nothing.

use serde_json::{Value, json};
use uuid::Uuid;

use super::{World, row_counts};
use crate::helpers::spawn_app;

/// One attack: who calls what, with which foreign id.
struct Attack {
    name: &'static str,
    method: &'static str,
    path: String,
    token: String,
    body: Option<Value>,
}

fn attack(
    name: &'static str,
    method: &'static str,
    path: String,
    token: &str,
    body: Option<Value>,
) -> Attack {
    Attack {
        name,
        method,
        path,
        token: token.to_owned(),
        body,
    }
}

/// Every attack of one user (or agency, or official) on what belongs to another.
fn attacks(w: &World) -> Vec<Attack> {
    let (a, b) = (&w.talent_a.access, &w.talent_b.access);
    let tz = &w.official_tz.access;
    let (app_a, app_b, doc_a, doc_b, card) = (
        &w.application_a,
        &w.application_b,
        &w.document_a,
        &w.document_b,
        &w.card_b,
    );
    let other_client = &w.other_agency.1;
    let admin = &w.admin.access;
    let supplement = json!({ "decision": "request_supplement", "comment": "more please" });
    vec![
        // Talent B on talent A's application.
        attack(
            "read another's application",
            "GET",
            format!("/api/v1/applications/{app_a}"),
            b,
            None,
        ),
        attack(
            "edit another's application",
            "PATCH",
            format!("/api/v1/applications/{app_a}"),
            b,
            Some(json!({ "facts": crate::schemes::doctorate(41) })),
        ),
        attack(
            "submit another's application",
            "POST",
            format!("/api/v1/applications/{app_a}/submit"),
            b,
            None,
        ),
        attack(
            "withdraw another's application",
            "POST",
            format!("/api/v1/applications/{app_a}/withdraw"),
            b,
            None,
        ),
        attack(
            "list another's documents",
            "GET",
            format!("/api/v1/applications/{app_a}/documents"),
            b,
            None,
        ),
        attack(
            "read another's document",
            "GET",
            format!("/api/v1/applications/{app_a}/documents/{doc_a}"),
            b,
            None,
        ),
        // A document of A's, fetched through B's own application (a parent swap).
        attack(
            "read another's document through one's own application",
            "GET",
            format!("/api/v1/applications/{app_b}/documents/{doc_a}"),
            b,
            None,
        ),
        attack(
            "read another's document through another application",
            "GET",
            format!("/api/v1/applications/{app_a}/documents/{doc_b}"),
            a,
            None,
        ),
        // Talent A on talent B's card.
        attack(
            "read another's card",
            "GET",
            format!("/api/v1/cards/{card}"),
            a,
            None,
        ),
        attack(
            "take another's credential",
            "GET",
            format!("/api/v1/cards/{card}/credential"),
            a,
            None,
        ),
        attack(
            "take another's QR code (SVG)",
            "GET",
            format!("/api/v1/cards/{card}/qr.svg"),
            a,
            None,
        ),
        attack(
            "take another's QR code (PNG)",
            "GET",
            format!("/api/v1/cards/{card}/qr.png"),
            a,
            None,
        ),
        attack(
            "take another's card image",
            "GET",
            format!("/api/v1/cards/{card}/card.svg"),
            a,
            None,
        ),
        attack(
            "read another's entitlements",
            "GET",
            format!("/api/v1/cards/{card}/entitlements"),
            a,
            None,
        ),
        attack(
            "read who verified another's card",
            "GET",
            format!("/api/v1/cards/{card}/verifications"),
            a,
            None,
        ),
        // The TZ official on XA's application and card.
        attack(
            "read another issuer's application",
            "GET",
            format!("/api/v1/applications/{app_a}"),
            tz,
            None,
        ),
        attack(
            "list another issuer's documents",
            "GET",
            format!("/api/v1/applications/{app_a}/documents"),
            tz,
            None,
        ),
        attack(
            "read another issuer's document",
            "GET",
            format!("/api/v1/applications/{app_a}/documents/{doc_a}"),
            tz,
            None,
        ),
        attack(
            "decide another issuer's application",
            "POST",
            format!("/api/v1/applications/{app_a}/decision"),
            tz,
            Some(supplement.clone()),
        ),
        attack(
            "approve another issuer's application",
            "POST",
            format!("/api/v1/applications/{app_a}/decision"),
            tz,
            Some(json!({ "decision": "approve", "tier": "A" })),
        ),
        attack(
            "read another issuer's card",
            "GET",
            format!("/api/v1/cards/{card}"),
            tz,
            None,
        ),
        attack(
            "suspend another issuer's card",
            "POST",
            format!("/api/v1/cards/{card}/suspend"),
            tz,
            Some(json!({ "reason_code": "under_investigation" })),
        ),
        attack(
            "resume another issuer's card",
            "POST",
            format!("/api/v1/cards/{card}/resume"),
            tz,
            Some(json!({})),
        ),
        attack(
            "revoke another issuer's card",
            "POST",
            format!("/api/v1/cards/{card}/revoke"),
            tz,
            Some(json!({ "reason_code": "holder_request" })),
        ),
        // The administrator on a client through the wrong agency (a parent swap).
        attack(
            "revoke a client through another agency",
            "DELETE",
            format!(
                "/api/v1/admin/agencies/{}/clients/{other_client}",
                w.agency.0
            ),
            admin,
            None,
        ),
    ]
}

/// The same request with every foreign id replaced by a fresh one: the answer for "no such
/// thing", which the attack's answer must equal.
fn with_unknown_ids(attack: &Attack, w: &World) -> String {
    let mut path = attack.path.clone();
    for id in [
        &w.application_a,
        &w.application_b,
        &w.document_a,
        &w.document_b,
        &w.card_b,
        &w.other_agency.1,
    ] {
        path = path.replace(id.as_str(), &Uuid::now_v7().to_string());
    }
    path
}

#[tokio::test]
async fn every_foreign_id_answers_like_an_unknown_one_and_writes_nothing() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let before = row_counts(&app).await;
    let attacks = attacks(&world);
    let mut failures = Vec::new();
    for attack in &attacks {
        let foreign = app
            .send(
                attack.method,
                &attack.path,
                &attack.token,
                attack.body.as_ref(),
            )
            .await;
        let foreign_status = foreign.status().as_u16();
        let foreign_body: Value = foreign.json().await.unwrap_or(Value::Null);
        let unknown = app
            .send(
                attack.method,
                &with_unknown_ids(attack, &world),
                &attack.token,
                attack.body.as_ref(),
            )
            .await;
        let unknown_status = unknown.status().as_u16();
        let unknown_body: Value = unknown.json().await.unwrap_or(Value::Null);
        if foreign_status != 404 || unknown_status != 404 || foreign_body != unknown_body {
            failures.push(format!(
                "{}: {} {} -> {foreign_status} {foreign_body} (unknown id: {unknown_status} {unknown_body})",
                attack.name, attack.method, attack.path
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        row_counts(&app).await,
        before,
        "a refused attack wrote something"
    );
    eprintln!(
        "API1: {} object-level attack cases refused",
        attacks.len() * 2
    );
}

#[tokio::test]
async fn ids_that_are_not_ids_are_404_not_500() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let mut cases = 0;
    for bad in [
        "1",
        "-1",
        "00000000-0000-0000-0000-000000000000",
        "%27%20OR%201%3D1--",
        "..%2F..%2Fetc%2Fpasswd",
        "x%00y",
        &"9".repeat(4000),
    ] {
        for path in [
            format!("/api/v1/applications/{bad}"),
            format!("/api/v1/applications/{bad}/documents"),
            format!(
                "/api/v1/applications/{}/documents/{bad}",
                world.application_a
            ),
            format!("/api/v1/cards/{bad}"),
            format!("/api/v1/cards/{bad}/credential"),
        ] {
            let response = app.get_as(&path, &world.talent_a.access).await;
            let status = response.status().as_u16();
            assert!(matches!(status, 400 | 404), "{path}: {status}");
            cases += 1;
        }
    }
    eprintln!("API1: {cases} malformed-id cases refused");
}
