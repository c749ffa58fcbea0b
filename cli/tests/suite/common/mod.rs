//! Helpers for running the `strata` binary in tests.

pub(crate) mod db;
pub(crate) mod json_shape;
pub(crate) mod models_gen;

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `strata` with `args` in `dir`, without any inherited database settings or log
/// filter, and without colour.
pub(crate) fn command<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DATABASE_URL")
        .env_remove("STRATA_ENV")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

/// `strata migrate` in `dir`, started and not waited for (to be signalled or
/// killed), its output piped.
pub(crate) fn spawn_migrate(dir: &Path) -> std::process::Child {
    command(dir, &["migrate"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start strata")
}

/// Runs `strata` with `args` in `dir`, without any inherited database settings.
pub(crate) fn strata(dir: &Path, args: &[&str]) -> Output {
    let out = command(dir, args).output().expect("run strata");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `strata` and insists on success.
pub(crate) fn run(dir: &Path, args: &[&str]) -> String {
    let out = strata(dir, args);
    assert_eq!(
        out.code, 0,
        "strata {args:?} failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// The bundled example project.
pub(crate) fn tracker() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/tracker")
}

/// A throwaway project: `strata.toml` plus `files` (relative path, contents).
pub(crate) fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Copies the bundled example into a temp folder, with `url` as its database.
pub(crate) fn tracker_copy(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tracker(), dir.path());
    let config = std::fs::read_to_string(dir.path().join("strata.toml")).unwrap();
    let config = config.replace("url = \"sqlite://db.sqlite3\"", &format!("url = {url:?}"));
    std::fs::write(dir.path().join("strata.toml"), config).unwrap();
    let _ = std::fs::remove_file(dir.path().join("db.sqlite3"));
    dir
}

/// A copy of the example (SQLite, no database yet) with its tracker models edited by
/// `edit`.
pub(crate) fn tracker_edited(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&tracker(), dir.path());
    let _ = std::fs::remove_file(dir.path().join("db.sqlite3"));
    let models = dir.path().join("apps/tracker/models.toml");
    let text = std::fs::read_to_string(&models).unwrap();
    std::fs::write(&models, edit(&text)).unwrap();
    dir
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
