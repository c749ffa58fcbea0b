//! strata-engine's integration tests, one binary: the autodetector (golden data
//! files, rename candidates, the operation corpus, properties), `models.toml`
//! written back for every corpus schema, the schema state's round trips, the JSON
//! Schemas in `schemas/` and README.md's operation paragraphs against the code.
//!
//! These live here, not in unit tests, when they use `strata-testkit`: a unit test
//! would see a second copy of the engine, whose types differ from its own.

mod autodetect;
mod models;
mod readme;
mod rng;
mod schema;
mod squash;
mod state_roundtrip;
