use std::path::PathBuf;

use super::*;
use crate::migration::Migration;

/// jobs: 0001_a <- 0002_b (two run_sql operations); audit: 0001_log needs jobs.0001_a.
fn graph() -> Graph {
    let parse = |app: &str, name: &str, text: &str| {
        let path = PathBuf::from(format!("apps/{app}/migrations/{name}.toml"));
        Migration::parse(app, &path, text).unwrap()
    };
    Graph::new(
        vec!["jobs".into(), "audit".into()],
        vec![
            parse("jobs", "0001_a", "operations = []\n"),
            parse(
                "jobs",
                "0002_b",
                "dependencies = [\"jobs.0001_a\"]\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 2\"\n",
            ),
            parse(
                "audit",
                "0001_log",
                "dependencies = [\"jobs.0001_a\"]\noperations = []\n",
            ),
        ],
    )
    .unwrap()
}

fn key(s: &str) -> MigrationKey {
    MigrationKey::parse(s).unwrap()
}

fn row(g: &Graph, k: &str, state: RowState, done: usize) -> HistoryRow {
    let key = key(k);
    let checksum = g
        .get(&key)
        .map_or_else(|| "0".repeat(64), |m| m.checksum.clone());
    HistoryRow {
        key,
        checksum,
        state,
        operations_done: done,
        statements_done: 0,
        applied_at: None,
        format: 1,
        cursor: None,
    }
}

fn rows(list: Vec<HistoryRow>) -> BTreeMap<MigrationKey, HistoryRow> {
    list.into_iter().map(|r| (r.key.clone(), r)).collect()
}

#[test]
fn a_history_that_follows_the_graph_has_no_problem() {
    let g = graph();
    let history = rows(vec![
        row(&g, "jobs.0001_a", RowState::Applied, 0),
        row(&g, "jobs.0002_b", RowState::Partial, 2),
        row(&g, "audit.0001_log", RowState::Applied, 0),
    ]);
    assert_eq!(check(&g, &history, &Damage::default()), []);
    assert!(verify("h", &g, &history, &Damage::default()).is_ok());
}

#[test]
fn a_migration_recorded_before_its_dependency_names_both() {
    let g = graph();
    let history = rows(vec![
        row(&g, "jobs.0001_a", RowState::Partial, 0),
        row(&g, "jobs.0002_b", RowState::Applied, 2),
        row(&g, "audit.0001_log", RowState::Applied, 0),
    ]);
    let problems = check(&g, &history, &Damage::default());
    assert_eq!(problems.len(), 2, "{problems:?}");
    for (problem, dependent) in problems.iter().zip(["audit.0001_log", "jobs.0002_b"]) {
        let text = problem.to_string();
        assert!(
            text.starts_with(&format!("{dependent} is recorded as applied")),
            "{text}"
        );
        assert!(
            text.contains("dependency jobs.0001_a is only partially applied"),
            "{text}"
        );
    }
    let error = verify("strata_migrations", &g, &history, &Damage::default()).unwrap_err();
    assert!(error.to_string().contains("`strata_migrations`"), "{error}");
    assert!(error.to_string().contains("(2 problems)"), "{error}");
}

#[test]
fn a_row_without_its_file_is_missing_or_renamed() {
    let g = graph();
    let mut gone = row(&g, "jobs.0003_gone", RowState::Applied, 0);
    let history = rows(vec![
        row(&g, "jobs.0001_a", RowState::Applied, 0),
        gone.clone(),
    ]);
    let problems = check(&g, &history, &Damage::default());
    assert_eq!(problems.len(), 1, "{problems:?}");
    let text = problems[0].to_string();
    assert!(
        text.contains("jobs.0003_gone has no file any more (apps/jobs/migrations/0003_gone.toml)"),
        "{text}"
    );
    assert!(text.contains("delete its row"), "{text}");

    // Same content as a file of the app that has no row: a rename.
    gone.checksum
        .clone_from(&g.get(&key("jobs.0002_b")).unwrap().checksum);
    let history = rows(vec![row(&g, "jobs.0001_a", RowState::Applied, 0), gone]);
    let problems = check(&g, &history, &Damage::default());
    assert!(
        matches!(&problems[..], [Problem::MissingFile { renamed_to: Some(new), .. }] if new == "0002_b"),
        "{problems:?}"
    );
}

#[test]
fn rows_of_another_app_are_noted_but_do_not_block() {
    let g = graph();
    let history = rows(vec![
        row(&g, "billing.0001_initial", RowState::Applied, 0),
        row(&g, "billing.0002_more", RowState::Applied, 0),
    ]);
    let problems = check(&g, &history, &Damage::default());
    assert_eq!(
        problems,
        [Problem::OtherApp {
            app: "billing".into(),
            rows: 2
        }]
    );
    assert!(verify("h", &g, &history, &Damage::default()).is_ok());

    // An app name no project can have is a corrupt row, and blocks.
    let mut odd = row(&g, "billing.0001_initial", RowState::Applied, 0);
    odd.key = MigrationKey::new("../x", "0001_initial");
    let history = rows(vec![odd]);
    let error = verify("h", &g, &history, &Damage::default()).unwrap_err();
    assert!(
        error.to_string().contains("column `app` holds '../x'"),
        "{error}"
    );
}

#[test]
fn a_checkpoint_past_the_end_of_the_file_blocks() {
    let g = graph();
    let history = rows(vec![
        row(&g, "jobs.0001_a", RowState::Applied, 0),
        row(&g, "jobs.0002_b", RowState::Partial, 3),
    ]);
    let problems = check(&g, &history, &Damage::default());
    assert_eq!(
        problems,
        [Problem::BeyondEnd {
            key: key("jobs.0002_b"),
            done: 3,
            total: 2
        }]
    );
}

#[test]
fn unreadable_rows_and_duplicates_are_reported_once_each() {
    let g = graph();
    let mut bad = Vec::new();
    assert_eq!(number(Some("-1"), "operations_done", &mut bad), None);
    assert_eq!(checksum(None, &mut bad), None);
    assert_eq!(format(Some("0"), &mut bad), None);
    let long = "x".repeat(500);
    assert_eq!(text(Some(" ".into()), "name", &mut bad), None);
    assert_eq!(checksum(Some(&long), &mut bad), None);
    let damage = Damage {
        duplicates: [(key("jobs.0001_a"), 3)].into_iter().collect(),
        corrupt: vec![CorruptRow {
            app: Some("jobs".into()),
            name: Some("0001_a".into()),
            columns: bad,
        }],
    };
    // jobs.0002_b's dependency has an unreadable row: reported as unreadable only.
    let history = rows(vec![row(&g, "jobs.0002_b", RowState::Applied, 2)]);
    let problems = check(&g, &history, &damage);
    assert_eq!(problems.len(), 2, "{problems:?}");
    let text = problems[0].to_string();
    for part in [
        "the row of jobs.0001_a is unreadable",
        "column `operations_done` holds '-1'",
        "column `checksum` holds NULL",
        "column `format` holds '0'",
        "column `name` holds ' '",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert!(text.len() < 600, "a long value is cut: {text}");
    assert_eq!(
        problems[1].to_string(),
        "jobs.0001_a has 3 rows, where there must be one; delete all but one of them"
    );
}

#[test]
fn checksums_are_accepted_padded_and_refused_otherwise() {
    let sum = "ab".repeat(32);
    let mut bad = Vec::new();
    assert_eq!(
        checksum(Some(&format!("{sum}   ")), &mut bad),
        Some(sum.clone())
    );
    assert!(bad.is_empty());
    assert_eq!(checksum(Some(&sum.to_uppercase()), &mut bad), None);
    assert_eq!(checksum(Some(&sum[1..]), &mut bad), None);
    assert_eq!(bad.len(), 2);
}
