//! The JSON Schemas a project keeps for editors: `strata init` copies them into
//! [`PROJECT_SCHEMAS_DIR`], and the files strata writes then name theirs in a
//! `#:schema` line, which Taplo (VS Code's Even Better TOML) reads with no setup.

use std::path::{Component, Path, PathBuf};

/// Where a project keeps strata's JSON Schemas, relative to the project folder.
pub const PROJECT_SCHEMAS_DIR: &str = ".strata/schemas";

/// The schema of migration files, in [`PROJECT_SCHEMAS_DIR`].
pub const MIGRATION_SCHEMA: &str = "migration.schema.json";

/// The schema of `models.toml`, in [`PROJECT_SCHEMAS_DIR`].
pub const MODELS_SCHEMA: &str = "models.schema.json";

/// The schema of `strata.toml`, in [`PROJECT_SCHEMAS_DIR`].
pub const SETTINGS_SCHEMA: &str = "strata.schema.json";

/// The `#:schema` line for a file strata writes in `dir`, a folder inside the project
/// at `root`: the relative path from `dir` to `schema` in [`PROJECT_SCHEMAS_DIR`].
/// `None` when the project has no copy of that schema (a path into strata's own
/// repository would point nowhere elsewhere, and a header naming a missing file is an
/// editor error of its own), or when `dir` is not inside `root`.
pub fn schema_directive(root: &Path, dir: &Path, schema: &str) -> Option<String> {
    if !root.join(PROJECT_SCHEMAS_DIR).join(schema).is_file() {
        return None;
    }
    // One of the two may be canonical (symlinked temp folders, the project found upward).
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let relative: PathBuf = match dir.strip_prefix(root) {
        Ok(relative) => relative.to_path_buf(),
        Err(_) => canonical(dir)
            .strip_prefix(canonical(root))
            .ok()?
            .to_path_buf(),
    };
    let mut up = String::new();
    for part in relative.components() {
        match part {
            Component::Normal(_) => up.push_str("../"),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(format!("#:schema {up}{PROJECT_SCHEMAS_DIR}/{schema}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_relative_and_only_for_a_project_with_the_schema() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("apps/shop/migrations");
        assert_eq!(schema_directive(root.path(), &dir, MIGRATION_SCHEMA), None);
        let schemas = root.path().join(PROJECT_SCHEMAS_DIR);
        std::fs::create_dir_all(&schemas).unwrap();
        std::fs::write(schemas.join(MIGRATION_SCHEMA), "{}").unwrap();
        assert_eq!(
            schema_directive(root.path(), &dir, MIGRATION_SCHEMA).as_deref(),
            Some("#:schema ../../../.strata/schemas/migration.schema.json\n")
        );
        assert_eq!(
            schema_directive(root.path(), root.path(), MIGRATION_SCHEMA).as_deref(),
            Some("#:schema .strata/schemas/migration.schema.json\n")
        );
        // Only the schema that is there.
        assert_eq!(schema_directive(root.path(), &dir, MODELS_SCHEMA), None);
        // Outside the project: no line rather than a path that climbs out.
        assert_eq!(
            schema_directive(root.path(), Path::new("/elsewhere"), MIGRATION_SCHEMA),
            None
        );
    }
}
