//! Test support shared by strata's crates (a dev-dependency only, never published):
//!
//! - [`corpus`]: the operation corpus in `testdata/corpus`, and which cases a dialect
//!   must refuse, by the capabilities a case `requires`;
//! - [`run`]: a case's golden rendering and its execution on a live server;
//! - [`servers`]: the test servers' URLs, skipped on a machine without them and a
//!   failure under `CI=true`, and database names unique to a test;
//! - [`errors`]: what a driver's error must carry (its source, no secret);
//! - `db` (feature `db`): a fresh database per test on each backend, dropped after.
//! - [`rows`]: big tables filled in one statement, for backfills.
//!
//! The engine's own unit tests cannot use this crate (it depends on the engine, so a
//! unit test would see a second copy whose types differ); its integration tests can.

// A test kit fails by panicking, with a message naming the case: that is its contract,
// not a hazard each function should document.
#![allow(clippy::missing_panics_doc)]

pub mod corpus;
#[cfg(feature = "db")]
pub mod db;
pub mod errors;
pub mod rows;
pub mod run;
pub mod servers;

use std::path::PathBuf;

pub use corpus::{corpus, corpus_dir, load_corpus, setup_state, CorpusCase};
pub use errors::{assert_no_secret_in_chain, source_as};
pub use run::{execute_case, expects_unsupported, golden, run_case_script, CorpusBookkeeping};
pub use servers::{server_url, unique_db_name};

/// The workspace's `testdata` folder.
pub fn testdata_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the kit lives in the workspace")
        .join("testdata")
}
