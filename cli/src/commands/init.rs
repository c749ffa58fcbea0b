//! `strata init [DIR]`: a new project — `strata.toml` with every option commented,
//! `apps/`, a `.gitignore` for the SQLite database, and the JSON Schemas with a
//! `.taplo.toml` so that editors complete and check strata's files from the start.

use std::io::Write;
use std::path::Path;

use strata_engine::project::{
    CONFIG_FILE, MIGRATION_SCHEMA, MODELS_SCHEMA, PROJECT_SCHEMAS_DIR, SETTINGS_SCHEMA,
};

use crate::args::InitArgs;
use crate::error::{exit, CliError};

/// The configuration `init` writes: every key of every section, with its default
/// (`cli/tests/suite/scaffold.rs` holds it to the settings structs).
pub(crate) const TEMPLATE: &str = include_str!("init/strata.toml");

/// The schemas, copied into the project: a path into strata's own checkout would
/// work only there, and a URL only online.
const SCHEMAS: [(&str, &str); 3] = [
    (
        MIGRATION_SCHEMA,
        include_str!("../../../schemas/migration.schema.json"),
    ),
    (
        MODELS_SCHEMA,
        include_str!("../../../schemas/models.schema.json"),
    ),
    (
        SETTINGS_SCHEMA,
        include_str!("../../../schemas/strata.schema.json"),
    ),
];

const TAPLO: &str = include_str!("init/taplo.toml");

/// The SQLite database of the default URL and the files SQLite and strata keep next
/// to it: none belongs in version control.
const GITIGNORE: &[&str] = &[
    "/db.sqlite3",
    "/db.sqlite3-journal",
    "/db.sqlite3-wal",
    "/db.sqlite3-shm",
    "/db.sqlite3.strata-lock",
];

pub(crate) fn run(args: &InitArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let dir = &args.dir;
    let config = dir.join(CONFIG_FILE);
    // Checked before anything is written: a refused init leaves the folder as it was.
    if config.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; strata init does not overwrite it (edit it, or run `strata startapp NAME` to add an app)",
            config.display()
        )));
    }
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| {
            CliError::Usage(format!("{}: cannot write it: {e}", path.display()))
        }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    // `create_new`: another init that got here first keeps its file.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&config)
        .and_then(|mut f| f.write_all(TEMPLATE.as_bytes()))
        .map_err(failed(&config))?;
    let mut made = vec![CONFIG_FILE.to_string()];

    let apps = dir.join("apps");
    std::fs::create_dir_all(&apps).map_err(failed(&apps))?;
    made.push("apps/".into());

    let schemas = dir.join(PROJECT_SCHEMAS_DIR);
    std::fs::create_dir_all(&schemas).map_err(failed(&schemas))?;
    for (name, text) in SCHEMAS {
        let path = schemas.join(name);
        // strata's own files: a copy from an older strata is brought up to date.
        std::fs::write(&path, text).map_err(failed(&path))?;
    }
    made.push(format!("{PROJECT_SCHEMAS_DIR}/"));

    let taplo = dir.join(".taplo.toml");
    if taplo.exists() {
        // The user's editor configuration is theirs; say what to add instead.
        writeln!(
            out,
            "Kept the existing .taplo.toml; to have editors check strata's files, add:\n{TAPLO}"
        )?;
    } else {
        std::fs::write(&taplo, TAPLO).map_err(failed(&taplo))?;
        made.push(".taplo.toml".into());
    }

    let gitignore = dir.join(".gitignore");
    if add_to_gitignore(&gitignore).map_err(failed(&gitignore))? {
        made.push(".gitignore".into());
    }

    let here = dir == Path::new(".");
    let (place, cd) = if here {
        ("the current folder".to_string(), String::new())
    } else {
        (
            dir.display().to_string(),
            format!("cd {} && ", shell_word(&dir.display().to_string())),
        )
    };
    writeln!(out, "Created in {place}: {}", made.join(", "))?;
    writeln!(
        out,
        "Next: {cd}strata startapp NAME, then describe its models in apps/NAME/models.toml"
    )?;
    Ok(exit::OK)
}

/// `path` as one word a POSIX shell reads back unchanged, for a line users paste.
fn shell_word(path: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./~+,:@%".contains(c) || c == '-';
    // A leading `-` would be read as an option of `cd`.
    let path = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    };
    if !path.is_empty() && path.chars().all(plain) && !path.starts_with('~') {
        path
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

/// Appends the lines of [`GITIGNORE`] the file does not have yet (all of them to a
/// new file). `false` when it already had every one.
fn add_to_gitignore(path: &Path) -> std::io::Result<bool> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let has = |line: &str| existing.lines().any(|l| l.trim() == line);
    let missing: Vec<&str> = GITIGNORE.iter().copied().filter(|l| !has(l)).collect();
    if missing.is_empty() {
        return Ok(false);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(
        "# strata: the SQLite database of strata.toml's default url, and its side files\n",
    );
    for line in missing {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(path, text)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn the_folder_in_the_next_line_pastes_into_a_shell() {
        assert_eq!(shell_word("mysite"), "mysite");
        assert_eq!(shell_word("a/b-c.d"), "a/b-c.d");
        assert_eq!(shell_word("sp ace"), "'sp ace'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("-dash"), "./-dash");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }
}
