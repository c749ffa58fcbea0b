//! The autodetector (`strata makemigrations`): golden operations for every kind of
//! change, rename candidates, and the core property — the operations `diff` returns
//! apply in sequence and reach the new schema — over golden pairs, the operation
//! corpus and random schema pairs.

#[path = "autodetect/candidates.rs"]
mod candidates;
// The operation corpus is read through the engine's `testkit` feature.
#[cfg(feature = "testkit")]
#[path = "autodetect/corpus.rs"]
mod corpus;
#[path = "autodetect/golden.rs"]
mod golden;
#[path = "autodetect/properties.rs"]
mod properties;
#[path = "autodetect/support.rs"]
mod support;
