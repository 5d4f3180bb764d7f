//! The integration tests: one binary, each test on its own database cloned from a migrated
//! template, so they run in parallel and never see each other's rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a failed step should fail the test loudly"
)]

mod access;
mod accounts;
mod agencies;
mod applications;
mod audit;
mod audit_keyed;
mod audit_reads;
mod cache_invalidation;
mod cards;
mod cli;
mod configuration;
mod db_roles;
mod demo;
mod denials;
mod dependant_cascade;
mod docs;
mod employers;
mod errors;
mod evidence;
mod families;
mod forged_tokens;
mod free_text;
mod frozen_database;
mod health;
mod helpers;
mod holder_binding;
mod holder_bound_redemptions;
mod holder_changes;
mod holder_lifecycle;
mod identity;
mod key_check;
mod live_cards;
mod metrics;
mod mfa;
mod migrations;
mod openapi;
mod outage;
mod partners;
mod partners_enumeration;
mod partners_presentations;
mod partners_quotas;
mod partners_reversal;
mod pii_binding;
mod presentation_codes;
mod presentations;
mod profile;
mod reference;
mod schemes;
mod security;
mod sessions;
mod standards;
mod state_machine;
mod sweep;
mod throttling;
mod trust;
mod users;
mod verification_log;
