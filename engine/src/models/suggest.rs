//! "Did you mean …?" for misspelt keys, types, models and fields.

/// The candidate closest to `word`, if any is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), c))
        // 0.8 keeps real typos (`varchr`, `on_delet`, `Categroy`) and drops
        // unrelated words, which a wrong suggestion would only make more confusing.
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` or nothing.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    closest(word, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word_and_nonsense_finds_nothing() {
        let keys = ["references", "on_delete", "on_update", "null"];
        assert_eq!(closest("on_delet", keys), Some("on_delete"));
        assert_eq!(closest("refrences", keys), Some("references"));
        assert_eq!(closest("zzz", keys), None);
        assert_eq!(closest("NULL", keys), Some("null"));
    }
}
