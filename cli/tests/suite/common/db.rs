//! A fresh database per test on each backend, dropped afterwards: the kit's, and one
//! test per backend.

pub(crate) use strata_testkit::db::{block_on, with_database, Kind, TestDb};

/// Declares one test per backend running `$body(kind)`.
#[macro_export]
macro_rules! for_each_backend {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                $body($crate::common::db::Kind::Sqlite)
            }
            #[test]
            fn postgres() {
                $body($crate::common::db::Kind::Postgres)
            }
            #[test]
            fn mariadb() {
                $body($crate::common::db::Kind::Mariadb)
            }
        }
    };
}
