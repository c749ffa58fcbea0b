//! Issue 4: the models → migrations → database round trip, on every backend, for
//! random valid models (fixed seeds, so every run is the same).
//!
//! `roundtrip`: generate models for two apps → `makemigrations` → `migrate` → the
//! live schema is exactly the models' schema; three rounds of random edits, each
//! followed by `makemigrations --no-rename`, `migrate` and the same check; every
//! migration rolls back to an empty database and forward again; `makemigrations
//! --check` finds nothing left to do.
//!
//! `inspectdb`: a second project adopts the migrated database with `inspectdb
//! --write`, `makemigrations` and `migrate --fake-initial`; the models it wrote
//! describe the live schema exactly.
//!
//! A failure prints the seed, every models.toml written so far and every migration
//! file, so it can be replayed by hand.
//!
//! Last, the bugs the random models found, each as its smallest reproduction,
//! ignored until fixed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common;
use crate::common::db::{block_on, Kind, TestDb};
use crate::common::models_gen::{self, Rng, Schema};
use crate::common::{strata, Output};
use strata_engine::drift;
use strata_engine::project::{Overrides, Project};
use strata_testkit::for_each_backend;

/// The seeds every backend runs: `1..=10`, or `STRATA_ROUNDTRIP_SEEDS` (`7` or
/// `1..=500`) to replay one seed or hunt with many.
fn seeds() -> std::ops::RangeInclusive<u64> {
    let Ok(spec) = std::env::var("STRATA_ROUNDTRIP_SEEDS") else {
        return 1..=10;
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("STRATA_ROUNDTRIP_SEEDS: `{spec}` is not N or A..=B"))
    };
    match spec.split_once("..=") {
        Some((a, b)) => parse(a)..=parse(b),
        None => parse(&spec)..=parse(&spec),
    }
}

/// One seed's run: its projects and everything written to them, for the report.
struct Case<'a> {
    kind: Kind,
    /// `None` for a hand-written reproduction.
    seed: Option<u64>,
    db: &'a TestDb,
    project: tempfile::TempDir,
    /// The inspectdb project, once made.
    legacy: Option<tempfile::TempDir>,
    /// Every models.toml generation: (what changed, the texts per app).
    history: Vec<(String, Vec<(String, String)>)>,
}

impl<'a> Case<'a> {
    fn new(kind: Kind, seed: Option<u64>, db: &'a TestDb) -> Self {
        let project = common::project(&[
            ("strata.toml", &config(&["auth", "shop"], &db.url)),
            ("apps/auth/.keep", ""),
            ("apps/shop/.keep", ""),
        ]);
        Self {
            kind,
            seed,
            db,
            project,
            legacy: None,
            history: Vec::new(),
        }
    }

    fn dir(&self) -> &Path {
        self.project.path()
    }

    fn write_models(&mut self, schema: &Schema, what: &str) {
        let schema = models_gen::for_backend(schema, self.kind != Kind::Mariadb);
        let collation_key = match self.kind {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::Mariadb => "mysql",
        };
        let schema = models_gen::with_collations(&schema, collation_key);
        self.write_texts(what, &models_gen::write(&schema));
    }

    /// Writes each (app, models.toml text).
    fn write_texts<S: AsRef<str>>(&mut self, what: &str, texts: &[(S, S)]) {
        let texts: Vec<(String, String)> = texts
            .iter()
            .map(|(a, t)| (a.as_ref().to_string(), t.as_ref().to_string()))
            .collect();
        for (app, text) in &texts {
            std::fs::write(self.dir().join(format!("apps/{app}/models.toml")), text).unwrap();
        }
        self.history.push((what.to_string(), texts));
    }

    /// Fails the test with `message` and everything needed to replay it.
    fn fail(&self, message: &str) -> ! {
        let mut report = match self.seed {
            Some(seed) => format!(
                "{message}\n\n=== seed {seed} on {:?} (replay: STRATA_ROUNDTRIP_SEEDS={seed} cargo test -p strata-cli --test roundtrip) ===\n",
                self.kind,
            ),
            None => format!("{message}\n\n=== on {:?} ===\n", self.kind),
        };
        for (what, texts) in &self.history {
            let _ = writeln!(report, "--- models.toml, {what} ---");
            for (app, text) in texts {
                let _ = writeln!(report, "# apps/{app}/models.toml\n{text}");
            }
        }
        let _ = writeln!(report, "--- files of the project ---");
        report.push_str(&dump_files(self.dir()));
        if let Some(legacy) = &self.legacy {
            let _ = writeln!(report, "--- files of the inspectdb project ---");
            report.push_str(&dump_files(legacy.path()));
        }
        panic!("{report}");
    }

    /// Runs `strata` in `dir` and insists on exit code 0.
    fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        let out = strata(dir, args);
        if out.code != 0 {
            self.fail(&format!(
                "strata {} exited {}:\n{}{}",
                args.join(" "),
                out.code,
                out.stdout,
                out.stderr
            ));
        }
        out
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.dir(), args)
    }

    /// `makemigrations` with `args` writes at least one new file (among them a
    /// `0001_initial` for each of `expect_apps`), then `migrate` applies them.
    fn make_and_migrate(&self, args: &[&str], expect_apps: Option<&[&str]>) {
        let before = migration_files(self.dir());
        let mut full = vec!["makemigrations"];
        full.extend_from_slice(args);
        let out = self.run(&full);
        let after = migration_files(self.dir());
        let new: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
        if new.is_empty() {
            self.fail(&format!(
                "strata {} wrote no migration for changed models:\n{}",
                full.join(" "),
                out.stdout
            ));
        }
        if let Some(apps) = expect_apps {
            for app in apps {
                let initial = self
                    .dir()
                    .join(format!("apps/{app}/migrations/0001_initial.toml"));
                if !new.contains(&&initial) {
                    self.fail(&format!("no 0001_initial for {app}:\n{}", out.stdout));
                }
            }
        }
        self.run(&["migrate"]);
    }

    /// The live schema is exactly what the models of `dir` describe.
    fn assert_models_match_database(&self, dir: &Path, when: &str) {
        let differences = models_vs_database(self.db, dir);
        if !differences.is_empty() {
            self.fail(&format!(
                "{when}: the live schema differs from the models:\n  {}",
                differences.join("\n  ")
            ));
        }
    }

    /// `makemigrations --check` in `dir` finds nothing to do.
    fn assert_no_changes(&self, dir: &Path, when: &str) {
        let out = strata(dir, &["makemigrations", "--check"]);
        if out.code != 0 || !out.stdout.contains("No changes detected") {
            self.fail(&format!(
                "{when}: makemigrations --check exited {}:\n{}{}",
                out.code, out.stdout, out.stderr
            ));
        }
    }
}

fn config(apps: &[&str], url: &str) -> String {
    let apps: Vec<String> = apps.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "[project]\napps = [{}]\n\n[database]\nurl = {url:?}\n",
        apps.join(", ")
    )
}

/// Every migration file of the project, sorted.
fn migration_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for app in std::fs::read_dir(dir.join("apps")).unwrap() {
        let migrations = app.unwrap().path().join("migrations");
        if let Ok(entries) = std::fs::read_dir(migrations) {
            files.extend(entries.map(|e| e.unwrap().path()));
        }
    }
    files.sort();
    files
}

/// The text of every file under `apps/`, for a failure report.
fn dump_files(dir: &Path) -> String {
    let mut files = migration_files(dir);
    for app in std::fs::read_dir(dir.join("apps")).unwrap() {
        let models = app.unwrap().path().join("models.toml");
        if models.exists() {
            files.push(models);
        }
    }
    let mut out = String::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let shown = path.strip_prefix(dir).unwrap_or(&path);
        let _ = writeln!(out, "# {}\n{text}", shown.display());
    }
    out
}

/// `drift::differences` between the models of the project in `dir` and the live
/// schema (the history table aside).
fn models_vs_database(db: &TestDb, dir: &Path) -> Vec<String> {
    let project = Project::load(dir, &Overrides::default()).unwrap();
    let models = match strata_engine::models::load(&project) {
        Ok(models) => models,
        Err(e) => return vec![format!("the models do not load: {e}")],
    };
    block_on(async {
        let mut driver = db.connect().await;
        let live = driver.introspect().await;
        let dialect = driver.dialect();
        let version = driver.version();
        driver.close().await.unwrap();
        match live {
            Ok(live) => drift::differences(
                dialect.as_ref(),
                version,
                &models.state,
                &live,
                &["strata_migrations"],
            ),
            Err(e) => vec![format!("introspection failed: {e}")],
        }
    })
}

/// Generated models, migrated; returns the case and the schema it stands at.
fn migrated_case(kind: Kind, seed: u64, db: &TestDb) -> (Case<'_>, Schema, Rng) {
    let mut rng = Rng::new(seed);
    let schema = models_gen::generate(&mut rng);
    let mut case = Case::new(kind, Some(seed), db);
    case.write_models(&schema, "generated");
    case.make_and_migrate(&["--noinput"], Some(&["auth", "shop"]));
    case.assert_models_match_database(case.dir(), "after the initial migrate");
    (case, schema, rng)
}

fn roundtrip(kind: Kind) {
    for seed in seeds() {
        let Some(db) = TestDb::create(kind) else {
            return;
        };
        let (mut case, mut schema, mut rng) = migrated_case(kind, seed, &db);

        for round in 1..=3 {
            let edits = models_gen::edit(&mut rng, &mut schema, 3);
            case.write_models(&schema, &format!("edit {round}: {}", edits.join("; ")));
            // A field made NOT NULL is answered as an empty table allows: no NULL rows.
            let no_nulls: Vec<String> = edits
                .iter()
                .filter_map(|e| e.strip_prefix("make ")?.strip_suffix(" not null"))
                .map(|field| format!("--no-nulls={field}"))
                .collect();
            let mut args = vec!["--noinput", "--no-rename", "--allow-destructive"];
            args.extend(no_nulls.iter().map(String::as_str));
            case.make_and_migrate(&args, None);
            case.assert_models_match_database(case.dir(), &format!("after edit {round}"));
        }

        // shop depends on auth (never the reverse): roll shop back first.
        case.run(&["migrate", "shop", "zero"]);
        case.run(&["migrate", "auth", "zero"]);
        let left = db.table_names();
        if left != ["strata_migrations"] {
            case.fail(&format!("after rolling both apps back to zero: {left:?}"));
        }
        case.run(&["migrate"]);
        case.assert_models_match_database(case.dir(), "after zero and migrate again");
        case.assert_no_changes(case.dir(), "at the end");
    }
}

fn inspectdb(kind: Kind) {
    for seed in seeds() {
        let Some(db) = TestDb::create(kind) else {
            return;
        };
        let (mut case, _, _) = migrated_case(kind, seed, &db);

        // Same database and history table: the history's rows of `auth` and `shop`
        // are of apps this project does not have, which the executor leaves alone.
        let legacy = common::project(&[
            ("strata.toml", &config(&["legacy"], &db.url)),
            ("apps/legacy/.keep", ""),
        ]);
        let dir = legacy.path().to_path_buf();
        case.legacy = Some(legacy);

        case.run_in(&dir, &["inspectdb", "legacy", "--write"]);
        case.run_in(&dir, &["makemigrations", "--noinput"]);
        if !dir
            .join("apps/legacy/migrations/0001_initial.toml")
            .exists()
        {
            case.fail("makemigrations after inspectdb wrote no legacy 0001_initial");
        }
        let out = case.run_in(&dir, &["migrate", "--fake-initial"]);
        if !out.stdout.contains("legacy.0001_initial (fake)") {
            case.fail(&format!(
                "migrate --fake-initial did not fake 0001_initial:\n{}",
                out.stdout
            ));
        }
        case.run_in(&dir, &["migrate", "--check"]);
        case.assert_no_changes(&dir, "after inspectdb and --fake-initial");
        // `--check` compares the models with the migrations made from them; what
        // says that inspectdb wrote the live schema exactly is this comparison.
        let differences = models_vs_database(&db, &dir);
        if !differences.is_empty() {
            case.fail(&format!(
                "the models written by inspectdb differ from the live schema:\n  {}",
                differences.join("\n  ")
            ));
        }
        // No foreign key it could not write: on SQLite, the auto-increment key reads
        // back with the type of the foreign keys to it, so they stay foreign keys.
        let written = std::fs::read_to_string(dir.join("apps/legacy/models.toml")).unwrap();
        if let Some(note) = written
            .lines()
            .find(|l| l.starts_with("# NOTE: foreign key") && l.contains("cannot be written"))
        {
            case.fail(&format!("inspectdb could not write a foreign key: {note}"));
        }
        // Faking ran nothing: the original project still sees its own schema.
        case.assert_models_match_database(case.dir(), "the original project after the adoption");
    }
}

/// The comparison the round trips rely on is not vacuous: a column added behind
/// strata's back is reported.
fn drift_is_detected(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let (case, _, _) = migrated_case(kind, 1, &db);
    db.execute("ALTER TABLE auth_user ADD COLUMN sneaked integer");
    let differences = models_vs_database(&db, case.dir());
    if differences.len() != 1 || !differences[0].contains("sneaked") {
        case.fail(&format!(
            "expected exactly the sneaked column, got {differences:?}"
        ));
    }
    case.assert_no_changes(case.dir(), "makemigrations never looks at the database");
}

// Bugs the random models found, each reduced to its smallest reproduction. The
// generator steers around them (see models_gen.rs) so the random tests keep
// hunting; un-ignore these when the engine is fixed.

/// A unique constraint on exactly the primary key is refused where it is written:
/// PostgreSQL folds such a constraint into the key (dropping it later would drop the
/// key), and it adds nothing anywhere. Found by seed 50.
#[test]
fn unique_constraint_on_the_primary_key_is_refused() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let mut case = Case::new(Kind::Postgres, None, &db);
    case.write_texts(
        "a unique constraint on the primary key",
        &[
            ("auth", ""),
            (
                "shop",
                "[Token]\nunique = [[\"code\"]]\n\n[Token.fields]\ncode = { type = \"varchar(32)\", primary_key = true }\n",
            ),
        ],
    );
    let out = strata(case.dir(), &["makemigrations", "--noinput"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("models.toml"), "{}", out.stderr);
    assert!(
        out.stderr.contains("repeats the primary key"),
        "{}",
        out.stderr
    );
}

/// makemigrations makes a migration that drops a column of a table depend on every
/// other app with new migrations whose foreign keys point at that table, even when
/// they do not use the column; together with that app's new foreign key into the
/// table it reports a cycle between the apps that does not exist (`strata
/// makemigrations shop` then `auth`, as the message suggests, works). Found by
/// seed 38.
#[test]
fn drop_column_in_one_app_and_new_fk_in_the_other() {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let mut case = Case::new(Kind::Sqlite, None, &db);
    let order = "[Order.fields]\nbuyer = { references = \"auth.User\" }\n";
    case.write_texts(
        "initial",
        &[
            ("auth", "[User.fields]\nname = \"text\"\nslug = \"text\"\n"),
            ("shop", order),
        ],
    );
    case.make_and_migrate(&["--noinput"], Some(&["auth", "shop"]));
    let product = "\n[Product.fields]\nseller = { references = \"auth.User\" }\n";
    case.write_texts(
        "auth.User.slug dropped, shop.Product added",
        &[
            ("auth", "[User.fields]\nname = \"text\"\n"),
            ("shop", &format!("{order}{product}")),
        ],
    );
    case.make_and_migrate(&["--noinput", "--allow-destructive"], None);
    case.assert_models_match_database(case.dir(), "after migrate");
}

/// A TOML datetime default (`default = 2024-01-31T10:30:00`) is kept as the text
/// `2024-01-31T10:30:00`; PostgreSQL and MariaDB store and report it as
/// `2024-01-31 10:30:00`, so the live schema never matches the models (drift, and
/// a resumed MySQL migration's check of its completed operations). The string
/// `"2024-01-31 10:30:00"` works. Found by seed 6.
#[test]
fn toml_datetime_default() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let mut case = Case::new(Kind::Postgres, None, &db);
    case.write_texts(
        "a TOML datetime default",
        &[
            ("auth", ""),
            (
                "shop",
                "[Event.fields]\nstarts = { type = \"datetime\", default = 2024-01-31T10:30:00 }\n",
            ),
        ],
    );
    case.make_and_migrate(&["--noinput"], Some(&["shop"]));
    case.assert_models_match_database(case.dir(), "after migrate");
}

/// A table another app's foreign key pointed at, dropped after that app dropped
/// its foreign key (two makemigrations runs): the drop depends only on its own
/// app's previous migration, so a fresh database applies it before the other app's
/// migrations that create and remove the foreign key, and `migrate` fails; so
/// does `migrate shop zero` on the migrated database. makemigrations should make
/// the drop depend on the latest migration of every app whose migrations reference
/// the table. Found by seed 270.
#[test]
fn dropping_a_table_another_app_referenced() {
    let db = TestDb::create(Kind::Sqlite).unwrap();
    let mut case = Case::new(Kind::Sqlite, None, &db);
    let user = "[User.fields]\nname = \"text\"\n";
    let group = "\n[Group.fields]\nname = \"text\"\n";
    let vendor = "[Vendor.fields]\ngroup = { references = \"auth.Group\" }\n";
    let order = "[Order.fields]\nname = \"text\"\n";
    let both = format!("{user}{group}");
    case.write_texts("initial", &[("auth", both.as_str()), ("shop", vendor)]);
    case.make_and_migrate(&["--noinput"], Some(&["auth", "shop"]));
    case.write_texts(
        "shop.Vendor dropped",
        &[("auth", both.as_str()), ("shop", order)],
    );
    case.make_and_migrate(&["--noinput", "--no-rename", "--allow-destructive"], None);
    case.write_texts("auth.Group dropped", &[("auth", user), ("shop", order)]);
    case.make_and_migrate(&["--noinput", "--no-rename", "--allow-destructive"], None);

    let fresh = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", fresh.path().join("fresh.sqlite3").display());
    case.run(&["--database", &url, "migrate"]);
    case.run(&["migrate", "shop", "zero"]);
}

for_each_backend!(models_migrate_edit_rollback, roundtrip);
for_each_backend!(a_change_outside_strata_is_drift, drift_is_detected);
for_each_backend!(inspectdb_adopts_the_database, inspectdb);

/// The seeds every backend runs draw each foreign key option (issue 12): a key to a
/// unique non-primary-key field, deferrable keys, keys without a database constraint.
#[test]
fn the_seeds_draw_every_foreign_key_option() {
    let mut written = String::new();
    for seed in 1..=10 {
        let schema = models_gen::generate(&mut Rng::new(seed));
        for (_, text) in models_gen::write(&schema) {
            written.push_str(&text);
        }
    }
    for option in [
        "to_field = ",
        r#"deferrable = "deferred""#,
        r#"deferrable = "immediate""#,
        "db_constraint = false",
    ] {
        assert!(written.contains(option), "no `{option}` in seeds 1..=10");
    }
    let schema = models_gen::generate(&mut Rng::new(1));
    let mariadb = models_gen::write(&models_gen::for_backend(&schema, false));
    assert!(mariadb.iter().all(|(_, t)| !t.contains("deferrable")));
}

/// The seeds draw enums of both value lists in their initial models, so the round
/// trip covers them (their value changes come from the edits).
#[test]
fn the_seeds_draw_enums() {
    let mut written = String::new();
    for seed in 1..=10 {
        let schema = models_gen::generate(&mut Rng::new(seed));
        for (_, text) in models_gen::write(&schema) {
            written.push_str(&text);
        }
    }
    for values in [
        r#"values = ["draft", "x", "a b"]"#,
        r#"values = ["low", "it's", "ünï"]"#,
    ] {
        assert!(written.contains(values), "no `{values}` in seeds 1..=10");
    }
}

/// The seeds have fields the round trip gives a collation, written for one backend.
#[test]
fn the_seeds_draw_collations() {
    let mut written = String::new();
    for seed in 1..=10 {
        let schema = models_gen::generate(&mut Rng::new(seed));
        for (_, text) in models_gen::write(&models_gen::with_collations(&schema, "postgres")) {
            written.push_str(&text);
        }
    }
    assert!(written.contains(r#"collation = { postgres = "C" }"#));
    assert!(!written.contains("mysql ="));
}

/// The seeds draw a foreign-key cycle across apps (shop's first model into auth,
/// auth's last model back into shop) for some seed, so the round trip covers the
/// split initial migration.
#[test]
fn the_seeds_cover_a_foreign_key_cycle_across_apps() {
    let into = |schema: &Schema, from: &str, to: &str| {
        schema
            .apps
            .iter()
            .filter(|a| a.name == from)
            .flat_map(|a| a.models.iter())
            .flat_map(|m| m.fields.iter())
            .any(|f| matches!(&f.kind, models_gen::Kind::ForeignKey { app, .. } if app == to))
    };
    let cycles = (1..=10)
        .filter(|&seed| {
            let schema = models_gen::generate(&mut Rng::new(seed));
            into(&schema, "shop", "auth") && into(&schema, "auth", "shop")
        })
        .count();
    assert!(cycles > 0, "no seed of 1..=10 draws a cycle across apps");
}

/// The default seeds reach a prefix-length index (`col(n)` on MySQL and MariaDB, the
/// whole value elsewhere), so every backend's round trip goes through one.
#[test]
fn the_default_seeds_draw_a_prefix_index() {
    let drawn = (1..=10).filter(|&seed| {
        let schema = models_gen::generate(&mut Rng::new(seed));
        schema
            .apps
            .iter()
            .flat_map(|a| &a.models)
            .flat_map(|m| &m.indexes)
            .any(|i| i.prefix.is_some())
    });
    assert!(
        drawn.count() >= 2,
        "seeds 1..=10 draw fewer than 2 prefix indexes"
    );
}
