//! Every read of someone's personal data by staff leaves an audit row: who, what, which
//! application and document, and no personal data in the row.

use serde_json::Value;

use crate::applications::resident_id;
use crate::helpers::{TestApp, spawn_app};
use crate::users::TestUser;

async fn rows(app: &TestApp, admin: &TestUser, action: &str) -> Vec<Value> {
    let page: Value = app
        .get_as(
            &format!("/api/v1/admin/audit?action={action}&limit=200"),
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_officials_download_of_evidence_is_audited_and_the_owners_is_not() {
    let app = spawn_app().await;
    let talent = app.talent("li@example.cn").await;
    app.put_profile(&talent, 3).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let other = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let id = app.draft(&talent, 35).await;
    let pdf = b"%PDF-1.4 a diploma".to_vec();
    let stored: Value = app
        .upload(&talent, &id, "diploma-li-ming.pdf", pdf)
        .await
        .json()
        .await
        .unwrap();
    let doc = stored["id"].as_str().unwrap().to_owned();
    let submit = app
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await;
    assert_eq!(submit.status().as_u16(), 200);
    let path = format!("/api/v1/applications/{id}/documents/{doc}");

    let own = app.get_as(&path, &talent.access).await;
    assert_eq!(own.status().as_u16(), 200);
    assert!(rows(&app, &admin, "document.downloaded").await.is_empty());

    // Another issuer's official sees nothing, and nothing was read.
    assert_eq!(
        app.get_as(&path, &other.access).await.status().as_u16(),
        404
    );
    assert!(rows(&app, &admin, "document.downloaded").await.is_empty());

    let read = app.get_as(&path, &official.access).await;
    assert_eq!(read.status().as_u16(), 200);
    let found = rows(&app, &admin, "document.downloaded").await;
    assert_eq!(found.len(), 1, "{found:?}");
    let row = &found[0];
    assert_eq!(row["actor"], format!("account:{}", official.id));
    assert_eq!(row["entity_type"], "application");
    assert_eq!(row["entity_id"], id);
    assert_eq!(row["detail"]["document"], doc);
    assert_eq!(row["detail"]["talent"], talent.id.to_string());
    let text = row.to_string();
    assert!(!text.contains("diploma"), "no file name: {text}");
    assert!(!text.contains(&resident_id(3)), "no ID number: {text}");

    // The application view with the unmasked ID is audited too, once per read.
    let view = app
        .get_as(&format!("/api/v1/applications/{id}"), &official.access)
        .await;
    assert_eq!(view.status().as_u16(), 200);
    let viewed = rows(&app, &admin, "application.personal_data_viewed").await;
    assert_eq!(viewed.len(), 1, "{viewed:?}");
    assert!(!viewed[0].to_string().contains(&resident_id(3)));
}
