//! What every command starts from: the project, its graph, the dialect registry.

use std::path::PathBuf;

use strata_engine::dialect::Registry;
use strata_engine::graph::Graph;
use strata_engine::project::{find_root, Overrides, Project};

use crate::args::GlobalArgs;
use crate::error::CliError;

pub(crate) struct Context {
    pub project: Project,
    pub graph: Graph,
    pub registry: Registry,
}

impl Context {
    pub(crate) fn load(global: &GlobalArgs) -> Result<Self, CliError> {
        Self::load_with(global, false, true)
    }

    /// Loads a project whose apps may have several leaves (`makemigrations`
    /// reports or merges them itself).
    pub(crate) fn load_allowing_conflicts(global: &GlobalArgs) -> Result<Self, CliError> {
        Self::load_with(global, true, true)
    }

    /// Loads a project for a command about its database alone (`database create`),
    /// which needs no app yet.
    pub(crate) fn load_for_database(global: &GlobalArgs) -> Result<Self, CliError> {
        Self::load_with(global, false, false)
    }

    fn load_with(
        global: &GlobalArgs,
        allow_conflicts: bool,
        apps_required: bool,
    ) -> Result<Self, CliError> {
        let start = match &global.project {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let root = find_root(&start)?;
        let overrides = Overrides {
            database_url: global.database.clone(),
            env: global.env.clone(),
            no_cache: global.no_cache,
        };
        let project = if apps_required {
            Project::load(&root, &overrides)?
        } else {
            Project::load_without_apps(&root, &overrides)?
        };
        let graph = if allow_conflicts {
            Graph::from_project_with_conflicts(&project)?
        } else {
            Graph::from_project(&project)?
        };
        Ok(Self {
            project,
            graph,
            registry: strata::backends(),
        })
    }
}
