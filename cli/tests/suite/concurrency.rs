//! Eight `strata migrate` processes at once on one database: all succeed, and each
//! migration is applied exactly once.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::copy_dir;
use crate::common::db::{Kind, TestDb};
use crate::for_each_backend;

fn eight_at_once(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/evolving"),
        dir.path(),
    );
    let config = format!(
        "[project]\napps = [\"tracker\", \"auth\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    std::fs::write(dir.path().join("strata.toml"), config).unwrap();

    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_strata"))
                .arg("migrate")
                .current_dir(dir.path())
                .env_remove("DATABASE_URL")
                .env_remove("STRATA_DATABASE_URL")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied_lines = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{kind:?}: a process failed:\n{stdout}\n{stderr}"
        );
        assert!(
            !stderr.to_lowercase().contains("error"),
            "{kind:?}: {stderr}"
        );
        applied_lines += stdout.matches("... OK").count();
    }
    assert_eq!(
        applied_lines, 7,
        "{kind:?}: each migration applied by exactly one process"
    );
    let rows = db.query("SELECT app, name FROM strata_migrations");
    assert_eq!(rows.len(), 7, "{kind:?}: {rows:?}");
    let distinct: std::collections::BTreeSet<_> = rows.iter().collect();
    assert_eq!(
        distinct.len(),
        7,
        "{kind:?}: duplicated history rows {rows:?}"
    );
}

for_each_backend!(eight_processes_apply_each_migration_once, eight_at_once);
