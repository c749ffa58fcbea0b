//! strata-engine: the dialect-neutral core of strata.
//!
//! - [`ast`] and [`types`]: the operations of a migration file;
//! - [`state`]: the schema those operations build, and their inverses;
//! - [`migration`], [`project`], [`graph`]: files on disk, the dependency graph, plans;
//! - [`dialect`]: the plugin traits a database backend implements;
//! - [`script`]: a migration rendered for one dialect, exactly as it will run.

// Errors here carry their full context (file, migration, operation, statement) by
// value; they travel only on the failure path, where their size costs nothing.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod autodetect;
pub mod cache;
pub mod code;
pub mod data_loss;
pub mod dialect;
pub mod drift;
pub mod error;
pub mod executor;
pub mod expr;
pub mod graph;
pub mod history;
pub mod lint;
pub mod makemigrations;
pub mod migration;
pub mod models;
pub mod naming;
pub mod project;
pub mod script;
pub mod squash;
pub mod state;
pub mod types;

pub use ast::Operation;
pub use dialect::{Capabilities, Dialect, RenderContext, RenderError, ServerVersion, Statement};
pub use state::SchemaState;
pub use types::ColumnType;
