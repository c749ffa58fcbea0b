//! The `strata` binary's integration tests, one binary with one `common` module:
//! the behaviour suite on every backend, faults, concurrency, data through changes,
//! flags, bad input (and the data-driven bad-input corpus), `sqlmigrate`, `makemigrations`, the round trips and the wide schema's catalog.

mod common;

mod backfill_docs;
mod backfill_kill;
mod backfill_progress;
mod bad_input;
mod behaviour;
mod blocking;
mod cache;
mod catalog;
mod collation_live;
mod concurrency;
mod config;
mod conventions;
mod corpus;
mod data;
mod data_ops;
mod drift;
mod enums_live;
mod executor;
mod faults;
mod flags;
mod fleet;
mod foreign_keys;
mod history;
mod json_output;
mod json_valid;
mod kill;
mod lint;
mod makemigrations;
mod makemigrations_db;
mod migrate_output;
mod pg_schema;
mod project_errors;
mod recovery;
mod rehearse;
mod roundtrip;
mod run_code_cli;
mod safe;
mod scaffold;
mod secrets;
mod signals;
mod single_transaction;
mod sqlmigrate;
mod squash;
mod truncation;
mod tutorial;
mod types_doc;
mod types_live;
