//! Every app's declarations → one schema.
//!
//! Runs once all apps are parsed, because a foreign key may point into another app
//! and its column takes the type of the referenced primary key (which may itself be
//! a foreign key). The tables built here are finally applied to an empty
//! [`SchemaState`], so the models obey exactly the rules migrations obey.

mod default;
mod layout;
mod table;

use std::collections::{BTreeSet, HashMap};

use super::parse::{FieldKind, ModelDecl};
use super::source::{Source, Span, Spanned};
use super::suggest::did_you_mean;
use super::{AppModels, ModelInfo, Models};
use crate::ast::*;
use crate::migration::FileError;
use crate::state::SchemaState;
use crate::types::ColumnType;

/// The column Django adds when a model names no primary key.
const IMPLICIT_ID: &str = "id";

pub(crate) fn resolve(apps: &[AppModels]) -> Result<Models, FileError> {
    let resolver = Resolver::new(apps)?;
    let mut tables = Vec::with_capacity(resolver.models.len());
    for m in 0..resolver.models.len() {
        tables.push(resolver.table(m)?);
    }
    resolver.validate(&tables)?;

    let mut models = Models::default();
    for app in apps {
        models
            .app_dependencies
            .insert(app.app.clone(), BTreeSet::new());
    }
    for (model, table) in resolver.models.iter().zip(&tables) {
        models
            .owners
            .insert(table.name.clone(), model.app.app.clone());
        models.declared.insert(table.name.clone(), model.info());
    }
    for table in tables {
        let app = &models.owners[&table.name];
        let referenced: BTreeSet<String> = table
            .foreign_keys
            .iter()
            .map(|fk| models.owners[&fk.references].clone())
            .filter(|target| target != app)
            .collect();
        models
            .app_dependencies
            .entry(app.clone())
            .or_default()
            .extend(referenced);
        models.state.tables.insert(table.name.clone(), table.into());
    }
    Ok(models)
}

/// One model, where it comes from, and its table's name.
struct ModelRef<'a> {
    app: &'a AppModels,
    decl: &'a ModelDecl,
    table: String,
    /// The column of each field, in field order.
    columns: Vec<String>,
    primary_key: PrimaryKey,
}

impl ModelRef<'_> {
    fn src(&self) -> Source<'_> {
        Source::new(&self.app.path, &self.app.text)
    }

    fn info(&self) -> ModelInfo {
        let implicit = (self.primary_key == PrimaryKey::Implicit)
            .then(|| (IMPLICIT_ID.to_string(), IMPLICIT_ID.to_string()));
        let fields = self
            .decl
            .fields
            .iter()
            .zip(&self.columns)
            .map(|(f, c)| (f.name.clone(), c.clone()));
        ModelInfo {
            app: self.app.app.clone(),
            model: self.decl.name.clone(),
            fields: implicit.into_iter().chain(fields).collect(),
        }
    }

    /// Field `g` alone is a unique key: flagged `unique`, the single-field primary
    /// key, or the only field of a `unique` entry or of a unique index without `where`.
    fn is_unique_field(&self, g: usize) -> bool {
        let is_g =
            |n: &Spanned<String>| n.value == self.decl.fields[g].name || n.value == self.columns[g];
        let only_g = |names: &[Spanned<String>]| matches!(names, [n] if is_g(n));
        self.decl.fields[g].unique
            || self.primary_key == PrimaryKey::Fields(vec![g])
            || self.decl.uniques.iter().any(|u| only_g(&u.columns))
            || self
                .decl
                .indexes
                .iter()
                .any(|i| i.unique && i.predicate.is_none() && only_g(&i.columns))
    }

    /// `app.Model`, as messages name a model.
    fn qualified(&self) -> String {
        format!("{}.{}", self.app.app, self.decl.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum PrimaryKey {
    /// No primary key was declared: Django's `id bigint` auto column, first.
    Implicit,
    /// These fields (by index), in key order; empty for `primary_key = []`.
    Fields(Vec<usize>),
}

struct Resolver<'a> {
    apps: &'a [AppModels],
    models: Vec<ModelRef<'a>>,
    by_name: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> Resolver<'a> {
    /// Indexes every model and works out its table, columns and primary key:
    /// everything that needs no other model.
    fn new(apps: &'a [AppModels]) -> Result<Self, FileError> {
        let mut models: Vec<ModelRef<'a>> = Vec::new();
        let mut by_name = HashMap::new();
        let mut tables: HashMap<String, usize> = HashMap::new();
        for app in apps {
            for decl in &app.models {
                let table = match &decl.table {
                    Some(t) => t.value.clone(),
                    None => format!("{}_{}", app.app, decl.name.to_lowercase()),
                };
                let mut model = ModelRef {
                    app,
                    decl,
                    table: table.clone(),
                    columns: Vec::new(),
                    primary_key: PrimaryKey::Implicit,
                };
                if let Some(&other) = tables.get(&table) {
                    let at = decl.table.as_ref().map_or(&decl.span, |t| &t.span);
                    return Err(model.src().error(
                        at,
                        format!(
                            "model `{}` uses table `{table}`, which is already the table of model `{}`",
                            model.qualified(),
                            models[other].qualified()
                        ),
                    ));
                }
                model.columns = layout::columns(&model)?;
                model.primary_key = layout::primary_key(&model)?;
                tables.insert(table, models.len());
                by_name.insert((app.app.as_str(), decl.name.as_str()), models.len());
                models.push(model);
            }
        }
        Ok(Self {
            apps,
            models,
            by_name,
        })
    }

    /// The model a foreign key field points at.
    fn target(&self, m: usize, target: &Spanned<String>) -> Result<usize, FileError> {
        let model = &self.models[m];
        let src = model.src();
        let (app, name) = match target.value.split_once('.') {
            Some((app, name)) => (app, name),
            None => (model.app.app.as_str(), target.value.as_str()),
        };
        if !self.apps.iter().any(|a| a.app == app) {
            let known = self.apps.iter().map(|a| a.app.as_str());
            return Err(src.error(
                &target.span,
                format!(
                    "unknown app `{app}` in `{}`{}",
                    target.value,
                    unknown_app_hint(app, known)
                ),
            ));
        }
        if let Some(&found) = self.by_name.get(&(app, name)) {
            return Ok(found);
        }
        let in_app = self
            .models
            .iter()
            .filter(|o| o.app.app == app)
            .map(|o| o.decl.name.as_str());
        let mut hint = did_you_mean(name, in_app);
        if hint.is_empty() {
            // `User` written for `auth.User`: the model exists, in another app.
            if let Some(o) = self.models.iter().find(|o| o.decl.name == name) {
                hint = format!("; did you mean `{}`?", o.qualified());
            }
        }
        Err(src.error(
            &target.span,
            format!("unknown model `{name}` in app `{app}`{hint}"),
        ))
    }

    /// The type of field `f` of model `m`; a foreign key's is its target's key type.
    /// `chain` holds the foreign keys being followed, to refuse a cycle of them.
    fn field_type(
        &self,
        m: usize,
        f: usize,
        chain: &mut Vec<(usize, usize)>,
    ) -> Result<ColumnType, FileError> {
        let (target, to_field) = match &self.models[m].decl.fields[f].kind {
            FieldKind::Column { ty } => return Ok(*ty),
            FieldKind::ForeignKey {
                target, to_field, ..
            } => (target, to_field),
        };
        if chain.contains(&(m, f)) {
            let (first_m, first_f) = chain[0];
            let first = &self.models[first_m];
            return Err(first.src().error(
                &first.decl.fields[first_f].span,
                format!(
                    "foreign key `{}` of model `{}` is typed by a chain of primary keys that leads back to itself",
                    first.decl.fields[first_f].name,
                    first.qualified()
                ),
            ));
        }
        chain.push((m, f));
        let t = self.target(m, target)?;
        let key = match to_field {
            Some(to_field) => self.to_field(m, t, to_field)?.1,
            None => self.single_key(m, &target.span, t)?.1,
        };
        let ty = match key {
            None => ColumnType::BigInt,
            Some(g) => self.field_type(t, g, chain)?,
        };
        chain.pop();
        Ok(ty)
    }

    /// The column a foreign key of model `m` (its target written at `written`)
    /// references in model `t`: `t`'s single-column primary key, with that key's
    /// field (`None` for the implicit `id`).
    fn single_key(
        &self,
        m: usize,
        written: &Span,
        t: usize,
    ) -> Result<(String, Option<usize>), FileError> {
        let target = &self.models[t];
        match &target.primary_key {
            PrimaryKey::Implicit => Ok((IMPLICIT_ID.to_string(), None)),
            PrimaryKey::Fields(fields) if fields.len() == 1 => {
                Ok((target.columns[fields[0]].clone(), Some(fields[0])))
            }
            PrimaryKey::Fields(fields) => {
                let model = &self.models[m];
                let why = if fields.is_empty() {
                    "has no primary key".to_string()
                } else {
                    let names: Vec<_> = fields
                        .iter()
                        .map(|&g| target.decl.fields[g].name.as_str())
                        .collect();
                    format!("has a composite primary key ({})", names.join(", "))
                };
                Err(model.src().error(
                    written,
                    format!(
                        "model `{}` {why}; a foreign key field needs a single-column primary key to reference",
                        target.qualified()
                    ),
                ))
            }
        }
    }

    /// The column that `to_field` (written in model `m`) names in model `t`, with its
    /// field (`None` for the implicit `id`): a field of `t`, by field or column name,
    /// that is unique on its own, since a foreign key must reference a unique key.
    fn to_field(
        &self,
        m: usize,
        t: usize,
        to_field: &Spanned<String>,
    ) -> Result<(String, Option<usize>), FileError> {
        let model = &self.models[m];
        let target = &self.models[t];
        let name = to_field.value.as_str();
        if target.primary_key == PrimaryKey::Implicit && name == IMPLICIT_ID {
            return Ok((IMPLICIT_ID.to_string(), None));
        }
        let found = target
            .decl
            .fields
            .iter()
            .position(|f| f.name == name)
            .or_else(|| target.columns.iter().position(|c| c == name));
        let Some(g) = found else {
            let fields = target.decl.fields.iter().map(|f| f.name.as_str());
            return Err(model.src().error(
                &to_field.span,
                format!(
                    "`to_field`: model `{}` has no field `{name}`{}",
                    target.qualified(),
                    did_you_mean(name, fields)
                ),
            ));
        };
        if !target.is_unique_field(g) {
            return Err(model.src().error(
                &to_field.span,
                format!(
                    "`to_field`: field `{}` of model `{}` is not unique, and a foreign key must reference a unique column; add `unique = true` to it (or a `unique` entry on exactly that field)",
                    target.decl.fields[g].name,
                    target.qualified()
                ),
            ));
        }
        Ok((target.columns[g].clone(), Some(g)))
    }

    /// Applies the tables to an empty state, as migrations would create them: every
    /// table first, then every foreign key (so the order of models and cycles
    /// between them do not matter). A refusal is placed at the model, or at the
    /// foreign key's field.
    fn validate(&self, tables: &[TableDef]) -> Result<(), FileError> {
        let mut state = SchemaState::new();
        for (model, table) in self.models.iter().zip(tables) {
            let bare = TableDef {
                foreign_keys: Vec::new(),
                ..table.clone()
            };
            state.apply(&Operation::CreateTable(bare)).map_err(|e| {
                model.src().error(
                    &model.decl.span,
                    format!("model `{}`: {e}", model.decl.name),
                )
            })?;
        }
        for (model, table) in self.models.iter().zip(tables) {
            for fk in &table.foreign_keys {
                let field = model
                    .decl
                    .fields
                    .iter()
                    .zip(&model.columns)
                    .find(|(_, c)| fk.columns.contains(c))
                    .map_or(&model.decl.span, |(f, _)| &f.span);
                state
                    .apply(&Operation::AddForeignKey(AddForeignKey {
                        table: table.name.clone(),
                        foreign_key: fk.clone(),
                    }))
                    .map_err(|e| {
                        model
                            .src()
                            .error(field, format!("model `{}`: {e}", model.decl.name))
                    })?;
            }
        }
        Ok(())
    }
}

/// What to do about a reference into an app that is not in `[project] apps`: a typo
/// of a listed app is the likely cause when one is close; otherwise (as for a first
/// `auth.User` in a new project) the app is yet to be made.
fn unknown_app_hint<'a>(app: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    let typo = did_you_mean(app, known.iter().copied());
    let create = format!(
        "`strata startapp {app}` creates it and adds it to [project] apps in strata.toml \
         (or add \"{app}\" to apps there if its folder exists)"
    );
    if typo.is_empty() {
        format!(
            "; it is not in [project] apps ({}): {create}",
            known.join(", ")
        )
    } else {
        format!("{typo} A new app: {create}")
    }
}
