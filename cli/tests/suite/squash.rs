//! `strata squashmigrations` on a generated history of 32 migrations (creates,
//! added, dropped and renamed columns, renamed tables, indexes created and dropped,
//! foreign keys, constraints, a `run_sql` barrier) with a second app that depends on a
//! migration in the middle, on every backend: the squash alone builds exactly the
//! schema of the originals (introspected), and a database that applied all, some or
//! none of the replaced migrations migrates correctly and back to zero.

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{project, run, strata};
use strata_engine::SchemaState;
use strata_testkit::for_each_backend;

const SQUASH: &str = "0001_squashed_0032_drop_purchase_product_fk";
const SQUASH_FILE: &str = "apps/shop/migrations/0001_squashed_0032_drop_purchase_product_fk.toml";

/// The operations of each `shop` migration, by name, in order.
fn shop_history() -> Vec<(&'static str, String)> {
    let column = |name: &str, ty: &str, extra: &str| {
        format!("{{ name = \"{name}\", type = \"{ty}\"{extra} }}")
    };
    let add = |table: &str, col: String| {
        format!("kind = \"add_column\"\ntable = \"{table}\"\ncolumn = {col}")
    };
    let id = column("id", "int", ", auto = true");
    vec![
        ("create_customer", format!("kind = \"create_table\"\nname = \"shop_customer\"\ncolumns = [{id}, {}]\nprimary_key = [\"id\"]", column("name", "varchar(50)", ""))),
        ("create_order", format!("kind = \"create_table\"\nname = \"shop_order\"\ncolumns = [{id}, {}, {}]\nprimary_key = [\"id\"]\nforeign_keys = [{{ name = \"order_customer_fk\", columns = [\"customer_id\"], references = \"shop_customer\", referenced_columns = [\"id\"] }}]\nindexes = [{{ name = \"order_customer_idx\", columns = [\"customer_id\"] }}]", column("customer_id", "int", ""), column("total", "int", ", default = 0"))),
        ("customer_email", add("shop_customer", column("email", "varchar(100)", ", null = true"))),
        ("customer_email_idx", "kind = \"create_index\"\ntable = \"shop_customer\"\nindex = { name = \"customer_email_idx\", columns = [\"email\"] }".into()),
        ("order_note", add("shop_order", column("note", "text", ", null = true"))),
        ("rename_note", "kind = \"rename_column\"\ntable = \"shop_order\"\nfrom = \"note\"\nto = \"remark\"".into()),
        ("drop_email_idx", "kind = \"drop_index\"\ntable = \"shop_customer\"\nname = \"customer_email_idx\"".into()),
        ("touch_names", "kind = \"run_sql\"\nsql = \"UPDATE shop_customer SET name = name WHERE 1 = 0\"\nreverse_sql = \"UPDATE shop_customer SET name = name WHERE 1 = 0\"".into()),
        ("create_tmp", format!("kind = \"create_table\"\nname = \"shop_tmp\"\ncolumns = [{id}, {}]\nprimary_key = [\"id\"]", column("x", "int", ""))),
        ("tmp_y", add("shop_tmp", column("y", "int", ", null = true"))),
        ("drop_tmp", "kind = \"drop_table\"\nname = \"shop_tmp\"".into()),
        ("rename_order", "kind = \"rename_table\"\nfrom = \"shop_order\"\nto = \"shop_purchase\"".into()),
        ("customer_phone", add("shop_customer", column("phone", "varchar(20)", ", null = true"))),
        ("drop_phone", "kind = \"drop_column\"\ntable = \"shop_customer\"\ncolumn = \"phone\"".into()),
        ("create_product", format!("kind = \"create_table\"\nname = \"shop_product\"\ncolumns = [{id}, {}]\nprimary_key = [\"id\"]", column("title", "varchar(80)", ""))),
        ("purchase_product", add("shop_purchase", column("product_id", "int", ", null = true"))),
        ("purchase_product_idx", "kind = \"create_index\"\ntable = \"shop_purchase\"\nindex = { name = \"purchase_product_idx\", columns = [\"product_id\"] }".into()),
        ("purchase_product_fk", "kind = \"add_foreign_key\"\ntable = \"shop_purchase\"\nforeign_key = { name = \"purchase_product_fk\", columns = [\"product_id\"], references = \"shop_product\", referenced_columns = [\"id\"], on_delete = \"set null\" }".into()),
        ("rename_title", "kind = \"rename_column\"\ntable = \"shop_product\"\nfrom = \"title\"\nto = \"name\"".into()),
        ("rename_name", "kind = \"rename_column\"\ntable = \"shop_product\"\nfrom = \"name\"\nto = \"label\"".into()),
        ("label_null", "kind = \"alter_column\"\ntable = \"shop_product\"\ncolumn = \"label\"\nnull = true".into()),
        ("product_price", add("shop_product", column("price", "int", ", default = 0"))),
        ("price_default", "kind = \"alter_column\"\ntable = \"shop_product\"\ncolumn = \"price\"\ndefault = 5".into()),
        ("label_unique", "kind = \"add_constraint\"\ntable = \"shop_product\"\nconstraint = { type = \"unique\", name = \"product_label_uniq\", columns = [\"label\"] }".into()),
        ("drop_label_unique", "kind = \"drop_constraint\"\ntable = \"shop_product\"\nname = \"product_label_uniq\"".into()),
        ("total_check", "kind = \"add_constraint\"\ntable = \"shop_purchase\"\nconstraint = { type = \"check\", name = \"purchase_total_pos\", expr = \"total >= 0\" }".into()),
        ("create_tag", format!("kind = \"create_table\"\nname = \"shop_tag\"\ncolumns = [{id}, {}]\nprimary_key = [\"id\"]", column("label", "varchar(30)", ""))),
        ("rename_tag", "kind = \"rename_table\"\nfrom = \"shop_tag\"\nto = \"shop_label\"".into()),
        ("rename_label", "kind = \"rename_table\"\nfrom = \"shop_label\"\nto = \"shop_marker\"".into()),
        ("marker_idx", "kind = \"create_index\"\ntable = \"shop_marker\"\nindex = { name = \"marker_label_idx\", columns = [\"label\"] }".into()),
        ("rename_marker_idx", "kind = \"rename_index\"\ntable = \"shop_marker\"\nfrom = \"marker_label_idx\"\nto = \"marker_label_index\"".into()),
        ("drop_purchase_product_fk", "kind = \"drop_foreign_key\"\ntable = \"shop_purchase\"\nname = \"purchase_product_fk\"".into()),
    ]
}

/// The `extra` app: its first migration needs `shop.0015_create_product`, in the middle
/// of the squashed range.
fn extra_history() -> Vec<(String, String)> {
    vec![
        (
            "apps/extra/migrations/0001_note.toml".into(),
            "dependencies = [\"shop.0015_create_product\"]\n\n[[operations]]\nkind = \"create_table\"\nname = \"extra_note\"\ncolumns = [{ name = \"id\", type = \"int\", auto = true }, { name = \"product_id\", type = \"int\" }]\nprimary_key = [\"id\"]\nforeign_keys = [{ name = \"note_product_fk\", columns = [\"product_id\"], references = \"shop_product\", referenced_columns = [\"id\"] }]\nindexes = [{ name = \"note_product_idx\", columns = [\"product_id\"] }]\n".into(),
        ),
        (
            "apps/extra/migrations/0002_text.toml".into(),
            "dependencies = [\"extra.0001_note\"]\n\n[[operations]]\nkind = \"add_column\"\ntable = \"extra_note\"\ncolumn = { name = \"body\", type = \"text\", null = true }\n".into(),
        ),
    ]
}

/// The project's files: `strata.toml` for `url`, both apps' models (empty) and their
/// migrations.
fn files(url: &str) -> Vec<(String, String)> {
    let mut files = vec![
        (
            "strata.toml".to_string(),
            format!("[project]\napps = [\"shop\", \"extra\"]\n\n[database]\nurl = {url:?}\n"),
        ),
        ("apps/shop/models.toml".into(), String::new()),
        ("apps/extra/models.toml".into(), String::new()),
    ];
    let mut previous: Option<String> = None;
    for (i, (name, operation)) in shop_history().into_iter().enumerate() {
        let full = format!("{:04}_{name}", i + 1);
        let dependencies = previous
            .map(|p| format!("\"shop.{p}\""))
            .unwrap_or_default();
        files.push((
            format!("apps/shop/migrations/{full}.toml"),
            format!("dependencies = [{dependencies}]\n\n[[operations]]\n{operation}\n"),
        ));
        previous = Some(full);
    }
    files.extend(extra_history());
    files
}

fn write_project(url: &str) -> tempfile::TempDir {
    let files = files(url);
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    project(&borrowed)
}

/// The live schema without the history table, in canonical order.
fn live_schema(db: &TestDb) -> SchemaState {
    block_on(async {
        let mut driver = db.connect().await;
        let mut live = driver.introspect().await.unwrap();
        driver.close().await.unwrap();
        live.tables.remove("strata_migrations");
        live.canonical()
    })
}

/// The history rows of `app`, by name.
fn rows(db: &TestDb, app: &str) -> Vec<String> {
    let mut names: Vec<String> = db
        .query(&format!(
            "SELECT name FROM strata_migrations WHERE app = '{app}'"
        ))
        .into_iter()
        .map(|row| row[0].clone().unwrap_or_default())
        .collect();
    names.sort();
    names
}

fn squash_and_compare(kind: Kind) {
    let (Some(originals_db), Some(squash_db)) = (TestDb::create(kind), TestDb::create(kind)) else {
        return;
    };
    // The schema of the originals.
    let originals = write_project(&originals_db.url);
    run(originals.path(), &["migrate"]);
    let expected = live_schema(&originals_db);
    assert!(expected.tables.contains_key("extra_note"), "{expected:?}");

    // The squash, written once; a second time it is refused.
    let squashed = write_project(&squash_db.url);
    let dir = squashed.path();
    let json = assert_shape(
        "squashmigrations",
        &run(
            dir,
            &["squashmigrations", "shop", "0032", "--format", "json"],
        ),
    );
    assert_eq!(json["name"], SQUASH);
    assert_eq!(json["replaces"].as_array().unwrap().len(), 32);
    let (before, after) = (
        json["operations_before"].as_u64().unwrap(),
        json["operations_after"].as_u64().unwrap(),
    );
    assert_eq!(before, 32);
    assert!(after < before / 2, "{json}");
    assert_eq!(json["kept_in_place"], 1, "the run_sql stays");
    let text = std::fs::read_to_string(dir.join(SQUASH_FILE)).unwrap();
    assert!(
        text.contains("replaces = [\"shop.0001_create_customer\""),
        "{text}"
    );
    let again = strata(dir, &["squashmigrations", "shop", "0032"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    // Its originals are hidden behind it now: naming one says what stands for it.
    assert!(
        again
            .stderr
            .contains(&format!("is already replaced by shop.{SQUASH}")),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(SQUASH_FILE)).unwrap(),
        text
    );

    // The next migration is numbered after the replaced ones, not after the squash's
    // own 0001.
    let next = run(dir, &["makemigrations", "--empty", "shop", "--dry-run"]);
    assert!(next.contains("apps/shop/migrations/0033_"), "{next}");

    // A replaced migration's SQL, as it runs where the originals are in use.
    let sql = run(
        dir,
        &["sqlmigrate", "shop", "0002", "--dialect", "postgres"],
    );
    assert!(
        sql.contains("shop.0002_create_order") && sql.contains("CREATE TABLE"),
        "{sql}"
    );

    // None applied: the squash runs alone, then the other app.
    let out = run(dir, &["migrate"]);
    assert!(out.contains(&format!("Applying shop.{SQUASH}")), "{out}");
    assert!(!out.contains("Applying shop.0002"), "{out}");
    assert_eq!(live_schema(&squash_db), expected);
    // Here the squash is in use: a migration it replaces is no target.
    let replaced = strata(dir, &["migrate", "shop", "0005"]);
    assert_eq!(replaced.code, 2, "{}{}", replaced.stdout, replaced.stderr);
    assert!(
        replaced.stderr.contains("is not in use") && replaced.stderr.contains(SQUASH),
        "{}",
        replaced.stderr
    );
    assert_eq!(rows(&squash_db, "shop"), [SQUASH]);
    let shown = run(dir, &["showmigrations", "shop"]);
    assert!(
        shown.contains(&format!("[X] {SQUASH}")) && shown.contains("replaces"),
        "{shown}"
    );
    assert!(!shown.contains("0002_create_order"), "{shown}");
    let listed = assert_shape(
        "showmigrations",
        &run(dir, &["showmigrations", "shop", "--format", "json"]),
    );
    assert_eq!(listed[0]["name"], SQUASH);
    assert_eq!(listed[0]["replaces"].as_array().unwrap().len(), 32);
    // ...and back to zero, the other app first.
    run(dir, &["migrate", "shop", "zero"]);
    assert!(live_schema(&squash_db).tables.is_empty());
    assert!(rows(&squash_db, "shop").is_empty() && rows(&squash_db, "extra").is_empty());

    part_way_then_originals_deleted(kind, &text, &expected);

    // All applied, by the originals alone, before the squash existed.
    run(dir, &["migrate", "extra", "zero"]);
    std::fs::remove_file(dir.join(SQUASH_FILE)).unwrap();
    run(dir, &["migrate"]);
    std::fs::write(dir.join(SQUASH_FILE), &text).unwrap();
    let out = run(dir, &["migrate"]);
    assert!(out.contains("No migrations to apply"), "{out}");
    let shown = run(dir, &["showmigrations", "shop"]);
    assert!(shown.contains(&format!("[X] {SQUASH}")), "{shown}");
    assert_eq!(live_schema(&squash_db), expected);
    run(dir, &["migrate", "shop", "zero"]);
    assert!(live_schema(&squash_db).tables.is_empty());
    assert!(rows(&squash_db, "shop").is_empty());
}

/// A database part-way through the replaced migrations (applied without the squash):
/// the originals carry on; then, every original applied, they are deleted.
fn part_way_then_originals_deleted(kind: Kind, text: &str, expected: &SchemaState) {
    // Some applied: the originals carry on, the other app waits for its dependency.
    let Some(mixed_db) = TestDb::create(kind) else {
        return;
    };
    {
        let mixed_project = write_project(&mixed_db.url);
        let mixed = mixed_project.path();
        run(mixed, &["migrate", "shop", "0010"]);
        std::fs::write(mixed.join(SQUASH_FILE), text).unwrap();
        // On this database the originals are in use: one of them is a target.
        let out = run(mixed, &["migrate", "shop", "0011"]);
        assert!(out.contains("Applying shop.0011_drop_tmp"), "{out}");
        assert!(!out.contains("Applying shop.0012"), "{out}");
        let out = run(mixed, &["migrate"]);
        assert!(!out.contains("Applying shop.0011"), "{out}");
        assert!(!out.contains(&format!("Applying shop.{SQUASH}")), "{out}");
        let product = out.find("Applying shop.0015").unwrap();
        assert!(
            out.find("Applying extra.0001_note").unwrap() > product,
            "{out}"
        );
        assert_eq!(&live_schema(&mixed_db), expected);
        // Every original applied now: the squash counts as applied, with its row.
        assert!(rows(&mixed_db, "shop").contains(&SQUASH.to_string()));
        let shown = run(mixed, &["showmigrations", "shop"]);
        assert!(shown.contains(&format!("[X] {SQUASH}")), "{shown}");
        assert!(run(mixed, &["migrate"]).contains("No migrations to apply"));
        // All applied, then the originals deleted: still nothing to do.
        for (i, (name, _)) in shop_history().into_iter().enumerate() {
            std::fs::remove_file(
                mixed.join(format!("apps/shop/migrations/{:04}_{name}.toml", i + 1)),
            )
            .unwrap();
        }
        assert!(run(mixed, &["migrate"]).contains("No migrations to apply"));
        assert!(run(mixed, &["showmigrations"]).contains(&format!("[X] {SQUASH}")));
        let next = run(mixed, &["makemigrations", "--empty", "shop", "--dry-run"]);
        assert!(next.contains("apps/shop/migrations/0033_"), "{next}");
        // Round trip: zero through the squash, which takes the originals' rows along.
        run(mixed, &["migrate", "shop", "zero"]);
        assert!(live_schema(&mixed_db).tables.is_empty());
        assert!(
            rows(&mixed_db, "shop").is_empty(),
            "{:?}",
            rows(&mixed_db, "shop")
        );
        run(mixed, &["migrate"]);
        assert_eq!(&live_schema(&mixed_db), expected);
        assert_eq!(rows(&mixed_db, "shop"), [SQUASH]);
    }
}

for_each_backend!(squashed_history, squash_and_compare);

#[test]
fn impossible_squashes_are_refused_with_a_reason() {
    let dir = write_project("sqlite://db.sqlite3");
    let dir = dir.path();
    let refused = |args: &[&str], reason: &str| {
        let out = strata(dir, args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(reason), "{args:?}: {}", out.stderr);
    };
    refused(&["squashmigrations", "shop", "0010", "0004"], "comes after");
    refused(
        &["squashmigrations", "shop", "0099"],
        "0032_drop_purchase_product_fk",
    );
    refused(
        &["squashmigrations", "shop", "0004", "0004"],
        "nothing to squash",
    );
    refused(&["squashmigrations", "nope", "0004"], "unknown app `nope`");
    // A dependency from outside the range that needs a migration inside it.
    std::fs::write(
        dir.join("apps/shop/migrations/0020_rename_name.toml"),
        "dependencies = [\"shop.0019_rename_title\", \"extra.0001_note\"]\n\n[[operations]]\nkind = \"rename_column\"\ntable = \"shop_product\"\nfrom = \"name\"\nto = \"label\"\n",
    )
    .unwrap();
    refused(&["squashmigrations", "shop", "0025"], "extra.0001_note");
    assert!(!dir
        .join("apps/shop/migrations")
        .read_dir()
        .unwrap()
        .any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .contains("squashed")
        }));
    // A range before the entangled migration is fine.
    let ok = strata(dir, &["squashmigrations", "shop", "0005", "--dry-run"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("Would write"), "{}", ok.stdout);
    // --quiet: only errors, as every command.
    let quiet = strata(dir, &["squashmigrations", "shop", "0005", "-q"]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stdout, "");
    assert!(dir
        .join("apps/shop/migrations")
        .read_dir()
        .unwrap()
        .any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("0001_squashed_0005")));
}
