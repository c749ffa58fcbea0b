//! `Migrator`: an application's migrations, its settings and functions, and the runs.

use std::path::Path;
use std::time::Duration;

use strata_engine::code::{BoxFuture, CodeResult, Session};
use strata_engine::dialect::driver::{redact_url, Driver, SessionLimits};
use strata_engine::dialect::Registry;
use strata_engine::executor::{self, Options};
use strata_engine::graph::{Graph, Target};
use strata_engine::project::{DatabaseSettings, Overrides, Project};
use tracing::{info_span, Instrument};

use crate::report::Recorder;
use crate::{Embedded, Error, PlanStep, Report, Status};

/// An application's migrations and how to run them: the lock, checksums, checkpoints
/// and history table of the `strata` CLI, so both can work on the same database.
///
/// Build it from the migrations compiled into the binary
/// ([`from_embedded`](Self::from_embedded)) or from a project folder read at run time
/// ([`from_project`](Self::from_project)), adjust the settings with the builder
/// methods, register the functions `run_code` operations name, then [`run`](Self::run).
///
/// ```no_run
/// # async fn demo() -> Result<(), strata::Error> {
/// let migrator = strata::Migrator::from_project("deploy/strata")?
///     .history_table("app_migrations")
///     .register("fill_slugs", |mut db: strata::Session<'_>| {
///         Box::pin(async move {
///             db.execute("UPDATE post SET slug = lower(title) WHERE slug IS NULL").await?;
///             Ok(())
///         })
///     });
/// let status = migrator.status("postgres://app@db/app").await?;
/// if !status.is_up_to_date() {
///     migrator.run("postgres://app@db/app").await?;
/// }
/// # Ok(()) }
/// ```
pub struct Migrator {
    graph: Graph,
    options: Options,
    backends: Registry,
    /// Set on connections strata opens itself (see [`Migrator::statement_timeout`]).
    limits: SessionLimits,
}

impl Migrator {
    /// The migrations of the project whose `strata.toml` is in `root`, read now
    /// (the same loading and validation as the CLI), with the `[database]` settings
    /// of that file and of the environment (`STRATA_ENV`, `STRATA_*` variables), as
    /// the CLI reads them. The file's `url` is not used: each run names its URL.
    pub fn from_project(root: impl AsRef<Path>) -> Result<Self, Error> {
        let project = Project::load(root.as_ref(), &Overrides::default())?;
        let graph = Graph::from_project(&project)?;
        Ok(Self::new(graph, &project.settings.database))
    }

    /// The migrations [`embed_migrations!`](crate::embed_migrations) compiled into
    /// the binary: each text parsed, its checksum checked against the one computed
    /// at compile time, the graph validated. Settings are the defaults of
    /// `strata.toml`'s `[database]` (history table `strata_migrations`, lock timeout
    /// 60 s, safe plans); change them with the builder methods.
    pub fn from_embedded(embedded: &Embedded) -> Result<Self, Error> {
        Ok(Self::new(embedded.graph()?, &DatabaseSettings::default()))
    }

    fn new(graph: Graph, db: &DatabaseSettings) -> Self {
        let options = Options {
            safe: db.safe,
            ddl_retries: db.ddl_retries,
            ..Options::new(db.history_table.clone(), db.lock_timeout)
        };
        Self {
            graph,
            options,
            backends: crate::backends(),
            limits: db.session_limits(),
        }
    }

    // ---- settings ------------------------------------------------------------------

    /// The history table (default `strata_migrations`).
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.options.history_table = name.into();
        self
    }

    /// How long a run waits for the migration lock another process holds (default
    /// 60 s), then fails.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.options.lock_timeout = timeout;
        self
    }

    /// Records the migrations as applied (or unapplied) without running them, as
    /// `strata migrate --fake`.
    pub fn fake(mut self, fake: bool) -> Self {
        self.options.fake = fake;
        self
    }

    /// Fakes an initial migration whose tables already exist, as
    /// `strata migrate --fake-initial`.
    pub fn fake_initial(mut self, fake_initial: bool) -> Self {
        self.options.fake_initial = fake_initial;
        self
    }

    /// Accepts applied migrations whose file changed, recording the new checksum, as
    /// `strata migrate --accept-edited`. Off by default: such a run is refused.
    pub fn accept_edited(mut self, accept: bool) -> Self {
        self.options.accept_edited = accept;
        self
    }

    /// Runs safe plans for tables that already exist (default true), as
    /// `[database] safe`.
    pub fn safe(mut self, safe: bool) -> Self {
        self.options.safe = safe;
        self
    }

    /// Runs the whole plan, history rows included, in one transaction, as `strata
    /// migrate --single-transaction` (default false): all of it or nothing. A run whose
    /// plan has a step that cannot join one (a backend without transactional DDL, an
    /// `atomic = false` migration, a backfill, a statement that must run alone) is
    /// refused before anything runs.
    pub fn single_transaction(mut self, single: bool) -> Self {
        self.options.single_transaction = single;
        self
    }

    /// Retries of a step whose DDL lock wait timed out, as `[database] ddl_retries`.
    pub fn ddl_retries(mut self, retries: u32) -> Self {
        self.options.ddl_retries = retries;
        self
    }

    /// The longest any statement may run on a connection strata opens (`None`, the
    /// default: no limit). A connection handed to the `*_on` methods keeps its own
    /// session settings.
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.limits.statement_timeout = timeout;
        self
    }

    /// The longest a DDL statement waits for a table lock on a connection strata
    /// opens, before the step rolls back and retries (zero: as long as the server
    /// waits), as `[database] ddl_lock_timeout`.
    pub fn ddl_lock_timeout(mut self, timeout: Duration) -> Self {
        self.limits.ddl_lock_timeout = timeout;
        self
    }

    /// The backends URLs are opened with (default: [`crate::backends`]), e.g. with a
    /// third-party backend registered.
    pub fn backends(mut self, backends: Registry) -> Self {
        self.backends = backends;
        self
    }

    /// Registers the function a `run_code` operation names: it runs inside the
    /// migration's transaction where the database has one, with a [`Session`] on
    /// strata's connection. A later registration of the same name replaces it.
    pub fn register<F>(mut self, name: impl Into<String>, function: F) -> Self
    where
        F: for<'a> Fn(Session<'a>) -> BoxFuture<'a, CodeResult> + Send + Sync + 'static,
    {
        self.options.functions.register(name, function);
        self
    }

    // ---- targets -------------------------------------------------------------------

    /// `app` migrated to exactly `name` (its number, `0002`, or full name): forward
    /// or back, as `strata migrate APP NAME`. A migration a squash replaces is a
    /// target only on a database part-way through the replaced migrations; where the
    /// squash is in use the run refuses it, naming the squash (docs/squashing.md).
    pub fn target(&self, app: &str, name: &str) -> Result<Target, Error> {
        Ok(self.graph.target(app, Some(name))?)
    }

    /// Every migration of `app` unapplied, as `strata migrate APP zero`.
    pub fn zero(&self, app: &str) -> Result<Target, Error> {
        Ok(self.graph.target(app, Some("zero"))?)
    }

    /// The migrations, validated.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The executor's options this migrator runs with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    // ---- on a URL ------------------------------------------------------------------

    /// Applies everything pending on the database at `url` (a SQLite file is
    /// created if missing), under the migration lock, and reports what ran.
    pub async fn run(&self, url: &str) -> Result<Report, Error> {
        self.migrate_to(url, &self.graph.latest_targets()).await
    }

    /// Takes each app of `targets` where it says ([`Migrator::target`],
    /// [`Migrator::zero`], [`Target::Latest`]), applying or rolling back.
    pub async fn migrate_to(&self, url: &str, targets: &[Target]) -> Result<Report, Error> {
        let span = info_span!("strata.connection", url = %redact_url(url));
        async {
            let mut driver = self.connect(url, false).await?;
            let result = self.migrate_to_on(driver.as_mut(), targets).await;
            close(driver, result).await
        }
        .instrument(span)
        .await
    }

    /// Every migration's state on the database at `url`. Reads only: takes no lock
    /// and creates nothing (a missing SQLite file reads as empty).
    pub async fn status(&self, url: &str) -> Result<Status, Error> {
        let span = info_span!("strata.connection", url = %redact_url(url));
        async {
            let mut driver = self.connect(url, true).await?;
            let result = self.status_on(driver.as_mut()).await;
            close(driver, result).await
        }
        .instrument(span)
        .await
    }

    /// What [`migrate_to`](Self::migrate_to) would run for `targets` on the database
    /// at `url`, operation by operation, checked as a run checks it before its first
    /// statement. Runs nothing.
    pub async fn plan(&self, url: &str, targets: &[Target]) -> Result<Vec<PlanStep>, Error> {
        let span = info_span!("strata.connection", url = %redact_url(url));
        async {
            let mut driver = self.connect(url, true).await?;
            let result = self.plan_on(driver.as_mut(), targets).await;
            close(driver, result).await
        }
        .instrument(span)
        .await
    }

    // ---- on the application's connection --------------------------------------------

    /// [`run`](Self::run) on a connection the application holds (see
    /// `strata::postgres::PostgresDriver::on_client`,
    /// `strata::sqlite::SqliteDriver::from_connection`).
    pub async fn run_on(&self, driver: &mut dyn Driver) -> Result<Report, Error> {
        self.migrate_to_on(driver, &self.graph.latest_targets())
            .await
    }

    /// [`migrate_to`](Self::migrate_to) on a connection the application holds.
    pub async fn migrate_to_on(
        &self,
        driver: &mut dyn Driver,
        targets: &[Target],
    ) -> Result<Report, Error> {
        let span = info_span!("strata.migrate", targets = ?targets, fake = self.options.fake);
        let mut recorder = Recorder::default();
        let result = executor::migrate(&self.graph, driver, targets, &self.options, &mut recorder)
            .instrument(span)
            .await;
        match result {
            Ok(_) => Ok(recorder.report),
            Err(source) => Err(Error::Migrate {
                source,
                report: recorder.report,
            }),
        }
    }

    /// [`status`](Self::status) on a connection the application holds.
    pub async fn status_on(&self, driver: &mut dyn Driver) -> Result<Status, Error> {
        let span = info_span!("strata.status");
        let status = executor::status(driver, &self.options)
            .instrument(span)
            .await?;
        // As `migrate` sees it: a squash in use stands for what it replaces.
        let (graph, status) = executor::squashed::in_use(&self.graph, &status)?;
        Ok(Status::new(&graph, &status))
    }

    /// [`plan`](Self::plan) on a connection the application holds.
    pub async fn plan_on(
        &self,
        driver: &mut dyn Driver,
        targets: &[Target],
    ) -> Result<Vec<PlanStep>, Error> {
        let span = info_span!("strata.plan", targets = ?targets);
        async {
            let status = executor::status(driver, &self.options).await?;
            let steps = executor::plan(&self.graph, &status, targets, &self.options)?;
            let dialect = driver.dialect();
            let previews = executor::preview(
                &self.graph,
                &status,
                &steps,
                &self.options,
                dialect.as_ref(),
                driver.version(),
            )?;
            Ok(previews.into_iter().map(PlanStep::from).collect())
        }
        .instrument(span)
        .await
    }

    /// A connection to `url`, with the session settings of a run. `existing`: for
    /// reading, a missing SQLite file is not created.
    async fn connect(&self, url: &str, existing: bool) -> Result<Box<dyn Driver>, Error> {
        let (backend, _) = self.backends.for_url(url)?;
        let mut driver = if existing {
            backend.connect_existing(url).await?
        } else {
            backend.connect(url).await?
        };
        self.limits.apply(driver.as_mut()).await?;
        Ok(driver)
    }
}

/// Closes the connection strata opened, whatever `result` is; `result`'s error first.
async fn close<T>(driver: Box<dyn Driver>, result: Result<T, Error>) -> Result<T, Error> {
    let closed = driver.close().await;
    let value = result?;
    closed?;
    Ok(value)
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.graph.ordered().count())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
