//! Tables → a readable `models.toml` (for `strata inspectdb`): the inverse of
//! parsing and resolving, so writing then reading gives the same schema back.
//!
//! What the defaults already say is left out: the implicit `id`, a table name
//! that is `<app>_<model>`, generated index and constraint names, a foreign key's
//! index. What `models.toml` cannot say (a composite foreign key, a constraint
//! name that is not the generated one, …) is written as closely as possible and
//! explained in a `# NOTE:` comment above the model.

mod model;
mod syntax;

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::TableDef;
use crate::state::SchemaState;
use model::ModelWriter;

/// The model name for `table` of `app`: the table name without the `<app>_`
/// prefix, in CamelCase (`tracker_transaction_type` → `TransactionType`).
pub fn model_name(app: &str, table: &str) -> String {
    let bare = table
        .strip_prefix(app)
        .and_then(|rest| rest.strip_prefix('_'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(table);
    let mut name = String::new();
    for part in bare.split(|c: char| !c.is_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    if !name.starts_with(|c: char| c.is_alphabetic()) {
        name.insert_str(0, "Model");
    }
    name
}

/// The `models.toml` of `app` declaring `tables`, in that order.
///
/// `schema` holds every table a foreign key may point at, and `owners` the app of
/// each table that is not one of `tables` (a table missing from it belongs to
/// `app`); a foreign key into another app is written `"app.Model"`.
pub fn write_app(
    app: &str,
    tables: &[TableDef],
    schema: &SchemaState,
    owners: &BTreeMap<String, String>,
) -> String {
    write_app_naming(app, tables, schema, owners, &BTreeMap::new())
}

/// [`write_app`], with the model names other apps already declare (`declared`:
/// table → model): a foreign key into such a table names that model, where the name
/// made from the table (`auth_user` → `AuthUser`) may not be one (`accounts.User`).
pub fn write_app_naming(
    app: &str,
    tables: &[TableDef],
    schema: &SchemaState,
    owners: &BTreeMap<String, String>,
    declared: &BTreeMap<String, String>,
) -> String {
    let names = ModelNames::new(app, tables, owners, declared);
    let mut out = String::new();
    for t in tables {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&ModelWriter::new(app, t, schema, &names).write());
    }
    out
}

/// Model names of every app's tables, unique within each app.
pub(super) struct ModelNames {
    app: String,
    /// table → (app, model)
    models: BTreeMap<String, (String, String)>,
}

impl ModelNames {
    fn new(
        app: &str,
        tables: &[TableDef],
        owners: &BTreeMap<String, String>,
        declared: &BTreeMap<String, String>,
    ) -> Self {
        let mut by_app: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (table, owner) in owners {
            by_app.entry(owner).or_default().insert(table);
        }
        let own = by_app.entry(app).or_default();
        own.extend(tables.iter().map(|t| t.name.as_str()));
        let mut models = BTreeMap::new();
        for (owner, tables) in by_app {
            // Names another app declares first, so a made-up one never takes them.
            let known = |t: &str| declared.get(t).filter(|_| owner != app);
            let mut taken: BTreeSet<String> = tables
                .iter()
                .filter_map(|t| known(t))
                .map(|m| m.to_lowercase())
                .collect();
            for table in tables {
                if let Some(model) = known(table) {
                    models.insert(table.to_string(), (owner.to_string(), model.clone()));
                    continue;
                }
                let base = model_name(owner, table);
                let mut name = base.clone();
                let mut n = 2;
                while !taken.insert(name.to_lowercase()) {
                    name = format!("{base}{n}");
                    n += 1;
                }
                models.insert(table.to_string(), (owner.to_string(), name));
            }
        }
        Self {
            app: app.to_string(),
            models,
        }
    }

    pub(super) fn model(&self, table: &str) -> String {
        self.models
            .get(table)
            .map_or_else(|| model_name(&self.app, table), |(_, m)| m.clone())
    }

    /// How a foreign key of this app names the model of `table`.
    pub(super) fn reference(&self, table: &str) -> String {
        match self.models.get(table) {
            Some((owner, model)) if *owner != self.app => format!("{owner}.{model}"),
            _ => self.model(table),
        }
    }
}
