//! Registration and login: validation, enumeration, throttling.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use crate::users::PASSWORD;

fn registration(email: &str, password: &str) -> Value {
    json!({ "email": email, "password": password, "full_name": "李明" })
}

#[tokio::test]
async fn a_talent_registers_with_a_normalised_email() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &registration("  Li.Ming@Example.CN ", PASSWORD),
            None,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "li.ming@example.cn");
    assert_eq!(body["role"], "talent");
    assert_eq!(body["full_name"], "李明");
    assert!(body.get("password_hash").is_none());

    let again = app
        .post_json(
            "/api/v1/auth/register",
            &registration("LI.MING@example.cn", PASSWORD),
            None,
        )
        .await;
    problem(again, 409, "email_taken").await;
}

#[tokio::test]
async fn bad_registrations_are_422_and_write_nothing() {
    let app = spawn_app().await;
    let cases = [
        (registration("not-an-email", PASSWORD), "email"),
        (registration("a@example.cn", "eleven char"), "password"),
        (registration("a@example.cn", &"x".repeat(129)), "password"),
        (registration("a@example.cn", "1qaz2wsx3edc"), "password"),
        (
            json!({ "email": "a@example.cn", "password": PASSWORD, "full_name": "  " }),
            "full_name",
        ),
        (
            json!({ "email": "a@example.cn", "password": PASSWORD }),
            "full_name",
        ),
        (
            // An unknown field is named by its object, never echoed.
            json!({ "email": "a@example.cn", "password": PASSWORD, "full_name": "x", "role": "admin" }),
            "body",
        ),
        (
            json!({ "email": 7, "password": PASSWORD, "full_name": "x" }),
            "email",
        ),
    ];
    for (body, field) in cases {
        let response = app.post_json("/api/v1/auth/register", &body, None).await;
        let problem = problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let login = app.login("a@example.cn", PASSWORD, None).await;
    assert_eq!(login.status().as_u16(), 401, "nothing was written");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.talent("known@example.cn").await;
    let wrong = problem(
        app.login("known@example.cn", "not the password at all", None)
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = problem(
        app.login("nobody@example.cn", "not the password at all", None)
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn an_oversized_password_is_refused_before_hashing() {
    let app = spawn_app().await;
    let response = app
        .login("known@example.cn", &"p".repeat(10_000), None)
        .await;
    problem(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn failures_lock_the_account_with_a_growing_delay() {
    let app = spawn_app().await;
    app.talent("locked@example.cn").await;
    for _ in 0..6 {
        let response = app
            .login("locked@example.cn", "wrong password!!", None)
            .await;
        assert_eq!(response.status().as_u16(), 401);
    }
    // Six failures: the sixth locked the account for one second. Even the right password waits.
    let locked = app.login("locked@example.cn", PASSWORD, None).await;
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    problem(locked, 429, "rate_limited").await;

    app.clock.advance(Duration::seconds(2));
    assert_eq!(
        app.login("locked@example.cn", "wrong password!!", None)
            .await
            .status()
            .as_u16(),
        401
    );
    let longer = app.login("locked@example.cn", PASSWORD, None).await;
    assert_eq!(
        longer.status().as_u16(),
        429,
        "the seventh failure doubled the delay"
    );
    app.clock.advance(Duration::seconds(3));
    assert_eq!(
        app.login("locked@example.cn", PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );

    // An unknown email is throttled just the same, so lockouts reveal nothing either.
    for _ in 0..6 {
        app.login("ghost@example.cn", "wrong password!!", None)
            .await;
    }
    assert_eq!(
        app.login("ghost@example.cn", "wrong password!!", None)
            .await
            .status()
            .as_u16(),
        429
    );
}

#[tokio::test]
async fn logins_and_failures_are_audited_without_secrets() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    app.talent("audited@example.cn").await;
    app.login("audited@example.cn", "wrong password!!", None)
        .await;
    let page: Value = app
        .get_as("/api/v1/admin/audit?limit=200", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in ["account.created", "login.succeeded", "login.failed"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let text = page.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains("wrong password"));
    assert!(!text.contains("access_token") && !text.contains("rt_"));
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_throttle() {
    let app = spawn_app().await;
    app.talent("parallel@example.cn").await;
    let guesses = (0..20).map(|_| app.login("parallel@example.cn", "wrong password!!", None));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    // Five free attempts and the sixth that sets the lock; every other one waits.
    assert!(evaluated <= 6, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn nul_characters_are_refused_not_500() {
    let app = spawn_app().await;
    let body = json!({ "email": "nul@example.cn", "password": PASSWORD, "full_name": "a\u{0}b" });
    problem(
        app.post_json("/api/v1/auth/register", &body, None).await,
        422,
        "validation_failed",
    )
    .await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let filtered = app
        .get_as("/api/v1/admin/audit?action=a%00b", &admin.access)
        .await;
    problem(filtered, 422, "validation_failed").await;
}

#[tokio::test]
async fn successful_logins_never_count_against_the_account() {
    let app = spawn_app().await;
    app.talent("frequent@example.cn").await;
    // More than the hourly cap of failures: successes must not use it up.
    for attempt in 0..101 {
        let response = app.login("frequent@example.cn", PASSWORD, None).await;
        assert_eq!(response.status().as_u16(), 200, "login {attempt}");
    }
}

async fn register_from(app: &TestApp, address: &str, n: u32) -> reqwest::Response {
    let body = json!({ "email": format!("bulk{n}@example.cn"), "password": crate::users::PASSWORD, "full_name": "x" });
    app.client
        .post(format!("{}/api/v1/auth/register", app.address))
        .header("X-Forwarded-For", address)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_address_registers_a_limited_number_of_accounts_an_hour() {
    let app = spawn_app_with(|s| {
        s.auth.registrations_per_address_hour = 3;
        s.application.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for n in 0..3 {
        assert_eq!(
            register_from(&app, "203.0.113.7", n)
                .await
                .status()
                .as_u16(),
            201
        );
    }
    let refused = register_from(&app, "203.0.113.7", 3).await;
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    problem(refused, 429, "rate_limited").await;
    let login = app
        .login("bulk3@example.cn", crate::users::PASSWORD, None)
        .await;
    assert_eq!(
        login.status().as_u16(),
        401,
        "the refused account was not created"
    );
    // Another address has its own allowance; the next hour, the first has a new one.
    assert_eq!(
        register_from(&app, "203.0.113.8", 4)
            .await
            .status()
            .as_u16(),
        201
    );
    app.clock.advance(Duration::hours(1));
    assert_eq!(
        register_from(&app, "203.0.113.7", 5)
            .await
            .status()
            .as_u16(),
        201
    ); // Old windows are swept when a new one opens: the table does not grow with time.
    app.clock.advance(Duration::hours(2));
    let fresh = register_from(&app, "203.0.113.9", 6).await;
    assert_eq!(fresh.status().as_u16(), 201);
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.connect().await;
    let left: Count = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT count(*) AS n FROM address_rate_windows"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(left.n, 1, "only the current window is left");
}

#[tokio::test]
async fn an_oversized_client_credentials_form_is_an_oauth_invalid_request() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={}",
            "x".repeat(10_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}
