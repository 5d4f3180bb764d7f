//! Loading reference data (regions, districts, issuers, service categories) from the data files
//! under `config/reference/` into the database.
//!
//! Rows are inserted when missing and never overwritten: the files seed a new database, and
//! administrators' later changes survive a restart.

pub mod policies;
pub mod schemes;

use std::path::Path;

use anyhow::Context;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;

use crate::db::schema::{districts, issuers, regions, service_categories};
use crate::models::reference::{District, Issuer, Region, ServiceCategory};

/// The contents of the four reference data files.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    /// From `regions.toml`.
    pub regions: Vec<Region>,
    /// From `districts.toml`.
    pub districts: Vec<District>,
    /// From `issuers.toml`.
    pub issuers: Vec<Issuer>,
    /// From `services.toml`, in display order.
    pub services: Vec<ServiceCategory>,
}

#[derive(Deserialize)]
struct RegionsFile {
    regions: Vec<Region>,
}
#[derive(Deserialize)]
struct DistrictsFile {
    districts: Vec<District>,
}
#[derive(Deserialize)]
struct IssuersFile {
    issuers: Vec<Issuer>,
}
#[derive(Deserialize)]
struct ServicesFile {
    services: Vec<ServiceCategory>,
}

impl ReferenceData {
    /// Reads and parses the files in `dir`; an error names the file.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let regions: RegionsFile = read_toml(dir, "regions.toml")?;
        let districts: DistrictsFile = read_toml(dir, "districts.toml")?;
        let issuers: IssuersFile = read_toml(dir, "issuers.toml")?;
        let services: ServicesFile = read_toml(dir, "services.toml")?;
        Ok(ReferenceData {
            regions: regions.regions,
            districts: districts.districts,
            issuers: issuers.issuers,
            services: services.services,
        })
    }

    /// Inserts every row that is not there yet, in one transaction.
    pub async fn insert_missing(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        conn.transaction(async |conn| {
            diesel::insert_into(regions::table)
                .values(&self.regions)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            diesel::insert_into(districts::table)
                .values(&self.districts)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            diesel::insert_into(issuers::table)
                .values(&self.issuers)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            for (position, service) in self.services.iter().enumerate() {
                diesel::insert_into(service_categories::table)
                    .values((
                        service_categories::code.eq(&service.code),
                        service_categories::name.eq(&service.name),
                        service_categories::name_en.eq(&service.name_en),
                        service_categories::position
                            .eq(i32::try_from(position).unwrap_or(i32::MAX)),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
        .await
    }
}

fn read_toml<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> anyhow::Result<T> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("could not read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Reads the files in `dir` on the blocking pool and inserts what is missing.
pub async fn load(dir: &Path, conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let dir = dir.to_path_buf();
    let data = tokio::task::spawn_blocking(move || ReferenceData::read(&dir)).await??;
    data.insert_missing(conn).await?;
    Ok(())
}
