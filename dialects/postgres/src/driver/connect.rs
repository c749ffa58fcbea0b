//! Opening a connection: URL and TLS settings, the connect itself, and its errors.

use strata_engine::dialect::driver::{redact_url, DriverError};
use strata_tls::{Reason, Rejection};
use tokio::task::JoinHandle;
use tokio_postgres::config::{Host, SslMode as WireSslMode};
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::messages::{caused_by, describe};
use super::tls::{SslMode, TlsSettings};

/// The `application_name` of strata's sessions when the URL names none, so that
/// `pg_stat_activity` (and a waiting `strata migrate`) can tell who holds the lock.
const APPLICATION_NAME: &str = "strata";

/// A new connection: its client, the task driving its socket, and the TLS connector
/// that a cancel request (a connection of its own) must use too.
pub(super) struct Opened {
    pub client: Client,
    pub task: JoinHandle<()>,
    pub connector: MakeRustlsConnect,
}

/// Connects with the settings parsed from `url` (changed by the caller: another
/// database of the same server); `url` names the target in errors.
pub(super) async fn open_config(
    url: &str,
    mut config: Config,
    tls: TlsSettings,
) -> Result<Opened, DriverError> {
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    let connect_error = |message: String| DriverError::connect(redact_url(url), message);
    let connector = tls.connector().map_err(connect_error)?;
    let only_sockets = only_unix_sockets(&config);
    config.ssl_mode(if only_sockets {
        // As libpq, which ignores sslmode there: PostgreSQL offers no TLS on Unix-domain
        // sockets, which never leave the machine.
        WireSslMode::Disable
    } else {
        tls.wire_mode()
    });
    let mut attempt = config.connect(connector.clone()).await;
    let refused_plain = attempt.as_ref().is_err_and(|e| e.as_db_error().is_some());
    if tls.mode == SslMode::Allow && refused_plain && !only_sockets {
        // libpq's `allow`: the server refused the plain session (a `hostssl` line in
        // pg_hba.conf, say), so try once more over TLS.
        config.ssl_mode(WireSslMode::Require);
        attempt = config.connect(connector.clone()).await;
    }
    let (client, connection) = attempt.map_err(|e| {
        // A server that answered is named by the URL it refused; one that could not
        // be reached, by the hosts and ports that were tried.
        let target = if e.as_db_error().is_some() {
            redact_url(url)
        } else {
            host_ports(&config)
        };
        caused_by(
            DriverError::connect(target, connect_failure(&e, &config, &tls)),
            e,
        )
    })?;
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %describe(&e), "PostgreSQL connection closed with an error");
        }
    });
    Ok(Opened {
        client,
        task,
        connector,
    })
}

/// Why a connect failed; for a TLS failure, which host and sslmode, and what to do about
/// a rejected certificate.
fn connect_failure(error: &tokio_postgres::Error, config: &Config, tls: &TlsSettings) -> String {
    let Some(tls_error) = strata_tls::rustls_error(error) else {
        let described = describe(error);
        if cut_short(error, &described) {
            return format!(
                "the connection closed before PostgreSQL's greeting; is a PostgreSQL \
                 server listening at {}? ({described})",
                host_ports(config)
            );
        }
        return described;
    };
    let hosts = host_names(config);
    let mode = tls.mode.name();
    let Some(rejection) = Rejection::of(tls_error) else {
        return format!("TLS with {hosts} failed (sslmode={mode}): {tls_error}");
    };
    let hint = match rejection.reason {
        Reason::UnknownIssuer => {
            "name the certificate authority that signed it with sslrootcert=<PEM file>, \
             or use sslmode=require to encrypt without verifying"
        }
        Reason::WrongName => {
            "connect with a host name the certificate names, \
             or use sslmode=verify-ca to check only the certificate chain"
        }
        _ => "check the server's certificate and sslrootcert",
    };
    rejection.message(&hosts, &format!("sslmode={mode}"), hint)
}

/// Whether the connection was dropped or cut mid-handshake, as when the port belongs
/// to another service or a firewall answers for the host: tokio-postgres then says
/// only "bytes remaining on stream" or "unexpected EOF".
fn cut_short(error: &tokio_postgres::Error, described: &str) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ) {
                return true;
            }
        }
        cause = e.source();
    }
    described.contains("bytes remaining on stream")
}

/// `host:port` for each host of the URL (`/run/postgresql:5432` for a socket
/// folder), as the reason for a failed connect names them.
fn host_ports(config: &Config) -> String {
    let ports = config.get_ports();
    let shown: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            // libpq: one port for every host, or one per host; 5432 by default.
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    if shown.is_empty() {
        "the server".to_string()
    } else {
        shown.join(", ")
    }
}

fn only_unix_sockets(config: &Config) -> bool {
    let hosts = config.get_hosts();
    !hosts.is_empty() && hosts.iter().all(|host| matches!(host, Host::Unix(_)))
}

/// The URL's hosts as the message names them: `db.example`, or `a`, `b`.
fn host_names(config: &Config) -> String {
    let names: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => format!("`{name}`"),
            Host::Unix(path) => format!("`{}`", path.display()),
        })
        .collect();
    if names.is_empty() {
        "the server".to_string()
    } else {
        names.join(", ")
    }
}
