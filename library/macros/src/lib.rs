//! `embed_migrations!`, re-exported by the `strata` crate: a project's migrations
//! compiled into the binary. Use it through `strata::embed_migrations!`; the
//! expansion names `::strata` types.
//!
//! At compile time the macro loads the project exactly as the CLI does (strata.toml,
//! every app's migration files), so a file that does not parse, a dependency that does
//! not exist or an operation that does not fit the schema before it is a compile error
//! naming the file (and line). Each file's text is embedded with `include_str!` of its
//! absolute path, which makes cargo rebuild the crate when the file changes, together
//! with the checksum computed here; `Migrator::from_embedded` checks both agree.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use strata_engine::graph::Graph;
use strata_engine::project::{Overrides, Project, CONFIG_FILE};

/// `strata::embed_migrations!("path/to/project")`: the project whose `strata.toml`
/// is in that folder (relative to the crate's `CARGO_MANIFEST_DIR`), as a
/// `strata::Embedded` value for a `static`.
#[proc_macro]
pub fn embed_migrations(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    expand(&base, input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The expansion for a project at `input` (a string literal) relative to `base`.
fn expand(base: &Path, input: TokenStream) -> Result<TokenStream, syn::Error> {
    let literal: syn::LitStr = syn::parse2(input).map_err(|e| {
        syn::Error::new(
            e.span(),
            "embed_migrations! takes one string: the project folder (holding strata.toml), \
             relative to CARGO_MANIFEST_DIR",
        )
    })?;
    let root = base.join(literal.value());
    let fail = |message: String| syn::Error::new(literal.span(), message);
    if !root.join(CONFIG_FILE).is_file() {
        return Err(fail(format!(
            "embed_migrations!: no {CONFIG_FILE} in {}",
            root.display()
        )));
    }
    let project = Project::load(&root, &Overrides::default())
        .map_err(|e| fail(format!("embed_migrations!: {e}")))?;
    validate(&project).map_err(|e| fail(format!("embed_migrations!: {e}")))?;
    Ok(tokens(&project, &root))
}

/// What loading does not check: the graph (dependencies, cycles, two leaves) and
/// every operation against the schema before it.
fn validate(project: &Project) -> Result<(), Box<dyn std::error::Error>> {
    let graph = Graph::from_project(project)?;
    graph.target_state(&graph.latest_targets())?;
    Ok(())
}

fn tokens(project: &Project, root: &Path) -> TokenStream {
    let config = absolute(&root.join(CONFIG_FILE));
    let apps = project.apps.iter().map(|a| a.name.as_str());
    let migrations = project.migrations().map(|m| {
        let app = &m.key.app;
        let shown = m.path.strip_prefix(root).unwrap_or(&m.path);
        let shown = shown.to_string_lossy().replace('\\', "/");
        let file = absolute(&m.path);
        let checksum = &m.checksum;
        quote! {
            ::strata::EmbeddedMigration {
                app: #app,
                path: #shown,
                text: include_str!(#file),
                checksum: #checksum,
            }
        }
    });
    quote! {
        {
            // strata.toml's apps are compiled in: a change rebuilds, as for the files.
            const _: &str = include_str!(#config);
            ::strata::Embedded {
                apps: &[#(#apps),*],
                migrations: &[#(#migrations),*],
            }
        }
    }
}

/// `include_str!` resolves a relative path against the calling file, not the crate.
fn absolute(path: &Path) -> String {
    path.canonicalize()
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("strata.toml"),
            "[project]\napps = [\"shop\"]\n",
        )
        .unwrap();
        let migrations = dir.path().join("apps/shop/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::write(migrations.join("0001_initial.toml"), INITIAL).unwrap();
        dir
    }

    const INITIAL: &str = r#"dependencies = []

[[operations]]
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [
    { name = "id", type = "bigint", auto = true },
]
"#;

    fn expand_at(dir: &Path) -> Result<String, String> {
        let input = quote!(".");
        expand(dir, input)
            .map(|t| t.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_changed_file_changes_the_checksum_compiled_in() {
        let dir = project();
        let before = expand_at(dir.path()).unwrap();
        let original = strata_engine::migration::checksum(INITIAL);
        assert!(
            before.contains(&format!("checksum : \"{original}\"")),
            "{before}"
        );
        assert!(before.contains("include_str !"), "{before}");

        let changed = INITIAL.replace("\"item\"", "\"product\"");
        let file = dir.path().join("apps/shop/migrations/0001_initial.toml");
        std::fs::write(&file, &changed).unwrap();
        let after = expand_at(dir.path()).unwrap();
        let new = strata_engine::migration::checksum(&changed);
        assert_ne!(original, new);
        assert!(after.contains(&format!("checksum : \"{new}\"")), "{after}");
        assert!(!after.contains(&original), "{after}");
    }

    #[test]
    fn a_broken_file_is_a_compile_error_naming_file_and_line() {
        let dir = project();
        let file = dir.path().join("apps/shop/migrations/0002_broken.toml");
        std::fs::write(
            &file,
            "dependencies = [\"shop.0001_initial\"]\n\n[[operations]]\nkind = \"drop_tabel\"\n",
        )
        .unwrap();
        let error = expand_at(dir.path()).unwrap_err();
        assert!(error.contains("0002_broken.toml:"), "{error}");
        assert!(error.contains(":4:") || error.contains(":3:"), "{error}");
    }

    #[test]
    fn an_operation_that_does_not_fit_is_a_compile_error() {
        let dir = project();
        let file = dir.path().join("apps/shop/migrations/0002_drop.toml");
        std::fs::write(
            &file,
            "dependencies = [\"shop.0001_initial\"]\n\n[[operations]]\nkind = \"drop_table\"\nname = \"missing\"\n",
        )
        .unwrap();
        let error = expand_at(dir.path()).unwrap_err();
        assert!(error.contains("0002_drop.toml"), "{error}");
        assert!(error.contains("missing"), "{error}");
    }

    #[test]
    fn a_folder_without_strata_toml_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = expand_at(dir.path()).unwrap_err();
        assert!(error.contains("no strata.toml in"), "{error}");
    }
}
