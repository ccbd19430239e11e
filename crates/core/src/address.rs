//! A postal address as a cart, an order, an invoice and a vendor's profile carry it: trimmed,
//! bounded, checked once (see [`Address::checked`]). One GraphQL type in every subgraph that
//! shows one (`@shareable`), so the supergraph composes.

use serde::{Deserialize, Serialize};

/// A postal address: where to ship or bill, or where a business is.
#[derive(
    async_graphql::SimpleObject,
    async_graphql::InputObject,
    Serialize,
    Deserialize,
    Debug,
    Clone,
    PartialEq,
    Eq,
)]
#[graphql(input_name = "AddressInput", shareable)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Given name, 1 to 100 characters.
    pub first_name: String,
    /// Family name, at most 100 characters.
    pub last_name: String,
    /// Company, at most 100 characters.
    pub company: Option<String>,
    /// Street and number, 1 to 200 characters.
    pub line1: String,
    /// Flat, floor or building, at most 200 characters.
    pub line2: Option<String>,
    /// City, 1 to 100 characters.
    pub city: String,
    /// Region, province or state, at most 100 characters.
    pub region: Option<String>,
    /// Postal code: 2 to 10 letters, digits, spaces or hyphens, starting with a letter or digit.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `SA`.
    pub country_code: String,
    /// Phone number: an optional `+` and 6 to 15 digits, spaces, hyphens and brackets allowed.
    pub phone: Option<String>,
}

/// `s` trimmed, when it then has `min` to `max` characters.
pub fn trimmed(s: &str, min: usize, max: usize) -> Option<String> {
    let t = s.trim();
    (min..=max)
        .contains(&t.chars().count())
        .then(|| t.to_owned())
}

fn optional(s: Option<String>, max: usize) -> Option<Option<String>> {
    match s {
        None => Some(None),
        Some(s) => trimmed(&s, 0, max).map(|t| (!t.is_empty()).then_some(t)),
    }
}

fn postal_code_ok(code: &str) -> bool {
    let mut chars = code.chars();
    (2..=10).contains(&code.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
}

/// Whether `phone` reads as a phone number: an optional `+` and 6 to 15 digits, spaces, hyphens
/// and brackets allowed.
pub fn phone_ok(phone: &str) -> bool {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    (6..=15).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
}

impl Address {
    /// An address as stored (JSON), when there is one.
    pub fn from_stored(stored: &Option<serde_json::Value>) -> Option<Self> {
        stored.clone().and_then(|v| serde_json::from_value(v).ok())
    }

    /// The address trimmed, with an upper-case country code, or why its shape is wrong.
    pub fn checked(self) -> Result<Self, &'static str> {
        let first_name = trimmed(&self.first_name, 1, 100).ok_or("firstName")?;
        let last_name = trimmed(&self.last_name, 0, 100).ok_or("lastName")?;
        let company = optional(self.company, 100).ok_or("company")?;
        let line1 = trimmed(&self.line1, 1, 200).ok_or("line1")?;
        let line2 = optional(self.line2, 200).ok_or("line2")?;
        let city = trimmed(&self.city, 1, 100).ok_or("city")?;
        let region = optional(self.region, 100).ok_or("region")?;
        let postal_code = optional(self.postal_code, 10).ok_or("postalCode")?;
        if postal_code.as_deref().is_some_and(|p| !postal_code_ok(p)) {
            return Err("postalCode");
        }
        let country_code = self.country_code.trim().to_ascii_uppercase();
        if !(country_code.len() == 2 && country_code.chars().all(|c| c.is_ascii_uppercase())) {
            return Err("countryCode");
        }
        let phone = optional(self.phone, 30).ok_or("phone")?;
        if phone.as_deref().is_some_and(|p| !phone_ok(p)) {
            return Err("phone");
        }
        Ok(Self {
            first_name,
            last_name,
            company,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
            phone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Address {
        Address {
            first_name: " Sara ".into(),
            last_name: "Al-Harbi".into(),
            company: None,
            line1: "King Fahd Road 12".into(),
            line2: Some("  ".into()),
            city: "Riyadh".into(),
            region: None,
            postal_code: Some("12271".into()),
            country_code: "sa".into(),
            phone: Some("+966 50 123 4567".into()),
        }
    }

    #[test]
    fn addresses_are_trimmed_and_checked() {
        let a = address().checked().expect("valid");
        assert_eq!(
            (a.first_name.as_str(), a.country_code.as_str(), a.line2),
            ("Sara", "SA", None)
        );
        type Spoil = fn(&mut Address);
        let bad: [(Spoil, &str); 6] = [
            (|a| a.first_name = " ".into(), "firstName"),
            (|a| a.line1 = String::new(), "line1"),
            (|a| a.country_code = "SAU".into(), "countryCode"),
            (|a| a.postal_code = Some("12#71".into()), "postalCode"),
            (|a| a.phone = Some("+96".into()), "phone"),
            (|a| a.phone = Some("call me".into()), "phone"),
        ];
        for (spoil, field) in bad {
            let mut a = address();
            spoil(&mut a);
            assert_eq!(a.checked(), Err(field));
        }
    }
}
