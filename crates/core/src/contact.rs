//! How people are reached: e-mail addresses.

/// Trims and lower-cases an address and checks its shape (`local@domain.tld`, at most 254 chars).
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Sara@Example.COM ").as_deref(),
            Some("sara@example.com")
        );
        for bad in [
            "",
            "sara",
            "@example.com",
            "sara@",
            "sara@example",
            "sa ra@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }
}
