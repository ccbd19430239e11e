//! Discount codes: a percentage or a fixed amount off the lines in the code's scope.
//!
//! A code's scope is every line, one vendor's lines, one category's (with its subcategories), or
//! both narrowed at once. It applies within its window, to carts in its currency when it names
//! one, when the lines in scope reach its minimum, while it has uses left in total and for this
//! customer (counted by account and by e-mail address). A code that does not apply says which of
//! these failed, with a stable code.
//!
//! The amount off is spread over the lines in scope in proportion to their subtotals, by largest
//! remainder, so the parts add up to the discount exactly and no line goes below zero. Checkout
//! locks the code's row, checks it again, and counts the use in the same transaction; cancelling
//! the order gives the use back.

pub mod graphql;

use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, refusal};
use crate::ids::{CategoryId, DiscountCodeId, OrderId, RedemptionId, UserId, VendorId};
use crate::schema::{discount_codes, discount_redemptions};
use chrono::{DateTime, Utc};
use cityos_core::money::{Currency, Money, allocate, ratio};
use cityos_core::{Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;

cityos_core::states! {
    /// How a code takes money off.
    pub enum DiscountKind {
        /// A percentage of the lines in scope.
        Percentage = "PERCENTAGE",
        /// A fixed amount off the lines in scope (never more than they cost).
        FixedAmount = "FIXED_AMOUNT",
    }
}

/// A discount code as stored.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone)]
#[diesel(table_name = discount_codes, check_for_backend(diesel::pg::Pg))]
pub struct DiscountCode {
    pub id: DiscountCodeId,
    pub code: String,
    pub kind: DiscountKind,
    pub percent: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<Currency>,
    pub min_subtotal: Option<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i32>,
    pub per_customer_limit: Option<i32>,
    pub times_used: i32,
    pub vendor_id: Option<VendorId>,
    pub category_id: Option<CategoryId>,
    pub active: bool,
}

/// A code with how often the cart's customer has used it.
#[derive(Deserialize, Debug, Clone)]
pub struct DiscountState {
    #[serde(flatten)]
    pub code: DiscountCode,
    pub customer_uses: i64,
}

/// What the discount sees of a line.
#[derive(Debug, Clone, Copy)]
pub struct Eligible<'a> {
    pub subtotal: i64,
    pub vendor: Option<VendorId>,
    pub categories: &'a [CategoryId],
}

/// A code as the shopper types it: trimmed and upper-cased.
pub fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Whether `code` has the shape of a code: 3 to 32 letters, digits, `-` or `_`.
pub fn well_formed(code: &str) -> bool {
    (3..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn no(code: Code, message: String) -> UserError {
    UserError::new("code", code, message)
}

/// The part of each line the code takes off, or why it does not apply.
pub fn evaluate(
    state: &DiscountState,
    currency: Currency,
    now: DateTime<Utc>,
    lines: &[Eligible<'_>],
) -> Result<Vec<i64>, UserError> {
    let d = &state.code;
    if !d.active {
        return Err(no(
            Code::DiscountExpired,
            "this code is no longer valid".into(),
        ));
    }
    if now < d.starts_at {
        return Err(no(
            Code::DiscountNotStarted,
            format!("this code is valid from {}", d.starts_at.to_rfc3339()),
        ));
    }
    if let Some(end) = d.ends_at.filter(|end| *end <= now) {
        return Err(no(
            Code::DiscountExpired,
            format!("this code expired at {}", end.to_rfc3339()),
        ));
    }
    if let Some(own) = d.currency.filter(|c| *c != currency) {
        return Err(no(
            Code::DiscountCurrency,
            format!("this code applies to carts in {own}"),
        ));
    }
    if d.usage_limit.is_some_and(|limit| d.times_used >= limit) {
        return Err(no(
            Code::DiscountUsedUp,
            "this code has been used up".into(),
        ));
    }
    if let Some(limit) = d
        .per_customer_limit
        .filter(|limit| state.customer_uses >= i64::from(*limit))
    {
        let times = if limit == 1 {
            "once"
        } else {
            "the most times it allows"
        };
        return Err(no(
            Code::DiscountCustomerLimit,
            format!("you have already used this code {times}"),
        ));
    }
    let in_scope = |l: &Eligible<'_>| {
        d.vendor_id.is_none_or(|v| l.vendor == Some(v))
            && d.category_id.is_none_or(|c| l.categories.contains(&c))
    };
    let weights: Vec<i64> = lines
        .iter()
        .map(|l| if in_scope(l) { l.subtotal } else { 0 })
        .collect();
    let eligible: i64 = weights.iter().sum();
    if !lines.iter().any(in_scope) || eligible == 0 {
        return Err(no(
            Code::DiscountNotEligible,
            "no item in the cart qualifies for this code".into(),
        ));
    }
    if let Some(min) = d.min_subtotal.filter(|min| eligible < *min) {
        return Err(no(
            Code::DiscountMinimumNotMet,
            format!(
                "this code needs {} of qualifying items; the cart has {}",
                Money::new(min, currency),
                Money::new(eligible, currency)
            ),
        ));
    }
    let off = match (d.percent, d.amount) {
        (Some(percent), _) => ratio(eligible, i64::from(percent), 100),
        (None, Some(amount)) => amount.min(eligible),
        (None, None) => 0,
    };
    Ok(allocate(off, &weights))
}

/// Counts a use of `state`'s code by an order, in the checkout's transaction (the code's row is
/// locked by then).
pub async fn redeem(
    tx: &mut TenantTx<'_>,
    code: DiscountCodeId,
    order: OrderId,
    customer: Option<UserId>,
    email: Option<&str>,
    amount: i64,
) -> Outcome<()> {
    let tenant = tx.tenant();
    diesel::update(discount_codes::table.filter(discount_codes::id.eq(code)))
        .set(discount_codes::times_used.eq(discount_codes::times_used + 1))
        .execute(tx.conn())
        .await
        .map_err(|e| {
            Failure::on_constraint("discount_codes_usage", e, || {
                no(Code::DiscountUsedUp, "this code has been used up".into())
            })
        })?;
    diesel::insert_into(discount_redemptions::table)
        .values((
            discount_redemptions::tenant_id.eq(tenant),
            discount_redemptions::id.eq(RedemptionId::new()),
            discount_redemptions::discount_id.eq(code),
            discount_redemptions::order_id.eq(order),
            discount_redemptions::customer_id.eq(customer),
            discount_redemptions::email.eq(email),
            discount_redemptions::amount.eq(amount),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Gives back the use an order made of a code, if it made one (its cancellation).
pub async fn release(tx: &mut TenantTx<'_>, order: OrderId) -> QueryResult<()> {
    let used: Option<DiscountCodeId> = diesel::delete(
        discount_redemptions::table.filter(discount_redemptions::order_id.eq(order)),
    )
    .returning(discount_redemptions::discount_id)
    .get_result(tx.conn())
    .await
    .optional()?;
    if let Some(code) = used {
        diesel::update(discount_codes::table.filter(discount_codes::id.eq(code)))
            .set(discount_codes::times_used.eq(discount_codes::times_used - 1))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Locks the tenant's code `code` for the transaction, when it exists.
pub async fn lock(tx: &mut TenantTx<'_>, code: &str) -> QueryResult<Option<DiscountCodeId>> {
    discount_codes::table
        .filter(discount_codes::code.eq(code))
        .select(discount_codes::id)
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// A new discount code.
#[derive(Debug, Clone)]
pub struct CodeInput {
    pub code: String,
    pub kind: DiscountKind,
    pub percent: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub min_subtotal: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i32>,
    pub per_customer_limit: Option<i32>,
    pub vendor_id: Option<VendorId>,
    pub category_id: Option<CategoryId>,
}

/// A change to a code; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct CodeChanges {
    pub active: Option<bool>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i32>,
    pub per_customer_limit: Option<i32>,
}

fn check_limit(limit: Option<i32>, field: &str) -> Outcome<()> {
    if limit.is_some_and(|l| l < 1) {
        return Err(refusal(field, Code::InvalidCount, "a limit is at least 1"));
    }
    Ok(())
}

/// Checks a new code's terms (it starts at `start`); returns the normalized code and currency.
fn checked(input: &CodeInput, start: DateTime<Utc>) -> Outcome<(String, Option<String>)> {
    let code = normalize(&input.code);
    if !well_formed(&code) {
        return Err(refusal(
            "code",
            Code::InvalidCode,
            "a code has 3 to 32 letters, digits, hyphens or underscores",
        ));
    }
    match input.kind {
        DiscountKind::Percentage => {
            if input.percent.is_none_or(|p| !(1..=100).contains(&p)) || input.amount.is_some() {
                return Err(refusal(
                    "percent",
                    Code::InvalidAmount,
                    "a PERCENTAGE code takes a percent from 1 to 100 and no amount",
                ));
            }
        }
        DiscountKind::FixedAmount => {
            if input.amount.is_none_or(|a| a <= 0) || input.percent.is_some() {
                return Err(refusal(
                    "amountMinor",
                    Code::InvalidAmount,
                    "a FIXED_AMOUNT code takes an amount above zero and no percent",
                ));
            }
        }
    }
    if input.min_subtotal.is_some_and(|m| m <= 0) {
        return Err(refusal(
            "minSubtotalMinor",
            Code::InvalidAmount,
            "a minimum is above zero",
        ));
    }
    let currency = match &input.currency {
        Some(c) => Some(
            Currency::parse(c.trim())
                .map_err(|e| refusal("currency", Code::UnknownCurrency, e.to_string()))?
                .code()
                .to_owned(),
        ),
        None if input.amount.is_some() || input.min_subtotal.is_some() => {
            return Err(refusal(
                "currency",
                Code::UnknownCurrency,
                "an amount or a minimum needs its currency",
            ));
        }
        None => None,
    };
    if input.ends_at.is_some_and(|end| end <= start) {
        return Err(refusal(
            "endsAt",
            Code::InvalidWindow,
            "a code ends after it starts",
        ));
    }
    check_limit(input.usage_limit, "usageLimit")?;
    check_limit(input.per_customer_limit, "perCustomerLimit")?;
    Ok((code, currency))
}

/// Creates a code (staff).
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    input: CodeInput,
) -> Outcome<DiscountCode> {
    db.staff(ctx, "discount_code.create", async move |tx| {
        let tenant = tx.tenant();
        let start = input.starts_at.unwrap_or_else(Utc::now);
        let (code, currency) = checked(&input, start)?;
        if let Some(category) = input.category_id {
            crate::errors::check_category(tx, category).await?;
        }
        let value = diesel::insert_into(discount_codes::table)
            .values((
                discount_codes::tenant_id.eq(tenant),
                discount_codes::id.eq(DiscountCodeId::new()),
                discount_codes::code.eq(&code),
                discount_codes::kind.eq(input.kind),
                discount_codes::percent.eq(input.percent),
                discount_codes::amount.eq(input.amount),
                discount_codes::currency.eq(&currency),
                discount_codes::min_subtotal.eq(input.min_subtotal),
                discount_codes::starts_at.eq(start),
                discount_codes::ends_at.eq(input.ends_at),
                discount_codes::usage_limit.eq(input.usage_limit),
                discount_codes::per_customer_limit.eq(input.per_customer_limit),
                discount_codes::vendor_id.eq(input.vendor_id),
                discount_codes::category_id.eq(input.category_id),
            ))
            .returning(DiscountCode::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("discount_codes_code_key", e, || {
                    UserError::new("code", Code::CodeTaken, "this code exists already")
                })
            })?;
        let audit = Audit::of(value.id, serde_json::json!({ "code": value.code }));
        Ok((value, audit))
    })
    .await
}

/// Changes a code (staff): deactivate or reactivate it, move its end, change its limits.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: DiscountCodeId,
    changes: CodeChanges,
) -> Outcome<DiscountCode> {
    db.staff(ctx, "discount_code.update", async move |tx| {
        check_limit(changes.usage_limit, "usageLimit")?;
        check_limit(changes.per_customer_limit, "perCustomerLimit")?;
        let code = discount_codes::table
            .filter(discount_codes::id.eq(id))
            .select(DiscountCode::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| refusal("id", Code::NotFound, "no such discount code"))?;
        if changes.ends_at.is_some_and(|end| end <= code.starts_at) {
            return Err(refusal(
                "endsAt",
                Code::InvalidWindow,
                "a code ends after it starts",
            ));
        }
        if changes
            .usage_limit
            .is_some_and(|limit| limit < code.times_used)
        {
            return Err(refusal(
                "usageLimit",
                Code::InvalidCount,
                format!("the code was used {} times already", code.times_used),
            ));
        }
        let value = diesel::update(discount_codes::table.filter(discount_codes::id.eq(id)))
            .set((
                discount_codes::active.eq(changes.active.unwrap_or(code.active)),
                discount_codes::ends_at.eq(changes.ends_at.or(code.ends_at)),
                discount_codes::usage_limit.eq(changes.usage_limit.or(code.usage_limit)),
                discount_codes::per_customer_limit
                    .eq(changes.per_customer_limit.or(code.per_customer_limit)),
            ))
            .returning(DiscountCode::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(id, serde_json::json!({ "code": value.code }));
        Ok((value, audit))
    })
    .await
}

/// The tenant's codes, newest first, a page at a time (staff).
pub async fn page(
    db: &Database,
    ctx: &RequestContext,
    page: cityos_core::paging::PageRequest<DiscountCodeId>,
) -> Result<cityos_core::paging::Page<DiscountCode>, cityos_core::ApiError> {
    ctx.require_staff()?;
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| {
        let ids = discount_codes::table
            .select(discount_codes::id)
            .into_boxed();
        let ids: Vec<DiscountCodeId> =
            cityos_db::keyset_page!(ids, discount_codes::id, page, newest_first)
                .load(tx.conn())
                .await?;
        let total: i64 = discount_codes::table.count().get_result(tx.conn()).await?;
        let mut found: Vec<DiscountCode> = discount_codes::table
            .filter(discount_codes::id.eq_any(&ids))
            .select(DiscountCode::as_select())
            .load(tx.conn())
            .await?;
        found.sort_by_key(|d| std::cmp::Reverse(d.id));
        if page.backward {
            found.reverse();
        }
        Ok(page.finish(found, |d| d.id, total))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    use chrono::Duration;

    fn state(kind: DiscountKind) -> DiscountState {
        DiscountState {
            code: DiscountCode {
                id: DiscountCodeId::from_uuid(Uuid::nil()),
                code: "WELCOME10".into(),
                kind,
                percent: (kind == DiscountKind::Percentage).then_some(10),
                amount: (kind == DiscountKind::FixedAmount).then_some(5000),
                currency: Some(Currency::SAR),
                min_subtotal: Some(10_000),
                starts_at: Utc::now() - Duration::days(1),
                ends_at: Some(Utc::now() + Duration::days(1)),
                usage_limit: Some(100),
                per_customer_limit: Some(1),
                times_used: 0,
                vendor_id: Some(VendorId::from_uuid(Uuid::from_u128(7))),
                category_id: None,
                active: true,
            },
            customer_uses: 0,
        }
    }

    fn sar() -> Currency {
        Currency::SAR
    }

    #[test]
    fn a_code_applies_to_its_scope_or_says_why_not() {
        let vendor = Some(VendorId::from_uuid(Uuid::from_u128(7)));
        let lines = [
            Eligible {
                subtotal: 8_000,
                vendor,
                categories: &[],
            },
            Eligible {
                subtotal: 4_000,
                vendor,
                categories: &[],
            },
            Eligible {
                subtotal: 9_000,
                vendor: None,
                categories: &[],
            },
        ];
        let now = Utc::now();
        let percent = state(DiscountKind::Percentage);
        assert_eq!(
            evaluate(&percent, sar(), now, &lines).ok(),
            Some(vec![800, 400, 0])
        );
        let fixed = state(DiscountKind::FixedAmount);
        assert_eq!(
            evaluate(&fixed, sar(), now, &lines).ok(),
            Some(vec![3_333, 1_667, 0])
        );

        let refused = |s: &DiscountState, lines: &[Eligible<'_>], currency: &str| {
            let currency = Currency::parse(currency).expect("currency");
            evaluate(s, currency, now, lines).err().map(|e| e.code)
        };
        let mut s = percent.clone();
        assert_eq!(
            refused(&s, &lines[..1], "SAR"),
            Some(Code::DiscountMinimumNotMet)
        );
        assert_eq!(
            refused(&s, &lines[2..], "SAR"),
            Some(Code::DiscountNotEligible)
        );
        assert_eq!(refused(&s, &lines, "USD"), Some(Code::DiscountCurrency));
        s.customer_uses = 1;
        assert_eq!(
            refused(&s, &lines, "SAR"),
            Some(Code::DiscountCustomerLimit)
        );
        s.code.times_used = 100;
        assert_eq!(refused(&s, &lines, "SAR"), Some(Code::DiscountUsedUp));
        s.code.ends_at = Some(now);
        assert_eq!(refused(&s, &lines, "SAR"), Some(Code::DiscountExpired));
        s.code.starts_at = now + Duration::hours(1);
        assert_eq!(refused(&s, &lines, "SAR"), Some(Code::DiscountNotStarted));
        s.code.active = false;
        assert_eq!(refused(&s, &lines, "SAR"), Some(Code::DiscountExpired));
    }

    #[test]
    fn codes_are_normalized_and_checked() {
        assert_eq!(normalize("  welcome-10 "), "WELCOME-10");
        assert!(well_formed("WELCOME_10") && !well_formed("AB") && !well_formed("SAVE 10"));
        let input = CodeInput {
            code: "save5".into(),
            kind: DiscountKind::FixedAmount,
            percent: None,
            amount: Some(500),
            currency: None,
            min_subtotal: None,
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            per_customer_limit: None,
            vendor_id: None,
            category_id: None,
        };
        assert!(
            checked(&input, Utc::now()).is_err(),
            "a fixed amount needs a currency"
        );
        let ok = CodeInput {
            currency: Some("sar".into()),
            ..input.clone()
        };
        assert_eq!(
            checked(&ok, Utc::now()).ok(),
            Some(("SAVE5".to_owned(), Some("SAR".to_owned())))
        );
        let percent_too = CodeInput {
            percent: Some(10),
            ..ok
        };
        assert!(checked(&percent_too, Utc::now()).is_err());
    }
}
