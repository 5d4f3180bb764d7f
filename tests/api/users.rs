//! Test actors: talent who register and log in through the API; officials and administrators
//! with an enrolled second factor; agency clients.

use chrono::Duration;
use serde_json::{Value, json};
use talentcard::audit::Actor;
use talentcard::auth::{password, totp};
use talentcard::clock::Clock;
use talentcard::crypto::pii::PiiCipher;
use talentcard::models::account::{self, NewAccount};
use uuid::Uuid;

use crate::helpers::{TestApp, test_settings};

/// The password every test actor uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in actor.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub access: String,
    pub refresh: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
}

impl TestApp {
    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// An administrator publishes a new entitlements version (`{"rules": [...]}`): 201.
    pub async fn publish_entitlements(&self, admin: &TestUser, rules: &Value) {
        let published = self
            .client
            .put(format!("{}/api/v1/admin/entitlements", self.address))
            .bearer_auth(&admin.access)
            .json(rules)
            .send()
            .await
            .expect("request");
        assert_eq!(published.status().as_u16(), 201, "entitlements published");
    }

    /// The items of the first page of a list.
    pub async fn items(&self, path: &str, token: &str) -> Vec<Value> {
        let page: Value = self.get_as(path, token).await.json().await.unwrap();
        serde_json::from_value(page["items"].clone()).unwrap()
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        totp: Option<&str>,
    ) -> reqwest::Response {
        let mut body = json!({ "email": email, "password": password });
        if let Some(code) = totp {
            body["totp"] = json!(code);
        }
        self.post_json("/api/v1/auth/login", &body, None).await
    }

    /// Registers and logs in a talent.
    pub async fn talent(&self, email: &str) -> TestUser {
        let body = json!({ "email": email, "password": PASSWORD, "full_name": "测试 Talent" });
        let created = self.post_json("/api/v1/auth/register", &body, None).await;
        assert_eq!(created.status().as_u16(), 201, "register {email}");
        let created: Value = created.json().await.unwrap();
        let tokens: Value = self
            .login(email, PASSWORD, None)
            .await
            .json()
            .await
            .unwrap();
        TestUser {
            id: created["id"].as_str().unwrap().parse().unwrap(),
            access: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().map(str::to_owned),
            totp_secret: None,
        }
    }

    /// Creates a staff member with an enrolled second factor and logs them in.
    pub async fn staff(&self, email: &str, role: &str, issuer: Option<&str>) -> TestUser {
        let settings = test_settings();
        let cipher = PiiCipher::new(&settings.secrets().unwrap(), &settings.auth.pii_key_id);
        let hash = password::hash(secrecy::SecretString::from(PASSWORD.to_owned()))
            .await
            .unwrap();
        let mut conn = self.connect().await;
        let new = NewAccount {
            id: Uuid::now_v7(),
            email,
            password_hash: &hash,
            full_name: "测试 Staff",
            role,
            issuer,
        };
        let created = account::create(&mut conn, new, Actor::System)
            .await
            .unwrap();
        let secret = totp::new_secret();
        let sealed = cipher
            .seal(
                &hex::encode(&secret),
                talentcard::crypto::pii::Field::TotpSecret,
                created.id.as_bytes(),
            )
            .unwrap();
        account::set_pending_mfa(&mut conn, created.id, &sealed, cipher.key_id())
            .await
            .unwrap();
        let earlier = self.clock.now() - Duration::hours(1);
        account::accept_totp_step(
            &mut conn,
            created.id,
            totp::step_at(earlier),
            &sealed,
            Some(earlier),
        )
        .await
        .unwrap();
        self.staff_login(email, &secret, created.id).await
    }

    /// Logs a staff member in with the code of the current step (moving the clock a step on
    /// first, so a code is never reused).
    pub async fn staff_login(&self, email: &str, secret: &[u8], id: Uuid) -> TestUser {
        self.clock.advance(Duration::seconds(30));
        let code = totp::code_at(secret, self.clock.now());
        let response = self.login(email, PASSWORD, Some(&code)).await;
        assert_eq!(response.status().as_u16(), 200, "staff login {email}");
        let tokens: Value = response.json().await.unwrap();
        TestUser {
            id,
            access: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().map(str::to_owned),
            totp_secret: Some(secret.to_vec()),
        }
    }

    /// Creates an agency in `district` offering `services`, with one client; returns the
    /// agency id, the client id, the secret and a fresh access token.
    pub async fn agency(
        &self,
        admin: &TestUser,
        district: &str,
        services: &[&str],
    ) -> (Uuid, String, String, String) {
        let body = json!({ "name": "测试医院", "district": district, "services": services });
        let agency: Value = self
            .post_json("/api/v1/admin/agencies", &body, Some(&admin.access))
            .await
            .json()
            .await
            .unwrap();
        let agency_id: Uuid = agency["id"].as_str().unwrap().parse().unwrap();
        let path = format!("/api/v1/admin/agencies/{agency_id}/clients");
        let client: Value = self
            .post_json(&path, &json!({}), Some(&admin.access))
            .await
            .json()
            .await
            .unwrap();
        let client_id = client["client_id"].as_str().unwrap().to_owned();
        let secret = client["client_secret"].as_str().unwrap().to_owned();
        let token = self.client_token(&client_id, &secret).await;
        assert_eq!(token.status().as_u16(), 200);
        let token: Value = token.json().await.unwrap();
        (
            agency_id,
            client_id,
            secret,
            token["access_token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn client_token(&self, client_id: &str, secret: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/auth/token", self.address))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .expect("request")
    }
}
