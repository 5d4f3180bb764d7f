//! Bounded evidence: an account's files and bytes across all its applications stop at the
//! configured quota (whatever the drafts, withdrawals and races), a withdrawn draft's files are
//! deleted with it, and stored file names carry no bidi controls or invisible characters.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use crate::users::TestUser;

/// A PDF of exactly `len` bytes.
fn pdf(len: usize) -> Vec<u8> {
    let mut content = crate::applications::PDF.to_vec();
    content.resize(len, b' ');
    content
}

/// (files, bytes) of evidence stored in the whole database.
async fn stored(app: &TestApp) -> (i64, i64) {
    #[derive(QueryableByName)]
    struct Usage {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        files: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    let mut conn = app.connect().await;
    let usage: Usage = diesel::sql_query(
        "SELECT count(*) AS files, coalesce(sum(size), 0)::bigint AS bytes FROM application_documents",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    (usage.files, usage.bytes)
}

async fn withdraw(app: &TestApp, talent: &TestUser, id: &str) {
    let path = format!("/api/v1/applications/{id}/withdraw");
    let response = app.send("POST", &path, &talent.access, None).await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn withdrawing_and_uploading_again_stops_at_the_account_quota() {
    const QUOTA: i64 = 100_000;
    let app = spawn_app_with(|s| s.documents.max_bytes_per_account = QUOTA).await;
    let talent = app.talent("hoarder@example.cn").await;
    app.put_profile(&talent, 31).await;

    // A submitted application's evidence stays when it is withdrawn, and counts.
    let first = app.draft(&talent, 40).await;
    for n in 0..2 {
        let up = app
            .upload(&talent, &first, &format!("{n}.pdf"), pdf(30_000))
            .await;
        assert_eq!(up.status().as_u16(), 201);
    }
    let submit = format!("/api/v1/applications/{first}/submit");
    assert_eq!(
        app.send("POST", &submit, &talent.access, None)
            .await
            .status()
            .as_u16(),
        200
    );
    withdraw(&app, &talent, &first).await;
    assert_eq!(stored(&app).await, (2, 60_000));

    // The reported attack: a new draft, the same uploads again. It stops at the quota, and the
    // refused upload writes nothing.
    let second = app.draft(&talent, 40).await;
    let up = app.upload(&talent, &second, "a.pdf", pdf(30_000)).await;
    assert_eq!(up.status().as_u16(), 201);
    let refused = app.upload(&talent, &second, "b.pdf", pdf(30_000)).await;
    let body = problem(refused, 409, "evidence_quota_exceeded").await;
    assert!(
        body["detail"].as_str().unwrap().contains("100000 bytes"),
        "{body}"
    );
    assert_eq!(stored(&app).await, (3, 90_000));
    // A smaller file that still fits is taken: the quota is bytes, not a lock-out.
    let fits = app.upload(&talent, &second, "c.pdf", pdf(10_000)).await;
    assert_eq!(fits.status().as_u16(), 201);
    assert_eq!(stored(&app).await, (4, QUOTA));

    // Across applications: a draft of another scheme shares the account's quota.
    let twl = json!({ "scheme": "TWL", "issuer": "TZ", "facts": crate::schemes::doctorate(40) });
    let other: Value = app
        .send("POST", "/api/v1/applications", &talent.access, Some(&twl))
        .await
        .json()
        .await
        .unwrap();
    let other = other["id"].as_str().unwrap().to_owned();
    let refused = app.upload(&talent, &other, "d.pdf", pdf(1_000)).await;
    problem(refused, 409, "evidence_quota_exceeded").await;

    // Withdrawing the draft deletes its files at once; storage never passes the quota however
    // often the cycle repeats.
    let mut open = second.clone();
    for round in 0..3 {
        withdraw(&app, &talent, &open).await;
        let (_, bytes) = stored(&app).await;
        assert_eq!(
            bytes, 60_000,
            "round {round}: only the submitted application's files stay"
        );
        let next = app.draft(&talent, 40).await;
        assert_eq!(
            app.upload(&talent, &next, "x.pdf", pdf(30_000))
                .await
                .status()
                .as_u16(),
            201
        );
        let over = app.upload(&talent, &next, "y.pdf", pdf(30_000)).await;
        problem(over, 409, "evidence_quota_exceeded").await;
        assert!(stored(&app).await.1 <= QUOTA);
        open = next;
    }
    let listed: Value = app
        .get_as(
            &format!("/api/v1/applications/{second}/documents"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "the withdrawn draft holds no files");
    let mut conn = app.connect().await;
    #[derive(QueryableByName)]
    struct Detail {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    let audited: Vec<Detail> = diesel::sql_query(
        "SELECT detail::text AS detail FROM audit_log WHERE action = 'application.withdrawn' \
         ORDER BY seq",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(
        audited[0].detail.contains("\"documents_deleted\": 0"),
        "{}",
        audited[0].detail
    );
    assert!(
        audited[1].detail.contains("\"documents_deleted\": 2"),
        "{}",
        audited[1].detail
    );
}

#[tokio::test]
async fn racing_uploads_cannot_pass_the_file_quota_together() {
    let app = spawn_app_with(|s| s.documents.max_files_per_account = 3).await;
    let talent = app.talent("racer@example.cn").await;
    let id = app.draft(&talent, 40).await;
    let uploads = (0..8).map(|n| app.upload(&talent, &id, "r.pdf", pdf(1_000 + n)));
    let statuses: Vec<u16> = futures_util::future::join_all(uploads)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(stored(&app).await.0, 3);
}

/// An upload whose multipart body is written by hand, so the file name reaches the server as
/// raw UTF-8, the way a hostile client sends it.
async fn upload_named(app: &TestApp, talent: &TestUser, id: &str, name: &str) -> Value {
    let boundary = "----talentcard-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(crate::applications::PDF);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(format!(
            "{}/api/v1/applications/{id}/documents",
            app.address
        ))
        .bearer_auth(&talent.access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn stored_file_names_lose_bidi_controls_and_invisible_characters() {
    let app = spawn_app().await;
    let talent = app.talent("names@example.cn").await;
    let id = app.draft(&talent, 40).await;
    for (sent, kept) in [
        ("\u{202E}gpj.exe", "gpj.exe"),
        ("学位\u{2067}fdp.exe\u{2069}.pdf", "学位fdp.exe.pdf"),
        ("in\u{200B}voice\u{FEFF}.pdf", "invoice.pdf"),
        ("\u{202D}\u{200F}", "document"),
    ] {
        let stored = upload_named(&app, &talent, &id, sent).await;
        assert_eq!(stored["filename"], kept, "{sent:?}");
    }
    let listed: Value = app
        .get_as(
            &format!("/api/v1/applications/{id}/documents"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["filename"].as_str())
        .collect();
    assert_eq!(
        names,
        ["gpj.exe", "学位fdp.exe.pdf", "invoice.pdf", "document"]
    );
}
