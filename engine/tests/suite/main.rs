//! strata-engine's integration tests, one binary: the autodetector (golden data
//! files, rename candidates, the operation corpus, properties), `models.toml`
//! written back for every corpus schema, and the schema state's round trips.
//!
//! These live here, not in unit tests, when they use `strata-testkit`: a unit test
//! would see a second copy of the engine, whose types differ from its own.

mod autodetect;
mod models;
mod schema;
mod state_roundtrip;
