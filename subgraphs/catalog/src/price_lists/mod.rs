//! Customer groups, price lists and volume tiers: the facts [`crate::pricing`] reads. Staff only.

pub mod graphql;
mod groups;
use groups::group_exists;
mod tiers;

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CustomerGroupId, PriceListId, TenantId, VariantId};
use crate::pricing::PriceListKind;
use crate::products::variants::check_prices;
use crate::schema::{price_list_prices, price_lists, product_variants};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::text::Line;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::Database;
use cityos_db::TenantTx;
use cityos_db::audit::Audit;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
pub use groups::{
    CustomerGroup, change_members, create_group, group_found, groups, join, leave, members,
};
use std::collections::HashSet;
pub use tiers::{NewTier, create_tier, delete_tier};

/// A price list as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = price_lists, check_for_backend(diesel::pg::Pg))]
pub struct PriceList {
    pub tenant_id: TenantId,
    pub id: PriceListId,
    pub name: String,
    pub kind: PriceListKind,
    pub customer_group_id: Option<CustomerGroupId>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One price of a variant on a price list.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = price_list_prices, check_for_backend(diesel::pg::Pg))]
pub struct PriceListPrice {
    pub variant_id: VariantId,
    pub currency: String,
    pub amount: i64,
}

/// A price list to create.
#[derive(Debug, Clone)]
pub struct NewPriceList {
    pub name: String,
    pub kind: PriceListKind,
    pub customer_group_id: Option<CustomerGroupId>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

/// Changes to a price list; `None` keeps a field, `Some(None)` opens that end of the window.
#[derive(Debug, Clone, Default)]
pub struct PriceListChanges {
    pub name: Option<String>,
    pub starts_at: Option<Option<DateTime<Utc>>>,
    pub ends_at: Option<Option<DateTime<Utc>>>,
}

/// A variant's prices to put on a price list.
#[derive(Debug, Clone)]
pub struct ListEntry {
    pub variant_id: VariantId,
    pub prices: Vec<(String, i64)>,
}

/// A trimmed name of 1 to 100 characters (groups, price lists, stock locations).
pub(crate) fn check_name(name: &str) -> Result<String, UserError> {
    Line::<100>::parse(name)
        .map(Line::into_inner)
        .map_err(|e| UserError::new("name", Code::InvalidName, e.message("a name")))
}

fn check_window(
    starts: Option<DateTime<Utc>>,
    ends: Option<DateTime<Utc>>,
) -> Result<(), UserError> {
    if let (Some(s), Some(e)) = (starts, ends)
        && s >= e
    {
        return Err(UserError::new(
            "endsAt",
            Code::InvalidWindow,
            "the window must end after it starts",
        ));
    }
    Ok(())
}

/// Creates a price list (staff).
pub async fn create_list(
    db: &Database,
    ctx: &RequestContext,
    new: NewPriceList,
) -> Outcome<PriceList> {
    db.staff(ctx, "price_list.create", async move |tx| {
        let tenant = tx.tenant();
        let name = check_name(&new.name)?;
        check_window(new.starts_at, new.ends_at)?;
        if let Some(group) = new.customer_group_id {
            group_exists(tx, group, "customerGroupId").await?;
        }
        let list: PriceList = diesel::insert_into(price_lists::table)
            .values((
                price_lists::tenant_id.eq(tenant),
                price_lists::id.eq(PriceListId::new()),
                price_lists::name.eq(&name),
                price_lists::kind.eq(new.kind),
                price_lists::customer_group_id.eq(new.customer_group_id),
                price_lists::starts_at.eq(new.starts_at),
                price_lists::ends_at.eq(new.ends_at),
            ))
            .returning(PriceList::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("price_lists_name_key", e, || {
                    UserError::new(
                        "name",
                        Code::NameTaken,
                        format!("a price list `{name}` exists"),
                    )
                })
            })?;
        let details = serde_json::json!({ "name": list.name, "kind": list.kind.as_str() });
        let audit = Audit::of(list.id, details);
        Ok((list, audit))
    })
    .await
}

async fn locked_list(tx: &mut TenantTx<'_>, id: PriceListId) -> Outcome<PriceList> {
    Ok(price_lists::table
        .filter(price_lists::id.eq(id))
        .select(PriceList::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| UserError::new("priceListId", Code::NotFound, "no such price list"))?)
}

/// Renames a price list or moves its window (staff).
pub async fn update_list(
    db: &Database,
    ctx: &RequestContext,
    id: PriceListId,
    changes: PriceListChanges,
) -> Outcome<PriceList> {
    db.staff(ctx, "price_list.update", async move |tx| {
        let name = changes.name.as_deref().map(check_name).transpose()?;
        let list = locked_list(tx, id).await?;
        // The window is merged with the stored one under the row lock, then checked whole.
        let starts_at = changes.starts_at.unwrap_or(list.starts_at);
        let ends_at = changes.ends_at.unwrap_or(list.ends_at);
        check_window(starts_at, ends_at)?;
        let name = name.unwrap_or(list.name);
        let list: PriceList = diesel::update(price_lists::table.filter(price_lists::id.eq(id)))
            .set((
                price_lists::name.eq(&name),
                price_lists::starts_at.eq(starts_at),
                price_lists::ends_at.eq(ends_at),
                price_lists::updated_at.eq(diesel::dsl::now),
            ))
            .returning(PriceList::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("price_lists_name_key", e, || {
                    UserError::new("name", Code::NameTaken, format!("a price list `{name}` exists"))
                })
            })?;
        let details = serde_json::json!({ "name": list.name, "startsAt": list.starts_at, "endsAt": list.ends_at });
        let audit = Audit::of(id, details);
        Ok((list, audit))
    })
    .await
}

/// Deletes a price list and its prices (staff).
pub async fn delete_list(
    db: &Database,
    ctx: &RequestContext,
    id: PriceListId,
) -> Outcome<PriceListId> {
    db.staff(ctx, "price_list.delete", async move |tx| {
        let list = locked_list(tx, id).await?;
        diesel::delete(price_lists::table.filter(price_lists::id.eq(id)))
            .execute(tx.conn())
            .await?;
        let details = serde_json::json!({ "name": list.name });
        let audit = Audit::of(id, details);
        Ok((id, audit))
    })
    .await
}

/// Puts variants' prices on a price list, currency by currency, replacing earlier ones (staff).
pub async fn set_list_prices(
    db: &Database,
    ctx: &RequestContext,
    list_id: PriceListId,
    entries: Vec<ListEntry>,
) -> Outcome<PriceList> {
    db.staff(ctx, "price_list.prices.set", async move |tx| {
        let tenant = tx.tenant();
        if entries.is_empty() || entries.len() > 500 {
            return Err(
                UserError::new("prices", Code::InvalidCount, "give 1 to 500 variants").into(),
            );
        }
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for entry in &entries {
            if !seen.insert(entry.variant_id) {
                return Err(UserError::new(
                    "prices",
                    Code::DuplicateVariant,
                    "a variant is given twice",
                )
                .into());
            }
            for (currency, amount) in check_prices(&entry.prices, "prices")? {
                rows.push((entry.variant_id, currency, amount));
            }
        }
        let list = locked_list(tx, list_id).await?;
        let variants: Vec<VariantId> = seen.into_iter().collect();
        let known: i64 = product_variants::table
            .filter(product_variants::id.eq_any(&variants))
            .count()
            .get_result(tx.conn())
            .await?;
        if usize::try_from(known).ok() != Some(variants.len()) {
            return Err(UserError::new("prices", Code::NotFound, "no such variant").into());
        }
        // One statement: the cards of all the entries' products are rebuilt once, in product order.
        let values: Vec<_> = rows
            .iter()
            .map(|(variant, currency, amount)| {
                (
                    price_list_prices::tenant_id.eq(tenant),
                    price_list_prices::price_list_id.eq(list_id),
                    price_list_prices::variant_id.eq(*variant),
                    price_list_prices::currency.eq(currency.code()),
                    price_list_prices::amount.eq(*amount),
                )
            })
            .collect();
        diesel::insert_into(price_list_prices::table)
            .values(values)
            .on_conflict((
                price_list_prices::tenant_id,
                price_list_prices::price_list_id,
                price_list_prices::variant_id,
                price_list_prices::currency,
            ))
            .do_update()
            .set(price_list_prices::amount.eq(excluded(price_list_prices::amount)))
            .execute(tx.conn())
            .await?;
        let details = serde_json::json!({ "variants": variants, "prices": rows.len() });
        let audit = Audit::of(list_id, details);
        Ok((list, audit))
    })
    .await
}

/// Takes variants off a price list (staff).
pub async fn remove_list_prices(
    db: &Database,
    ctx: &RequestContext,
    list_id: PriceListId,
    variants: Vec<VariantId>,
) -> Outcome<PriceList> {
    db.staff(ctx, "price_list.prices.remove", async move |tx| {
        let list = locked_list(tx, list_id).await?;
        diesel::delete(
            price_list_prices::table
                .filter(price_list_prices::price_list_id.eq(list_id))
                .filter(price_list_prices::variant_id.eq_any(&variants)),
        )
        .execute(tx.conn())
        .await?;
        let details = serde_json::json!({ "variants": variants });
        let audit = Audit::of(list_id, details);
        Ok((list, audit))
    })
    .await
}

/// A page of the tenant's price lists (staff).
pub async fn lists(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<PriceListId>,
) -> Result<Page<PriceList>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        Ok(cityos_db::table_page!(
            tx,
            price_lists::table,
            price_lists::id,
            PriceList,
            page
        )?)
    })
    .await
}

/// A variant's prices on one price list.
#[derive(Debug, Clone)]
pub struct ListedVariant {
    pub variant_id: VariantId,
    pub prices: Vec<PriceListPrice>,
}

/// A page of the variants on a price list with their prices, in variant order (staff).
pub async fn list_entries(
    db: &Database,
    ctx: &RequestContext,
    list_id: PriceListId,
    page: PageRequest<VariantId>,
) -> Result<Page<ListedVariant>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        let on_list = price_list_prices::table
            .filter(price_list_prices::price_list_id.eq(list_id))
            .select(price_list_prices::variant_id)
            .distinct()
            .into_boxed();
        let ids: Vec<VariantId> =
            cityos_db::keyset_page!(on_list, price_list_prices::variant_id, page)
                .load(tx.conn())
                .await?;
        let total: i64 = price_list_prices::table
            .filter(price_list_prices::price_list_id.eq(list_id))
            .select(diesel::dsl::count(price_list_prices::variant_id).aggregate_distinct())
            .get_result(tx.conn())
            .await?;
        let prices: Vec<PriceListPrice> = price_list_prices::table
            .filter(price_list_prices::price_list_id.eq(list_id))
            .filter(price_list_prices::variant_id.eq_any(&ids))
            .order((price_list_prices::variant_id, price_list_prices::currency))
            .select(PriceListPrice::as_select())
            .load(tx.conn())
            .await?;
        let entries = ids
            .into_iter()
            .map(|variant_id| ListedVariant {
                variant_id,
                prices: prices
                    .iter()
                    .filter(|p| p.variant_id == variant_id)
                    .cloned()
                    .collect(),
            })
            .collect();
        Ok(page.finish(entries, |e| e.variant_id, total))
    })
    .await
}

/// A price list by id (staff).
pub async fn list_by_id(
    db: &Database,
    ctx: &RequestContext,
    id: PriceListId,
) -> Result<Option<PriceList>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        Ok(price_lists::table
            .filter(price_lists::id.eq(id))
            .select(PriceList::as_select())
            .first(tx.conn())
            .await
            .optional()?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::tiers::basis_points;
    use super::*;

    #[test]
    fn percentages_become_basis_points() {
        assert_eq!(basis_points(12.5).unwrap(), 1250);
        assert_eq!(basis_points(100.0).unwrap(), 10_000);
        assert_eq!(basis_points(0.01).unwrap(), 1);
        for bad in [0.0, -5.0, 100.01, 12.345, f64::NAN] {
            assert_eq!(
                basis_points(bad).unwrap_err().code,
                Code::InvalidTier,
                "{bad}"
            );
        }
    }
}
