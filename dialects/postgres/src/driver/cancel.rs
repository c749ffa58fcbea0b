//! Cancelling the running statement: PostgreSQL's cancel request, sent on a
//! connection of its own (with the session's TLS settings), as `psql` does on Ctrl-C.

use async_trait::async_trait;
use strata_engine::dialect::driver::{Canceller, DriverError};
use tokio_postgres::{CancelToken, Client};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::messages::{caused_by, describe};

pub(super) struct PostgresCanceller {
    token: CancelToken,
    connector: MakeRustlsConnect,
}

impl PostgresCanceller {
    pub(super) fn new(client: &Client, connector: MakeRustlsConnect) -> Self {
        Self {
            token: client.cancel_token(),
            connector,
        }
    }
}

#[async_trait]
impl Canceller for PostgresCanceller {
    async fn cancel(&self) -> Result<(), DriverError> {
        self.token
            .cancel_query(self.connector.clone())
            .await
            .map_err(|e| caused_by(DriverError::connect("the server", describe(&e)), e))
    }
}
