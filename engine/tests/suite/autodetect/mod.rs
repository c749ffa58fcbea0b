//! The autodetector (`strata makemigrations`): golden operations for every kind of
//! change (`testdata/autodetect/`), rename candidates, and the core property — the
//! operations `diff` returns apply in sequence and reach the new schema — over the
//! golden pairs, the operation corpus and random schema pairs.

mod candidates;
mod corpus;
mod foreign_keys;
mod generated;
mod golden;
mod properties;
mod support;
