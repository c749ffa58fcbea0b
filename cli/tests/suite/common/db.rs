//! A fresh database per test on each backend, dropped afterwards: the kit's.

pub(crate) use strata_testkit::db::{block_on, with_database, Kind, TestDb};
