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
    graph.full_state()
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
    // Only a selection of apps needs the owners, and finding them parses every
    // migration's operations (which the cached state above spared).
    let owners = if apps.is_empty() {
        BTreeMap::new()
    } else {
        migration_owners(graph)
    };
    let new = target_state(&old, &owners, models, &apps);
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
    plan_between(project, graph, models, request, &old, &new)
}

/// [`plan`] from the states [`compare`] returned for `request.apps`, for a caller that
/// has them already: replaying thousands of migrations once is enough.
pub fn plan_between(
    project: &Project,
    graph: &Graph,
    models: &Models,
    request: &Request,
    old: &SchemaState,
    new: &SchemaState,
) -> Result<Vec<Planned>, MakeError> {
    if request.empty {
        return empty_files(project, graph, request);
    }
    let operations = autodetect::diff(old, new, &request.decisions)?;
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
    let mut planned: Vec<Planned> = Vec::new();
    for chunk in files_by_app(&operations, old, &owner) {
        let dependencies = dependencies_of(graph, &chunk, &planned);
        let earlier = planned.iter().filter(|p| p.key.app == chunk.app).count();
        let first = graph.app_migrations(&chunk.app).next().is_none();
        let name = match &request.name {
            Some(name) => sanitize(name),
            // Django names every part of a split first migration `initial`.
            None if first => "initial".into(),
            None => auto_name(&chunk.app, &chunk.ops),
        };
        let number = next_number(graph, &chunk.app)
            .saturating_add(u32::try_from(earlier).unwrap_or(u32::MAX));
        let mut file =
            new_file_numbered(project, &chunk.app, number, &name, dependencies, chunk.ops);
        // A backfill's batches commit one by one: the file says it is not one
        // transaction, rather than asking for one it cannot have.
        if file
            .file
            .operations
            .iter()
            .any(|op| matches!(op, Operation::Backfill(_)))
        {
            file.file.atomic = false;
        }
        planned.push(file);
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

/// `operations` (in an order every backend can apply, as `autodetect::diff` gives
/// them) as the new files `makemigrations` writes: per file, its app, its
/// operations and the apps it needs first, in the order they are written. `owner`
/// names the app of a table; `old` is the schema before. Where apps reference each
/// other, an app gets a second file (see `files_by_app`).
pub fn split_by_app(
    operations: &[Operation],
    old: &SchemaState,
    owner: &dyn Fn(&str) -> String,
) -> Vec<(String, Vec<Operation>, BTreeSet<String>)> {
    files_by_app(operations, old, owner)
        .into_iter()
        .map(|c| (c.app, c.ops, c.needs))
        .collect()
}

/// One new migration file: an app's operations, and the other apps it needs.
struct Chunk {
    app: String,
    ops: Vec<Operation>,
    /// Apps whose operations must run before these (their new file, or their leaf).
    needs: BTreeSet<String>,
}

/// The operations split into files, one per app where the apps' needs allow it, in
/// an order where each file comes after the files it needs. Each app's operations
/// keep their global order. A file takes the longest run of its app's next
/// operations whose needs are met: every operation of a needed app that comes
/// earlier in the global order is in a file already. Where apps need each other (a
/// cycle of foreign keys across apps), an app's run stops at the operation that
/// waits, which goes to a later file of that app — as Django splits such a first
/// migration into `0001_initial` (the tables) and `0002_initial` (the foreign keys).
/// The global order is one every backend can apply, so the app owning the earliest
/// operation left is always ready, and the split always ends.
fn files_by_app(
    operations: &[Operation],
    old: &SchemaState,
    owner: &dyn Fn(&str) -> String,
) -> Vec<Chunk> {
    let apps: Vec<String> = operations
        .iter()
        .map(|op| owner(op_owner_table(op)))
        .collect();
    let with_migration: BTreeSet<&str> = apps.iter().map(String::as_str).collect();
    let needs: Vec<BTreeSet<String>> = operations
        .iter()
        .zip(&apps)
        .map(|(op, app)| op_needs(op, app, old, owner, &with_migration))
        .collect();
    let mut app_order: Vec<&String> = Vec::new();
    for app in &apps {
        if !app_order.contains(&app) {
            app_order.push(app);
        }
    }
    let mut placed = vec![false; operations.len()];
    let mut chunks = Vec::new();
    while placed.iter().any(|p| !p) {
        for &app in &app_order {
            let mut chunk = Chunk {
                app: app.clone(),
                ops: Vec::new(),
                needs: BTreeSet::new(),
            };
            let waiting: Vec<usize> = (0..operations.len())
                .filter(|&i| apps[i] == *app && !placed[i])
                .collect();
            for i in waiting {
                let ready = needs[i]
                    .iter()
                    .all(|other| (0..i).all(|j| apps[j] != *other || placed[j]));
                if !ready {
                    break;
                }
                placed[i] = true;
                chunk.ops.push(operations[i].clone());
                chunk.needs.extend(needs[i].iter().cloned());
            }
            if !chunk.ops.is_empty() {
                chunks.push(chunk);
            }
        }
    }
    chunks
}

/// The other apps one operation needs first: a foreign key into another app's table
/// needs that table; dropping a table or column another app's foreign key points at
/// needs that foreign key gone (when that app has a new migration to drop it).
fn op_needs(
    op: &Operation,
    app: &str,
    old: &SchemaState,
    owner: &dyn Fn(&str) -> String,
    with_migration: &BTreeSet<&str>,
) -> BTreeSet<String> {
    let mut needs = BTreeSet::new();
    for target in referenced_tables(op) {
        let other = owner(&target);
        if other != app {
            needs.insert(other);
        }
    }
    if let Some((table, column)) = removed_target(op) {
        let blocking = old
            .foreign_keys_into(table)
            .filter(|(_, fk)| column.is_none_or(|c| fk.referenced_columns.iter().any(|r| r == c)));
        for (referencing, _) in blocking {
            let other = owner(referencing);
            if other != app && with_migration.contains(other.as_str()) {
                needs.insert(other);
            }
        }
    }
    needs
}

/// The dependencies of a new file: its app's previous new file or leaf, the apps it
/// needs (their latest new file, or their leaf), and the apps whose migrations
/// referenced a table it drops.
fn dependencies_of(graph: &Graph, chunk: &Chunk, planned: &[Planned]) -> Vec<MigrationKey> {
    let latest = |app: &str| {
        planned
            .iter()
            .rev()
            .find(|p| p.key.app == app)
            .map_or_else(|| leaf_dependencies(graph, app), |p| vec![p.key.clone()])
    };
    let mut dependencies = latest(&chunk.app);
    for op in &chunk.ops {
        if let Operation::DropTable(d) = op {
            for other in apps_that_referenced(graph, &chunk.app, &d.name) {
                if !planned.iter().any(|p| p.key.app == other) {
                    dependencies.extend(leaf_dependencies(graph, &other));
                }
            }
        }
    }
    for other in &chunk.needs {
        dependencies.extend(latest(other));
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
    dependencies: Vec<MigrationKey>,
    operations: Vec<Operation>,
) -> Planned {
    let number = next_number(graph, app);
    new_file_numbered(project, app, number, name, dependencies, operations)
}

fn new_file_numbered(
    project: &Project,
    app: &str,
    number: u32,
    name: &str,
    mut dependencies: Vec<MigrationKey>,
    operations: Vec<Operation>,
) -> Planned {
    dependencies.sort();
    dependencies.dedup();
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
        Operation::AlterTable(a) => format!("alter_{}_options", model(&a.table)),
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

#[cfg(test)]
mod cycle_tests {
    use std::path::Path;

    use super::*;
    use crate::models;

    /// The files the models of `apps` (name, models.toml text) need from nothing:
    /// (app, operation kinds, needs) per file, in order.
    fn split(apps: &[(&str, &str)]) -> Vec<(String, Vec<String>, Vec<String>)> {
        let parsed: Vec<_> = apps
            .iter()
            .map(|(app, text)| models::parse_app(app, Path::new("models.toml"), text).unwrap())
            .collect();
        let models = models::resolve(&parsed).unwrap();
        let old = SchemaState::new();
        let decisions = Decisions::default();
        let ops = autodetect::diff(&old, &models.state, &decisions).unwrap();
        let owner = |t: &str| models.owners.get(t).cloned().unwrap_or_default();
        files_by_app(&ops, &old, &owner)
            .into_iter()
            .map(|c| {
                let ops = c.ops.iter().map(ToString::to_string).collect();
                (c.app, ops, c.needs.into_iter().collect())
            })
            .collect()
    }

    #[test]
    fn two_apps_referencing_each_other_get_the_foreign_key_in_a_second_file() {
        let files = split(&[
            ("a", "[Author]\nfields.name = \"text\"\nfields.best = { references = \"b.Book\", null = true, on_delete = \"set null\" }\n"),
            ("b", "[Book]\nfields.title = \"text\"\nfields.author = { references = \"a.Author\", on_delete = \"cascade\" }\n"),
        ]);
        let apps: Vec<(&str, usize, Vec<String>)> = files
            .iter()
            .map(|(a, ops, needs)| (a.as_str(), ops.len(), needs.clone()))
            .collect();
        assert_eq!(
            apps,
            [
                ("a", 1, vec![]),
                ("b", 1, vec!["a".to_string()]),
                ("a", 1, vec!["b".to_string()]),
            ],
            "{files:#?}"
        );
        assert!(
            files[0].1[0].starts_with("Create table a_author"),
            "{files:#?}"
        );
        assert!(files[2].1[0].starts_with("Add foreign key"), "{files:#?}");
    }

    #[test]
    fn a_cycle_of_three_apps_defers_one_foreign_key() {
        let files = split(&[
            (
                "a",
                "[X]\nfields.y = { references = \"b.Y\", null = true, on_delete = \"set null\" }\n",
            ),
            (
                "b",
                "[Y]\nfields.z = { references = \"c.Z\", null = true, on_delete = \"set null\" }\n",
            ),
            (
                "c",
                "[Z]\nfields.x = { references = \"a.X\", null = true, on_delete = \"set null\" }\n",
            ),
        ]);
        let order: Vec<&str> = files.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(order, ["a", "c", "b", "a"], "{files:#?}");
        assert!(
            files[3]
                .1
                .iter()
                .all(|op| op.starts_with("Add foreign key")),
            "{files:#?}"
        );
        assert_eq!(files, split(&[
            ("a", "[X]\nfields.y = { references = \"b.Y\", null = true, on_delete = \"set null\" }\n"),
            ("b", "[Y]\nfields.z = { references = \"c.Z\", null = true, on_delete = \"set null\" }\n"),
            ("c", "[Z]\nfields.x = { references = \"a.X\", null = true, on_delete = \"set null\" }\n"),
        ]), "deterministic");
    }

    #[test]
    fn apps_without_a_cycle_get_one_file_each() {
        let files = split(&[
            ("a", "[X]\nfields.name = \"text\"\n"),
            (
                "b",
                "[Y]\nfields.x = { references = \"a.X\", on_delete = \"cascade\" }\n",
            ),
        ]);
        let order: Vec<&str> = files.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(order, ["a", "b"], "{files:#?}");
    }
}
