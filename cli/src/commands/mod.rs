//! One module per command: argument handling plus calls into the engine.

pub(crate) mod init;
pub(crate) mod inspectdb;
pub(crate) mod lint;
pub(crate) mod makemigrations;
pub(crate) mod migrate;
pub(crate) mod showmigrations;
pub(crate) mod sqlmigrate;
pub(crate) mod startapp;
