//! Connection URLs.

/// The URL the application connects with: `APP_DATABASE_URL` when given, else the owner's URL
/// with the user replaced by `role` and the password by `password` (none when `None`, as with the
/// embedded server's trust authentication).
pub fn app_url(owner_url: &str, role: &str, password: Option<&str>) -> String {
    let Some((scheme, rest)) = owner_url.split_once("://") else {
        return owner_url.to_owned();
    };
    let host_and_rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    match password {
        Some(p) => format!("{scheme}://{role}:{}@{host_and_rest}", percent_encode(p)),
        None => format!("{scheme}://{role}@{host_and_rest}"),
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_credentials() {
        assert_eq!(
            app_url(
                "postgres://postgres:secret@127.0.0.1:5432/cityos",
                "cityos_app",
                None
            ),
            "postgres://cityos_app@127.0.0.1:5432/cityos"
        );
        assert_eq!(
            app_url(
                "postgres://127.0.0.1/cityos?sslmode=disable",
                "cityos_app",
                Some("p@ss word")
            ),
            "postgres://cityos_app:p%40ss%20word@127.0.0.1/cityos?sslmode=disable"
        );
    }
}

/// The same connection URL pointing at database `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod database_tests {
    use super::*;

    #[test]
    fn swaps_the_database() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres", "t1"),
            "postgres://u@h:1/t1"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "t1"),
            "postgres://u@h:1/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
    }
}
