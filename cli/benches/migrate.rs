//! `cargo bench -p strata-cli --bench migrate`: strata against the raw-SQL limit.
//!
//! Generates 1000 migrations (about 5,000 operations over 100 tables), then on each
//! backend measures `migrate` from empty and back to zero through the executor, and
//! the identical statements with the same transaction boundaries run directly
//! through the same driver. Also times loading and planning the 1000 migrations.
//! Server URLs: STRATA_TEST_POSTGRES_URL / STRATA_TEST_MYSQL_URL (skipped if unset).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use strata_engine::dialect::driver::Driver;
use strata_engine::executor::{self, Options, Quiet};
use strata_engine::graph::{Graph, Target};
use strata_engine::makemigrations::Request;
use strata_engine::project::{Overrides, Project};
use strata_engine::script::{self, Direction, Script};

#[path = "support/generate.rs"]
mod generate;
mod support;
use generate::{generate, write_models, TABLES};
use support::{connect, env_url, fresh_database};

const MIGRATIONS: usize = 1000;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let operations = generate(dir.path(), MIGRATIONS);
    println!("generated {MIGRATIONS} migrations, {operations} operations over {TABLES} tables");

    let (load, plan) = time_planning(dir.path());
    println!("load 1000 migration files: {:>8.1} ms", ms(load));
    println!("graph + plan:              {:>8.1} ms", ms(plan));
    println!(
        "makemigrations --check:    {:>8.1} ms (load, graph, models, diff)",
        ms(time_makemigrations_check(dir.path()))
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backends = [
        (
            "sqlite",
            Some(format!(
                "sqlite://{}",
                dir.path().join("bench.sqlite3").display()
            )),
        ),
        ("postgres", env_url("STRATA_TEST_POSTGRES_URL")),
        ("mariadb/mysql", env_url("STRATA_TEST_MYSQL_URL")),
    ];
    println!("\n| backend | strata migrate + zero | raw SQL | ratio |\n|---|---|---|---|");
    for (name, url) in backends {
        let Some(url) = url else {
            println!("| {name} | skipped (no URL) | | |");
            continue;
        };
        let (strata, raw) = runtime.block_on(measure(dir.path(), &url));
        println!(
            "| {name} | {:.2} s | {:.2} s | {:.3}x |",
            strata.as_secs_f64(),
            raw.as_secs_f64(),
            strata.as_secs_f64() / raw.as_secs_f64()
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time_planning(root: &Path) -> (Duration, Duration) {
    let started = Instant::now();
    let project = Project::load(root, &Overrides::default()).unwrap();
    let load = started.elapsed();
    let started = Instant::now();
    let graph = Graph::from_project(&project).unwrap();
    let plan = graph.plan(&graph.latest_targets(), &BTreeSet::new());
    assert_eq!(plan.len(), MIGRATIONS);
    (load, started.elapsed())
}

/// What `makemigrations --check` does, on models that match the 1000 migrations.
fn time_makemigrations_check(root: &Path) -> Duration {
    write_models(root);

    let started = Instant::now();
    let project = Project::load(root, &Overrides::default()).unwrap();
    let graph = Graph::from_project(&project).unwrap();
    let models = strata_engine::models::load(&project).unwrap();
    let plan = strata_engine::makemigrations::plan(&project, &graph, &models, &Request::default())
        .unwrap();
    let elapsed = started.elapsed();
    assert!(plan.is_empty(), "the models match the migrations");
    std::fs::remove_file(root.join("apps/bench/models.toml")).unwrap();
    elapsed
}

async fn measure(root: &Path, url: &str) -> (Duration, Duration) {
    let project = Project::load(root, &Overrides::default()).unwrap();
    let graph = Graph::from_project(&project).unwrap();
    let options = Options::new("strata_migrations", Duration::from_secs(60));

    // strata: migrate from empty, then back to zero.
    let (db_url, cleanup) = fresh_database(url).await;
    let mut driver = connect(&db_url).await;
    let started = Instant::now();
    executor::migrate(
        &graph,
        driver.as_mut(),
        &graph.latest_targets(),
        &options,
        &mut Quiet,
    )
    .await
    .unwrap();
    executor::migrate(
        &graph,
        driver.as_mut(),
        &[Target::Zero("bench".into())],
        &options,
        &mut Quiet,
    )
    .await
    .unwrap();
    let strata = started.elapsed();
    driver.close().await.unwrap();
    drop_database(cleanup).await;

    // The limit: the same statements and transaction boundaries, rendered beforehand.
    let (db_url, cleanup) = fresh_database(url).await;
    let mut driver = connect(&db_url).await;
    let scripts = render_all(&graph, driver.as_ref());
    let started = Instant::now();
    for script in &scripts {
        script.execute(driver.as_mut()).await.unwrap();
    }
    let raw = started.elapsed();
    driver.close().await.unwrap();
    drop_database(cleanup).await;
    (strata, raw)
}

async fn drop_database(cleanup: Option<(String, String)>) {
    if let Some((admin, sql)) = cleanup {
        let mut d = connect(&admin).await;
        d.execute(&sql).await.unwrap();
        d.close().await.unwrap();
    }
}

fn render_all(graph: &Graph, driver: &dyn Driver) -> Vec<Script> {
    let dialect = driver.dialect();
    let version = driver.version();
    let mut states = vec![strata_engine::SchemaState::new()];
    let mut forward = Vec::new();
    for m in graph.ordered() {
        let before = states.last().unwrap().clone();
        let (s, after) = script::render(
            dialect.as_ref(),
            version,
            &before,
            &m.operations,
            m.atomic,
            Direction::Forward,
        )
        .unwrap();
        forward.push(s);
        states.push(after);
    }
    let mut backward = Vec::new();
    for (i, m) in graph
        .ordered()
        .enumerate()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let (s, _) = script::render(
            dialect.as_ref(),
            version,
            &states[i],
            &m.operations,
            m.atomic,
            Direction::Backward,
        )
        .unwrap();
        backward.push(s);
    }
    forward.into_iter().chain(backward).collect()
}
