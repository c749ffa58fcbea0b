//! Embedded texts are checked against the checksums compiled in, and an applied
//! migration whose text changed is refused as the CLI refuses it.

use strata::{Embedded, EmbeddedMigration, Error, Migrator};
use strata_testkit::db::{block_on, Kind, TestDb};
use strata_testkit::for_each_backend;

use crate::MIGRATIONS;

/// `MIGRATIONS` with the first file's text changed by `edit`, its checksum computed
/// for the new text (as the macro would), the other files unchanged.
fn edited(edit: impl Fn(&str) -> String, checksum_of_new_text: bool) -> Embedded {
    let mut migrations: Vec<EmbeddedMigration> = MIGRATIONS.migrations.to_vec();
    let text = edit(migrations[0].text);
    assert_ne!(text, migrations[0].text, "the edit changes the text");
    if checksum_of_new_text {
        migrations[0].checksum =
            Box::leak(strata::engine::migration::checksum(&text).into_boxed_str());
    }
    migrations[0].text = Box::leak(text.into_boxed_str());
    Embedded {
        apps: MIGRATIONS.apps,
        migrations: Box::leak(migrations.into_boxed_slice()),
    }
}

fn wider_title(text: &str) -> String {
    text.replace("varchar(100)", "varchar(200)")
}

#[test]
fn a_text_whose_checksum_is_not_the_compiled_one_is_refused() {
    let tampered = edited(wider_title, false);
    let error = Migrator::from_embedded(&tampered).unwrap_err();
    let Error::EmbeddedChecksum {
        path,
        expected,
        found,
    } = &error
    else {
        panic!("expected a checksum refusal, got {error:?}");
    };
    assert_eq!(path.to_str(), Some(MIGRATIONS.migrations[0].path));
    assert_eq!(expected, MIGRATIONS.migrations[0].checksum);
    assert_ne!(found, expected);
    assert!(error.to_string().contains("0001_initial.toml"), "{error}");
}

#[test]
fn the_compiled_checksums_are_those_of_the_texts() {
    for m in MIGRATIONS.migrations {
        assert_eq!(
            strata::engine::migration::checksum(m.text),
            m.checksum,
            "{}",
            m.path
        );
    }
    assert!(Migrator::from_embedded(&MIGRATIONS).is_ok());
}

fn tampered_applied_migration_is_refused(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    block_on(async {
        let original = Migrator::from_embedded(&MIGRATIONS).unwrap();
        let first = original.target("shop", "0001").unwrap();
        let report = original.migrate_to(&db.url, &[first]).await.unwrap();
        assert_eq!(report.steps.len(), 1);

        // A binary built from an edited 0001 (its own checksum consistent) meets the
        // database where the original 0001 is applied.
        let tampered = Migrator::from_embedded(&edited(wider_title, true)).unwrap();
        let error = tampered.run(&db.url).await.unwrap_err();
        assert!(error.is_edited_migration(), "{error:?}");
        assert!(error.to_string().contains("0001_initial.toml"), "{error}");
        let Error::Migrate { report, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(report.is_empty(), "nothing ran: {report:?}");

        // Nothing ran: 0002 is still pending, its column absent.
        let status = original.status(&db.url).await.unwrap();
        let pending: Vec<&str> = status.pending().map(|m| m.name.as_str()).collect();
        assert_eq!(pending, ["0002_product_slug"]);
        let mut driver = db.connect().await;
        let schema = driver.introspect().await.unwrap();
        driver.close().await.unwrap();
        let table = schema.table("shop_product").unwrap();
        assert!(table.column("title").is_some());
        assert!(
            table.column("slug").is_none(),
            "the refused run added no column"
        );
    });
}

for_each_backend!(tampered, tampered_applied_migration_is_refused);
