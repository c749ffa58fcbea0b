//! The certificate authorities `verify-ca` and `verify-full` trust.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// `sslrootcert`'s value that means the system's store (as in libpq 16+).
pub(super) const SYSTEM: &str = "system";

/// The roots of `root_cert` (a PEM file, or `system`); without one, libpq's default file
/// `~/.postgresql/root.crt` when it exists, else the system's store. (libpq insists on
/// that file; the system's store is the friendlier fallback for a migration tool.)
pub(super) fn load(root_cert: Option<&Path>) -> Result<RootCertStore, String> {
    match root_cert {
        Some(path) if path.as_os_str() == SYSTEM => system(),
        Some(path) => from_file(path),
        None => match default_file().filter(|path| path.is_file()) {
            Some(path) => from_file(&path),
            None => system(),
        },
    }
}

fn default_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(Path::new(&home).join(".postgresql").join("root.crt"))
}

fn from_file(path: &Path) -> Result<RootCertStore, String> {
    let shown = path.display();
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("cannot read the root certificates in `{shown}`: {e}"))?;
    let mut store = RootCertStore::empty();
    let (_, unusable) = store.add_parsable_certificates(certificates);
    if store.is_empty() {
        return Err(format!(
            "`{shown}` holds no usable PEM certificate ({unusable} could not be parsed)"
        ));
    }
    Ok(store)
}

fn system() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(found.certs);
    if store.is_empty() {
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        return Err(format!(
            "the system's certificate store is empty or unreadable{}; \
             name the server's certificate authority with sslrootcert=<PEM file>",
            if errors.is_empty() {
                String::new()
            } else {
                format!(" ({})", errors.join("; "))
            }
        ));
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let error = load(Some(Path::new("/nonexistent/root.crt"))).unwrap_err();
        assert!(error.contains("/nonexistent/root.crt"), "{error}");
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("strata-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let error = load(Some(&path)).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error.contains("no usable PEM certificate"), "{error}");
    }
}
