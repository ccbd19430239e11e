//! What every catalog resolver reads of its request, kept apart from the domains so each of
//! them can use it: the subgraph's one DataLoader, built once per request from the request's
//! scope (tenant, caller, visibility, locale) so a batch never mixes tenants or callers; the keys
//! it serves besides entity ids (a wrapper key such as [`DetailsOf`] loads what hangs off an
//! entity), each answered by a `Loader` impl in its domain's `graphql` module; the caller as
//! prices see it; and the tenant-scoped read of a resolver.

use crate::ids::{CategoryId, ProductId, ReviewId, TenantId, UserId, VariantId, WishlistId};
use crate::products::Visibility;
use crate::products::translations::Wanted;
use async_graphql::Result;
use cityos_core::money::Currency;
use cityos_core::{ApiError, RequestContext};
use cityos_db::Database;
use std::collections::HashMap;
use std::hash::Hash;

pub(crate) use cityos_server::in_tenant;

/// What a product page shows besides the product: options, variants with prices, tiers, stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DetailsOf(pub ProductId);

/// A category's subcategories (a tree read level by level costs one statement per level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildrenOf(pub CategoryId);

/// A product's categories and collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaxonomyOf(pub ProductId);

/// Every translation of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TranslationsOf(pub ProductId);

/// The items of a wishlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemsOf(pub WishlistId);

/// The response to a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseTo(pub ReviewId);

/// A variant's stock per location (staff only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelsOf(pub VariantId);

/// The catalog's loader of one request.
pub struct CatalogLoader {
    pub(crate) db: Database,
    pub(crate) caller: Caller,
    pub(crate) visibility: Visibility,
    pub(crate) wanted: Wanted,
}

impl CatalogLoader {
    /// The loader of a request for `ctx`'s tenant; `None` for a request without one.
    pub fn of(db: &Database, ctx: &RequestContext) -> Option<Self> {
        let tenant = ctx.tenant.as_ref()?.id;
        Some(Self {
            db: db.clone(),
            caller: Caller::of(ctx, tenant),
            visibility: Visibility::of(ctx),
            wanted: Wanted::of(ctx),
        })
    }
}

/// Answers every key from what a batch read found by the keys' ids, those with nothing found with
/// `V::default()` (an empty list: nothing hangs off them).
pub(crate) fn every<K, I, V>(
    keys: &[K],
    id: impl Fn(&K) -> I,
    mut found: HashMap<I, V>,
) -> HashMap<K, V>
where
    K: Copy + Eq + Hash,
    I: Eq + Hash,
    V: Default,
{
    keys.iter()
        .map(|k| (*k, found.remove(&id(k)).unwrap_or_default()))
        .collect()
}

/// Who is asking, as far as prices go: the signed-in user (for customer groups) and whether they
/// are staff (who see every price list and tier, and every product).
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant: TenantId,
    pub customer: Option<UserId>,
    pub staff: bool,
}

impl Caller {
    /// The caller of a request with a selected tenant.
    pub fn of(ctx: &RequestContext, tenant: TenantId) -> Self {
        Self {
            tenant,
            customer: ctx.user_id().ok(),
            staff: ctx.is_staff(),
        }
    }
}

/// A currency argument, refused with `BAD_USER_INPUT` when it is not one the platform knows.
pub(crate) fn currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(|e| ApiError::bad_input(e.to_string()).into())
}
