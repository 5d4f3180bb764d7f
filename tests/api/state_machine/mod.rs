//! A state-machine property test of applications and cards.
//!
//! Proptest generates random sequences (10 to 30 operations) of submit, decide (approve with a
//! tier, reject with a coded reason, request material), suspend, resume, revoke, the holder's
//! loss report and replacement, change reports and their decisions (keep, retier, suspend,
//! revoke), renewals issued ahead (see `holder.rs`), verify and redeem, fetching a credential and presenting one, rotating an issuer's key and marking any
//! of its keys compromised, each by a random actor (the owning talent, another talent, the official of the
//! application's issuer, an official of another issuer, an administrator, a partner agency in
//! Xiong'an, another agency in Tongzhou), over a small pool of applications (two XIONGAN ones at
//! XA, one TBT at TZ) and the cards their approvals issue. A reference model predicts every
//! answer: a wrong role gets 403, someone who may not see the resource 404 (an official of
//! another issuer; any official, for a draft never submitted), an illegal
//! transition 409 `invalid_transition`, a legal one 2xx (with the new state in the body); a
//! redemption 403 for a service the agency does not offer, 422 `presentation_required` unless a
//! valid verification by credential gave that agency a `presentation_id` for the card, 422
//! `card_not_valid`, 409 `quota_exhausted` or 201; a check by number 429 once the agency has had
//! its hourly allowance of unknown answers. After each sequence the invariants are checked under the API (SQL)
//! and through it: the database and the API agree with the model, at most one live card per
//! application, revoked is final (probed once more, and the status list says revoked), every
//! successful transition is audited exactly once (by action, entity and actor) and nothing else
//! on these entities is, redemptions never exceed a quota, a credential under a withdrawn key
//! verifies as `untrusted` while every other one answers its card's live status, the trust list
//! publishes exactly the active keys and the retired keys that signed a credential, and the
//! audit hash chain verifies.
//!
//! Each case runs on a freshly spawned application (its own database), inside a Tokio runtime of
//! its own. `PROPTEST_CASES` sets the number of cases (default 12, well under a minute on two
//! cores); for a longer run: `PROPTEST_CASES=200 cargo test --test api state_machine`. Shrinking
//! is bounded by `PROPTEST_MAX_SHRINK_ITERS` (default 32; each iteration is a fresh app).
//! Failures are not persisted to a file: the failing sequence is printed instead.

use std::collections::BTreeMap;

use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use diesel_async::RunQueryDsl;
use futures_util::future::join_all;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{Value, json};
use talentcard::credentials::status_list;
use talentcard::domain::card_number;

use crate::helpers::{TestApp, spawn_app_with};
use crate::schemes::doctorate;
use crate::users::TestUser;

use holder::ChangeDecision;

/// Who makes a request, relative to the application (or card) it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    OtherTalent,
    Official,
    OtherOfficial,
    Admin,
    Agency,
    OtherAgency,
}

const EVERYONE: &[Who] = &[
    Who::Owner,
    Who::OtherTalent,
    Who::Official,
    Who::OtherOfficial,
    Who::Admin,
    Who::Agency,
    Who::OtherAgency,
];

/// One application of the pool.
struct Spec {
    owner: usize,
    scheme: &'static str,
    issuer: &'static str,
    employer_district: &'static str,
}

/// The number of applications in the pool.
const POOL: usize = 3;

const APPS: [Spec; POOL] = [
    Spec {
        owner: 0,
        scheme: "XIONGAN",
        issuer: "XA",
        employer_district: "xiongan",
    },
    Spec {
        owner: 1,
        scheme: "XIONGAN",
        issuer: "XA",
        employer_district: "xiongan",
    },
    Spec {
        owner: 0,
        scheme: "TBT",
        issuer: "TZ",
        employer_district: "tongzhou",
    },
];

/// Issuers with an official each; the "other" official of an application is the other one.
const ISSUERS: [&str; 2] = ["XA", "TZ"];

const TALENTS: usize = 3;

struct AgencySpec {
    district: &'static str,
    services: &'static [&'static str],
}

const AGENCIES: [AgencySpec; 2] = [
    AgencySpec {
        district: "xiongan",
        services: &[
            "annual_health_check",
            "tourism_pass",
            "medical_green_channel",
            "talent_housing",
        ],
    },
    AgencySpec {
        district: "tongzhou",
        services: &["annual_health_check", "tourism_pass"],
    },
];

/// Services an agency may try to redeem (quota 1 a year, 12 or 4 a year, unlimited, and one
/// that only tier A has).
const SERVICES: &[&str] = &[
    "annual_health_check",
    "tourism_pass",
    "medical_green_channel",
    "talent_housing",
];

#[derive(Debug, Clone, Copy)]
enum Decision {
    Approve(&'static str),
    Reject(&'static str),
    RequestMaterial,
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Suspend(&'static str),
    Resume,
    Revoke(&'static str),
}

#[derive(Debug, Clone)]
enum Op {
    Submit {
        app: usize,
        who: Who,
    },
    Decide {
        app: usize,
        who: Who,
        decision: Decision,
    },
    Card {
        app: usize,
        who: Who,
        change: Change,
    },
    Verify {
        app: usize,
        who: Who,
    },
    Redeem {
        app: usize,
        who: Who,
        service: &'static str,
    },
    /// The holder fetches the card's credential (signed by the issuer's active key).
    Fetch {
        app: usize,
        who: Who,
    },
    /// An agency verifies one of the credentials fetched so far.
    Present {
        app: usize,
        who: Who,
        pick: usize,
    },
    /// An issuer's key is rotated.
    Rotate {
        issuer: usize,
        who: Who,
    },
    /// One of an issuer's keys (active or retired) is marked compromised.
    Compromise {
        issuer: usize,
        key: usize,
        who: Who,
    },
    /// The holder reports the application's current card lost.
    ReportLoss {
        app: usize,
        who: Who,
    },
    /// The holder asks for a replacement of the current card.
    Replace {
        app: usize,
        who: Who,
    },
    /// The holder reports a change on the current card.
    ReportChange {
        app: usize,
        who: Who,
    },
    /// An official decides the latest change report on the current card.
    DecideChange {
        app: usize,
        who: Who,
        decision: ChangeDecision,
    },
    /// The holder renews the current card (a renewal application, submitted and approved with
    /// the same tier by the issuer's official).
    Renew {
        app: usize,
        who: Who,
    },
}

/// Mostly the actor who may do it, sometimes anyone.
fn who(right: &'static [Who]) -> BoxedStrategy<Who> {
    prop_oneof![
        3 => prop::sample::select(right),
        2 => prop::sample::select(EVERYONE),
    ]
    .boxed()
}

fn decision() -> impl Strategy<Value = Decision> {
    prop_oneof![
        3 => prop::sample::select(&["A", "B", "C"][..]).prop_map(Decision::Approve),
        1 => prop::sample::select(
            &["not_eligible", "incomplete_evidence", "fraudulent_material", "duplicate", "other"][..]
        )
        .prop_map(Decision::Reject),
        1 => Just(Decision::RequestMaterial),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        2 => prop::sample::select(
            &["under_investigation", "employer_change_review", "holder_request", "other"][..]
        )
        .prop_map(Change::Suspend),
        2 => Just(Change::Resume),
        1 => prop::sample::select(
            &["fraudulent_material", "loss_of_eligibility", "left_area", "death", "other"][..]
        )
        .prop_map(Change::Revoke),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let app = 0..APPS.len();
    let agencies: &'static [Who] = &[Who::Agency, Who::OtherAgency];
    prop_oneof![
        3 => (app.clone(), who(&[Who::Owner])).prop_map(|(app, who)| Op::Submit { app, who }),
        4 => (app.clone(), who(&[Who::Official]), decision())
            .prop_map(|(app, who, decision)| Op::Decide { app, who, decision }),
        5 => (app.clone(), who(&[Who::Official]), change())
            .prop_map(|(app, who, change)| Op::Card { app, who, change }),
        2 => (app.clone(), who(agencies)).prop_map(|(app, who)| Op::Verify { app, who }),
        5 => (app.clone(), who(agencies), prop::sample::select(SERVICES))
            .prop_map(|(app, who, service)| Op::Redeem { app, who, service }),
        3 => (app.clone(), who(&[Who::Owner])).prop_map(|(app, who)| Op::Fetch { app, who }),
        3 => (app, who(agencies), 0..4usize)
            .prop_map(|(app, who, pick)| Op::Present { app, who, pick }),
        1 => (0..ISSUERS.len(), who(&[Who::Admin]))
            .prop_map(|(issuer, who)| Op::Rotate { issuer, who }),
        1 => (0..ISSUERS.len(), 0..4usize, who(&[Who::Admin]))
            .prop_map(|(issuer, key, who)| Op::Compromise { issuer, key, who }),
        2 => (0..APPS.len(), who(&[Who::Owner])).prop_map(|(app, who)| Op::ReportLoss { app, who }),
        2 => (0..APPS.len(), who(&[Who::Owner])).prop_map(|(app, who)| Op::Replace { app, who }),
        2 => (0..APPS.len(), who(&[Who::Owner]))
            .prop_map(|(app, who)| Op::ReportChange { app, who }),
        3 => (0..APPS.len(), who(&[Who::Official]), holder::change_decision())
            .prop_map(|(app, who, decision)| Op::DecideChange { app, who, decision }),
        3 => (0..APPS.len(), who(&[Who::Owner])).prop_map(|(app, who)| Op::Renew { app, who }),
    ]
}

/// Which applications start submitted (the rest start as drafts), and the operations. Some
/// submitted applications are approved first, so that the card's later life (loss, replacement,
/// change reports, renewal) is reached in most sequences.
fn case() -> impl Strategy<Value = ([bool; POOL], Vec<Op>)> {
    (
        any::<[bool; POOL]>(),
        any::<[bool; POOL]>(),
        prop::collection::vec(op(), 10..=30),
    )
        .prop_map(|(submitted, approved, ops)| {
            let mut steps: Vec<Op> = (0..POOL)
                .filter(|app| submitted[*app] && approved[*app])
                .map(|app| Op::Decide {
                    app,
                    who: Who::Official,
                    decision: Decision::Approve("B"),
                })
                .collect();
            steps.extend(ops);
            (submitted, steps)
        })
}

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config() -> Config {
    Config {
        cases: env_or("PROPTEST_CASES", 12),
        max_shrink_iters: env_or("PROPTEST_MAX_SHRINK_ITERS", 32),
        max_shrink_time: 120_000,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_sequences_of_transitions_keep_every_invariant((submitted, ops) in case()) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = runtime.block_on(run(submitted, ops));
        drop(runtime);
        if let Err(message) = outcome {
            return Err(TestCaseError::fail(message));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reference model.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppStatus {
    Draft,
    Submitted,
    SupplementRequested,
    Approved,
    Rejected,
}

impl AppStatus {
    fn as_str(self) -> &'static str {
        match self {
            AppStatus::Draft => "draft",
            AppStatus::Submitted => "submitted",
            AppStatus::SupplementRequested => "supplement_requested",
            AppStatus::Approved => "approved",
            AppStatus::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardStatus {
    Active,
    Suspended,
    Revoked,
}

impl CardStatus {
    fn as_str(self) -> &'static str {
        match self {
            CardStatus::Active => "active",
            CardStatus::Suspended => "suspended",
            CardStatus::Revoked => "revoked",
        }
    }

    /// Its 2-bit entry in the status list.
    fn list_entry(self) -> u8 {
        match self {
            CardStatus::Active => 0,
            CardStatus::Revoked => 1,
            CardStatus::Suspended => 2,
        }
    }
}

#[derive(Debug)]
struct CardModel {
    id: String,
    number: String,
    tier: String,
    status: CardStatus,
    /// Redemptions by (district, service); a case stays within one quota period.
    uses: BTreeMap<(String, String), i64>,
    /// Credentials fetched, with the key that signed each.
    credentials: Vec<(String, String)>,
    /// Suspended because its holder reported it lost (a replacement may be asked for).
    lost: bool,
    /// Its change reports: (id, still open).
    changes: Vec<(String, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyStatus {
    Active,
    Retired,
    Compromised,
}

/// An issuer key as the model knows it.
#[derive(Debug, Clone)]
struct KeyModel {
    kid: String,
    status: KeyStatus,
    /// Whether it signed a credential (which keeps it published once retired).
    signed: bool,
}

#[derive(Debug)]
struct AppModel {
    id: String,
    status: AppStatus,
    /// The card in force for this application (after replacements and re-tierings, the latest).
    card: Option<CardModel>,
    /// The cards it superseded, oldest first (all revoked).
    retired: Vec<CardModel>,
    /// The renewal of the current card, valid from the day after it ends (in force later).
    renewed: Option<CardModel>,
}

impl AppModel {
    /// Uses of a service in a district across the holder's cards of the scheme: quotas count
    /// per holder and scheme, across replacements and re-tierings.
    fn used(&self, district: &str, service: &str) -> i64 {
        let key = (district.to_owned(), service.to_owned());
        self.card
            .iter()
            .chain(&self.retired)
            .map(|c| c.uses.get(&key).copied().unwrap_or(0))
            .sum()
    }

    /// Every card of the application, current first.
    fn all_cards(&self) -> impl Iterator<Item = &CardModel> {
        self.card.iter().chain(&self.retired).chain(&self.renewed)
    }
}

/// Audit rows expected: (action, entity id, who) → count.
type AuditCounts = BTreeMap<(String, String, String), i64>;

#[derive(Debug, Default)]
struct Model {
    apps: Vec<AppModel>,
    audit: AuditCounts,
    /// By [`ISSUERS`] index, oldest first.
    keys: Vec<Vec<KeyModel>>,
    /// The latest `presentation_id` of each (application, agency index): a valid verification
    /// by credential proves the card was shown to that agency.
    presentations: BTreeMap<(usize, usize), String>,
    /// Unknown answers to checks by number, per agency index (the hour never ends in a case).
    unknown: [i64; 2],
}

impl Model {
    fn active_key(&self, issuer: &str) -> Option<&KeyModel> {
        let index = ISSUERS.iter().position(|i| *i == issuer)?;
        self.keys[index]
            .iter()
            .find(|k| k.status == KeyStatus::Active)
    }
}

impl Model {
    fn audited(&mut self, action: &str, entity: &str, who: String) {
        *self
            .audit
            .entry((action.to_owned(), entity.to_owned(), who))
            .or_default() += 1;
    }
}

/// The recognition and entitlement rules in force, and the issuers' districts, as the API
/// publishes them.
struct Policy {
    recognitions: Vec<Value>,
    entitlements: Vec<Value>,
    issuer_districts: BTreeMap<String, String>,
}

impl Policy {
    /// The tier a card counts as in `district`: its own in its issuer's district, else what a
    /// recognition rule says.
    fn local_tier(&self, spec: &Spec, tier: &str, district: &str) -> Option<String> {
        if self.issuer_districts.get(spec.issuer).map(String::as_str) == Some(district) {
            return Some(tier.to_owned());
        }
        self.recognitions
            .iter()
            .find(|r| r["scheme"] == spec.scheme && r["tier"] == tier && r["district"] == district)
            .and_then(|r| r["local_tier"].as_str().map(str::to_owned))
    }

    /// `None`: no entitlement; `Some(None)`: unlimited; `Some(Some(q))`: a quota of q.
    fn quota(&self, local_tier: &str, district: &str, service: &str) -> Option<Option<i64>> {
        self.entitlements
            .iter()
            .find(|r| {
                r["local_tier"] == local_tier
                    && r["district"] == district
                    && r["service"] == service
            })
            .map(|r| r["quota"].as_i64())
    }
}

// ---------------------------------------------------------------------------------------------
// The system under test.

struct AgencyActor {
    id: String,
    token: String,
    spec: &'static AgencySpec,
}

struct World {
    app: TestApp,
    talents: Vec<TestUser>,
    /// By [`ISSUERS`] index.
    officials: Vec<TestUser>,
    admin: TestUser,
    agencies: Vec<AgencyActor>,
    policy: Policy,
}

impl World {
    fn official_index(issuer: &str, right: bool) -> usize {
        let own = ISSUERS.iter().position(|i| *i == issuer).unwrap_or(0);
        if right {
            own
        } else {
            (own + 1) % ISSUERS.len()
        }
    }

    fn person(&self, who: Who, spec: &Spec) -> Option<&TestUser> {
        match who {
            Who::Owner => Some(&self.talents[spec.owner]),
            Who::OtherTalent => Some(&self.talents[(spec.owner + 1) % self.talents.len()]),
            Who::Official => Some(&self.officials[Self::official_index(spec.issuer, true)]),
            Who::OtherOfficial => Some(&self.officials[Self::official_index(spec.issuer, false)]),
            Who::Admin => Some(&self.admin),
            Who::Agency | Who::OtherAgency => None,
        }
    }

    fn agency_index(who: Who) -> Option<usize> {
        match who {
            Who::Agency => Some(0),
            Who::OtherAgency => Some(1),
            _ => None,
        }
    }

    fn agency(&self, who: Who) -> Option<&AgencyActor> {
        match who {
            Who::Agency => Some(&self.agencies[0]),
            Who::OtherAgency => Some(&self.agencies[1]),
            _ => None,
        }
    }

    fn token(&self, who: Who, spec: &Spec) -> &str {
        match self.agency(who) {
            Some(agency) => &agency.token,
            None => self
                .person(who, spec)
                .map(|p| p.access.as_str())
                .unwrap_or_default(),
        }
    }

    /// The audit log's `actor` of a person.
    fn actor(&self, who: Who, spec: &Spec) -> String {
        self.person(who, spec)
            .map(|p| format!("account:{}", p.id))
            .unwrap_or_default()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        who: Who,
        spec: &Spec,
        body: Option<&Value>,
    ) -> Answer {
        let response = self
            .app
            .send(method, path, self.token(who, spec), body)
            .await;
        Answer::read(response).await
    }
}

struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }
}

/// What the model says the answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success(u16),
    Refused(u16, &'static str),
}

const FORBIDDEN: Expect = Expect::Refused(403, "forbidden");
const NOT_FOUND: Expect = Expect::Refused(404, "not_found");
const INVALID: Expect = Expect::Refused(409, "invalid_transition");
const NOT_VALID: Expect = Expect::Refused(422, "card_not_valid");
const EXHAUSTED: Expect = Expect::Refused(409, "quota_exhausted");
const PRESENTATION_REQUIRED: Expect = Expect::Refused(422, "presentation_required");
const LIMITED: Expect = Expect::Refused(429, "rate_limited");
/// `partners.unknown_numbers_per_hour` of the shipped configuration.
const UNKNOWN_NUMBERS_PER_HOUR: i64 = 20;

impl Expect {
    fn check(self, answer: &Answer) -> Result<bool, String> {
        let ok = match self {
            Expect::Success(status) => answer.status == status,
            Expect::Refused(status, code) => answer.status == status && answer.body["code"] == code,
        };
        if ok {
            Ok(matches!(self, Expect::Success(_)))
        } else {
            Err(format!(
                "the model expected {self:?}, the service answered {} {}",
                answer.status, answer.body
            ))
        }
    }
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}

// After the macro, so the holder's steps can use it.
mod holder;

async fn setup(submitted: [bool; POOL]) -> (World, Model) {
    // Setting a case up makes several requests at once; on a loaded machine (the whole suite
    // runs in parallel) a connection may take longer than the test configuration's 1 s to free.
    // The renewal window spans a whole card (more than validation allows), so a renewal may
    // be applied for at any step; the window itself is tested in holder_lifecycle.rs.
    let spawned = spawn_app_with(|s| {
        s.database.acquire_timeout_ms = 10_000;
        s.cards.renewal_window_days = 3660;
    })
    .await;
    // Independent accounts are made concurrently: setting up is most of a case's time.
    let app = &spawned;
    // Staff one after the other: each login moves the shared clock to a fresh TOTP step.
    let staff = async {
        let mut staff = Vec::new();
        for (name, role, issuer) in [("admin", "admin", None)]
            .into_iter()
            .chain(ISSUERS.map(|issuer| (issuer, "official", Some(issuer))))
        {
            let email = format!("{}@sm.example.cn", name.to_lowercase());
            staff.push(app.staff(&email, role, issuer).await);
        }
        staff
    };
    let talents = join_all((0..TALENTS).map(|n| async move {
        let talent = app.talent(&format!("talent{n}@sm.example.cn")).await;
        app.put_profile(&talent, 700 + u32::try_from(n).unwrap())
            .await;
        talent
    }));
    let (mut officials, talents) = futures_util::join!(staff, talents);
    let admin = officials.remove(0);
    let agencies = join_all(AGENCIES.iter().map(|spec| {
        let admin = &admin;
        async move {
            let (id, _, _, token) = app.agency(admin, spec.district, spec.services).await;
            AgencyActor {
                id: id.to_string(),
                token,
                spec,
            }
        }
    }))
    .await;
    let recognitions: Value = app.get("/api/v1/recognitions").await.json().await.unwrap();
    let entitlements: Value = app.get("/api/v1/entitlements").await.json().await.unwrap();
    let issuers: Vec<Value> = app.get("/api/v1/issuers").await.json().await.unwrap();
    let policy = Policy {
        recognitions: recognitions["rules"].as_array().unwrap().clone(),
        entitlements: entitlements["rules"].as_array().unwrap().clone(),
        issuer_districts: issuers
            .iter()
            .map(|i| {
                (
                    i["code"].as_str().unwrap().to_owned(),
                    i["district"].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    };
    let world = World {
        app: spawned,
        talents,
        officials,
        admin,
        agencies,
        policy,
    };
    let mut model = Model::default();
    for issuer in ISSUERS {
        let path = format!("/api/v1/admin/issuers/{issuer}/keys");
        let keys: Value = world
            .app
            .get_as(&path, &world.admin.access)
            .await
            .json()
            .await
            .unwrap();
        let keys = keys.as_array().unwrap();
        assert_eq!(keys.len(), 1, "one key per issuer at start: {keys:?}");
        model.keys.push(vec![KeyModel {
            kid: keys[0]["kid"].as_str().unwrap().to_owned(),
            status: KeyStatus::Active,
            signed: false,
        }]);
    }
    for (spec, submit) in APPS.iter().zip(submitted) {
        let mut facts = doctorate(40);
        facts["employer"]["district"] = json!(spec.employer_district);
        let body = json!({ "scheme": spec.scheme, "issuer": spec.issuer, "facts": facts });
        let created = world
            .call(
                "POST",
                "/api/v1/applications",
                Who::Owner,
                spec,
                Some(&body),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let owner = world.actor(Who::Owner, spec);
        model.audited("application.created", &id, owner.clone());
        let mut status = AppStatus::Draft;
        if submit {
            let path = format!("/api/v1/applications/{id}/submit");
            let done = world.call("POST", &path, Who::Owner, spec, None).await;
            assert_eq!(done.status, 200, "{}", done.body);
            model.audited("application.submitted", &id, owner);
            status = AppStatus::Submitted;
        }
        model.apps.push(AppModel {
            id,
            status,
            card: None,
            retired: Vec::new(),
            renewed: None,
        });
    }
    (world, model)
}

async fn run(submitted: [bool; POOL], ops: Vec<Op>) -> Result<(), String> {
    let (world, mut model) = setup(submitted).await;
    let mut log = String::new();
    let mut steps: Vec<Op> = ops;
    // Revoked is final: whatever the sequence did, try every change on every revoked card once
    // more at the end, as the issuer's own official.
    let probes = |model: &Model| -> Vec<Op> {
        let mut probes = Vec::new();
        for (app, m) in model.apps.iter().enumerate() {
            if m.card
                .as_ref()
                .is_some_and(|c| c.status == CardStatus::Revoked)
            {
                for change in [
                    Change::Resume,
                    Change::Suspend("other"),
                    Change::Revoke("other"),
                ] {
                    probes.push(Op::Card {
                        app,
                        who: Who::Official,
                        change,
                    });
                }
                probes.push(Op::Redeem {
                    app,
                    who: Who::Agency,
                    service: "medical_green_channel",
                });
                probes.push(Op::Verify {
                    app,
                    who: Who::Agency,
                });
            }
        }
        probes
    };
    let mut index = 0;
    let mut probed = false;
    loop {
        if index == steps.len() {
            if probed {
                break;
            }
            probed = true;
            steps.extend(probes(&model));
            continue;
        }
        let op = &steps[index];
        let outcome = step(&world, &mut model, op).await;
        match outcome {
            Ok(status) => log.push_str(&format!("  #{index} {op:?} -> {status}\n")),
            Err(message) => {
                return Err(format!("{log}  #{index} {op:?}: {message}"));
            }
        }
        index += 1;
    }
    invariants(&world, &model)
        .await
        .map_err(|message| format!("{log}after the sequence: {message}"))
}

async fn step(world: &World, model: &mut Model, op: &Op) -> Result<u16, String> {
    match *op {
        Op::Submit { app, who } => submit(world, model, app, who).await,
        Op::Decide { app, who, decision } => decide(world, model, app, who, decision).await,
        Op::Card { app, who, change } => change_card(world, model, app, who, change).await,
        Op::Verify { app, who } => verify(world, model, app, who).await,
        Op::Redeem { app, who, service } => redeem(world, model, app, who, service).await,
        Op::Fetch { app, who } => fetch(world, model, app, who).await,
        Op::Present { app, who, pick } => present(world, model, app, who, pick).await,
        Op::Rotate { issuer, who } => rotate(world, model, issuer, who).await,
        Op::Compromise { issuer, key, who } => compromise(world, model, issuer, key, who).await,
        Op::ReportLoss { app, who } => holder::report_loss(world, model, app, who).await,
        Op::Replace { app, who } => holder::replace(world, model, app, who).await,
        Op::ReportChange { app, who } => holder::report_change(world, model, app, who).await,
        Op::DecideChange { app, who, decision } => {
            holder::decide_change(world, model, app, who, decision).await
        }
        Op::Renew { app, who } => holder::renew(world, model, app, who).await,
    }
}

async fn submit(world: &World, model: &mut Model, app: usize, who: Who) -> Result<u16, String> {
    let spec = &APPS[app];
    let m = &mut model.apps[app];
    let expected = match who {
        Who::Owner if matches!(m.status, AppStatus::Draft | AppStatus::SupplementRequested) => {
            Expect::Success(200)
        }
        Who::Owner => INVALID,
        Who::OtherTalent => NOT_FOUND,
        _ => FORBIDDEN,
    };
    let path = format!("/api/v1/applications/{}/submit", m.id);
    let answer = world.call("POST", &path, who, spec, None).await;
    if expected.check(&answer)? {
        ensure!(answer.body["status"] == "submitted", "body {}", answer.body);
        m.status = AppStatus::Submitted;
        let id = m.id.clone();
        model.audited("application.submitted", &id, world.actor(who, spec));
    }
    Ok(answer.status)
}

async fn decide(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
    decision: Decision,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let m = &mut model.apps[app];
    let expected = match who {
        Who::Official if m.status == AppStatus::Submitted => Expect::Success(200),
        // Drafts are the talent's own business until first submitted.
        Who::Official if m.status == AppStatus::Draft => NOT_FOUND,
        Who::Official => INVALID,
        Who::OtherOfficial => NOT_FOUND,
        _ => FORBIDDEN,
    };
    let body = match decision {
        Decision::Approve(tier) => {
            json!({ "decision": "approve", "tier": tier, "comment": "evidence checked in person" })
        }
        Decision::Reject(reason) => {
            json!({ "decision": "reject", "reason_code": reason, "comment": "see the reason code" })
        }
        Decision::RequestMaterial => {
            json!({ "decision": "request_supplement", "comment": "please add", "items": ["doctoral diploma"] })
        }
    };
    let path = format!("/api/v1/applications/{}/decision", m.id);
    let answer = world.call("POST", &path, who, spec, Some(&body)).await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let official = world.actor(who, spec);
    let id = m.id.clone();
    let (status, action) = match decision {
        Decision::Approve(tier) => {
            let card = &answer.body["card"];
            ensure!(
                card["status"] == "active"
                    && card["tier"] == tier
                    && card["application_id"] == id.as_str(),
                "the approval's card: {card}"
            );
            let number = card["number"].as_str().unwrap_or_default().to_owned();
            ensure!(card_number::is_valid(&number), "card number {number}");
            let card_id = card["id"].as_str().unwrap_or_default().to_owned();
            model.audited("card.issued", &card_id, official.clone());
            model.apps[app].card = Some(CardModel {
                id: card_id,
                number,
                tier: tier.to_owned(),
                status: CardStatus::Active,
                uses: BTreeMap::new(),
                credentials: Vec::new(),
                lost: false,
                changes: Vec::new(),
            });
            (AppStatus::Approved, "application.approved")
        }
        Decision::Reject(_) => (AppStatus::Rejected, "application.rejected"),
        Decision::RequestMaterial => (
            AppStatus::SupplementRequested,
            "application.supplement_requested",
        ),
    };
    ensure!(
        answer.body["application"]["status"] == status.as_str(),
        "body {}",
        answer.body
    );
    if !matches!(decision, Decision::Approve(_)) {
        ensure!(
            answer.body["card"].is_null(),
            "a card without approval: {}",
            answer.body
        );
    }
    model.apps[app].status = status;
    model.audited(action, &id, official);
    Ok(answer.status)
}

async fn change_card(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
    change: Change,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let card = model.apps[app].card.as_mut();
    let (verb, body, allowed, to, action): (_, _, &[CardStatus], _, _) = match change {
        Change::Suspend(reason) => (
            "suspend",
            json!({ "reason_code": reason, "comment": "checking" }),
            &[CardStatus::Active],
            CardStatus::Suspended,
            "card.suspended",
        ),
        Change::Resume => (
            "resume",
            json!({ "reason_code": "investigation_closed" }),
            &[CardStatus::Suspended],
            CardStatus::Active,
            "card.resumed",
        ),
        Change::Revoke(reason) => (
            "revoke",
            json!({ "reason_code": reason }),
            &[CardStatus::Active, CardStatus::Suspended],
            CardStatus::Revoked,
            "card.revoked",
        ),
    };
    let expected = match (who, &card) {
        (Who::Official, Some(c)) if allowed.contains(&c.status) => Expect::Success(200),
        (Who::Official, Some(_)) => INVALID,
        (Who::Official | Who::OtherOfficial, _) => NOT_FOUND,
        _ => FORBIDDEN,
    };
    // An application without a card: a card id nobody has.
    let id = card
        .as_ref()
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), |c| c.id.clone());
    let path = format!("/api/v1/cards/{id}/{verb}");
    let answer = world.call("POST", &path, who, spec, Some(&body)).await;
    if expected.check(&answer)? {
        ensure!(
            answer.body["status"] == to.as_str() && answer.body["id"] == id.as_str(),
            "body {}",
            answer.body
        );
        if let Some(c) = card {
            c.status = to;
            c.lost = false;
        }
        model.audited(action, &id, world.actor(who, spec));
    }
    Ok(answer.status)
}

/// The holder fetches the credential: the owner gets one signed by the issuer's active key
/// (a revoked card has none: 409), another talent 404, anyone else 403.
async fn fetch(world: &World, model: &mut Model, app: usize, who: Who) -> Result<u16, String> {
    let spec = &APPS[app];
    let active = model.active_key(spec.issuer).map(|k| k.kid.clone());
    let Some(card) = model.apps[app].card.as_mut() else {
        return Ok(0);
    };
    let expected = match who {
        Who::Owner if card.status == CardStatus::Revoked => Expect::Refused(409, "conflict"),
        Who::Owner => Expect::Success(200),
        Who::OtherTalent => NOT_FOUND,
        _ => FORBIDDEN,
    };
    let path = format!("/api/v1/cards/{}/credential", card.id);
    let answer = world.call("GET", &path, who, spec, None).await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let credential = answer.body["credential"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let kid = talentcard::credentials::jws::header(credential.split('~').next().unwrap_or(""))
        .ok()
        .and_then(|h| h.kid)
        .unwrap_or_default();
    ensure!(
        Some(&kid) == active.as_ref(),
        "signed by {kid}, the active key is {active:?}"
    );
    card.credentials.push((credential, kid.clone()));
    let issuer = ISSUERS.iter().position(|i| *i == spec.issuer).unwrap_or(0);
    for key in &mut model.keys[issuer] {
        if key.kid == kid {
            key.signed = true;
        }
    }
    Ok(answer.status)
}

/// An agency verifies a credential fetched earlier: one signed by a withdrawn key is
/// `untrusted` and names no card; any other answers the card's live status.
async fn present(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
    pick: usize,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let Some(card) = model.apps[app].card.as_ref() else {
        return Ok(0);
    };
    if card.credentials.is_empty() {
        return Ok(0);
    }
    let (credential, kid) = &card.credentials[pick % card.credentials.len()];
    let expected = match who {
        Who::Agency | Who::OtherAgency => Expect::Success(200),
        _ => FORBIDDEN,
    };
    let body = json!({ "credential": credential });
    let answer = world
        .call("POST", "/api/v1/verifications", who, spec, Some(&body))
        .await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let b = &answer.body;
    let withdrawn = model
        .keys
        .iter()
        .flatten()
        .any(|k| k.kid == *kid && k.status == KeyStatus::Compromised);
    let valid = !withdrawn && card.status == CardStatus::Active;
    if withdrawn {
        ensure!(
            b["valid"] == false && b["status"] == "untrusted" && b["card"].is_null(),
            "a credential under the withdrawn key {kid}: {b}"
        );
    } else {
        ensure!(
            b["valid"] == valid
                && b["status"] == card.status.as_str()
                && b["card"]["number"] == card.number.as_str(),
            "a credential under {kid} of a {} card: {b}",
            card.status.as_str()
        );
    }
    ensure!(
        b["presentation_id"].is_string() == valid,
        "a presentation_id exactly for a valid presentation: {b}"
    );
    if let (true, Some(a), Some(id)) = (
        valid,
        World::agency_index(who),
        b["presentation_id"].as_str(),
    ) {
        model.presentations.insert((app, a), id.to_owned());
    }
    Ok(answer.status)
}

/// An administrator rotates an issuer's key; anyone else is refused.
async fn rotate(world: &World, model: &mut Model, issuer: usize, who: Who) -> Result<u16, String> {
    let code = ISSUERS[issuer];
    let expected = match who {
        Who::Admin => Expect::Success(200),
        _ => FORBIDDEN,
    };
    let path = format!("/api/v1/admin/issuers/{code}/keys/rotate");
    let answer = world
        .call("POST", &path, who, &APPS[0], Some(&json!({})))
        .await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let kid = answer.body["kid"].as_str().unwrap_or_default().to_owned();
    for key in &mut model.keys[issuer] {
        if key.status == KeyStatus::Active {
            key.status = KeyStatus::Retired;
        }
    }
    model.keys[issuer].push(KeyModel {
        kid,
        status: KeyStatus::Active,
        signed: false,
    });
    let admin = world.actor(Who::Admin, &APPS[0]);
    model.audited("issuer.key_rotated", code, admin);
    Ok(answer.status)
}

/// An administrator withdraws one of an issuer's keys (409 when withdrawn before); an active
/// one is replaced by a new key.
async fn compromise(
    world: &World,
    model: &mut Model,
    issuer: usize,
    key: usize,
    who: Who,
) -> Result<u16, String> {
    let code = ISSUERS[issuer];
    let index = key % model.keys[issuer].len();
    let target = model.keys[issuer][index].clone();
    let expected = match who {
        Who::Admin if target.status == KeyStatus::Compromised => Expect::Refused(409, "conflict"),
        Who::Admin => Expect::Success(200),
        _ => FORBIDDEN,
    };
    let path = format!(
        "/api/v1/admin/issuers/{code}/keys/{}/compromise",
        target.kid
    );
    let answer = world
        .call("POST", &path, who, &APPS[0], Some(&json!({})))
        .await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    model.keys[issuer][index].status = KeyStatus::Compromised;
    let replaced_by = answer.body["replaced_by"].as_str().map(str::to_owned);
    ensure!(
        replaced_by.is_some() == (target.status == KeyStatus::Active),
        "an active key is replaced, a retired one not: {}",
        answer.body
    );
    if let Some(kid) = replaced_by {
        model.keys[issuer].push(KeyModel {
            kid,
            status: KeyStatus::Active,
            signed: false,
        });
    }
    let admin = world.actor(Who::Admin, &APPS[0]);
    model.audited("issuer.key_compromised", code, admin);
    Ok(answer.status)
}

/// A well-formed number no card has.
fn unknown_number(world: &World, spec: &Spec) -> String {
    card_number::format(spec.issuer, world.app.clock_year(), 999_999)
}

async fn verify(world: &World, model: &mut Model, app: usize, who: Who) -> Result<u16, String> {
    let spec = &APPS[app];
    let card = model.apps[app].card.as_ref();
    let number = card.map_or_else(|| unknown_number(world, spec), |c| c.number.clone());
    let expected = match World::agency_index(who) {
        Some(a) if model.unknown[a] >= UNKNOWN_NUMBERS_PER_HOUR => LIMITED,
        Some(_) => Expect::Success(200),
        None => FORBIDDEN,
    };
    let body = json!({ "card_number": number });
    let answer = world
        .call("POST", "/api/v1/verifications", who, spec, Some(&body))
        .await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let Some(agency) = world.agency(who) else {
        return Err("an agency's answer without an agency".into());
    };
    let district = agency.spec.district;
    let b = &answer.body;
    let Some(card) = card else {
        ensure!(
            b["valid"] == false && b["status"] == "unknown" && b["card"].is_null(),
            "an unknown card: {b}"
        );
        if let Some(a) = World::agency_index(who) {
            model.unknown[a] += 1;
        }
        return Ok(answer.status);
    };
    ensure!(
        b["presentation_id"].is_null(),
        "a number is not a presentation: {b}"
    );
    let active = card.status == CardStatus::Active;
    ensure!(
        b["valid"] == active
            && b["status"] == card.status.as_str()
            && b["card"]["number"] == card.number.as_str(),
        "verification of a {} card: {b}",
        card.status.as_str()
    );
    let local_tier = world
        .policy
        .local_tier(spec, &card.tier, district)
        .filter(|_| active);
    ensure!(
        b["local_tier"].as_str() == local_tier.as_deref(),
        "local tier {local_tier:?} expected in {district}: {b}"
    );
    let mut expected_services: Vec<&str> = local_tier
        .as_deref()
        .map(|tier| {
            agency
                .spec
                .services
                .iter()
                .copied()
                .filter(|s| world.policy.quota(tier, district, s).is_some())
                .collect()
        })
        .unwrap_or_default();
    expected_services.sort_unstable();
    let entitlements = b["entitlements"].as_array().cloned().unwrap_or_default();
    let mut services: Vec<&str> = entitlements
        .iter()
        .map(|e| e["service"].as_str().unwrap_or_default())
        .collect();
    services.sort_unstable();
    ensure!(
        services == expected_services,
        "entitlements {b}, expected {expected_services:?}"
    );
    for e in &entitlements {
        let service = e["service"].as_str().unwrap_or_default();
        if let Some(quota) = e["quota"].as_i64() {
            let used = model.apps[app].used(district, service);
            ensure!(
                e["used"] == used && e["remaining"] == (quota - used).max(0),
                "{service} in {district}: used {used} of {quota} by the model, {e} by the service"
            );
        }
    }
    Ok(answer.status)
}

async fn redeem(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
    service: &'static str,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let presentation = World::agency_index(who)
        .and_then(|a| model.presentations.get(&(app, a)))
        .cloned();
    let used_before = world
        .agency(who)
        .map_or(0, |a| model.apps[app].used(a.spec.district, service));
    let card = model.apps[app].card.as_mut();
    let number = card
        .as_ref()
        .map_or_else(|| unknown_number(world, spec), |c| c.number.clone());
    let mut quota = None;
    // Every shipped rule requires the card to be shown: without a presentation the number alone
    // is refused before it is looked up.
    let expected = match (world.agency(who), &card) {
        (None, _) => FORBIDDEN,
        (Some(agency), _) if !agency.spec.services.contains(&service) => FORBIDDEN,
        (Some(_), _) if presentation.is_none() => PRESENTATION_REQUIRED,
        (Some(_), None) => NOT_VALID,
        (Some(_), Some(c)) if c.status != CardStatus::Active => NOT_VALID,
        (Some(agency), Some(c)) => {
            let district = agency.spec.district;
            match world.policy.local_tier(spec, &c.tier, district) {
                None => NOT_VALID,
                Some(tier) => match world.policy.quota(&tier, district, service) {
                    None => EXHAUSTED,
                    Some(q) => {
                        let used = used_before;
                        quota = Some(q.map(|q| q - used - 1));
                        if q.is_some_and(|q| used >= q) {
                            EXHAUSTED
                        } else {
                            Expect::Success(201)
                        }
                    }
                },
            }
        }
    };
    let body = match &presentation {
        Some(id) => json!({ "presentation_id": id, "service": service }),
        None => json!({ "card_number": number, "service": service }),
    };
    let answer = world
        .call("POST", "/api/v1/redemptions", who, spec, Some(&body))
        .await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let (Some(agency), Some(card), Some(remaining)) = (world.agency(who), card, quota) else {
        return Err("a redemption the model cannot account for".into());
    };
    ensure!(
        answer.body["remaining"].as_i64() == remaining
            && answer.body["card_number"] == number.as_str(),
        "remaining {remaining:?} expected: {}",
        answer.body
    );
    *card
        .uses
        .entry((agency.spec.district.to_owned(), service.to_owned()))
        .or_default() += 1;
    let card_id = card.id.clone();
    model.audited(
        "redemption.recorded",
        &card_id,
        format!("agency:{}", agency.id),
    );
    Ok(answer.status)
}

// ---------------------------------------------------------------------------------------------
// Invariants, after each sequence.

#[derive(diesel::QueryableByName, Debug)]
struct LiveCards {
    #[diesel(sql_type = Text)]
    application_id: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName, Debug)]
struct StatusRow {
    #[diesel(sql_type = Text)]
    status: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct CardRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Integer>)]
    status_index: Option<i32>,
    /// Valid only from a later day (a renewal issued ahead).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    future: bool,
}

#[derive(diesel::QueryableByName, Debug)]
struct UseRow {
    #[diesel(sql_type = Text)]
    card_id: String,
    #[diesel(sql_type = Text)]
    district: String,
    #[diesel(sql_type = Text)]
    service: String,
    #[diesel(sql_type = Text)]
    period_key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName, Debug)]
struct AuditRow {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    entity_id: String,
    #[diesel(sql_type = Text)]
    who: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn invariants(world: &World, model: &Model) -> Result<(), String> {
    let app = &world.app;
    let mut conn = app.connect().await;
    let sql = |e: diesel::result::Error| format!("SQL: {e}");

    // At most one live (not revoked) card per application.
    let doubled: Vec<LiveCards> = diesel::sql_query(
        "SELECT application_id::text AS application_id, count(*) AS n FROM cards \
         WHERE status <> 'revoked' AND application_id IS NOT NULL \
         GROUP BY application_id HAVING count(*) > 1",
    )
    .load(&mut conn)
    .await
    .map_err(sql)?;
    if let Some(d) = <[LiveCards]>::first(&doubled) {
        return Err(format!(
            "application {} has {} live cards",
            d.application_id, d.n
        ));
    }

    for (spec, m) in APPS.iter().zip(&model.apps) {
        // The database agrees with the model.
        let row: StatusRow =
            diesel::sql_query("SELECT status FROM applications WHERE id = CAST($1 AS uuid)")
                .bind::<Text, _>(m.id.as_str())
                .get_result(&mut conn)
                .await
                .map_err(sql)?;
        ensure!(
            row.status == m.status.as_str(),
            "application {} is {} in the database, {:?} in the model",
            m.id,
            row.status,
            m.status
        );
        // The application's card and every card that took over from it.
        let cards: Vec<CardRow> = diesel::sql_query(
            "WITH RECURSIVE chain(id) AS ( \
                 SELECT id FROM cards WHERE application_id = CAST($1 AS uuid) \
                 UNION ALL \
                 SELECT s.new_card_id FROM card_successions s JOIN chain ON s.old_card_id = chain.id) \
             SELECT c.id::text AS id, c.status, c.status_index, \
                    c.valid_from > (now() AT TIME ZONE 'Asia/Shanghai')::date AS future \
             FROM cards c JOIN chain USING (id)",
        )
        .bind::<Text, _>(m.id.as_str())
        .load(&mut conn)
        .await
        .map_err(sql)?;
        let mut stored: Vec<&str> = cards.iter().map(|c| c.id.as_str()).collect();
        let mut modelled: Vec<&str> = m.all_cards().map(|c| c.id.as_str()).collect();
        stored.sort_unstable();
        modelled.sort_unstable();
        let live = cards
            .iter()
            .filter(|c| c.status != "revoked" && !c.future)
            .count();
        ensure!(
            live <= 1,
            "application {} has {live} live cards: {cards:?}",
            m.id
        );
        ensure!(
            stored == modelled,
            "application {} has cards {cards:?}, the model {:?} and {:?}",
            m.id,
            m.card,
            m.retired
        );
        // And so does the API.
        let owner = &world.talents[spec.owner];
        let seen: Value = app
            .get_as(&format!("/api/v1/applications/{}", m.id), &owner.access)
            .await
            .json()
            .await
            .map_err(|e| e.to_string())?;
        // The application names the card its approval issued (the first of the chain).
        let original = <[CardModel]>::first(&m.retired).or(m.card.as_ref());
        ensure!(
            seen["status"] == m.status.as_str()
                && seen["card_id"].as_str() == original.map(|c| c.id.as_str()),
            "the owner sees {seen}, the model {m:?}"
        );
        for card in m.all_cards() {
            let Some(row) = cards.iter().find(|r| r.id == card.id) else {
                return Err(format!("card {} is not stored", card.id));
            };
            check_card(world, spec, m, card, row).await?;
        }
    }
    checks_after_cards(world, model, &mut conn).await
}

/// One card of an application: the database, the holder's view, the status list, a revoked
/// card's credential and an active card's quotas agree with the model.
async fn check_card(
    world: &World,
    spec: &Spec,
    m: &AppModel,
    card: &CardModel,
    row: &CardRow,
) -> Result<(), String> {
    let app = &world.app;
    let owner = &world.talents[spec.owner];
    {
        ensure!(
            row.id == card.id && row.status == card.status.as_str(),
            "card {row:?} in the database, {card:?} in the model"
        );
        let holder_view: Value = app
            .get_as(&format!("/api/v1/cards/{}", card.id), &owner.access)
            .await
            .json()
            .await
            .map_err(|e| e.to_string())?;
        ensure!(
            holder_view["status"] == card.status.as_str(),
            "the holder sees {holder_view}, the model {card:?}"
        );
        // The public status list says the same (revoked stays revoked there too).
        let index = row
            .status_index
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| format!("card {} has no status index", card.id))?;
        let (list_no, entry) = status_list::locate(index);
        let list: Value = app
            .get(&format!(
                "/api/v1/status-lists/{}",
                status_list::list_id(spec.issuer, list_no)
            ))
            .await
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let bits = status_list::decode(list["lst"].as_str().unwrap_or_default())
            .map_err(|e| format!("{e:?}"))?;
        let got = status_list::get(&bits, entry as usize);
        ensure!(
            got == card.status.list_entry(),
            "status list entry {got} for {card:?}"
        );
        match card.status {
            CardStatus::Revoked => {
                let credential = app
                    .get_as(
                        &format!("/api/v1/cards/{}/credential", card.id),
                        &owner.access,
                    )
                    .await;
                ensure!(
                    credential.status().as_u16() == 409,
                    "a revoked card's credential: {}",
                    credential.status()
                );
            }
            CardStatus::Active => {
                // The holder's own view of every quota agrees with the model, and none is overrun.
                let places: Value = app
                    .get_as(
                        &format!("/api/v1/cards/{}/entitlements", card.id),
                        &owner.access,
                    )
                    .await
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                for place in places.as_array().into_iter().flatten() {
                    let district = place["district"].as_str().unwrap_or_default();
                    for e in place["entitlements"].as_array().into_iter().flatten() {
                        let Some(quota) = e["quota"].as_i64() else {
                            continue;
                        };
                        let service = e["service"].as_str().unwrap_or_default();
                        let used = m.used(district, service);
                        ensure!(
                            e["used"] == used && used <= quota && e["remaining"] == quota - used,
                            "holder's view of {service} in {district}: {e}, the model used {used}"
                        );
                    }
                }
            }
            CardStatus::Suspended => {}
        }
    }
    Ok(())
}

/// The quotas, the trust list, the audit log and its chain, after the cards.
async fn checks_after_cards(
    world: &World,
    model: &Model,
    conn: &mut diesel_async::AsyncPgConnection,
) -> Result<(), String> {
    let app = &world.app;
    let sql = |e: diesel::result::Error| format!("SQL: {e}");

    // Quotas: no (card, district, service, period) is redeemed beyond its quota, nothing is
    // redeemed without an entitlement, and the counts are the model's.
    let uses: Vec<UseRow> = diesel::sql_query(
        "SELECT card_id::text AS card_id, district, service, period_key, count(*) AS n \
         FROM redemptions GROUP BY card_id, district, service, period_key",
    )
    .load(conn)
    .await
    .map_err(sql)?;
    let mut counted = 0;
    for u in &uses {
        let what = format!(
            "{} x {} of card {} in {} (period {})",
            u.n, u.service, u.card_id, u.district, u.period_key
        );
        let Some((spec, card)) = APPS
            .iter()
            .zip(&model.apps)
            .find_map(|(s, m)| m.all_cards().find(|c| c.id == u.card_id).map(|c| (s, c)))
        else {
            return Err(format!(
                "a redemption of a card the model never issued: {what}"
            ));
        };
        let quota = world
            .policy
            .local_tier(spec, &card.tier, &u.district)
            .and_then(|tier| world.policy.quota(&tier, &u.district, &u.service));
        ensure!(
            quota.is_some(),
            "a redemption without an entitlement: {what}"
        );
        if let Some(Some(q)) = quota {
            ensure!(u.n <= q, "quota {q} exceeded: {what}");
        }
        let expected = card
            .uses
            .get(&(u.district.clone(), u.service.clone()))
            .copied()
            .unwrap_or(0);
        ensure!(u.n == expected, "{what}: the model counted {expected}");
        counted += u.n;
    }
    let modelled: i64 = model
        .apps
        .iter()
        .flat_map(|m| m.all_cards())
        .flat_map(|c| c.uses.values())
        .sum();
    ensure!(
        counted == modelled,
        "{counted} redemptions stored, {modelled} modelled"
    );

    // The trust list publishes exactly the keys in force: each issuer's active key and the
    // retired keys that signed a credential; never a withdrawn one.
    let trust: Value = app
        .get("/api/v1/trust-list")
        .await
        .json()
        .await
        .map_err(|e| e.to_string())?;
    for (code, keys) in ISSUERS.iter().zip(&model.keys) {
        let issuer = trust["issuers"]
            .as_array()
            .and_then(|all| all.iter().find(|i| i["code"] == *code))
            .cloned()
            .unwrap_or_default();
        let mut published: Vec<String> = issuer["keys"]
            .as_array()
            .map(|ks| {
                ks.iter()
                    .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        published.sort();
        let mut expected: Vec<String> = keys
            .iter()
            .filter(|k| {
                k.status == KeyStatus::Active || (k.status == KeyStatus::Retired && k.signed)
            })
            .map(|k| k.kid.clone())
            .collect();
        expected.sort();
        ensure!(
            published == expected,
            "{code} publishes {published:?}, the model {expected:?} of {keys:?}"
        );
    }

    // Every successful transition is audited exactly once, by whom it was done, and nothing
    // else happened to these applications and cards.
    let mut entities: Vec<String> = model.apps.iter().map(|m| m.id.clone()).collect();
    entities.extend(ISSUERS.iter().map(|i| (*i).to_owned()));
    for card in model.apps.iter().flat_map(|m| m.all_cards()) {
        entities.push(card.id.clone());
        entities.extend(card.changes.iter().map(|(id, _)| id.clone()));
    }
    let rows: Vec<AuditRow> = diesel::sql_query(
        "SELECT action, entity_id, \
                CASE WHEN action = 'redemption.recorded' THEN 'agency:' || (detail->>'agency') \
                     ELSE actor END AS who, \
                count(*) AS n \
         FROM audit_log WHERE entity_id = ANY($1) GROUP BY 1, 2, 3",
    )
    .bind::<Array<Text>, _>(&entities)
    .load(conn)
    .await
    .map_err(sql)?;
    let audited: AuditCounts = rows
        .into_iter()
        .map(|r| ((r.action, r.entity_id, r.who), r.n))
        .collect();
    if audited != model.audit {
        let mut diff = String::new();
        for (key, n) in &model.audit {
            let got = audited.get(key).copied().unwrap_or(0);
            if got != *n {
                diff.push_str(&format!("\n  {key:?}: expected {n}, audited {got}"));
            }
        }
        for (key, n) in &audited {
            if !model.audit.contains_key(key) {
                diff.push_str(&format!("\n  {key:?}: not expected, audited {n}"));
            }
        }
        return Err(format!("the audit log disagrees with the model:{diff}"));
    }

    // The hash chain verifies.
    match talentcard::audit::verify(conn, &crate::helpers::audit_keys())
        .await
        .map_err(sql)?
    {
        Ok(_) => Ok(()),
        Err(broken) => Err(format!("the audit chain is broken: {broken:?}")),
    }
}
