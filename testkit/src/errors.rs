//! What a driver's error must carry: the library's own error as its source, and no
//! secret anywhere in the chain.

/// Fails unless `error` has a source, and `secret` shows in none of the errors of its
/// chain, in their messages or their `Debug` form.
pub fn assert_no_secret_in_chain(error: &(dyn std::error::Error + 'static), secret: &str) {
    assert!(error.source().is_some(), "no source behind {error:?}");
    let mut current = Some(error);
    while let Some(error) = current {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(secret), "the secret leaked: {shown}");
        current = error.source();
    }
}

/// The error behind `error`, which must be an `E`: the library's own error, which a
/// driver keeps as the source of its `DriverError`.
pub fn source_as<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> &'a E {
    let source = error
        .source()
        .unwrap_or_else(|| panic!("no source behind {error:?}"));
    source.downcast_ref::<E>().unwrap_or_else(|| {
        panic!(
            "the source is not a {}: {source:?}",
            std::any::type_name::<E>()
        )
    })
}
