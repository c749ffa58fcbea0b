//! The server version, from `server_version_num` (stable and machine-readable, unlike
//! `version()` or `server_version`, which carry distribution suffixes).

use strata_engine::ServerVersion;

/// `150020` → 15.20.0 (from PostgreSQL 10 on the number is `major * 10000 + minor`);
/// `90624` → 9.6.24 (before 10 it was `major * 10000 + minor * 100 + patch`).
pub(super) fn from_version_num(text: &str) -> Result<ServerVersion, String> {
    let num: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("unexpected server_version_num `{text}`"))?;
    let major = num / 10000;
    Ok(if major >= 10 {
        ServerVersion::new(major, num % 10000, 0)
    } else {
        ServerVersion::new(major, num / 100 % 100, num % 100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_and_old_numbering() {
        assert_eq!(
            from_version_num("150020"),
            Ok(ServerVersion::new(15, 20, 0))
        );
        assert_eq!(from_version_num("120003"), Ok(ServerVersion::new(12, 3, 0)));
        assert_eq!(from_version_num("90624"), Ok(ServerVersion::new(9, 6, 24)));
        assert!(from_version_num("15.2").is_err());
    }
}
