//! One module per command: argument handling plus calls into the engine.

pub mod inspectdb;
pub mod makemigrations;
pub mod migrate;
pub mod showmigrations;
pub mod sqlmigrate;
