//! `makemigrations`: the operations between what the migrations build and what the
//! models describe, split into one new migration file per app, with dependencies
//! across apps, readable names and deterministic text. The questions it may need
//! answered come first, through a [`questioner::Questioner`].

pub mod questioner;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::ast::Operation;
use crate::autodetect::{self, AutodetectError, Decisions};
use crate::data_loss::DataLoss;
use crate::graph::{Graph, StateAtError};
use crate::migration::{LintSection, MigrationFile, MigrationKey};
use crate::models::Models;
use crate::project::{schema_directive, App, Project, MIGRATION_SCHEMA};
use crate::state::SchemaState;

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Only these apps (empty: all).
    pub apps: Vec<String>,
    /// `--name`: the name part of the new files.
    pub name: Option<String>,
    /// `--empty`: a migration with no operations, for each app in `apps`.
    pub empty: bool,
    pub decisions: Decisions,
}

/// A migration file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub key: MigrationKey,
    pub path: PathBuf,
    pub file: MigrationFile,
    /// The `#:schema` line for editors, when the project holds strata's schemas.
    pub schema_directive: Option<String>,
    /// `--empty`: the file ends with a commented example operation to edit.
    pub template: bool,
}

impl Planned {
    /// The file's text.
    pub fn text(&self) -> Result<String, MakeError> {
        let body = self.file.to_toml().map_err(|e| MakeError::Serialize {
            key: self.key.clone(),
            message: e.to_string(),
        })?;
        let mut text = self.schema_directive.clone().unwrap_or_default();
        text.push_str(&body);
        if self.template {
            text.push_str(&operation_template(&self.key.app));
        }
        Ok(text)
    }
}

/// What `makemigrations --empty` leaves to edit: an example operation, commented out
/// so the file parses as a migration with no operations, and where the other kinds
/// are described.
fn operation_template(app: &str) -> String {
    format!(
        r#"
# Write this migration's operations here; they run in order. For example:
#
# [[operations]]
# kind = "run_sql"
# sql = "UPDATE {app}_item SET status = 'new' WHERE status IS NULL"
# reverse_sql = "UPDATE {app}_item SET status = NULL WHERE status = 'new'"
#
# Without reverse_sql the migration cannot be unapplied. SQL that differs per
# database: sql = {{ postgres = "...", mysql = "...", sqlite = "...", default = "..." }}.
#
# Data migrations (docs/data-migrations.md): a function of your application, run
# through strata::Migrator (the strata command refuses it, unless --fake):
#
# [[operations]]
# kind = "run_code"
# name = "fill_statuses"
# reverse = "clear_statuses"
#
# or a large update in batches, each committed with its checkpoint:
#
# [[operations]]
# kind = "backfill"
# table = "{app}_item"
# set = {{ status = "'new'" }}
# where = "status IS NULL"
# batch_size = 1000
# Every operation kind (create_table, add_column, rename_column, create_index,
# run_sql, ...) and its keys: the JSON Schema of migration files, which editors
# complete from (.strata/schemas/migration.schema.json after `strata init`,
# schemas/migration.schema.json in strata's repository), and the "Migration files"
# section of strata's README.
"#
    )
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MakeError {
    #[error(transparent)]
    Autodetect(#[from] AutodetectError),
    #[error(transparent)]
    StateAt(#[from] StateAtError),
    #[error("unknown app `{app}` (apps: {known})")]
    UnknownApp { app: String, known: String },
    #[error("--empty needs the apps to write an empty migration for, e.g. `strata makemigrations tracker --empty`")]
    EmptyWithoutApp,
    #[error(
        "the changes need migrations of {a} and {b} that each depend on the other; run `strata makemigrations {a}` and then `strata makemigrations {b}`"
    )]
    CrossAppCycle { a: String, b: String },
    /// The planned file could not be written as TOML: strata's fault, as plain
    /// operations always serialize.
    #[error("{key}: cannot write the migration as TOML: {message}")]
    Serialize { key: MigrationKey, message: String },
}

/// Which app owns each table the migrations create, following renames.
pub fn migration_owners(graph: &Graph) -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    for m in graph.ordered() {
        for op in &m.operations {
            op.follow_tables(&mut owners, || m.key.app.clone());
        }
    }
    owners
}

/// The schema the migrations of every app produce.
pub fn migrations_state(graph: &Graph) -> Result<SchemaState, StateAtError> {
    graph.state_of(&graph.ordered().map(|m| m.key.clone()).collect())
}

/// The schema the models want, limited to `apps` (others keep what their migrations
/// say, so `makemigrations tracker` never touches `auth`).
pub fn target_state(
    old: &SchemaState,
    old_owners: &BTreeMap<String, String>,
    models: &Models,
    apps: &[String],
) -> SchemaState {
    if apps.is_empty() {
        return models.state.clone();
    }
    let selected = |app: Option<&String>| app.is_some_and(|a| apps.contains(a));
    let mut state = old.clone();
    state
        .tables
        .retain(|name, _| !selected(old_owners.get(name)));
    for (name, table) in &models.state.tables {
        if selected(models.owners.get(name)) {
            state.tables.insert(name.clone(), table.clone());
        }
    }
    state
}

/// Rename candidates and the state pair they were found between, for prompting.
pub fn compare(
    project: &Project,
    graph: &Graph,
    models: &Models,
    apps: &[String],
) -> Result<(SchemaState, SchemaState), MakeError> {
    check_apps(project, apps)?;
    let old = migrations_state(graph)?;
    let apps = with_needed_apps(&old, models, apps);
    let new = target_state(&old, &migration_owners(graph), models, &apps);
    Ok((old, new))
}

/// `apps` plus, as Django does, the apps whose new models their foreign keys point
/// at (a migration cannot reference a table no migration creates).
fn with_needed_apps(old: &SchemaState, models: &Models, apps: &[String]) -> Vec<String> {
    let mut apps = apps.to_vec();
    if apps.is_empty() {
        return apps;
    }
    loop {
        let needed: Vec<String> = models
            .state
            .tables
            .values()
            .filter(|t| models.owners.get(&t.name).is_some_and(|a| apps.contains(a)))
            .flat_map(|t| t.foreign_keys.iter())
            .filter(|fk| !old.tables.contains_key(&fk.references))
            .filter_map(|fk| models.owners.get(&fk.references))
            .filter(|app| !apps.contains(app))
            .cloned()
            .collect();
        if needed.is_empty() {
            return apps;
        }
        apps.extend(needed);
        apps.sort();
        apps.dedup();
    }
}

fn check_apps(project: &Project, apps: &[String]) -> Result<(), MakeError> {
    for app in apps {
        if project.app(app).is_none() {
            return Err(MakeError::UnknownApp {
                app: app.clone(),
                known: project
                    .apps
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

/// The new migration files: none when nothing changed.
pub fn plan(
    project: &Project,
    graph: &Graph,
    models: &Models,
    request: &Request,
) -> Result<Vec<Planned>, MakeError> {
    check_apps(project, &request.apps)?;
    if request.empty {
        return empty_files(project, graph, request);
    }
    let (old, new) = compare(project, graph, models, &request.apps)?;
    let operations = autodetect::diff(&old, &new, &request.decisions)?;
    if operations.is_empty() {
        return Ok(Vec::new());
    }
    let old_owners = migration_owners(graph);
    let owner = |table: &str| -> String {
        models
            .owners
            .get(table)
            .or_else(|| old_owners.get(table))
            .cloned()
            .unwrap_or_else(|| project.apps[0].name.clone())
    };
    let by_app = group_by_app(&operations, &owner);
    let needs = cross_app_needs(&by_app, &old, &owner);
    let mut planned: Vec<Planned> = Vec::new();
    for (app, ops) in order_apps(by_app, &needs)? {
        let dependencies = dependencies_of(graph, &app, &ops, needs.get(&app), &planned);
        let first = graph.app_migrations(&app).next().is_none();
        let name = match &request.name {
            Some(name) => sanitize(name),
            None if first => "initial".into(),
            None => auto_name(&app, &ops),
        };
        planned.push(new_file(project, graph, &app, &name, dependencies, ops));
    }
    Ok(planned)
}

/// `--empty`: a migration with no operations for each requested app.
fn empty_files(
    project: &Project,
    graph: &Graph,
    request: &Request,
) -> Result<Vec<Planned>, MakeError> {
    if request.apps.is_empty() {
        return Err(MakeError::EmptyWithoutApp);
    }
    let name = request
        .name
        .as_deref()
        .map_or_else(|| "custom".into(), sanitize);
    Ok(request
        .apps
        .iter()
        .map(|app| {
            let leaves = leaf_dependencies(graph, app);
            Planned {
                template: true,
                ..new_file(project, graph, app, &name, leaves, Vec::new())
            }
        })
        .collect())
}

/// The operations of each app, in the global order inside each app, the apps in the
/// order of their first operation.
fn group_by_app(
    operations: &[Operation],
    owner: &dyn Fn(&str) -> String,
) -> Vec<(String, Vec<Operation>)> {
    let mut by_app: Vec<(String, Vec<Operation>)> = Vec::new();
    for op in operations {
        let app = owner(op_owner_table(op));
        match by_app.iter_mut().find(|(a, _)| *a == app) {
            Some((_, ops)) => ops.push(op.clone()),
            None => by_app.push((app, vec![op.clone()])),
        }
    }
    by_app
}

/// The apps each app's new migration needs first: a foreign key into another app's
/// table needs that table first; dropping a table or column another app's foreign
/// key points at needs that foreign key gone first.
fn cross_app_needs(
    by_app: &[(String, Vec<Operation>)],
    old: &SchemaState,
    owner: &dyn Fn(&str) -> String,
) -> BTreeMap<String, BTreeSet<String>> {
    let has_migration = |app: &str| by_app.iter().any(|(a, _)| a == app);
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (app, ops) in by_app {
        for op in ops {
            for target in referenced_tables(op) {
                let other = owner(&target);
                if &other != app {
                    needs.entry(app.clone()).or_default().insert(other);
                }
            }
            if let Some((table, column)) = removed_target(op) {
                let blocking = old.foreign_keys_into(table).filter(|(_, fk)| {
                    column.is_none_or(|c| fk.referenced_columns.iter().any(|r| r == c))
                });
                for (referencing, _) in blocking {
                    let other = owner(referencing);
                    if &other != app && has_migration(&other) {
                        needs.entry(app.clone()).or_default().insert(other);
                    }
                }
            }
        }
    }
    needs
}

/// The dependencies of `app`'s new migration: its own leaf, the apps it `needs`
/// (their new migration, or their leaf), and the apps whose migrations referenced a
/// table it drops.
fn dependencies_of(
    graph: &Graph,
    app: &str,
    ops: &[Operation],
    needs: Option<&BTreeSet<String>>,
    planned: &[Planned],
) -> Vec<MigrationKey> {
    let mut dependencies = leaf_dependencies(graph, app);
    for op in ops {
        if let Operation::DropTable(d) = op {
            for other in apps_that_referenced(graph, app, &d.name) {
                if !planned.iter().any(|p| p.key.app == other) {
                    dependencies.extend(leaf_dependencies(graph, &other));
                }
            }
        }
    }
    for other in needs.into_iter().flatten() {
        let dep = planned
            .iter()
            .find(|p| &p.key.app == other)
            .map_or_else(|| leaf_dependencies(graph, other), |p| vec![p.key.clone()]);
        dependencies.extend(dep);
    }
    dependencies
}

/// What the planned files destroy, in the order they apply from `old` (the state
/// the migrations build): each file's key and the data one of its operations loses.
pub fn data_losses(old: &SchemaState, planned: &[Planned]) -> Vec<(MigrationKey, DataLoss)> {
    let mut state = old.clone();
    let mut out = Vec::new();
    for p in planned {
        for op in &p.file.operations {
            if let Some(loss) = op.destroys_data(&state) {
                out.push((p.key.clone(), loss));
            }
            // Planned operations fit (`diff` checked them in its own order); one
            // that does not here only leaves the state a step behind.
            let _ = state.apply(op);
        }
    }
    out
}

/// Merge migrations for every app with several leaves (`makemigrations --merge`).
pub fn plan_merges(project: &Project, graph: &Graph) -> Vec<Planned> {
    graph
        .conflicts()
        .into_iter()
        .map(|(app, leaves)| {
            let names: Vec<&str> = leaves.iter().map(|k| k.name.as_str()).collect();
            let name = format!("merge_{}", names.join("_"));
            new_file(project, graph, &app, &name, leaves.clone(), Vec::new())
        })
        .collect()
}

fn leaf_dependencies(graph: &Graph, app: &str) -> Vec<MigrationKey> {
    graph.leaves(app)
}

/// One more than the number of every migration of `app` on disk: those a squash
/// hides too (their numbers stay taken while their files do), and a squash
/// `0001_squashed_0004_x` counts as 0004, as Django numbers after it (so deleting the
/// replaced files changes nothing).
fn next_number(graph: &Graph, app: &str) -> u32 {
    graph
        .app_migrations(app)
        .chain(graph.hidden().filter(|m| m.key.app == app))
        .filter_map(|m| migration_number(&m.key.name))
        .max()
        .unwrap_or(0)
        + 1
}

/// `0004_x` is 4; a squash `0001_squashed_0032_x` or `0010_x_squashed_0032_y` is 32.
fn migration_number(name: &str) -> Option<u32> {
    let leading = |text: &str| text.split('_').next()?.parse::<u32>().ok();
    let first = leading(name)?;
    let squashed_to = name
        .split_once("_squashed_")
        .and_then(|(_, to)| leading(to));
    Some(squashed_to.map_or(first, |to| to.max(first)))
}

fn new_file(
    project: &Project,
    graph: &Graph,
    app: &str,
    name: &str,
    mut dependencies: Vec<MigrationKey>,
    operations: Vec<Operation>,
) -> Planned {
    dependencies.sort();
    dependencies.dedup();
    let number = next_number(graph, app);
    let full = format!("{number:04}_{name}");
    let dir = project.app(app).map_or_else(
        || {
            project
                .root
                .join(&project.settings.project.apps_dir)
                .join(app)
                .join("migrations")
        },
        App::migrations_dir,
    );
    Planned {
        key: MigrationKey::new(app, &full),
        path: dir.join(format!("{full}.toml")),
        schema_directive: schema_directive(&project.root, &dir, MIGRATION_SCHEMA),
        template: false,
        file: MigrationFile {
            dependencies: dependencies.iter().map(ToString::to_string).collect(),
            replaces: Vec::new(),
            atomic: true,
            safe: true,
            operations,
            lint: LintSection::default(),
        },
    }
}

/// Apps in an order where each comes after the apps it needs; ties by first change.
fn order_apps(
    mut remaining: Vec<(String, Vec<Operation>)>,
    needs: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<(String, Vec<Operation>)>, MakeError> {
    let with_migration: BTreeSet<String> = remaining.iter().map(|(a, _)| a.clone()).collect();
    let mut order: Vec<(String, Vec<Operation>)> = Vec::new();
    let done =
        |order: &[(String, Vec<Operation>)], app: &String| order.iter().any(|(a, _)| a == app);
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|(app, _)| {
            needs
                .get(app)
                .into_iter()
                .flatten()
                .all(|dep| !with_migration.contains(dep) || done(&order, dep) || dep == app)
        });
        if let Some(i) = ready {
            order.push(remaining.remove(i));
        } else {
            let a = remaining[0].0.clone();
            let b = needs
                .get(&a)
                .into_iter()
                .flatten()
                .find(|d| with_migration.contains(*d) && !done(&order, d))
                .cloned()
                .unwrap_or_default();
            return Err(MakeError::CrossAppCycle { a, b });
        }
    }
    Ok(order)
}

/// The table an operation belongs to, for assigning it to an app.
fn op_owner_table(op: &Operation) -> &str {
    match op {
        // A renamed table belongs to whoever owns its new name.
        Operation::RenameTable(r) => &r.to,
        other => other.table().unwrap_or(""),
    }
}

/// Tables an operation's foreign keys point at.
fn referenced_tables(op: &Operation) -> Vec<String> {
    match op {
        Operation::CreateTable(t) => t
            .foreign_keys
            .iter()
            .map(|f| f.references.clone())
            .collect(),
        Operation::AddForeignKey(a) => vec![a.foreign_key.references.clone()],
        _ => Vec::new(),
    }
}

/// A table (or one column of it) whose removal foreign keys of other tables may
/// block: those pointing at it must go first.
fn removed_target(op: &Operation) -> Option<(&str, Option<&str>)> {
    match op {
        Operation::DropTable(d) => Some((&d.name, None)),
        Operation::DropColumn(d) => Some((&d.table, Some(&d.column))),
        _ => None,
    }
}

/// Apps other than `app` whose migrations ever pointed a foreign key at `table`:
/// a migration dropping it must come after them, or a fresh database would meet
/// their foreign keys after the table is gone.
fn apps_that_referenced(graph: &Graph, app: &str, table: &str) -> BTreeSet<String> {
    let mut apps = BTreeSet::new();
    for m in graph.ordered().filter(|m| m.key.app != app) {
        let references = m
            .operations
            .iter()
            .any(|op| referenced_tables(op).iter().any(|t| t == table));
        if references {
            apps.insert(m.key.app.clone());
        }
    }
    apps
}

/// The longest name part strata makes up for a migration (Django's limit): file
/// names stay readable in a listing.
const NAME_LIMIT: usize = 52;

/// What a name that could not say every change ends with, as in Django.
const AND_MORE: &str = "_and_more";

/// A readable, deterministic name from the operations, as Django names them: every
/// change when they fit in `NAME_LIMIT` (`transaction_note`,
/// `category_remove_transaction_kind`); else, when they touch several models, the
/// models (`transaction_category_tag`); else the first changes, then `_and_more`.
pub fn auto_name(app: &str, ops: &[Operation]) -> String {
    let model = |table: &str| sanitize(table.strip_prefix(&format!("{app}_")).unwrap_or(table));
    let fragments: Vec<String> = ops
        .iter()
        .map(|op| sanitize(&fragment(op, &model)))
        .collect();
    if fragments.is_empty() {
        return "auto".into();
    }
    let every_change = fragments.join("_");
    if every_change.len() <= NAME_LIMIT {
        return every_change;
    }
    let mut models: Vec<String> = Vec::new();
    for op in ops.iter().filter(|op| op.table().is_some()) {
        let m = model(op_owner_table(op));
        if !models.contains(&m) {
            models.push(m);
        }
    }
    if models.len() > 1 {
        fitted(&models)
    } else {
        fitted(&fragments)
    }
}

/// One operation's part of a name, as Django's `migration_name_fragment`.
fn fragment(op: &Operation, model: &dyn Fn(&str) -> String) -> String {
    match op {
        Operation::CreateTable(t) => model(&t.name),
        Operation::DropTable(d) => format!("delete_{}", model(&d.name)),
        Operation::RenameTable(r) => format!("rename_{}_{}", model(&r.from), model(&r.to)),
        Operation::AddColumn(a) => format!("{}_{}", model(&a.table), a.column.name),
        Operation::DropColumn(d) => format!("remove_{}_{}", model(&d.table), d.column),
        Operation::RenameColumn(r) => {
            format!("rename_{}_{}_{}", r.from, model(&r.table), r.to)
        }
        Operation::AlterColumn(a) => format!("alter_{}_{}", model(&a.table), a.column),
        Operation::CreateIndex(c) => format!("{}_{}", model(&c.table), c.index.name),
        Operation::DropIndex(d) => format!("remove_{}_{}", model(&d.table), d.name),
        Operation::RenameIndex(r) => format!("rename_{}_{}", r.from, r.to),
        Operation::AddForeignKey(a) => format!("{}_{}", model(&a.table), a.foreign_key.name),
        Operation::DropForeignKey(d) => format!("remove_{}_{}", model(&d.table), d.name),
        Operation::AddConstraint(a) => format!("{}_{}", model(&a.table), a.constraint.name()),
        Operation::DropConstraint(d) => format!("remove_{}_{}", model(&d.table), d.name),
        Operation::RunSql(_) => "run_sql".into(),
        Operation::RunCode(c) => c.name.clone(),
        Operation::Backfill(b) => format!("backfill_{}", model(&b.table)),
    }
}

/// `parts` joined with `_`: all of them when they fit in [`NAME_LIMIT`], else as many
/// as fit before `_and_more`; a first part too long for even that is cut short.
fn fitted(parts: &[String]) -> String {
    let all = parts.join("_");
    if all.len() <= NAME_LIMIT {
        return all;
    }
    if let [one] = parts {
        // Sanitized names are ASCII: any byte is a character boundary.
        return one[..NAME_LIMIT].trim_end_matches('_').to_string();
    }
    let room = NAME_LIMIT - AND_MORE.len();
    let mut name = String::new();
    for part in parts {
        let longer = if name.is_empty() {
            part.clone()
        } else {
            format!("{name}_{part}")
        };
        if longer.len() > room {
            break;
        }
        name = longer;
    }
    if name.is_empty() {
        name = parts[0][..room].trim_end_matches('_').to_string();
    }
    format!("{name}{AND_MORE}")
}

/// Lowercase letters, digits and single underscores.
fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "auto".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_squash_is_numbered_as_the_last_migration_it_replaces() {
        assert_eq!(migration_number("0004_wider"), Some(4));
        assert_eq!(migration_number("0001_squashed_0032_drop_fk"), Some(32));
        assert_eq!(
            migration_number("0010_email_squashed_0032_drop_fk"),
            Some(32)
        );
        assert_eq!(migration_number("0001_baseline"), Some(1));
        assert_eq!(migration_number("initial"), None);
    }

    use super::*;
    use crate::ast::*;
    use crate::types::ColumnType;

    #[test]
    fn names_read_like_django() {
        let add = Operation::AddColumn(AddColumn {
            table: "tracker_transaction".into(),
            column: ColumnDef {
                name: "note".into(),
                ty: ColumnType::Text,
                null: true,
                default: None,
                auto: false,
                ..Default::default()
            },
        });
        assert_eq!(
            auto_name("tracker", std::slice::from_ref(&add)),
            "transaction_note"
        );
        let alter = Operation::AlterColumn(AlterColumn {
            table: "tracker_transaction".into(),
            column: "amount".into(),
            ty: Some(ColumnType::Decimal {
                precision: 14,
                scale: 2,
            }),
            null: None,
            default: None,
            drop_default: false,
            ..Default::default()
        });
        assert_eq!(
            auto_name("tracker", std::slice::from_ref(&alter)),
            "alter_transaction_amount"
        );
        assert_eq!(
            auto_name("tracker", &[add, alter]),
            "transaction_note_alter_transaction_amount",
            "every change, when they fit"
        );
        assert_eq!(sanitize("My Name!"), "my_name");
    }

    fn rename(table: &str, from: &str, to: &str) -> Operation {
        Operation::RenameColumn(RenameColumn {
            table: table.into(),
            from: from.into(),
            to: to.into(),
        })
    }

    /// Too many changes to say them all: the models they touch, or the first
    /// changes of the one model, always within the limit and never `auto`.
    #[test]
    fn long_names_name_the_models_touched_within_the_limit() {
        let several = [
            rename("tracker_transaction", "description", "details"),
            rename("tracker_category", "description", "summary"),
            rename("tracker_tag", "label", "name"),
        ];
        assert_eq!(auto_name("tracker", &several), "transaction_category_tag");
        let one_model = [
            rename("tracker_transaction", "description", "details"),
            rename("tracker_transaction", "created", "created_at"),
        ];
        assert_eq!(
            auto_name("tracker", &one_model),
            "rename_description_transaction_details_and_more"
        );
        let many: Vec<Operation> = (0..30)
            .map(|i| rename(&format!("tracker_model_number_{i}"), "a", "b"))
            .collect();
        let name = auto_name("tracker", &many);
        assert!(name.len() <= NAME_LIMIT, "{name}");
        assert!(name.starts_with("model_number_0_model_number_1_"), "{name}");
        assert!(name.ends_with("_and_more"), "{name}");
        assert_eq!(name, auto_name("tracker", &many), "deterministic");
        let long = [rename(&"t".repeat(80), "a", "b")];
        assert_eq!(auto_name("tracker", &long).len(), NAME_LIMIT);
    }
}
