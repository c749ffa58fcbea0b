//! Which keys each table of `strata.toml` may hold — read from the settings structs,
//! never listed by hand — and the walk that finds an unknown one with its place.

use std::ops::Range;

use serde::de::{self, DeserializeOwned, Visitor};
use toml_edit::{ImDocument, Item, TableLike};

use super::settings::{
    DatabaseSettings, EnvShape, FileShape, LintSettings, ProjectSettings, RehearsalSettings,
};

/// The field names serde accepts for the struct `T`: what its derive passes to
/// `deserialize_struct`, caught by a deserializer that stops right there.
pub(super) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

struct Probe<'a>(&'a mut &'static [&'static str]);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names probed")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        enum identifier ignored_any
    }
}

/// The kinds of table in `strata.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    Top,
    /// `[env]`: its keys are environment names, any name.
    Envs,
    /// `[env.NAME]`.
    Env,
    Project,
    Database,
    Lint,
    Rehearsal,
}

impl Table {
    /// The keys this table accepts; `None`: any key (environment names).
    pub(super) fn fields(self) -> Option<&'static [&'static str]> {
        match self {
            Table::Top => Some(field_names::<FileShape>()),
            Table::Envs => None,
            Table::Env => Some(field_names::<EnvShape>()),
            Table::Project => Some(field_names::<ProjectSettings>()),
            Table::Database => Some(field_names::<DatabaseSettings>()),
            Table::Lint => Some(field_names::<LintSettings>()),
            Table::Rehearsal => Some(field_names::<RehearsalSettings>()),
        }
    }

    /// The kind of table the value of `key` is, if it is one.
    fn child(self, key: &str) -> Option<Table> {
        match (self, key) {
            (Table::Top, "env") => Some(Table::Envs),
            (Table::Envs, _) => Some(Table::Env),
            (Table::Top | Table::Env, "project") => Some(Table::Project),
            (Table::Top | Table::Env, "database") => Some(Table::Database),
            (Table::Top | Table::Env, "lint") => Some(Table::Lint),
            (Table::Top | Table::Env, "rehearsal") => Some(Table::Rehearsal),
            _ => None,
        }
    }
}

/// A key with a value that is not a table the walk descends into.
#[derive(Debug, Clone)]
pub(super) struct Leaf {
    /// `["env", "prod", "database", "url"]`; an array element adds its index.
    pub path: Vec<String>,
    pub value_span: Range<usize>,
}

/// A key its table does not accept.
#[derive(Debug, Clone)]
pub(super) struct Unknown {
    /// The table's path (`["env", "prod", "database"]`; empty: the top level).
    pub table: Vec<String>,
    pub kind: Table,
    pub key: String,
    pub span: Range<usize>,
}

/// Every leaf of the document in order, or its first unknown key.
pub(super) fn walk(doc: &ImDocument<&str>) -> Result<Vec<Leaf>, Unknown> {
    let mut leaves = Vec::new();
    walk_table(doc.as_table(), Table::Top, &mut Vec::new(), &mut leaves)?;
    Ok(leaves)
}

fn walk_table(
    table: &dyn TableLike,
    kind: Table,
    path: &mut Vec<String>,
    leaves: &mut Vec<Leaf>,
) -> Result<(), Unknown> {
    // Document order, so the first mistake reported is the first in the file.
    let mut entries: Vec<(&str, &Item)> = table.iter().collect();
    entries.sort_by_key(|(key, item)| start_of(table, key, item));
    for (key, item) in entries {
        let key_span = table
            .key(key)
            .and_then(toml_edit::Key::span)
            .or_else(|| item.span())
            .unwrap_or(0..0);
        if kind.fields().is_some_and(|known| !known.contains(&key)) {
            return Err(Unknown {
                table: path.clone(),
                kind,
                key: key.to_string(),
                span: key_span,
            });
        }
        path.push(key.to_string());
        if let (Some(child), Some(inner)) = (kind.child(key), item.as_table_like()) {
            walk_table(inner, child, path, leaves)?;
        } else {
            let value_span = item.span().unwrap_or_else(|| key_span.clone());
            if let Some(array) = item.as_array() {
                for (i, element) in array.iter().enumerate() {
                    let mut element_path = path.clone();
                    element_path.push(i.to_string());
                    leaves.push(Leaf {
                        path: element_path,
                        value_span: element.span().unwrap_or_else(|| value_span.clone()),
                    });
                }
            }
            leaves.push(Leaf {
                path: path.clone(),
                value_span,
            });
        }
        path.pop();
    }
    Ok(())
}

fn start_of(table: &dyn TableLike, key: &str, item: &Item) -> usize {
    table
        .key(key)
        .and_then(toml_edit::Key::span)
        .or_else(|| item.span())
        .map_or(usize::MAX, |s| s.start)
}
