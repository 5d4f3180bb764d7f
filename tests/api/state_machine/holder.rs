//! The holder's year in the state machine: loss reports and replacements, change reports and
//! the issuer's decisions on them (keep, retier, suspend, revoke). Each step predicts the
//! answer from the model, and on success moves the model (a superseding card becomes the
//! application's current card, the old one is kept as retired and revoked) and records the
//! audit rows it must leave.

use proptest::prelude::*;
use serde_json::json;

use super::{
    APPS, CardModel, CardStatus, Expect, FORBIDDEN, INVALID, Model, NOT_FOUND, Who, World,
};

const CONFLICT: Expect = Expect::Refused(409, "conflict");

/// What an official decides on a change report.
#[derive(Debug, Clone, Copy)]
pub enum ChangeDecision {
    Keep,
    Retier,
    Suspend,
    Revoke,
}

pub fn change_decision() -> impl Strategy<Value = ChangeDecision> {
    prop_oneof![
        2 => Just(ChangeDecision::Keep),
        2 => Just(ChangeDecision::Retier),
        1 => Just(ChangeDecision::Suspend),
        1 => Just(ChangeDecision::Revoke),
    ]
}

/// The id of the application's current card, or one nobody has.
fn card_id(model: &Model, app: usize) -> String {
    model.apps[app]
        .card
        .as_ref()
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), |c| c.id.clone())
}

/// Only the holder acts: another talent does not see the card, anyone else is forbidden.
fn holder_only(who: Who, has_card: bool, allowed: bool, success: u16) -> Expect {
    match who {
        Who::Owner if !has_card => NOT_FOUND,
        Who::Owner if allowed => Expect::Success(success),
        Who::Owner => INVALID,
        Who::OtherTalent => NOT_FOUND,
        _ => FORBIDDEN,
    }
}

pub async fn report_loss(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let id = card_id(model, app);
    let card = model.apps[app].card.as_ref();
    let allowed = card.is_some_and(|c| c.status == CardStatus::Active);
    let expected = holder_only(who, card.is_some(), allowed, 200);
    let path = format!("/api/v1/cards/{id}/report-loss");
    let answer = world.call("POST", &path, who, spec, Some(&json!({}))).await;
    if expected.check(&answer)? {
        ensure!(
            answer.body["status"] == "suspended" && answer.body["status_reason"] == "reported_lost",
            "body {}",
            answer.body
        );
        if let Some(c) = model.apps[app].card.as_mut() {
            c.status = CardStatus::Suspended;
            c.lost = true;
        }
        model.audited("card.reported_lost", &id, world.actor(who, spec));
    }
    Ok(answer.status)
}

/// Moves the model to a new current card superseding the old one (revoked), and forgets the
/// presentations of the old card (a presentation proves that card, not its successor).
fn supersede(
    model: &mut Model,
    app: usize,
    new: &serde_json::Value,
    actor: &str,
) -> Result<(), String> {
    let Some(mut old) = model.apps[app].card.take() else {
        return Err("a supersession without a card".into());
    };
    old.status = CardStatus::Revoked;
    old.lost = false;
    let card = CardModel {
        id: new["id"].as_str().unwrap_or_default().to_owned(),
        number: new["number"].as_str().unwrap_or_default().to_owned(),
        tier: new["tier"].as_str().unwrap_or_default().to_owned(),
        status: CardStatus::Active,
        uses: Default::default(),
        credentials: Vec::new(),
        lost: false,
        changes: Vec::new(),
    };
    ensure!(
        new["status"] == "active"
            && card.number != old.number
            && talentcard::domain::card_number::is_valid(&card.number),
        "the new card {new}"
    );
    model.audited("card.issued", &card.id, actor.to_owned());
    model.audited("card.revoked", &old.id, actor.to_owned());
    model.apps[app].retired.push(old);
    model.apps[app].card = Some(card);
    model.presentations.retain(|(a, _), _| *a != app);
    Ok(())
}

pub async fn replace(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let id = card_id(model, app);
    let card = model.apps[app].card.as_ref();
    let allowed = card.is_some_and(|c| c.status == CardStatus::Suspended && c.lost);
    let expected = match holder_only(who, card.is_some(), allowed, 201) {
        // A card renewed ahead has its successor already: one successor per card.
        Expect::Success(_) if model.apps[app].renewed.is_some() => CONFLICT,
        other => other,
    };
    let (tier, number) = card
        .map(|c| (c.tier.clone(), c.number.clone()))
        .unwrap_or_default();
    let path = format!("/api/v1/cards/{id}/replacement");
    let answer = world.call("POST", &path, who, spec, None).await;
    if expected.check(&answer)? {
        ensure!(
            answer.body["tier"] == tier.as_str() && answer.body["number"] != number.as_str(),
            "replacement {}",
            answer.body
        );
        supersede(model, app, &answer.body, &world.actor(who, spec))?;
    }
    Ok(answer.status)
}

pub async fn report_change(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let id = card_id(model, app);
    let card = model.apps[app].card.as_ref();
    let allowed = card.is_some_and(|c| c.status != CardStatus::Revoked);
    let expected = holder_only(who, card.is_some(), allowed, 201);
    let today = talentcard::clock::china_date(chrono::Utc::now());
    let mut facts = crate::schemes::doctorate(40);
    facts["employer"]["district"] = json!(spec.employer_district);
    let body = json!({ "kind": "employer", "effective_on": today.to_string(), "facts": facts });
    let path = format!("/api/v1/cards/{id}/changes");
    let answer = world.call("POST", &path, who, spec, Some(&body)).await;
    if expected.check(&answer)? {
        ensure!(
            answer.body["status"] == "open"
                && answer.body["late"] == false
                && answer.body["card_id"] == id.as_str(),
            "report {}",
            answer.body
        );
        let change = answer.body["id"].as_str().unwrap_or_default().to_owned();
        model.audited("card_change.reported", &change, world.actor(who, spec));
        if let Some(c) = model.apps[app].card.as_mut() {
            c.changes.push((change, true));
        }
    }
    Ok(answer.status)
}

pub async fn decide_change(
    world: &World,
    model: &mut Model,
    app: usize,
    who: Who,
    decision: ChangeDecision,
) -> Result<u16, String> {
    let spec = &APPS[app];
    let Some(card) = model.apps[app].card.as_ref() else {
        return Ok(0);
    };
    let Some((change, open)) = card.changes.last().cloned() else {
        return Ok(0);
    };
    let new_tier = if card.tier == "A" { "B" } else { "A" };
    let (body, card_allows) = match decision {
        ChangeDecision::Keep => (json!({ "decision": "keep", "comment": "no effect" }), true),
        ChangeDecision::Retier => (
            json!({ "decision": "retier", "tier": new_tier, "comment": "the new facts" }),
            card.status != CardStatus::Revoked,
        ),
        ChangeDecision::Suspend => (
            json!({ "decision": "suspend", "reason_code": "employer_change_review", "comment": "checking" }),
            card.status == CardStatus::Active,
        ),
        ChangeDecision::Revoke => (
            json!({ "decision": "revoke", "reason_code": "loss_of_eligibility", "comment": "left" }),
            card.status != CardStatus::Revoked,
        ),
    };
    let renewed = model.apps[app].renewed.is_some();
    let expected = match who {
        Who::Official
            if open && card_allows && renewed && matches!(decision, ChangeDecision::Retier) =>
        {
            CONFLICT
        }
        Who::Official if open && card_allows => Expect::Success(200),
        Who::Official => INVALID,
        Who::OtherOfficial => NOT_FOUND,
        _ => FORBIDDEN,
    };
    let id = card.id.clone();
    let path = format!("/api/v1/cards/{id}/changes/{change}/decision");
    let answer = world.call("POST", &path, who, spec, Some(&body)).await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let official = world.actor(who, spec);
    ensure!(
        answer.body["status"] == "decided",
        "decision {}",
        answer.body
    );
    model.audited("card_change.decided", &change, official.clone());
    if let Some(c) = model.apps[app].card.as_mut() {
        for entry in &mut c.changes {
            if entry.0 == change {
                entry.1 = false;
            }
        }
        match decision {
            ChangeDecision::Keep | ChangeDecision::Retier => {}
            ChangeDecision::Suspend => {
                c.status = CardStatus::Suspended;
                c.lost = false;
                model.audited("card.suspended", &id, official.clone());
            }
            ChangeDecision::Revoke => {
                c.status = CardStatus::Revoked;
                c.lost = false;
                model.audited("card.revoked", &id, official.clone());
            }
        }
    }
    if let ChangeDecision::Retier = decision {
        let new_id = answer.body["decision"]["new_card_id"]
            .as_str()
            .unwrap_or_default();
        let new = world
            .app
            .get_as(
                &format!("/api/v1/cards/{new_id}"),
                &world.talents[spec.owner].access,
            )
            .await
            .json::<serde_json::Value>()
            .await
            .map_err(|e| e.to_string())?;
        ensure!(new["tier"] == new_tier, "the re-tiered card {new}");
        supersede(model, app, &new, &official)?;
    }
    Ok(answer.status)
}

/// The holder renews the current card: a renewal application (the same facts as the first),
/// submitted, and approved with the card's tier by the issuer's official. Its card starts the
/// day after the current one ends; the current card stays in force.
pub async fn renew(world: &World, model: &mut Model, app: usize, who: Who) -> Result<u16, String> {
    let spec = &APPS[app];
    let Some(card) = model.apps[app].card.as_ref() else {
        return Ok(0);
    };
    let renewable = card.status == CardStatus::Active && model.apps[app].renewed.is_none();
    let expected = match who {
        Who::Owner if renewable => Expect::Success(201),
        Who::Owner | Who::OtherTalent => Expect::Refused(422, "validation_failed"),
        _ => FORBIDDEN,
    };
    let mut facts = crate::schemes::doctorate(40);
    facts["employer"]["district"] = json!(spec.employer_district);
    let body = json!({ "scheme": spec.scheme, "issuer": spec.issuer, "facts": facts, "replaces_card": card.id });
    let (old_id, tier) = (card.id.clone(), card.tier.clone());
    let answer = world
        .call("POST", "/api/v1/applications", who, spec, Some(&body))
        .await;
    if !expected.check(&answer)? {
        return Ok(answer.status);
    }
    let id = answer.body["id"].as_str().unwrap_or_default().to_owned();
    let submitted = world
        .call(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            who,
            spec,
            None,
        )
        .await;
    ensure!(
        submitted.status == 200,
        "the renewal's submission: {}",
        submitted.body
    );
    let approval = json!({ "decision": "approve", "tier": tier, "comment": "renewal" });
    let decided = world
        .call(
            "POST",
            &format!("/api/v1/applications/{id}/decision"),
            Who::Official,
            spec,
            Some(&approval),
        )
        .await;
    ensure!(
        decided.status == 200,
        "the renewal's approval: {}",
        decided.body
    );
    let new = &decided.body["card"];
    let old: serde_json::Value = world
        .app
        .get_as(
            &format!("/api/v1/cards/{old_id}"),
            &world.talents[spec.owner].access,
        )
        .await
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let day = |v: &serde_json::Value| v.as_str().and_then(|d| d.parse::<chrono::NaiveDate>().ok());
    ensure!(
        day(&new["valid_from"]) == day(&old["valid_until"]).and_then(|d| d.succ_opt())
            && old["status"] == "active"
            && new["tier"] == tier.as_str(),
        "the renewal {new} of {old}"
    );
    let official = world.actor(Who::Official, spec);
    let new_id = new["id"].as_str().unwrap_or_default().to_owned();
    model.audited("card.issued", &new_id, official);
    model.apps[app].renewed = Some(CardModel {
        id: new_id,
        number: new["number"].as_str().unwrap_or_default().to_owned(),
        tier,
        status: CardStatus::Active,
        uses: Default::default(),
        credentials: Vec::new(),
        lost: false,
        changes: Vec::new(),
    });
    Ok(answer.status)
}
