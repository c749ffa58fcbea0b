//! Random valid models for the round-trip tests: a small deterministic generator,
//! the edits a developer makes between two `makemigrations`, and a writer to
//! `models.toml` text of its own (so the test never depends on the engine's writer,
//! which is what `inspectdb` is tested with).
//!
//! "Valid" means valid on every backend: only types MySQL can index are indexed or
//! unique (never `text`, `bytes` or `json`), `set null` only on nullable foreign
//! keys, no two objects of a model with the same generated name, foreign keys only
//! from `shop` into `auth` (never back, so the apps never depend on each other both
//! ways), defaults the databases keep exactly as written.
//!
//! The engine bugs it found are reproduced by focused tests in roundtrip.rs.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// SplitMix64: tiny, deterministic, good enough to pick test cases.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("a remainder below a usize fits one")
    }

    /// `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// `lo..=hi` as another integer type: the generator's bounds are small, so it fits.
    pub(crate) fn range_as<T: TryFrom<usize>>(&mut self, lo: usize, hi: usize) -> T {
        let n = self.range(lo, hi);
        T::try_from(n).unwrap_or_else(|_| panic!("{n} does not fit the type asked for"))
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The neutral types the generator uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Ty {
    Bool,
    SmallInt,
    Int,
    BigInt,
    Varchar(u32),
    Char(u32),
    Decimal(u8, u8),
    Real,
    Double,
    Date,
    Datetime,
    Timestamptz,
    Time,
    Text,
    Bytes,
    Uuid,
    Json,
    Duration,
    USmallInt,
    UInt,
    UBigInt,
    /// `enum` with the values `ENUM_VALUES[i]`.
    Enum(usize),
}

/// The value lists of the generated enums: 2 is 0 with one value more, so the edits
/// can add and remove one (`resize_varchar`).
const ENUM_VALUES: &[&[&str]] = &[
    &["draft", "x", "a b"],
    &["low", "it's", "ünï"],
    &["draft", "x", "a b", "published"],
];

impl Ty {
    fn spelling(self) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::SmallInt => "smallint".into(),
            Ty::Int => "int".into(),
            Ty::BigInt => "bigint".into(),
            Ty::Varchar(n) => format!("varchar({n})"),
            Ty::Char(n) => format!("char({n})"),
            Ty::Decimal(p, s) => format!("decimal({p},{s})"),
            Ty::Real => "real".into(),
            Ty::Double => "double".into(),
            Ty::Date => "date".into(),
            Ty::Datetime => "datetime".into(),
            Ty::Timestamptz => "timestamptz".into(),
            Ty::Time => "time".into(),
            Ty::Text => "text".into(),
            Ty::Bytes => "bytes".into(),
            Ty::Uuid => "uuid".into(),
            Ty::Json => "json".into(),
            Ty::Duration => "duration".into(),
            Ty::USmallInt => "smallint unsigned".into(),
            Ty::UInt => "int unsigned".into(),
            Ty::UBigInt => "bigint unsigned".into(),
            Ty::Enum(_) => "enum".into(),
        }
    }

    /// MySQL refuses an index on `text`/`bytes`/`json` without a prefix length. An
    /// enum (drawn as a `text`, see `plain_field`) is kept out too, so that drawing
    /// one changes no other draw of its seed.
    fn indexable(self) -> bool {
        !matches!(self, Ty::Text | Ty::Bytes | Ty::Json | Ty::Enum(_))
    }

    fn is_integer(self) -> bool {
        matches!(self, Ty::SmallInt | Ty::Int | Ty::BigInt)
    }

    fn random(rng: &mut Rng) -> Ty {
        match rng.below(17) {
            0 => Ty::Bool,
            1 => *rng.pick(&[Ty::SmallInt, Ty::USmallInt]),
            2 => Ty::Int,
            3 => *rng.pick(&[Ty::UInt, Ty::UBigInt]),
            4 => Ty::BigInt,
            5..=7 => Ty::Varchar(rng.range_as::<u32>(4, 40) * 5),
            8 => Ty::Char(rng.range_as(2, 12)),
            9 => Ty::Decimal(rng.range_as(6, 12), rng.range_as(0, 3)),
            10 => *rng.pick(&[Ty::Double, Ty::Real]),
            11 => Ty::Date,
            12 => Ty::Datetime,
            13 => Ty::Timestamptz,
            14 => *rng.pick(&[Ty::Time, Ty::Duration]),
            15 => *rng.pick(&[Ty::Text, Ty::Bytes, Ty::Json]),
            _ => Ty::Uuid,
        }
    }

    /// A default written as a TOML value that fits the type, or `None` where the
    /// type takes none here (`time`, `json`).
    fn random_default(self, rng: &mut Rng) -> Option<String> {
        // CHAR pads with spaces, so a char default loses its trailing spaces on
        // MariaDB: `padded` leaves them out.
        let text = |rng: &mut Rng, limit: u32, padded: bool| {
            let s = *rng.pick(&["draft", "it's", "a b", "", "x", "ünï"]);
            let s: String = s.chars().take(limit as usize).collect();
            toml_string(if padded { s.trim_end() } else { &s })
        };
        Some(match self {
            Ty::Bool => rng.pick(&["true", "false"]).to_string(),
            Ty::SmallInt | Ty::Int | Ty::BigInt => (rng.range_as::<i64>(0, 105) - 5).to_string(),
            Ty::USmallInt | Ty::UInt | Ty::UBigInt => rng.range_as::<i64>(0, 100).to_string(),
            Ty::Varchar(n) => text(rng, n, false),
            Ty::Char(n) => text(rng, n, true),
            Ty::Text => text(rng, u32::MAX, false),
            // Values with no more decimals than the scale: the database would round
            // the others, and the default read back would differ from the one written.
            Ty::Decimal(_, 0) => rng.pick(&["0", "7", "-3"]).to_string(),
            Ty::Decimal(_, 1) => rng.pick(&["0", "1.5", "-3"]).to_string(),
            Ty::Decimal(..) => rng.pick(&["0", "1.5", "12.25", "-3"]).to_string(),
            // Exact in binary floating point, so `real` keeps them too.
            Ty::Double | Ty::Real => rng.pick(&["0", "2.5", "-1.25"]).to_string(),
            Ty::Date => rng.pick(&["\"now\"", "2024-01-31"]).to_string(),
            // A quoted string and a TOML datetime (`toml_datetime_default`).
            Ty::Datetime => rng
                .pick(&["\"now\"", "\"2024-01-31 10:30:00\"", "2024-01-31T10:30:00"])
                .to_string(),
            Ty::Timestamptz | Ty::Time => "\"now\"".into(),
            Ty::Uuid => "\"uuid\"".into(),
            // A duration's default is its microseconds.
            Ty::Duration => rng.pick(&["0", "1500000", "93600000000"]).to_string(),
            Ty::Enum(i) => toml_string(rng.pick::<&str>(ENUM_VALUES[i])),
            Ty::Bytes | Ty::Json => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Column(Ty),
    ForeignKey {
        app: String,
        model: String,
        on_delete: Option<&'static str>,
        on_update: Option<&'static str>,
        /// `to_field`: a unique integer field of the target (never resized,
        /// dropped or made non-unique by the edits).
        to_field: Option<String>,
        /// `deferrable`; written only for a backend that has deferrable constraints
        /// (see `for_backend`).
        deferrable: Option<&'static str>,
        /// `db_constraint = false` when false.
        db_constraint: bool,
    },
}

// A field as models.toml spells it: each bool is one of its keys.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub kind: Kind,
    pub null: bool,
    /// A TOML value, as written.
    pub default: Option<String>,
    pub unique: bool,
    /// `index = true` (foreign keys have theirs without it).
    pub index: bool,
    pub primary_key: bool,
    pub auto: bool,
    /// `collation = …` as written (see `with_collations`).
    pub collation: Option<String>,
}

impl Field {
    /// Its column: `<name>_id` for a foreign key, as the models parser names it.
    pub(crate) fn column(&self) -> String {
        match self.kind {
            Kind::ForeignKey { .. } => format!("{}_id", self.name),
            Kind::Column(_) => self.name.clone(),
        }
    }

    fn is_fk(&self) -> bool {
        matches!(self.kind, Kind::ForeignKey { .. })
    }

    /// Whether it may be in an index: a foreign key (its type is the referenced
    /// key's, always indexable here) or an indexable type.
    fn indexable(&self) -> bool {
        match self.kind {
            Kind::Column(ty) => ty.indexable(),
            Kind::ForeignKey { .. } => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Index {
    /// Field names.
    pub fields: Vec<String>,
    pub unique: bool,
    /// Written in the model's `unique = [...]` (a unique constraint) rather than in
    /// `indexes` (a unique index): the same thing to the database, not to the engine.
    pub constraint: bool,
    /// A prefix length on its one (text) field: the first n characters on MySQL and
    /// MariaDB, the whole value elsewhere.
    pub prefix: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub name: String,
    pub fields: Vec<Field>,
    pub indexes: Vec<Index>,
    /// (key, SQL expression)
    pub checks: Vec<(String, String)>,
}

impl Model {
    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn has_declared_key(&self) -> bool {
        self.fields.iter().any(|f| f.primary_key)
    }

    /// The (columns, suffix) of every index and constraint with a generated name:
    /// two alike would clash (`the index or constraint name … is used twice`).
    fn generated_objects(&self) -> BTreeSet<(Vec<String>, &'static str)> {
        let mut out = BTreeSet::new();
        for f in &self.fields {
            if f.unique {
                out.insert((vec![f.column()], "uniq"));
            }
            if f.index || f.is_fk() && !f.unique && !f.primary_key {
                out.insert((vec![f.column()], "idx"));
            }
        }
        for i in &self.indexes {
            out.insert((
                self.columns(&i.fields),
                if i.unique { "uniq" } else { "idx" },
            ));
        }
        out
    }

    fn primary_key(&self) -> Vec<String> {
        match self.fields.iter().find(|f| f.primary_key) {
            Some(f) => vec![f.column()],
            None => vec!["id".into()],
        }
    }

    fn columns(&self, fields: &[String]) -> Vec<String> {
        fields
            .iter()
            .map(|f| self.field(f).map_or_else(|| f.clone(), Field::column))
            .collect()
    }

    /// Fields named by an index or a check.
    fn keyed_fields(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .indexes
            .iter()
            .flat_map(|i| i.fields.iter().cloned())
            .collect();
        out.extend(
            self.fields
                .iter()
                .filter(|f| f.index)
                .map(|f| f.name.clone()),
        );
        for (key, _) in &self.checks {
            out.insert(key.trim_end_matches("_nonneg").to_string());
        }
        out
    }

    /// A random index over 1–3 indexable fields that clashes with nothing.
    fn random_index(&self, rng: &mut Rng) -> Option<Index> {
        let mut candidates: Vec<String> = self
            .fields
            .iter()
            .filter(|f| f.indexable())
            .map(|f| f.name.clone())
            .collect();
        if !self.has_declared_key() {
            candidates.push("id".into());
        }
        if candidates.is_empty() {
            return None;
        }
        let taken = self.generated_objects();
        for _ in 0..5 {
            let n = rng.range(1, candidates.len().min(3));
            let mut pool = candidates.clone();
            let mut fields = Vec::new();
            for _ in 0..n {
                fields.push(pool.remove(rng.below(pool.len())));
            }
            let unique = rng.chance(35);
            let key = (self.columns(&fields), if unique { "uniq" } else { "idx" });
            // An index on exactly the primary key adds nothing: skip it.
            if fields == ["id"] || taken.contains(&key) {
                continue;
            }
            // Never a unique *constraint* on exactly the primary key: models.toml
            // refuses it (`unique_constraint_on_the_primary_key_is_refused`).
            let on_key = self.columns(&fields) == self.primary_key();
            let constraint = unique && !on_key && rng.chance(40);
            return Some(Index {
                fields,
                unique,
                constraint,
                prefix: None,
            });
        }
        None
    }

    /// `{ columns = [{ column = "<text field>", length = n }] }`, unless taken.
    fn random_prefix_index(&self, rng: &mut Rng) -> Option<Index> {
        let texts: Vec<&Field> = self
            .fields
            .iter()
            .filter(|f| matches!(f.kind, Kind::Column(Ty::Text)))
            .collect();
        if texts.is_empty() {
            return None;
        }
        let field = rng.pick(&texts).name.clone();
        let key = (self.columns(std::slice::from_ref(&field)), "idx");
        if self.generated_objects().contains(&key) {
            return None;
        }
        Some(Index {
            fields: vec![field],
            unique: false,
            constraint: false,
            prefix: Some(rng.range_as::<u32>(1, 40) * 5),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub name: String,
    pub models: Vec<Model>,
}

/// Both apps: `auth` (referenced) and `shop` (referencing).
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub apps: Vec<App>,
}

const SHOP_MODELS: &[&str] = &[
    "Product", "Order", "Item", "Cart", "Review", "Coupon", "Vendor",
];
const AUTH_MODELS: &[&str] = &["User", "Group", "Permission", "Profile", "Session", "Token"];
/// Plain field names; some are SQL keywords, to exercise quoting. None ends in
/// `_id`, so none meets a foreign key's column.
const FIELD_NAMES: &[&str] = &[
    "name", "title", "code", "qty", "price", "amount", "active", "created", "updated", "day",
    "label", "note", "body", "score", "stock", "weight", "slug", "email", "status", "order",
    "group", "key", "starts", "token", "payload", "rating", "opens",
];
const FK_NAMES: &[&str] = &[
    "owner", "parent", "buyer", "author", "account", "target", "origin",
];
/// The SQL keywords among `FIELD_NAMES`: a check expression names its column
/// unquoted, so never one of these.
const KEYWORDS: &[&str] = &["order", "group", "key"];

/// `schema` as a backend takes it: without `deferrable` where the backend has no
/// deferrable constraints (MySQL, MariaDB refuse them).
/// The collation the round trip gives `code`, `slug`, `token` and `key` fields of
/// type char/varchar on `backend` (`sqlite`, `postgres`, `mysql`): decided by name,
/// so no seed draws differently; written for one backend, as inspectdb reads it.
pub(crate) fn with_collations(schema: &Schema, backend: &str) -> Schema {
    let name = match backend {
        "sqlite" => "NOCASE",
        "postgres" => "C",
        _ => "utf8mb4_bin",
    };
    let mut schema = schema.clone();
    for field in schema
        .apps
        .iter_mut()
        .flat_map(|a| a.models.iter_mut())
        .flat_map(|m| m.fields.iter_mut())
    {
        let text = matches!(field.kind, Kind::Column(Ty::Varchar(_) | Ty::Char(_)));
        // Not a primary key: a foreign key to it would need the same collation.
        let named = matches!(field.name.as_str(), "code" | "slug" | "token" | "key");
        if text && named && !field.primary_key {
            field.collation = Some(format!("{{ {backend} = {} }}", toml_string(name)));
        }
    }
    schema
}

pub(crate) fn for_backend(schema: &Schema, deferrable_constraints: bool) -> Schema {
    let mut schema = schema.clone();
    if !deferrable_constraints {
        for field in schema
            .apps
            .iter_mut()
            .flat_map(|a| a.models.iter_mut())
            .flat_map(|m| m.fields.iter_mut())
        {
            if let Kind::ForeignKey { deferrable, .. } = &mut field.kind {
                *deferrable = None;
            }
        }
    }
    schema
}

/// A random valid schema: 2–4 models in each app.
pub(crate) fn generate(rng: &mut Rng) -> Schema {
    let mut schema = Schema { apps: Vec::new() };
    for (app, pool) in [("auth", AUTH_MODELS), ("shop", SHOP_MODELS)] {
        let count = rng.range(2, 4);
        // auth always has its `User`: the model every project references.
        let mut names: Vec<&str> = if app == "auth" { vec!["User"] } else { vec![] };
        while names.len() < count {
            let name = *rng.pick(pool);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let models = names
            .iter()
            .map(|n| Model {
                name: n.to_string(),
                fields: Vec::new(),
                indexes: Vec::new(),
                checks: Vec::new(),
            })
            .collect();
        schema.apps.push(App {
            name: app.into(),
            models,
        });
    }
    // Primary keys first: a foreign key's type follows the key it references.
    for a in 0..schema.apps.len() {
        for m in 0..schema.apps[a].models.len() {
            if rng.chance(20) {
                let pk = explicit_key(rng);
                schema.apps[a].models[m].fields.push(pk);
            }
        }
    }
    for a in 0..schema.apps.len() {
        for m in 0..schema.apps[a].models.len() {
            for _ in 0..rng.range(1, 5) {
                let field = plain_field(rng, &schema.apps[a].models[m], true);
                schema.apps[a].models[m].fields.push(field);
            }
            let fks = rng.range(0, 2);
            for i in 0..fks {
                // The first shop model always points into auth: cross-app coverage.
                let cross = schema.apps[a].name == "shop" && m == 0 && i == 0;
                if let Some(fk) = fk_field(rng, &schema, a, m, cross) {
                    schema.apps[a].models[m].fields.push(fk);
                }
            }
            if schema.apps[a].name == "shop" && m == 0 && fks == 0 {
                let fk = fk_field(rng, &schema, a, m, true).expect("auth has models");
                schema.apps[a].models[m].fields.push(fk);
            }
            let model = &mut schema.apps[a].models[m];
            for _ in 0..rng.range(0, 2) {
                if let Some(index) = model.random_index(rng) {
                    model.indexes.push(index);
                }
            }
            if rng.chance(35) {
                add_check(model);
            }
        }
    }
    // Prefix indexes come from a side stream, so the main one (and with it every
    // schema the seeds drew before prefix indexes existed) is unchanged.
    let mut side = Rng::new(rng.0 ^ 0x005E_ED0F_1DE8);
    for model in schema.apps.iter_mut().flat_map(|a| a.models.iter_mut()) {
        if side.chance(50) {
            if let Some(index) = model.random_prefix_index(&mut side) {
                model.indexes.push(index);
            }
        }
    }
    link_to_unique_fields(rng, &mut schema);
    schema
}

/// Points some foreign keys at a unique integer field of their target instead of
/// its primary key (`to_field`), making a free integer field unique for it.
fn link_to_unique_fields(rng: &mut Rng, schema: &mut Schema) {
    let mut links = Vec::new();
    for (a, app) in schema.apps.iter().enumerate() {
        for (m, model) in app.models.iter().enumerate() {
            for (f, field) in model.fields.iter().enumerate() {
                if let Kind::ForeignKey {
                    app: ta,
                    model: tm,
                    to_field: None,
                    ..
                } = &field.kind
                {
                    if rng.chance(40) {
                        links.push((a, m, f, ta.clone(), tm.clone()));
                    }
                }
            }
        }
    }
    for (a, m, f, target_app, target_model) in links {
        let Some(ta) = schema.apps.iter().position(|x| x.name == target_app) else {
            continue;
        };
        let Some(tm) = schema.apps[ta]
            .models
            .iter()
            .position(|x| x.name == target_model)
        else {
            continue;
        };
        let target = &mut schema.apps[ta].models[tm];
        let keyed = target.keyed_fields();
        let Some(g) = target.fields.iter().position(|g| {
            matches!(g.kind, Kind::Column(ty) if ty.is_integer())
                && !g.primary_key
                && (g.unique || !keyed.contains(&g.name))
        }) else {
            continue;
        };
        target.fields[g].unique = true;
        let name = target.fields[g].name.clone();
        if let Kind::ForeignKey { to_field, .. } = &mut schema.apps[a].models[m].fields[f].kind {
            *to_field = Some(name);
        }
    }
}

fn explicit_key(rng: &mut Rng) -> Field {
    let (name, ty, auto) = if rng.chance(50) {
        ("uid", Ty::Int, true)
    } else {
        ("code", Ty::Varchar(32), false)
    };
    Field {
        name: name.into(),
        kind: Kind::Column(ty),
        null: false,
        default: None,
        unique: false,
        index: false,
        primary_key: true,
        auto,
        collation: None,
    }
}

/// A new plain field of `model`. With `free`, any nullability and default;
/// without, a field that can be added to a table with rows (nullable or with a
/// default).
fn plain_field(rng: &mut Rng, model: &Model, free: bool) -> Field {
    let name = loop {
        let name = *rng.pick(FIELD_NAMES);
        if model.field(name).is_none() {
            break name;
        }
    };
    let ty = Ty::random(rng);
    let mut null = rng.chance(35);
    let mut default = if rng.chance(45) {
        ty.random_default(rng)
    } else {
        None
    };
    if !free && !null && default.is_none() {
        default = ty.random_default(rng);
        null = default.is_none();
    }
    let unique = ty.indexable() && rng.chance(15);
    let index = ty.indexable() && !unique && rng.chance(15);
    // A text field whose default is one of an enum's values, or without a default and
    // named like a state, is that enum: decided
    // without drawing from `rng`, so the other draws of every seed stay as they were.
    let ty = match (ty, default.as_deref()) {
        (Ty::Text, Some("\"draft\"" | "\"x\"" | "\"a b\"")) => Ty::Enum(0),
        (Ty::Text, None) if matches!(name, "status" | "label" | "note" | "title" | "body") => {
            Ty::Enum(0)
        }
        (Ty::Text, Some("\"it's\"" | "\"ünï\"")) => Ty::Enum(1),
        _ => ty,
    };
    Field {
        name: name.into(),
        kind: Kind::Column(ty),
        null,
        default,
        unique,
        index,
        primary_key: false,
        auto: false,
        collation: None,
    }
}

/// A foreign key from model `m` of app `a` to a model of the same app or (from
/// shop) of auth, or (from auth's last model, now and then) of shop; `cross`
/// forces auth.
fn fk_field(rng: &mut Rng, schema: &Schema, a: usize, m: usize, cross: bool) -> Option<Field> {
    let app = &schema.apps[a];
    let model = &app.models[m];
    // Now and then auth's last model points back into shop, whose first model points
    // into auth: a foreign-key cycle across apps, which makemigrations splits. Decided
    // without drawing from `rng`, so the other draws of every seed stay as they were.
    let back_into_shop =
        app.name == "auth" && m + 1 == app.models.len() && model.fields.len().is_multiple_of(2);
    let target_app = if cross || (app.name == "shop" && rng.chance(40)) {
        schema.apps.iter().find(|x| x.name == "auth")?
    } else if back_into_shop {
        schema.apps.iter().find(|x| x.name == "shop")?
    } else {
        app
    };
    let target = rng.pick(&target_app.models).name.clone();
    let name = FK_NAMES
        .iter()
        .find(|n| model.field(n).is_none())?
        .to_string();
    let null = rng.chance(40);
    let mut actions = vec![None, Some("cascade"), Some("restrict"), Some("no action")];
    if null {
        actions.push(Some("set null"));
    }
    let on_delete = *rng.pick(&actions);
    let on_update = if rng.chance(20) {
        *rng.pick(&actions)
    } else {
        None
    };
    let unique_targets: Vec<String> = target_app
        .models
        .iter()
        .find(|t| t.name == target)
        .map(|t| {
            t.fields
                .iter()
                .filter(|f| {
                    f.unique
                        && !f.primary_key
                        && matches!(f.kind, Kind::Column(ty) if ty.is_integer())
                })
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let to_field = if !unique_targets.is_empty() && rng.chance(40) {
        Some(rng.pick(&unique_targets).clone())
    } else {
        None
    };
    let deferrable = if rng.chance(25) {
        Some(*rng.pick(&["deferred", "immediate"]))
    } else {
        None
    };
    let db_constraint = !rng.chance(15);
    Some(Field {
        name,
        kind: Kind::ForeignKey {
            app: target_app.name.clone(),
            model: target,
            on_delete,
            on_update,
            to_field,
            deferrable,
            db_constraint,
        },
        null,
        default: None,
        unique: rng.chance(10),
        index: false,
        primary_key: false,
        auto: false,
        collation: None,
    })
}

/// `<field> >= 0` on an integer field with an unquoted-safe name (its default, if
/// any, made to satisfy it).
fn add_check(model: &mut Model) {
    let Some(field) = model.fields.iter_mut().find(|f| {
        matches!(f.kind, Kind::Column(ty) if ty.is_integer())
            && !f.primary_key
            && !KEYWORDS.contains(&f.name.as_str())
    }) else {
        return;
    };
    if field.default.as_deref().is_some_and(|d| d.starts_with('-')) {
        field.default = Some("0".into());
    }
    let expr = format!("{} >= 0", field.name);
    model.checks.push((format!("{}_nonneg", field.name), expr));
}

/// Applies `count` random edits, each to a different model, and describes them.
pub(crate) fn edit(rng: &mut Rng, schema: &mut Schema, count: usize) -> Vec<String> {
    let mut done = Vec::new();
    let mut round = Round::default();
    for _ in 0..count * 20 {
        if done.len() == count {
            break;
        }
        if let Some(what) = edit_once(rng, schema, &mut round) {
            done.push(what);
        }
    }
    done
}

/// What one round of edits has done so far.
#[derive(Default)]
struct Round {
    /// Models already edited: two edits of one model could cancel out.
    touched: BTreeSet<(String, String)>,
}

fn edit_once(rng: &mut Rng, schema: &mut Schema, round: &mut Round) -> Option<String> {
    let kind = rng.below(9);
    let a = rng.below(schema.apps.len());
    let what = edit_app(rng, schema, a, kind, &mut round.touched)?;
    Some(what)
}

fn edit_app(
    rng: &mut Rng,
    schema: &mut Schema,
    a: usize,
    kind: usize,
    touched: &mut BTreeSet<(String, String)>,
) -> Option<String> {
    if kind == 6 {
        return add_model(rng, schema, a, touched);
    }
    if kind == 7 {
        return drop_model(rng, schema, a, touched);
    }
    let app_name = schema.apps[a].name.clone();
    let m = rng.below(schema.apps[a].models.len());
    let key = (app_name.clone(), schema.apps[a].models[m].name.clone());
    if touched.contains(&key) {
        return None;
    }
    let model = &mut schema.apps[a].models[m];
    let label = format!("{app_name}.{}", model.name);
    let keyed = model.keyed_fields();
    let what = match kind {
        0 if rng.chance(25) => {
            // A foreign key, nullable: the table may have rows.
            let mut field = fk_field(rng, schema, a, m, false)?;
            field.null = true;
            let what = format!("add field {label}.{} {}", field.name, describe(&field));
            schema.apps[a].models[m].fields.push(field);
            what
        }
        0 => {
            let field = plain_field(rng, model, false);
            let what = format!("add field {label}.{} {}", field.name, describe(&field));
            model.fields.push(field);
            what
        }
        1 => drop_field(rng, model, &label, &keyed)?,
        2 => resize_varchar(rng, model, &label)?,
        3 => toggle_null(rng, model, &label)?,
        4 => {
            let index = model.random_index(rng)?;
            let what = format!(
                "add {}index {label} ({})",
                if index.unique { "unique " } else { "" },
                index.fields.join(", ")
            );
            model.indexes.push(index);
            what
        }
        5 => {
            if model.indexes.is_empty() {
                return None;
            }
            let index = model.indexes.remove(rng.below(model.indexes.len()));
            format!("drop index {label} ({})", index.fields.join(", "))
        }
        8 => change_default(rng, model, &label)?,
        _ => unreachable!(),
    };
    touched.insert(key);
    Some(what)
}

/// Drops a field that is no key: not in the primary key, an index, a unique or a check.
fn drop_field(
    rng: &mut Rng,
    model: &mut Model,
    label: &str,
    keyed: &BTreeSet<String>,
) -> Option<String> {
    let candidates: Vec<usize> = (0..model.fields.len())
        .filter(|&f| {
            let f = &model.fields[f];
            !f.primary_key && !f.unique && !keyed.contains(&f.name)
        })
        .collect();
    if candidates.is_empty() || model.fields.len() < 2 {
        return None;
    }
    let f = *rng.pick(&candidates);
    let field = model.fields.remove(f);
    Some(format!("drop field {label}.{}", field.name))
}

/// Gives a varchar field another length, still long enough for its default; or an
/// enum drawn with `ENUM_VALUES[0]` or `[2]` the other list (a value added or removed).
fn resize_varchar(rng: &mut Rng, model: &mut Model, label: &str) -> Option<String> {
    let candidates: Vec<usize> = (0..model.fields.len())
        .filter(|&f| {
            matches!(
                model.fields[f].kind,
                Kind::Column(Ty::Varchar(_) | Ty::Enum(0 | 2))
            ) && !model.fields[f].primary_key
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let field = &mut model.fields[*rng.pick(&candidates)];
    if let Kind::Column(Ty::Enum(i)) = field.kind {
        let new = 2 - i;
        field.kind = Kind::Column(Ty::Enum(new));
        if field.default.as_deref() == Some("\"published\"") {
            field.default = Some("\"draft\"".into());
        }
        return Some(format!(
            "change the values of {label}.{} to {:?}",
            field.name, ENUM_VALUES[new]
        ));
    }
    let Kind::Column(Ty::Varchar(old)) = field.kind else {
        unreachable!()
    };
    // Long enough for the default: the models must stay valid.
    let shortest = field.default.as_deref().map_or(1, |d| d.chars().count());
    let new = loop {
        let n = rng.range_as::<u32>(2, 50) * 5;
        if n != old && n as usize >= shortest {
            break n;
        }
    };
    field.kind = Kind::Column(Ty::Varchar(new));
    Some(format!(
        "change {label}.{} varchar({old}) -> varchar({new})",
        field.name
    ))
}

/// Makes a field nullable or not null (never one a `set null` action needs nullable).
fn toggle_null(rng: &mut Rng, model: &mut Model, label: &str) -> Option<String> {
    let candidates: Vec<usize> = (0..model.fields.len())
        .filter(|&f| {
            let f = &model.fields[f];
            let sets_null = matches!(
                f.kind,
                Kind::ForeignKey {
                    on_delete: Some("set null"),
                    ..
                }
            ) || matches!(
                f.kind,
                Kind::ForeignKey {
                    on_update: Some("set null"),
                    ..
                }
            );
            !f.primary_key && !sets_null
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let field = &mut model.fields[*rng.pick(&candidates)];
    field.null = !field.null;
    Some(format!(
        "make {label}.{} {}",
        field.name,
        if field.null { "nullable" } else { "not null" }
    ))
}

/// Sets, changes or drops the default of a plain field outside the checks.
fn change_default(rng: &mut Rng, model: &mut Model, label: &str) -> Option<String> {
    let candidates: Vec<usize> = (0..model.fields.len())
        .filter(|&f| {
            let f = &model.fields[f];
            let in_check = model
                .checks
                .iter()
                .any(|(k, _)| *k == format!("{}_nonneg", f.name));
            matches!(f.kind, Kind::Column(_)) && !f.primary_key && !in_check
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let field = &mut model.fields[*rng.pick(&candidates)];
    let Kind::Column(ty) = field.kind else {
        unreachable!()
    };
    let new = if field.default.is_some() && rng.chance(50) {
        None
    } else {
        ty.random_default(rng)
    };
    if new == field.default {
        return None;
    }
    let what = format!(
        "change the default of {label}.{} from {} to {}",
        field.name,
        field.default.as_deref().unwrap_or("none"),
        new.as_deref().unwrap_or("none")
    );
    field.default = new;
    Some(what)
}

/// A new model in app `a` with a foreign key to an existing model (of its app or,
/// from shop, of auth).
fn add_model(
    rng: &mut Rng,
    schema: &mut Schema,
    a: usize,
    touched: &mut BTreeSet<(String, String)>,
) -> Option<String> {
    let pool = if schema.apps[a].name == "auth" {
        AUTH_MODELS
    } else {
        SHOP_MODELS
    };
    let app = schema.apps[a].name.clone();
    // Not a model dropped this round: its table would still exist, and its NOT NULL
    // fields would be columns added to a table with rows (a one-off default question).
    let name = pool
        .iter()
        .find(|n| {
            schema.apps[a].models.iter().all(|m| m.name != **n)
                && !touched.contains(&(app.clone(), n.to_string()))
        })?
        .to_string();
    let mut model = Model {
        name: name.clone(),
        fields: Vec::new(),
        indexes: Vec::new(),
        checks: Vec::new(),
    };
    for _ in 0..rng.range(1, 3) {
        let field = plain_field(rng, &model, true);
        model.fields.push(field);
    }
    let m = schema.apps[a].models.len();
    schema.apps[a].models.push(model);
    let Some(fk) = fk_field(rng, schema, a, m, false) else {
        schema.apps[a].models.pop();
        return None;
    };
    let what = format!(
        "add model {}.{name} with {} {}",
        schema.apps[a].name,
        fk.name,
        describe(&fk)
    );
    let model = &mut schema.apps[a].models[m];
    model.fields.push(fk);
    if rng.chance(50) {
        if let Some(index) = model.random_index(rng) {
            model.indexes.push(index);
        }
    }
    touched.insert((schema.apps[a].name.clone(), name));
    Some(what)
}

/// Drops a model of app `a` that no other model references (at least one stays).
fn drop_model(
    rng: &mut Rng,
    schema: &mut Schema,
    a: usize,
    touched: &mut BTreeSet<(String, String)>,
) -> Option<String> {
    let app = schema.apps[a].name.clone();
    if schema.apps[a].models.len() < 2 {
        return None;
    }
    let m = rng.below(schema.apps[a].models.len());
    let name = schema.apps[a].models[m].name.clone();
    if app == "auth" && name == "User" || touched.contains(&(app.clone(), name.clone())) {
        return None;
    }
    let referenced = schema.apps.iter().any(|other| {
        other.models.iter().any(|model| {
            model.name != name || other.name != app
        } && model.fields.iter().any(|f| {
            matches!(&f.kind, Kind::ForeignKey { app: ta, model: tm, .. } if *ta == app && *tm == name)
        }))
    });
    // A model another app's foreign key ever pointed at may go too: its drop must
    // come after that app's migrations (`dropping_a_table_another_app_referenced`).
    if referenced {
        return None;
    }
    schema.apps[a].models.remove(m);
    touched.insert((app.clone(), name.clone()));
    Some(format!("drop model {app}.{name}"))
}

fn describe(field: &Field) -> String {
    let mut line = String::new();
    field_value(&mut line, field, "");
    line
}

/// `apps/<app>/models.toml` text of every app: (app, text).
pub(crate) fn write(schema: &Schema) -> Vec<(String, String)> {
    schema
        .apps
        .iter()
        .map(|app| (app.name.clone(), write_app(app)))
        .collect()
}

fn write_app(app: &App) -> String {
    let mut out = String::new();
    for model in &app.models {
        if !out.is_empty() {
            out.push('\n');
        }
        let mut head = Vec::new();
        // A table comment (with quotes to escape) on about a third of the models.
        if model.name.len() % 3 == 0 {
            head.push(format!(
                "comment = {}",
                toml_string(&format!("{}'s \"table\"", model.name))
            ));
        }
        let (constraints, indexes): (Vec<&Index>, Vec<&Index>) =
            model.indexes.iter().partition(|i| i.constraint);
        if !indexes.is_empty() {
            let entries: Vec<String> = indexes
                .iter()
                .map(|i| {
                    let columns = list(&i.fields);
                    if let (Some(n), [field]) = (i.prefix, &i.fields[..]) {
                        return format!(
                            "{{ columns = [{{ column = {}, length = {n} }}] }}",
                            toml_string(field)
                        );
                    }
                    if i.unique {
                        format!("{{ columns = {columns}, unique = true }}")
                    } else {
                        columns
                    }
                })
                .collect();
            head.push(format!("indexes = [{}]", entries.join(", ")));
        }
        if !constraints.is_empty() {
            let entries: Vec<String> = constraints.iter().map(|i| list(&i.fields)).collect();
            head.push(format!("unique = [{}]", entries.join(", ")));
        }
        if !model.checks.is_empty() {
            let entries: Vec<String> = model
                .checks
                .iter()
                .map(|(k, e)| check_entry(&model.name, k, e))
                .collect();
            head.push(format!("checks = {{ {} }}", entries.join(", ")));
        }
        if !head.is_empty() {
            let _ = writeln!(out, "[{}]", model.name);
            for line in head {
                let _ = writeln!(out, "{line}");
            }
            out.push('\n');
        }
        let _ = writeln!(out, "[{}.fields]", model.name);
        for field in &model.fields {
            let _ = write!(out, "{} = ", field.name);
            field_value(&mut out, field, &app.name);
            out.push('\n');
        }
        if let Some(line) = generated_field(model) {
            out.push_str(&line);
        }
    }
    out
}

/// A field's value: `"type"`, `"type?"` or an inline table.
fn field_value(out: &mut String, field: &Field, app: &str) {
    let mut parts = Vec::new();
    match &field.kind {
        Kind::Column(ty) => {
            let plain = field.default.is_none()
                && !field.unique
                && !field.index
                && !field.primary_key
                && !matches!(ty, Ty::Enum(_))
                && field.collation.is_none()
                && comment(field).is_none();
            if plain {
                let q = if field.null { "?" } else { "" };
                out.push_str(&toml_string(&format!("{}{q}", ty.spelling())));
                return;
            }
            parts.push(format!("type = {}", toml_string(&ty.spelling())));
            if let Ty::Enum(i) = ty {
                let values: Vec<String> = ENUM_VALUES[*i].iter().map(ToString::to_string).collect();
                parts.push(format!("values = {}", list(&values)));
            }
            if let Some(c) = &field.collation {
                parts.push(format!("collation = {c}"));
            }
            if field.null {
                parts.push("null = true".into());
            }
        }
        Kind::ForeignKey {
            app: target_app,
            model,
            on_delete,
            on_update,
            to_field,
            deferrable,
            db_constraint,
        } => {
            let target = if target_app == app {
                model.clone()
            } else {
                format!("{target_app}.{model}")
            };
            parts.push(format!("references = {}", toml_string(&target)));
            if field.null {
                parts.push("null = true".into());
            }
            if let Some(a) = on_delete {
                parts.push(format!("on_delete = {}", toml_string(a)));
            }
            if let Some(a) = on_update {
                parts.push(format!("on_update = {}", toml_string(a)));
            }
            if let Some(f) = to_field {
                parts.push(format!("to_field = {}", toml_string(f)));
            }
            if let Some(d) = deferrable {
                parts.push(format!("deferrable = {}", toml_string(d)));
            }
            if !db_constraint {
                parts.push("db_constraint = false".into());
            }
        }
    }
    if let Some(d) = &field.default {
        parts.push(format!("default = {d}"));
    }
    if field.unique {
        parts.push("unique = true".into());
    }
    if field.index {
        parts.push("index = true".into());
    }
    if field.primary_key {
        parts.push("primary_key = true".into());
    }
    if field.auto {
        parts.push("auto = true".into());
    }
    if let Some(c) = comment(field) {
        parts.push(format!("comment = {}", toml_string(&c)));
    }
    let _ = write!(out, "{{ {} }}", parts.join(", "));
}

/// A column comment on about a third of the plain columns (by name length), with a
/// quote to escape; it follows the name, so a renamed field changes its comment too.
fn comment(field: &Field) -> Option<String> {
    (matches!(field.kind, Kind::Column(_)) && field.name.len().is_multiple_of(3))
        .then(|| format!("{}'s \"note\"", field.name))
}

/// A stored generated field `<f>_lower = lower(<f>)` over the model's first plain
/// varchar field, in about half of the models (by name length): derived from the
/// model as it is, so the edits that resize, rename or drop its field change it too
/// (makemigrations drops it first and adds it back last). Stored, since PostgreSQL
/// has no virtual ones; the expression is written in its neutral spelling, as
/// inspectdb writes what the servers show.
fn generated_field(model: &Model) -> Option<String> {
    // Words the neutral spelling quotes (sqlparser keywords): inspectdb would write
    // `lower("name")`, another text than the one written here.
    const NEUTRAL_QUOTED: &[&str] = &["name", "day", "status", "starts"];
    if model.name.len() % 2 == 1 {
        return None;
    }
    let (field, n) = model.fields.iter().find_map(|f| match f.kind {
        Kind::Column(Ty::Varchar(n))
            if !f.primary_key
                && !KEYWORDS.contains(&f.name.as_str())
                && !NEUTRAL_QUOTED.contains(&f.name.as_str()) =>
        {
            Some((f, n))
        }
        _ => None,
    })?;
    let name = format!("{}_lower", field.name);
    if model.field(&name).is_some() {
        return None;
    }
    Some(format!(
        "{name} = {{ type = \"varchar({n})\", generated = \"lower({})\", stored = true }}\n",
        field.name
    ))
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A check as models.toml writes it: about half of them (by the key's length) with a
/// name of their own, `{ expr = …, name = … }`, which must survive the round trip.
fn check_entry(model: &str, key: &str, expr: &str) -> String {
    if key.len().is_multiple_of(2) {
        let name = format!("{}_{key}_ck", model.to_lowercase());
        format!(
            "{key} = {{ expr = {}, name = {} }}",
            toml_string(expr),
            toml_string(&name)
        )
    } else {
        format!("{key} = {}", toml_string(expr))
    }
}
