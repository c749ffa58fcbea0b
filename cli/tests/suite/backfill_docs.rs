//! The data migration of docs/data-migrations.md, step by step as written there:
//! models → makemigrations, a nullable field → makemigrations, `--empty` → the
//! documented operation appended → sqlmigrate → migrate: every row filled.

use std::fmt::Write as _;

use crate::backfill_kill::count;
use crate::common::db::{Kind, TestDb};
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

/// The operation the guide says to append in step 3: the `toml` block after its marker.
fn documented_operation() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/data-migrations.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let marker = doc
        .find("<!-- data-migrations: the operation appended in step 3")
        .expect("the marker of step 3 in docs/data-migrations.md");
    let block = &doc[marker..];
    let start = block.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = block[start..].find("```").expect("the block's end");
    block[start..start + end].to_string()
}

const MODELS: &str = "[Ticket]\nfields.title = \"varchar(200)\"\n";

fn follow_the_guide(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"tracker\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/tracker/models.toml", MODELS),
        ("apps/tracker/migrations/.keep", ""),
    ]);
    let run = |args: &[&str]| {
        let out = strata(dir.path(), args);
        assert_eq!(
            out.code, 0,
            "{kind:?} {args:?}: {}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    };
    run(&["makemigrations"]);
    run(&["migrate"]);
    let mut insert = String::from("INSERT INTO tracker_ticket (title) VALUES ");
    for i in 0..2500 {
        let comma = if i == 0 { "" } else { ", " };
        let _ = write!(insert, "{comma}('Ticket Number {i}')");
    }
    db.execute(&insert);

    // Step 1: the field, nullable.
    let models = dir.path().join("apps/tracker/models.toml");
    std::fs::write(
        &models,
        format!("{MODELS}fields.slug = \"varchar(200)?\"\n"),
    )
    .unwrap();
    run(&["makemigrations"]);
    // Step 2: the empty migration.
    run(&[
        "makemigrations",
        "tracker",
        "--empty",
        "--name",
        "fill_slugs",
    ]);
    let file = dir
        .path()
        .join("apps/tracker/migrations/0003_fill_slugs.toml");
    let text = std::fs::read_to_string(&file).expect("0003_fill_slugs.toml written");
    assert!(!text.contains("\n[[operations]]"), "not empty: {text}");
    // Step 3: the operation appended.
    std::fs::write(&file, format!("{text}\n{}", documented_operation())).unwrap();
    // Step 4: its batch, then the run.
    let sql = run(&["sqlmigrate", "tracker", "0003"]);
    assert!(sql.contains("UPDATE"), "{sql}");
    run(&["migrate"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM tracker_ticket WHERE slug IS NULL OR slug <> lower(title)"
        ),
        0,
        "{kind:?}: rows left without their slug"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM tracker_ticket"), 2500);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM tracker_ticket WHERE slug = 'ticket number 7'"
        ),
        1
    );
}

for_each_backend!(backfill_guide_followed, follow_the_guide);

/// `makemigrations` never proposes a data migration: after the guide's model change it
/// writes the column and nothing else.
#[test]
fn makemigrations_never_writes_data_operations() {
    let dir = project(&[
        ("strata.toml", "[project]\napps = [\"tracker\"]\n"),
        ("apps/tracker/models.toml", MODELS),
        ("apps/tracker/migrations/.keep", ""),
    ]);
    let out = strata(dir.path(), &["makemigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let models = dir.path().join("apps/tracker/models.toml");
    std::fs::write(
        &models,
        format!("{MODELS}fields.slug = \"varchar(200)?\"\n"),
    )
    .unwrap();
    let out = strata(dir.path(), &["makemigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for entry in std::fs::read_dir(dir.path().join("apps/tracker/migrations")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains("\"run_code\"") && !text.contains("\"backfill\""),
            "{text}"
        );
    }
}
