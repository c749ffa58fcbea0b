//! `STRATA_ENGINE_BUILD`: a fingerprint of the engine's source, the stamp of the parse
//! cache (`src/cache`). A cache written by another build of the engine — whose parser
//! or types may differ while the version number does not — is then never read.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    let mut hasher = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    for file in &files {
        file.strip_prefix(&root).unwrap_or(file).hash(&mut hasher);
        std::fs::read(file).unwrap_or_default().hash(&mut hasher);
    }
    // The parsers the engine uses (toml, sqlparser…) are pinned by the lock file.
    let lock = root.join("../Cargo.lock");
    if let Ok(text) = std::fs::read(&lock) {
        text.hash(&mut hasher);
        println!("cargo:rerun-if-changed={}", lock.display());
    }
    println!("cargo:rerun-if-changed=src");
    println!(
        "cargo:rustc-env=STRATA_ENGINE_BUILD={:016x}",
        hasher.finish()
    );
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
