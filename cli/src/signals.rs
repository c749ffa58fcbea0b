//! Ctrl-C and SIGTERM during `migrate`: cancel the running statement on the server,
//! let the executor take its normal failure path (rollback or checkpoint, lock
//! released), then say so and exit 130 (SIGINT) or 143 (SIGTERM).
//!
//! The signals are watched on a thread of their own, with its own small runtime:
//! the command's runtime may be busy inside a synchronous SQLite statement, which
//! only another thread can interrupt. A second signal exits at once; so does a first
//! one before the connection is made (nothing has been done yet).

use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
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

/// Where `migrate` is: a signal before connecting (or after closing) exits at once.
#[derive(Default, Clone)]
enum Connection {
    #[default]
    None,
    /// With the connection's canceller, when its driver has one.
    Open(Option<Arc<dyn Canceller>>),
}

#[derive(Default)]
struct Watch {
    interrupt: Interrupt,
    connection: Mutex<Connection>,
    /// The first signal received (`Signal::code`), 0 for none.
    received: AtomicU8,
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
        let connection = watch
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let canceller = match connection {
            Connection::Open(canceller) if first => canceller,
            _ => exit_at_once(received, first),
        };
        let _ = writeln!(
            std::io::stderr(),
            "strata: {} received: cancelling the running statement and stopping; \
             press Ctrl-C again to exit at once",
            received.name()
        );
        watch.interrupt.raise();
        // Without a canceller the running statement ends by itself; the next one is
        // not sent.
        if let Some(Err(e)) = match canceller {
            Some(c) => Some(c.cancel().await),
            None => None,
        } {
            let _ = writeln!(
                std::io::stderr(),
                "strata: could not cancel the running statement: {e}"
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
    *watch
        .connection
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Connection::Open(driver.canceller());
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
        *watch
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Connection::Open(None);
    }
}

/// The connection is gone: a signal now exits at once.
pub(crate) fn forget_connection() {
    if let Some(watch) = WATCH.get() {
        *watch
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Connection::None;
    }
}

/// The first signal received, if any.
pub(crate) fn received() -> Option<Signal> {
    Signal::from_code(WATCH.get()?.received.load(Ordering::SeqCst))
}
