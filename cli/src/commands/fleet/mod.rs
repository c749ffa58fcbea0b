//! Fleets: `migrate --tenants FILE` and `showmigrations --tenants FILE`, the same
//! project on many databases (a database, SQLite file or PostgreSQL schema per
//! tenant), a few at a time (docs/fleets.md).
//!
//! - `tenants`: the tenants file, checked line by line before anything connects;
//! - `runner`: at most `--jobs` tenants at once, no new one after a failure (unless
//!   `--continue-on-error`) or a signal;
//! - `report`: the line per tenant, the `--report` JSON lines, the summary;
//! - `migrate`, `show`: what is done to each tenant.

mod migrate;
mod report;
mod runner;
mod show;
mod tenants;

pub(crate) use migrate::run as migrate;
pub(crate) use show::run as showmigrations;
