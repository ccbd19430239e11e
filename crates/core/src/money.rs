//! Money: an integer amount in a currency's minor units plus its ISO 4217 code. Never floats.

use std::fmt;

/// ISO 4217 codes this platform accepts, with the number of minor-unit digits of each.
/// Kept as a table (not a free-form string) so a typo such as `SRA` is refused at the boundary.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("IDR", 2),
    ("INR", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PKR", 2),
    ("QAR", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("TRY", 2),
    ("USD", 2),
    ("ZAR", 2),
];

/// A validated ISO 4217 currency code. Stored as its code in `text` columns; a stored code that is
/// not a supported currency fails the read (an error, logged as `INTERNAL`), never another currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Currency {
    code: &'static str,
    minor_digits: u8,
}

/// The code is not an ISO 4217 currency this platform supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a supported ISO 4217 currency code")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// Saudi riyal.
    pub const SAR: Self = Self {
        code: "SAR",
        minor_digits: 2,
    };
    /// US dollar.
    pub const USD: Self = Self {
        code: "USD",
        minor_digits: 2,
    };
    /// Euro.
    pub const EUR: Self = Self {
        code: "EUR",
        minor_digits: 2,
    };
    /// UAE dirham.
    pub const AED: Self = Self {
        code: "AED",
        minor_digits: 2,
    };

    /// Parses a code such as `SAR`; case-insensitive, surrounding spaces ignored.
    pub fn parse(code: &str) -> Result<Self, UnknownCurrency> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|&(code, minor_digits)| Self { code, minor_digits })
            .ok_or_else(|| UnknownCurrency(code.to_owned()))
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// How many digits the minor unit has (2 for SAR, 0 for JPY, 3 for KWD).
    pub fn minor_digits(self) -> u8 {
        self.minor_digits
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for Currency {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let code = std::str::from_utf8(value.as_bytes())?;
        Ok(Self::parse(code)?)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for Currency {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
            self.code, out,
        )
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Code;
        impl serde::de::Visitor<'_> for Code {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code")
            }
            fn visit_str<E: serde::de::Error>(self, code: &str) -> Result<Currency, E> {
                Currency::parse(code).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Code)
    }
}

/// `value * numerator / denominator` in exact integers, rounded half away from zero, for the
/// non-negative amounts of shares, percentages and tax (`ratio(1_000, 15, 100) == 150`). Saturates
/// at `i64::MAX`; `denominator` is positive.
pub fn ratio(value: i64, numerator: i64, denominator: i64) -> i64 {
    let (v, n, d) = (
        i128::from(value),
        i128::from(numerator),
        i128::from(denominator),
    );
    i64::try_from((2 * v * n + d) / (2 * d)).unwrap_or(i64::MAX)
}

/// Splits `total` over `weights` in proportion, by largest remainder (ties to the earlier one).
/// The parts sum to `total` and none exceeds its weight when `total` does not exceed their sum.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i64, i128)> = weights
        .iter()
        .map(|w| {
            let scaled = i128::from(total) * i128::from(*w);
            (i64::try_from(scaled / sum).unwrap_or(0), scaled % sum)
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(q, _)| *q).collect();
    let short = total - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(exact[*i].1));
    for i in order.into_iter().take(usize::try_from(short).unwrap_or(0)) {
        parts[i] += 1;
    }
    parts
}

/// An amount of money in minor units (halalas, cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    /// Minor units; negative for credits.
    pub amount: i64,
    /// The currency the amount is in.
    pub currency: Currency,
}

impl Money {
    /// An amount read back from storage with its currency code. A code that is not a supported
    /// currency (the database checks only its shape) is a fault of ours: `INTERNAL`, logged, never
    /// left out or read as another currency.
    pub fn from_stored(amount: i64, code: &str) -> Result<Self, crate::ApiError> {
        Currency::parse(code)
            .map(|c| Self::new(amount, c))
            .map_err(|e| crate::ApiError::internal(format_args!("stored amount: {e}")))
    }

    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// The sum, or `None` on overflow or mixed currencies.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        (self.currency == other.currency).then_some(())?;
        Some(Self::new(
            self.amount.checked_add(other.amount)?,
            self.currency,
        ))
    }

    /// The amount in major units as a decimal string: `12.50`, `1500`, `-0.05`.
    pub fn decimal(&self) -> String {
        let digits = u32::from(self.currency.minor_digits);
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(digits);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = digits as usize
        )
    }
}

impl fmt::Display for Money {
    /// `12.50 SAR`, `1500 JPY`, `1.250 KWD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

/// An amount of money in one currency.
#[async_graphql::Object(shareable)]
impl Money {
    /// The amount in the currency's minor units (halalas, cents): exact, for arithmetic.
    async fn amount_minor(&self) -> i64 {
        self.amount
    }

    /// The amount in major units as a decimal string, e.g. `"12.50"`, for display.
    async fn amount(&self) -> String {
        self.decimal()
    }

    /// ISO 4217 currency code, e.g. `SAR`.
    async fn currency(&self) -> &str {
        self.currency.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(allocate(100, &[1, 1, 1]), [34, 33, 33]);
        assert_eq!(allocate(1000, &[3000, 0, 7000]), [300, 0, 700]);
        assert_eq!(allocate(5, &[0, 0]), [0, 0]);
        let parts = allocate(9_999, &[3_333, 3_333, 3_334, 1]);
        assert_eq!(parts.iter().sum::<i64>(), 9_999);
        assert!(
            parts
                .iter()
                .zip([3_333, 3_333, 3_334, 1])
                .all(|(p, w)| *p <= w)
        );
    }

    #[test]
    fn named_currencies_are_the_table_s() {
        for c in [Currency::SAR, Currency::USD, Currency::EUR, Currency::AED] {
            assert_eq!(Currency::parse(c.code()), Ok(c));
        }
    }

    #[test]
    fn parses_known_codes_case_insensitively() {
        assert_eq!(Currency::parse(" sar ").unwrap().code(), "SAR");
        assert_eq!(Currency::parse("KWD").unwrap().minor_digits(), 3);
        assert!(Currency::parse("SRA").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn formats_by_minor_digits() {
        let sar = Currency::parse("SAR").unwrap();
        assert_eq!(Money::new(1250, sar).to_string(), "12.50 SAR");
        assert_eq!(Money::new(-5, sar).to_string(), "-0.05 SAR");
        assert_eq!(
            Money::new(1500, Currency::parse("JPY").unwrap()).to_string(),
            "1500 JPY"
        );
        assert_eq!(
            Money::new(1250, Currency::parse("KWD").unwrap()).to_string(),
            "1.250 KWD"
        );
    }

    #[test]
    fn adding_refuses_mixed_currencies_and_overflow() {
        let sar = Currency::parse("SAR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(
            Money::new(1, sar).checked_add(Money::new(2, sar)),
            Some(Money::new(3, sar))
        );
        assert_eq!(Money::new(1, sar).checked_add(Money::new(2, usd)), None);
        assert_eq!(
            Money::new(i64::MAX, sar).checked_add(Money::new(1, sar)),
            None
        );
    }
}
