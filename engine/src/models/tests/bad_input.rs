use std::path::Path;

use super::workspace;
use crate::migration::FileError;
use crate::models::*;

/// Every file in `testdata/bad_models` starts with `# error: LINE:COLUMN: MESSAGE`
/// and is read as app `tracker` next to the tracker's `auth` app.
#[test]
fn every_bad_models_file_is_reported_at_its_line_and_column() {
    let dir = workspace().join("testdata/bad_models");
    let auth = std::fs::read_to_string(workspace().join("testdata/tracker/apps/auth/models.toml"))
        .unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "{} cases", paths.len());
    let mut mismatches = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# error: "))
            .unwrap_or_else(|| panic!("{name}: no `# error:` header"));
        let result = parse_app("auth", Path::new("auth.toml"), &auth)
            .and_then(|a| Ok(vec![a, parse_app("tracker", &path, &text)?]))
            .and_then(|apps| resolve(&apps));
        match result {
            Err(FileError::Syntax {
                path: p,
                line,
                column,
                message,
                source_line,
            }) => {
                assert_eq!(p, path, "{name}");
                assert_eq!(source_line, text.lines().nth(line - 1).unwrap(), "{name}");
                let got = format!("{line}:{column}: {message}");
                if got != expected {
                    mismatches.push(format!("{name}\n  expected {expected}\n  got      {got}"));
                }
            }
            other => mismatches.push(format!("{name}: expected an error, got {other:?}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
