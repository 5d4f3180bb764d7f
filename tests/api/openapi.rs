use std::collections::BTreeSet;

use crate::access::ENDPOINTS;
use crate::helpers::spawn_app;

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
