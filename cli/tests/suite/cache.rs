//! The project's cache (`.strata/cache`) through the binary: what a command reads from
//! it is what the files say now — an applied migration edited after a cached run is
//! reported as edited, a damaged cache is ignored and rewritten — and `--no-cache`
//! leaves no trace.

use crate::common::{command, project, run, strata};

const CONFIG: &str = "[project]\napps = [\"shop\"]\n\n[database]\nurl = \"sqlite://db.sqlite3\"\n";

const FIRST: &str = r#"[[operations]]
kind = "create_table"
name = "shop_item"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "title", type = "text" }]
"#;

const SECOND: &str = r#"dependencies = ["shop.0001_item"]

[[operations]]
kind = "add_column"
table = "shop_item"
column = { name = "price", type = "int", null = true }
"#;

fn shop() -> tempfile::TempDir {
    project(&[
        ("strata.toml", CONFIG),
        ("apps/shop/models.toml", ""),
        ("apps/shop/migrations/0001_item.toml", FIRST),
        ("apps/shop/migrations/0002_price.toml", SECOND),
    ])
}

#[test]
fn an_edit_after_a_cached_run_is_seen() {
    let dir = shop();
    run(dir.path(), &["migrate"]);
    let cache = dir.path().join(".strata/cache");
    assert!(cache.join("migrations-shop.json").is_file());
    assert!(std::fs::read_to_string(cache.join(".gitignore"))
        .unwrap()
        .contains('*'));
    // The same length, written within the same second: only the bytes tell.
    std::fs::write(
        dir.path().join("apps/shop/migrations/0001_item.toml"),
        FIRST.replace("title", "name_"),
    )
    .unwrap();
    let listing = run(dir.path(), &["showmigrations"]);
    assert!(listing.contains("[!] 0001_item"), "{listing}");
    let refused = strata(dir.path(), &["migrate"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("0001_item"), "{}", refused.stderr);
}

#[test]
fn a_damaged_cache_is_ignored_and_rewritten() {
    let dir = shop();
    run(dir.path(), &["migrate"]);
    let file = dir.path().join(".strata/cache/migrations-shop.json");
    let valid = std::fs::read_to_string(&file).unwrap();
    for damaged in [
        valid.replace("shop_item", "shop_iten"),
        valid[..valid.len() / 3].to_string(),
        "\u{0}\u{1}garbage".to_string(),
    ] {
        std::fs::write(&file, &damaged).unwrap();
        let listing = run(dir.path(), &["showmigrations"]);
        assert!(listing.contains("[X] 0002_price"), "{listing}");
        assert!(!listing.contains("[!]"), "{listing}");
        let sql = run(dir.path(), &["sqlmigrate", "shop", "0001"]);
        assert!(sql.contains("\"shop_item\""), "{sql}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), valid, "rewritten");
    }
}

#[test]
fn no_cache_leaves_no_trace() {
    let dir = shop();
    run(dir.path(), &["--no-cache", "migrate"]);
    run(dir.path(), &["--no-cache", "showmigrations"]);
    run(dir.path(), &["sqlmigrate", "shop", "0002", "--no-cache"]);
    assert!(!dir.path().join(".strata").exists());
}

#[test]
fn many_processes_on_a_cold_cache_agree() {
    let dir = shop();
    run(dir.path(), &["migrate"]);
    let listing = run(dir.path(), &["--no-cache", "showmigrations"]);
    for _ in 0..3 {
        std::fs::remove_dir_all(dir.path().join(".strata")).unwrap();
        let children: Vec<_> = (0..8)
            .map(|_| {
                command(dir.path(), &["showmigrations"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout), listing);
        }
        // Written whole by one of them: no file left aside, and it serves the next run.
        let left: Vec<_> = std::fs::read_dir(dir.path().join(".strata/cache"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(run(dir.path(), &["showmigrations"]), listing);
    }
}
