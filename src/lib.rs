//! `talentcard`: issue and verify mutually recognised talent service cards for
//! Beijing, Tianjin and Hebei.
//!
//! The binary in `main.rs` only parses the command line; everything it runs lives here so the
//! integration tests drive exactly the code that ships.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod configuration;
pub mod cors;
pub mod credentials;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod denial_watch;
pub mod domain;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod reference;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
