//! `strata squashmigrations`: the migrations FROM..=TO of one app as one migration
//! with `replaces = [...]`, its operations the optimized sum of theirs
//! (`optimize`). The graph then uses it as Django does (see
//! [`Graph::for_history`]).

mod optimize;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::PathBuf;

pub use optimize::optimize;

use crate::ast::Operation;
use crate::graph::{Graph, GraphError};
use crate::migration::{LintSection, Migration, MigrationFile, MigrationKey, StateAtError};
use crate::project::{schema_directive, App, Project, MIGRATION_SCHEMA};
use crate::state::{SchemaState, StateError};

/// What the user asked for: `squashmigrations APP [FROM] TO [--name N]`.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub app: String,
    /// The first migration squashed; the app's first when `None`.
    pub from: Option<String>,
    pub to: String,
    /// `--name`: the name part of the new file (after its number).
    pub name: Option<String>,
}

/// The squashed migration to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Squash {
    pub key: MigrationKey,
    pub path: PathBuf,
    pub file: MigrationFile,
    /// The `#:schema` line for editors, when the project holds strata's schemas.
    pub schema_directive: Option<String>,
    /// How many operations the replaced migrations have together.
    pub operations_before: usize,
    /// Operations kept in place because the optimizer does not look inside them.
    pub barriers: usize,
}

impl Squash {
    /// The file's text.
    pub fn text(&self) -> Result<String, SquashError> {
        let body = self.file.to_toml().map_err(|e| SquashError::Serialize {
            key: self.key.clone(),
            message: e.to_string(),
        })?;
        Ok(self.schema_directive.clone().unwrap_or_default() + &body)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SquashError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("cannot squash from {from} to {to}: {from} comes after {to} in app `{}`", .from.app)]
    Backwards {
        from: MigrationKey,
        to: MigrationKey,
    },
    #[error("nothing to squash: {from}..{to} is one migration; name a range of at least two")]
    TooFew {
        from: MigrationKey,
        to: MigrationKey,
    },
    #[error("{key} is already replaced by {}: squash migrations no squash replaces (docs/squashing.md)", .by.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    AlreadyReplaced {
        key: MigrationKey,
        by: Vec<MigrationKey>,
    },
    #[error("{key} is already a squashed migration (it has `replaces`); squash a range without it, or delete the migrations it replaces first (docs/squashing.md)")]
    AlreadySquashed { key: MigrationKey },
    #[error(
        "cannot squash: {migration} depends on {dependency}, which depends on {inside} inside the range, so the squashed migration would have to run both before and after {dependency}; end the range before {inside}, or squash from after {migration}"
    )]
    Entangled {
        migration: MigrationKey,
        dependency: MigrationKey,
        inside: MigrationKey,
    },
    #[error(transparent)]
    State(#[from] StateAtError),
    /// The optimized operations do not build the originals' schema: a bug of the
    /// optimizer, caught before anything is written.
    #[error("internal error: the squashed operations of {key} do not build the same schema as the migrations they replace ({detail}); nothing was written, please report this")]
    NotEquivalent { key: MigrationKey, detail: String },
    #[error("{key}: cannot write the squashed migration: {message}")]
    Serialize { key: MigrationKey, message: String },
}

/// A migration of the range: no database is involved, so a replaced one is refused as
/// replaced (not as "not in use on this database").
fn resolve(graph: &Graph, app: &str, name: &str) -> Result<MigrationKey, SquashError> {
    graph.resolve(app, name).map_err(|e| match e {
        GraphError::NotInUse { key, stand_ins } => {
            SquashError::AlreadyReplaced { key, by: stand_ins }
        }
        other => other.into(),
    })
}

/// The squashed migration `request` asks for, checked: its operations applied to the
/// schema before the range build exactly what the replaced migrations build.
pub fn squash(project: &Project, graph: &Graph, request: &Request) -> Result<Squash, SquashError> {
    let app = request.app.as_str();
    let to = resolve(graph, app, &request.to)?;
    let from = match &request.from {
        Some(name) => resolve(graph, app, name)?,
        None => graph
            .app_migrations(app)
            .next()
            .map_or_else(|| to.clone(), |m| m.key.clone()),
    };
    let range = range(graph, app, &from, &to)?;
    check_entangled(graph, &range)?;
    let keys: BTreeSet<MigrationKey> = range.iter().map(|m| m.key.clone()).collect();

    let mut outside = BTreeSet::new();
    for m in &range {
        outside.extend(graph.ancestors(&m.key));
    }
    outside.retain(|k| !keys.contains(k));
    let before = graph.state_of(&outside)?;
    let originals: Vec<Operation> = range
        .iter()
        .flat_map(|m| m.operations.iter().cloned())
        .collect();
    let operations = optimize(&before, &originals);

    let number = from.name.split('_').next().unwrap_or(&from.name);
    let name = match (&request.name, &request.from) {
        (Some(name), _) => format!("{number}_{name}"),
        (None, Some(_)) => format!("{}_squashed_{}", from.name, to.name),
        (None, None) => format!("{number}_squashed_{}", to.name),
    };
    let key = MigrationKey::new(app, name);
    equivalent(&key, &before, &range, &operations)?;

    let mut dependencies: Vec<String> = Vec::new();
    for dependency in range.iter().flat_map(|m| &m.dependencies) {
        let text = dependency.to_string();
        if !keys.contains(dependency) && !dependencies.contains(&text) {
            dependencies.push(text);
        }
    }
    let dir = project.app(app).map_or_else(
        || {
            range[0]
                .path
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default()
        },
        App::migrations_dir,
    );
    Ok(Squash {
        path: dir.join(format!("{}.toml", key.name)),
        schema_directive: schema_directive(&project.root, &dir, MIGRATION_SCHEMA),
        operations_before: originals.len(),
        barriers: operations
            .iter()
            .filter(|op| optimize::is_barrier(op))
            .count(),
        file: MigrationFile {
            dependencies,
            replaces: range.iter().map(|m| m.key.to_string()).collect(),
            atomic: range.iter().all(|m| m.atomic),
            safe: range.iter().all(|m| m.safe),
            operations,
            // Allowances name operations by number, which the squash changes.
            lint: LintSection::default(),
        },
        key,
    })
}

/// The migrations of `app` from `from` to `to`, in graph order.
fn range<'g>(
    graph: &'g Graph,
    app: &'g str,
    from: &MigrationKey,
    to: &MigrationKey,
) -> Result<Vec<&'g Migration>, SquashError> {
    let all: Vec<&Migration> = graph.app_migrations(app).collect();
    let position = |key: &MigrationKey| all.iter().position(|m| m.key == *key).unwrap_or_default();
    let (start, end) = (position(from), position(to));
    if start > end {
        return Err(SquashError::Backwards {
            from: from.clone(),
            to: to.clone(),
        });
    }
    if start == end {
        return Err(SquashError::TooFew {
            from: from.clone(),
            to: to.clone(),
        });
    }
    let range = all[start..=end].to_vec();
    if let Some(m) = range.iter().find(|m| !m.replaces.is_empty()) {
        return Err(SquashError::AlreadySquashed { key: m.key.clone() });
    }
    Ok(range)
}

/// A dependency from outside the range that itself needs a migration inside it makes
/// the squash impossible: it would depend on itself.
fn check_entangled(graph: &Graph, range: &[&Migration]) -> Result<(), SquashError> {
    let keys: BTreeSet<&MigrationKey> = range.iter().map(|m| &m.key).collect();
    for m in range {
        for dependency in m.dependencies.iter().filter(|d| !keys.contains(d)) {
            if let Some(inside) = graph
                .ancestors(dependency)
                .into_iter()
                .find(|a| keys.contains(a))
            {
                return Err(SquashError::Entangled {
                    migration: m.key.clone(),
                    dependency: dependency.clone(),
                    inside,
                });
            }
        }
    }
    Ok(())
}

/// The safety net: `optimized`, applied to `before`, builds exactly the schema the
/// operations of `range` build.
pub fn equivalent(
    key: &MigrationKey,
    before: &SchemaState,
    range: &[&Migration],
    optimized: &[Operation],
) -> Result<(), SquashError> {
    let mut expected = before.clone();
    for m in range {
        m.replay(&mut expected, m.operations.len())?;
    }
    let not_equivalent = |detail: String| SquashError::NotEquivalent {
        key: key.clone(),
        detail,
    };
    let actual = optimize::state_before(before, optimized)
        .map_err(|e: StateError| not_equivalent(e.to_string()))?;
    if actual != expected {
        let differing: Vec<&String> = expected
            .tables
            .keys()
            .chain(actual.tables.keys())
            .filter(|t| expected.tables.get(*t) != actual.tables.get(*t))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(not_equivalent(format!(
            "tables that differ: {}",
            differing
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}
