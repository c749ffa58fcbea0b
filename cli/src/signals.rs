//! Ctrl-C and SIGTERM during `migrate`: cancel the running statement on the server,
//! let the executor take its normal failure path (rollback or checkpoint, lock
//! released), then say so and exit 130 (SIGINT) or 143 (SIGTERM).
//!
//! The signals are watched on a thread of their own, with its own small runtime:
//! the command's runtime may be busy inside a synchronous SQLite statement, which
//! only another thread can interrupt. A second signal exits at once; so does a first
//! one before the connection is made (nothing has been done yet).
//!
//! A fleet (`migrate --tenants`) runs many connections at once: each tenant's work
//! runs in a [`session`], whose connection's canceller is kept apart, so that a
//! signal cancels every running tenant's statement, not only the last one's; and
//! while the fleet runs, a first signal always stops gracefully (the summary and the
//! report say what each tenant did).

use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};

use strata_engine::dialect::driver::{Canceller, Driver};
use strata_engine::executor::{Interrupt, Interruptible};
use tokio::signal::unix::{signal, SignalKind};

use crate::error::exit;

/// The signals strata stops on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => exit::INTERRUPTED,
            Signal::Terminate => exit::TERMINATED,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT (Ctrl-C)",
            Signal::Terminate => "SIGTERM",
        }
    }

    fn code(self) -> u8 {
        match self {
            Signal::Interrupt => 1,
            Signal::Terminate => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Signal::Interrupt),
            2 => Some(Signal::Terminate),
            _ => None,
        }
    }
}

/// The open connections, each with its canceller when its driver has one. A signal
/// while none is open (before connecting, after closing) exits at once, unless a
/// fleet is running.
#[derive(Default)]
struct Connections {
    /// By session: [`SINGLE`] for `migrate`'s one connection, else a fleet tenant's.
    open: HashMap<u64, Option<Arc<dyn Canceller>>>,
    fleet: bool,
}

/// The session of a connection made outside [`session`].
const SINGLE: u64 = 0;

tokio::task_local! {
    /// The fleet tenant whose work is being polled.
    static SESSION: u64;
}

#[derive(Default)]
struct Watch {
    interrupt: Interrupt,
    connections: Mutex<Connections>,
    next_session: AtomicU64,
    /// The first signal received (`Signal::code`), 0 for none.
    received: AtomicU8,
    /// Wakes [`stopping`] on the first signal.
    stopped: tokio::sync::Notify,
}

impl Watch {
    fn connections(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

static WATCH: OnceLock<Arc<Watch>> = OnceLock::new();

/// Starts watching SIGINT and SIGTERM; returns once they are caught.
pub(crate) fn install() -> std::io::Result<()> {
    let watch = WATCH.get_or_init(Arc::default).clone();
    let (ready, registered) = mpsc::channel();
    std::thread::Builder::new()
        .name("strata-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            runtime.block_on(listen(&watch, ready));
        })?;
    registered
        .recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the signal thread ended")))
}

async fn listen(watch: &Watch, ready: mpsc::Sender<std::io::Result<()>>) {
    let streams =
        signal(SignalKind::interrupt()).and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
    let (mut int, mut term) = match streams {
        Ok(streams) => {
            let _ = ready.send(Ok(()));
            streams
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    loop {
        let received = tokio::select! {
            _ = int.recv() => Signal::Interrupt,
            _ = term.recv() => Signal::Terminate,
        };
        let first = watch
            .received
            .compare_exchange(0, received.code(), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if first {
            watch.stopped.notify_waiters();
        }
        let cancellers: Vec<Arc<dyn Canceller>> = {
            let connections = watch.connections();
            if !first || (connections.open.is_empty() && !connections.fleet) {
                exit_at_once(received, first);
            }
            connections.open.values().flatten().cloned().collect()
        };
        let _ = writeln!(
            std::io::stderr(),
            "strata: {} received: cancelling the running {} and stopping; \
             press Ctrl-C again to exit at once",
            received.name(),
            if cancellers.len() > 1 {
                "statements"
            } else {
                "statement"
            }
        );
        watch.interrupt.raise();
        // All at once: a server that is slow to take one cancel request does not
        // delay the others. Without a canceller the running statement ends by itself;
        // the next one is not sent.
        let cancelled = futures_util::future::join_all(cancellers.iter().map(|c| c.cancel())).await;
        for e in cancelled.into_iter().filter_map(Result::err) {
            let _ = writeln!(
                std::io::stderr(),
                "strata: could not cancel a running statement: {e}"
            );
        }
    }
}

fn exit_at_once(received: Signal, first: bool) -> ! {
    if first {
        let _ = writeln!(
            std::io::stderr(),
            "strata: interrupted by {} before connecting to the database: nothing was done",
            received.name()
        );
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "strata: interrupted again by {}: exiting at once. The server rolls back an \
             open transaction and releases the lock; a non-atomic migration keeps its \
             last checkpoint: run `strata migrate` to resume",
            received.name()
        );
    }
    std::process::exit(i32::from(received.exit_code()));
}

/// `driver`, stopping on a signal when [`install`] was called; `driver` itself
/// otherwise.
pub(crate) fn watch(driver: Box<dyn Driver>, history_table: &str) -> Box<dyn Driver> {
    let Some(watch) = WATCH.get() else {
        return driver;
    };
    let session = SESSION.try_with(|s| *s).unwrap_or(SINGLE);
    watch.connections().open.insert(session, driver.canceller());
    Box::new(Interruptible::new(
        driver,
        watch.interrupt.clone(),
        history_table,
    ))
}

/// Work that must be undone before exiting is under way (a rehearsal's copy being
/// made, on connections of its own): a first signal is noted, for the run to stop
/// once it can undo it, instead of exiting at once.
pub(crate) fn hold() {
    if let Some(watch) = WATCH.get() {
        watch.connections().open.insert(SINGLE, None);
    }
}

/// The connection is gone: a signal now exits at once.
pub(crate) fn forget_connection() {
    if let Some(watch) = WATCH.get() {
        watch.connections().open.remove(&SINGLE);
    }
}

/// While a fleet runs (until the guard is dropped), a first signal stops it
/// gracefully even when no tenant is connected at that moment.
pub(crate) fn fleet() -> impl Drop {
    Forget(WATCH.get().map(|watch| {
        watch.connections().fleet = true;
        (watch.clone(), None)
    }))
}

/// `work` with the connection it makes (through [`watch`]) registered apart from
/// every other's, until `work` ends or is dropped: a fleet tenant's turn.
pub(crate) async fn session<F: Future>(work: F) -> F::Output {
    let Some(watch) = WATCH.get() else {
        return work.await;
    };
    let id = watch.next_session.fetch_add(1, Ordering::SeqCst) + 1;
    let _forget = Forget(Some((watch.clone(), Some(id))));
    SESSION.scope(id, work).await
}

/// On drop: forgets a session's connection (`Some(id)`), or ends the fleet (`None`).
struct Forget(Option<(Arc<Watch>, Option<u64>)>);

impl Drop for Forget {
    fn drop(&mut self) {
        if let Some((watch, session)) = &self.0 {
            let mut connections = watch.connections();
            match session {
                Some(id) => {
                    connections.open.remove(id);
                }
                None => connections.fleet = false,
            }
        }
    }
}

/// Resolves once SIGINT or SIGTERM has been received (never without [`install`]):
/// for waits that are safe to abandon, such as a fleet tenant's connect.
pub(crate) async fn stopping() {
    let Some(watch) = WATCH.get() else {
        return std::future::pending().await;
    };
    let notified = watch.stopped.notified();
    tokio::pin!(notified);
    // Registered before the check, so that a signal in between is not missed.
    notified.as_mut().enable();
    if received().is_none() {
        notified.await;
    }
}

/// The first signal received, if any.
pub(crate) fn received() -> Option<Signal> {
    Signal::from_code(WATCH.get()?.received.load(Ordering::SeqCst))
}
