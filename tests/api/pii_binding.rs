//! Sealed personal data is bound to its column: a database writer who moves a ciphertext into
//! another column of the same person's row does not get it shown there.

use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::applications::resident_id;
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_phone_ciphertext_moved_into_the_id_column_does_not_open_as_the_id() {
    let app = spawn_app().await;
    let talent = app.talent("li@example.cn").await;
    let body = json!({
        "id_type": "resident_id",
        "id_number": resident_id(4),
        "phone": "13800138000",
    });
    let stored = app
        .client
        .put(format!("{}/api/v1/me/profile", app.address))
        .bearer_auth(&talent.access)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status().as_u16(), 200);
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let id = app.submitted(&talent, 35).await;
    let path = format!("/api/v1/applications/{id}");
    let before: serde_json::Value = app
        .get_as(&path, &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["applicant"]["id_number"], resident_id(4));

    diesel::sql_query(
        // Officials read the document copy the application was submitted with.
        "UPDATE application_identity_documents d SET id_number_ciphertext = p.phone_ciphertext
           FROM profiles p, applications a
          WHERE p.account_id = $1 AND a.talent_id = $1 AND d.application_id = a.id",
    )
    .bind::<diesel::sql_types::Uuid, _>(talent.id)
    .execute(&mut app.connect().await)
    .await
    .unwrap();
    let after = app.get_as(&path, &official.access).await;
    let status = after.status().as_u16();
    let text = after.text().await.unwrap();
    assert!(
        !text.contains("13800138000"),
        "the phone is not shown as the ID: {text}"
    );
    assert_eq!(status, 500, "{text}");
}
