//! `strata makemigrations` as a user runs it: no changes, new fields, renames that
//! must be answered, one-off defaults, --check, --dry-run, --merge, --empty, and
//! broken models.toml files.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{copy_dir, strata, tracker, tracker_edited};

fn migration_files(dir: &Path, app: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(format!("apps/{app}/migrations")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn add_note(text: &str) -> String {
    text.replace(
        "created_at = \"datetime\"",
        "created_at = \"datetime\"\nnote = \"text?\"",
    )
}

#[test]
fn the_example_needs_no_migration() {
    let out = strata(&tracker(), &["makemigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "No changes detected\n");
    assert_eq!(strata(&tracker(), &["makemigrations", "--check"]).code, 0);
}

#[test]
fn a_new_field_gets_a_readable_deterministic_migration() {
    let dir = tracker_edited(add_note);
    let path = dir.path();

    let out = strata(path, &["makemigrations", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("0002_transaction_note.toml"),
        "{}",
        out.stdout
    );
    let out = strata(path, &["-v", "makemigrations", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("- Add column note to tracker_transaction"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("kind = \"add_column\""),
        "-v prints the file: {}",
        out.stdout
    );
    assert_eq!(
        migration_files(path, "tracker"),
        ["0001_initial.toml"],
        "nothing written"
    );

    let out = strata(path, &["makemigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = path.join("apps/tracker/migrations/0002_transaction_note.toml");
    let first = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        first,
        "dependencies = [\"tracker.0001_initial\"]\n\n[[operations]]\nkind = \"add_column\"\ntable = \"tracker_transaction\"\ncolumn = { name = \"note\", type = \"text\", null = true }\n"
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(strata(path, &["makemigrations"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        first,
        "byte-identical for identical input"
    );
    assert_eq!(
        strata(path, &["makemigrations"]).stdout,
        "No changes detected\n"
    );
    assert_eq!(strata(path, &["migrate", "-q"]).code, 0);
}

fn rename_description(text: &str) -> String {
    text.replace(
        "description = \"text\"\ncreated_at",
        "details = \"text\"\ncreated_at",
    )
}

#[test]
fn a_likely_rename_is_never_guessed_without_a_terminal() {
    let dir = tracker_edited(rename_description);
    let path = dir.path();
    let out = strata(path, &["makemigrations"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("tracker.Transaction.description -> details"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("--rename tracker.Transaction.description=details"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--no-rename"), "{}", out.stderr);
    assert_eq!(migration_files(path, "tracker"), ["0001_initial.toml"]);

    let out = strata(
        path,
        &[
            "makemigrations",
            "--rename",
            "tracker.Transaction.description=details",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("- Rename column tracker_transaction.description to details"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Drop column"), "{}", out.stdout);
}

#[test]
fn no_rename_drops_and_adds() {
    let dir = tracker_edited(rename_description);
    let out = strata(
        dir.path(),
        &[
            "makemigrations",
            "--no-rename",
            "--default",
            "tracker_transaction.details=\"\"",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("- Drop column description from tracker_transaction"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("- Add column details to tracker_transaction"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_rename_is_asked_on_a_terminal() {
    let dir = tracker_edited(rename_description);
    // `script` gives strata a terminal; the answer comes through it.
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} makemigrations", env!("CARGO_BIN_EXE_strata")),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(b"y\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Was tracker.Transaction.description renamed to details? [y/N]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Rename column tracker_transaction.description to details"),
        "{stdout}"
    );
}

/// A one-off default for a decimal column is kept as a 64-bit float: more digits than
/// that holds would reach existing rows rounded, so they are refused, not rounded.
#[test]
fn a_decimal_default_is_exact_or_refused() {
    let dir = tracker_edited(|t| {
        t.replace(
            "created_at = \"datetime\"",
            "created_at = \"datetime\"\nbalance = \"decimal(30,10)\"",
        )
    });
    let path = dir.path();
    let out = strata(
        path,
        &[
            "makemigrations",
            "--default",
            "tracker.Transaction.balance=12345678901234567890.1234567891",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("nearest value"), "{}", out.stderr);
    let migrations = path.join("apps/tracker/migrations");
    assert_eq!(std::fs::read_dir(&migrations).unwrap().count(), 1);
    let out = strata(
        path,
        &[
            "makemigrations",
            "--default",
            "tracker.Transaction.balance=12.50",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn not_null_without_default(text: &str) -> String {
    text.replace(
        "created_at = \"datetime\"",
        "created_at = \"datetime\"\nreference = \"varchar(20)\"",
    )
}

#[test]
fn a_not_null_field_on_an_existing_table_needs_a_one_off_default() {
    let dir = tracker_edited(not_null_without_default);
    let path = dir.path();
    let out = strata(path, &["makemigrations", "--noinput"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("tracker.Transaction.reference"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("--default tracker.Transaction.reference=VALUE"),
        "the help spells the field as --rename does: {}",
        out.stderr
    );

    // A TOML literal of another type is refused for a number, ...
    let bad = tracker_edited(|t| {
        t.replace(
            "created_at = \"datetime\"",
            "created_at = \"datetime\"\nquantity = \"int\"",
        )
    });
    let out = strata(
        bad.path(),
        &[
            "makemigrations",
            "--default",
            "tracker.Transaction.quantity=many",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is not a"), "{}", out.stderr);
    let out = strata(
        bad.path(),
        &[
            "makemigrations",
            "--default",
            "tracker.Transaction.quantity=0",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);

    // ... while a text column takes the value as it is: no TOML quotes needed.
    let out = strata(
        path,
        &[
            "makemigrations",
            "--default",
            "tracker.Transaction.reference=n/a",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(path.join(
        "apps/tracker/migrations/0002_transaction_reference_alter_transaction_reference.toml",
    ))
    .unwrap();
    assert!(text.contains("default = \"n/a\""), "{text}");
    assert!(
        text.contains("drop_default = true"),
        "the default is one-off: {text}"
    );
    // The TOML literal and table.column spellings still work, to the same file.
    let first = text;
    std::fs::remove_file(path.join(
        "apps/tracker/migrations/0002_transaction_reference_alter_transaction_reference.toml",
    ))
    .unwrap();
    let out = strata(
        path,
        &[
            "makemigrations",
            "--default",
            "tracker_transaction.reference=\"n/a\"",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(path.join(
            "apps/tracker/migrations/0002_transaction_reference_alter_transaction_reference.toml",
        ))
        .unwrap(),
        first
    );

    // Existing rows get the value, and the column keeps no default.
    assert_eq!(strata(path, &["migrate", "-q"]).code, 0);
}

#[test]
fn merge_joins_two_leaves() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tracker(), dir.path());
    let migrations = dir.path().join("apps/tracker/migrations");
    let leaf = "dependencies = [\"tracker.0001_initial\"]\n";
    std::fs::write(migrations.join("0002_left.toml"), leaf).unwrap();
    std::fs::write(migrations.join("0002_right.toml"), leaf).unwrap();

    let out = strata(dir.path(), &["makemigrations"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--merge"), "{}", out.stderr);
    let out = strata(dir.path(), &["makemigrations", "--merge"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text =
        std::fs::read_to_string(migrations.join("0003_merge_0002_left_0002_right.toml")).unwrap();
    assert_eq!(
        text,
        "dependencies = [\"tracker.0002_left\", \"tracker.0002_right\"]\n"
    );
    let out = strata(dir.path(), &["showmigrations", "--plan"]);
    assert_eq!(out.code, 0, "the graph has one leaf again: {}", out.stderr);
}

#[test]
fn empty_writes_a_migration_to_edit_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tracker(), dir.path());
    // A name becomes part of a file name: an identifier, as Django requires.
    for bad in ["seed data", "../../escape", "seed-data", "2fa"] {
        let out = strata(
            dir.path(),
            &["makemigrations", "tracker", "--empty", "--name", bad],
        );
        assert_eq!(out.code, 2, "--name {bad}: {}", out.stderr);
        assert!(
            out.stderr.contains("is not an identifier"),
            "{}",
            out.stderr
        );
    }
    let out = strata(
        dir.path(),
        &[
            "makemigrations",
            "tracker",
            "--empty",
            "--name",
            "seed_data",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(
        dir.path()
            .join("apps/tracker/migrations/0002_seed_data.toml"),
    )
    .unwrap();
    assert!(
        text.starts_with("dependencies = [\"tracker.0001_initial\"]\n"),
        "{text}"
    );
    // A commented template: an example run_sql with its reverse, and where the
    // other kinds are described.
    for needed in [
        "# [[operations]]\n# kind = \"run_sql\"\n# sql = ",
        "# reverse_sql = ",
        "migration.schema.json",
    ] {
        assert!(text.contains(needed), "{needed}: {text}");
    }
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    assert!(parsed.get("operations").is_none(), "{text}");
    // The file is a migration with no operations.
    let out = strata(
        dir.path(),
        &[
            "--format",
            "json",
            "sqlmigrate",
            "tracker",
            "0002",
            "--dialect",
            "sqlite",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(shown["operations"], serde_json::json!([]));
    let out = strata(dir.path(), &["makemigrations", "--empty"]);
    assert_eq!(out.code, 2, "--empty needs an app: {}", out.stderr);
}

#[test]
fn a_new_model_with_a_foreign_key_into_another_app_depends_on_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tracker(), dir.path());
    let auth = dir.path().join("apps/auth/models.toml");
    let mut text = std::fs::read_to_string(&auth).unwrap();
    text.push_str("\n[Team]\nfields.name = \"varchar(50)\"\n");
    std::fs::write(&auth, text).unwrap();
    let tracker_models = dir.path().join("apps/tracker/models.toml");
    let mut text = std::fs::read_to_string(&tracker_models).unwrap();
    text.push_str("\n[Budget.fields]\nlimit = \"decimal(12,2)\"\nteam = { references = \"auth.Team\", on_delete = \"cascade\" }\n");
    std::fs::write(&tracker_models, text).unwrap();

    // Asking for tracker alone brings in the auth model it needs, as Django does.
    let out = strata(dir.path(), &["makemigrations", "tracker"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let budget =
        std::fs::read_to_string(dir.path().join("apps/tracker/migrations/0002_budget.toml"))
            .unwrap();
    assert!(
        budget.starts_with("dependencies = [\"auth.0002_team\", \"tracker.0001_initial\"]"),
        "{budget}"
    );
    assert_eq!(strata(dir.path(), &["migrate", "-q"]).code, 0);
    assert_eq!(strata(dir.path(), &["makemigrations", "--check"]).code, 0);
}

#[test]
fn broken_models_are_located_with_a_suggestion() {
    let dir =
        tracker_edited(|t| t.replace("amount = \"decimal(12,2)\"", "amount = \"decimel(12,2)\""));
    let out = strata(dir.path(), &["makemigrations"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("models.toml:6:11"), "{}", out.stderr);
    assert!(
        out.stderr.contains("decimal"),
        "did you mean: {}",
        out.stderr
    );

    let dir =
        tracker_edited(|t| t.replace("references = \"auth.User\"", "references = \"auth.Usr\""));
    let out = strata(dir.path(), &["makemigrations"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("models.toml:11:24"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `User`"), "{}", out.stderr);

    let dir = tracker_edited(|t| t.replace("[Category]", "[Category]\ntabel = \"x\""));
    let out = strata(dir.path(), &["makemigrations"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("`table`"),
        "did you mean: {}",
        out.stderr
    );
}

/// Runs `strata makemigrations ARGS` on a terminal (script(1)), typing `answers`.
pub(crate) fn on_terminal(dir: &Path, args: &str, answers: &str) -> (bool, String) {
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} makemigrations {args}", env!("CARGO_BIN_EXE_strata")),
            "/dev/null",
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(answers.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `description = "text"` of Transaction renamed to `details` and made nullable in
/// the same edit.
fn rename_and_change_description(text: &str) -> String {
    text.replace(
        "description = \"text\"\ncreated_at",
        "details = \"text?\"\ncreated_at",
    )
}

fn drop_description(text: &str) -> String {
    text.replace("description = \"text\"\ncreated_at", "created_at")
}

#[test]
fn a_field_renamed_and_changed_is_a_rename_question_not_a_drop() {
    let dir = tracker_edited(rename_and_change_description);
    let path = dir.path();
    let out = strata(path, &["makemigrations", "--noinput"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    for needed in [
        "tracker.Transaction.description -> details",
        "(and changed: now nullable)",
        "--rename tracker.Transaction.description=details",
        "--no-rename",
    ] {
        assert!(out.stderr.contains(needed), "{needed}: {}", out.stderr);
    }
    assert_eq!(migration_files(path, "tracker"), ["0001_initial.toml"]);

    let out = strata(
        path,
        &[
            "makemigrations",
            "--noinput",
            "--rename",
            "tracker.Transaction.description=details",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text =
        std::fs::read_to_string(path.join(
            "apps/tracker/migrations/0002_rename_description_transaction_details_and_more.toml",
        ))
        .unwrap();
    assert!(text.contains("kind = \"rename_column\""), "{text}");
    assert!(text.contains("kind = \"alter_column\""), "{text}");
    assert!(!text.contains("drop_column"), "{text}");
    assert_eq!(strata(path, &["migrate", "-q"]).code, 0);
    assert_eq!(strata(path, &["makemigrations", "--check"]).code, 0);
}

#[test]
fn a_field_renamed_and_changed_is_asked_on_a_terminal_with_what_changes() {
    let dir = tracker_edited(rename_and_change_description);
    let (ok, stdout) = on_terminal(dir.path(), "", "y\n");
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains(
            "Was tracker.Transaction.description renamed to details (and changed: now nullable)? [y/N]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Rename column tracker_transaction.description to details"),
        "{stdout}"
    );
    assert!(!stdout.contains("Drop column"), "{stdout}");
}

#[test]
fn a_drop_is_written_only_when_allowed() {
    let dir = tracker_edited(drop_description);
    let path = dir.path();
    let out = strata(path, &["makemigrations", "--noinput"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("drops data: column tracker_transaction.description and its values"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-destructive"), "{}", out.stderr);
    assert_eq!(migration_files(path, "tracker"), ["0001_initial.toml"]);

    // --check and --dry-run never ask, and mark the loss.
    let out = strata(path, &["makemigrations", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("! drops data: column"),
        "{}",
        out.stdout
    );
    let out = strata(path, &["makemigrations", "--dry-run", "--noinput"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(migration_files(path, "tracker"), ["0001_initial.toml"]);

    let out = strata(
        path,
        &["makemigrations", "--noinput", "--allow-destructive"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        migration_files(path, "tracker"),
        [
            "0001_initial.toml",
            "0002_remove_transaction_description.toml"
        ]
    );

    // migrate says it, in the plan and while applying; rolling back a creation too.
    let out = strata(path, &["migrate", "--plan"]);
    assert!(
        out.stdout
            .contains("! drops data: column tracker_transaction.description"),
        "{}",
        out.stdout
    );
    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "Applying tracker.0002_remove_transaction_description (drops data: column tracker_transaction.description and its values)..."
        ),
        "{}",
        out.stdout
    );
    let out = strata(path, &["migrate", "tracker", "zero", "--plan"]);
    assert!(
        out.stdout
            .contains("! unapplying it drops data: table tracker_transaction and its rows"),
        "{}",
        out.stdout
    );
    let out = strata(path, &["migrate", "tracker", "zero"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Unapplying tracker.0001_initial (drops data: table tracker_transaction"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_drop_is_confirmed_on_a_terminal() {
    let dir = tracker_edited(drop_description);
    let (ok, stdout) = on_terminal(dir.path(), "", "n\n");
    assert!(!ok, "declined: {stdout}");
    assert!(
        stdout.contains("drops data: column tracker_transaction.description and its values."),
        "{stdout}"
    );
    assert!(stdout.contains("Continue? [y/N]"), "{stdout}");
    assert_eq!(
        migration_files(dir.path(), "tracker"),
        ["0001_initial.toml"]
    );

    let (ok, stdout) = on_terminal(dir.path(), "", "y\n");
    assert!(ok, "{stdout}");
    assert_eq!(
        migration_files(dir.path(), "tracker"),
        [
            "0001_initial.toml",
            "0002_remove_transaction_description.toml"
        ]
    );
}

/// Eight `makemigrations` at once on one project: one writes the migration, the
/// others wait for it and find nothing left to do. No overwritten file, no second
/// leaf, no temporary file left behind.
#[test]
fn concurrent_makemigrations_write_one_file() {
    let dir = tracker_edited(add_note);
    let path = dir.path();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_strata"))
                .args(["makemigrations", "--noinput"])
                .current_dir(path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut wrote = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if stdout.contains("0002_transaction_note.toml") {
            wrote += 1;
        } else {
            assert_eq!(stdout, "No changes detected\n");
        }
    }
    assert_eq!(wrote, 1, "exactly one process writes the migration");
    assert_eq!(
        migration_files(path, "tracker"),
        ["0001_initial.toml", "0002_transaction_note.toml"]
    );
    let out = strata(path, &["makemigrations", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "No changes detected\n");
}

#[test]
fn an_empty_migration_file_is_named_not_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tracker(), dir.path());
    let empty = dir.path().join("apps/tracker/migrations/0002_empty.toml");
    std::fs::write(&empty, "").unwrap();
    for args in [
        &["makemigrations"][..],
        &["showmigrations"],
        &["migrate", "--plan"],
    ] {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("0002_empty.toml:1:1"), "{}", out.stderr);
        assert!(
            out.stderr.contains("migration file is empty"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("conflict"), "{}", out.stderr);
    }
    assert_eq!(std::fs::read(&empty).unwrap(), b"", "left as it was");
}

/// With strata's schemas in the project (`strata init` puts them there), a new
/// migration starts with the `#:schema` directive editors read, relative to the
/// file; without them, the file has no such line.
#[test]
fn a_project_with_schemas_gets_the_editor_directive() {
    let dir = tracker_edited(add_note);
    let path = dir.path();
    let schemas = path.join(".strata/schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(schemas.join("migration.schema.json"), "{}").unwrap();
    let out = strata(path, &["makemigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let folder = path.join("apps/tracker/migrations");
    let text = std::fs::read_to_string(folder.join("0002_transaction_note.toml")).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "#:schema ../../../.strata/schemas/migration.schema.json"
    );
    let relative = first.strip_prefix("#:schema ").unwrap();
    assert!(folder.join(relative).is_file(), "{relative}");
    assert_eq!(strata(path, &["migrate", "-q"]).code, 0);
    assert_eq!(strata(path, &["makemigrations", "--check"]).code, 0);

    std::fs::remove_dir_all(path.join(".strata")).unwrap();
    let out = strata(path, &["makemigrations", "tracker", "--empty"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(folder.join("0003_custom.toml")).unwrap();
    assert!(!text.contains("#:schema"), "{text}");
}
