//! An application that carries its migrations in its binary and runs them at
//! start-up: `strata-example-embedded URL [APP TARGET]`, e.g.
//!
//! ```text
//! cargo run -p strata-example-embedded -- sqlite://example.sqlite3
//! cargo run -p strata-example-embedded -- postgres://postgres@127.0.0.1/shop shop 0001
//! ```
//!
//! It prints what ran on stderr, and the report as JSON on stdout.

use std::process::ExitCode;

use strata::{Embedded, Migrator, Session};

/// Every migration of `project/`, read, validated and checksummed at compile time.
static MIGRATIONS: Embedded = strata::embed_migrations!("project");

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, target) = match args.as_slice() {
        [url] => (url, None),
        [url, app, name] => (url, Some((app, name))),
        _ => {
            eprintln!("usage: strata-example-embedded URL [APP TARGET]");
            return ExitCode::from(2);
        }
    };
    match migrate(url, target).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(url: &str, target: Option<(&String, &String)>) -> Result<(), strata::Error> {
    let migrator = Migrator::from_embedded(&MIGRATIONS)?
        .register("fill_slugs", fill_slugs)
        .register("clear_slugs", clear_slugs);
    let report = match target {
        None => migrator.run(url).await?,
        Some((app, name)) => {
            let target = migrator.target(app, name)?;
            migrator.migrate_to(url, &[target]).await?
        }
    };
    if report.is_empty() {
        eprintln!("No migrations to apply.");
    }
    for step in &report.steps {
        eprintln!(
            "{} {}.{} ({} operations, {:?})",
            step.direction, step.app, step.name, step.operations, step.duration
        );
    }
    println!(
        "{}",
        serde_json::to_string(&report).expect("a report serializes")
    );
    Ok(())
}

/// What a `run_code` operation named `fill_slugs` runs: a slug for every product
/// that has none, computed in Rust, on strata's connection inside the migration's
/// transaction.
fn fill_slugs(mut db: Session<'_>) -> strata::BoxFuture<'_, strata::CodeResult> {
    Box::pin(async move {
        let rows = db
            .query("SELECT id, title FROM shop_product WHERE slug IS NULL")
            .await?;
        let quote = db.dialect();
        for row in rows {
            let (Some(Some(id)), Some(Some(title))) = (row.first(), row.get(1)) else {
                continue;
            };
            let slug = title.to_lowercase().replace(' ', "-");
            db.execute(&format!(
                "UPDATE shop_product SET slug = {} WHERE id = {id}",
                quote.quote_string(&slug)
            ))
            .await?;
        }
        Ok(())
    })
}

/// The reverse of `fill_slugs`, run when migration 0002 is rolled back.
fn clear_slugs(mut db: Session<'_>) -> strata::BoxFuture<'_, strata::CodeResult> {
    Box::pin(async move {
        db.execute("UPDATE shop_product SET slug = NULL").await?;
        Ok(())
    })
}
