//! README.md's paragraphs about operations, against the code: the list a user reads
//! and the checklist a contributor follows.

use std::path::PathBuf;

use strata_engine::Operation;

fn workspace() -> PathBuf {
    strata_testkit::testdata_dir()
        .parent()
        .expect("testdata is in the workspace")
        .to_path_buf()
}

/// The README paragraph that starts with `opening`, up to the next blank line.
fn paragraph(opening: &str) -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let lines: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with(opening))
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(
        !lines.is_empty(),
        "README.md has no paragraph starting `{opening}`"
    );
    lines.join("\n")
}

fn code_spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

#[test]
fn readme_lists_every_operation() {
    let text = paragraph("Operations:");
    let named: Vec<&str> = code_spans(&text).collect();
    let missing: Vec<_> = Operation::KINDS
        .iter()
        .filter(|kind| !named.contains(kind))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md, \"Migration files\": the \"Operations:\" paragraph does not name {missing:?}"
    );
}

/// Every path the checklist names exists (a `*` segment: for some folder).
#[test]
fn readme_checklist_names_files_that_exist() {
    let text = paragraph("Adding an operation touches:");
    let root = workspace();
    let exists = |path: &str| match path.split_once("/*/") {
        None => root.join(path).exists(),
        Some((parent, rest)) => std::fs::read_dir(root.join(parent))
            .unwrap()
            .any(|entry| entry.unwrap().path().join(rest).exists()),
    };
    let paths: Vec<&str> = code_spans(&text)
        .filter(|span| span.contains('/') && !span.contains(' '))
        .collect();
    assert!(paths.len() > 10, "{paths:?}");
    let gone: Vec<_> = paths.iter().filter(|p| !exists(p)).collect();
    assert!(
        gone.is_empty(),
        "README.md, \"Architecture\": \"Adding an operation touches\" names {gone:?}, \
         which do not exist"
    );
}
