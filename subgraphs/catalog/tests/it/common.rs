//! Set-up shared by the catalog's integration tests.

use catalog::ids::{LocationId, ProductId, TenantId, VariantId};
use catalog::products::variants::NewVariant;
use cityos_core::{RequestContext, TenantInfo};
use cityos_fixtures::{ProductBuilder, TenantBuilder};
use cityos_testkit::TestDb;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A fresh database with the catalog's schema and those it depends on (identity).
pub async fn test_db() -> TestDb {
    TestDb::for_subgraph::<catalog::Catalog>().await
}

/// A tenant and a context of its admin.
pub async fn tenant(t: &TestDb, slug: &str) -> (TenantInfo, RequestContext) {
    let tenant = TenantBuilder::new(slug).create(t).await;
    (tenant.info, tenant.admin)
}

/// A published product with `handle` as its title and handle.
pub async fn product(t: &TestDb, admin: &RequestContext, handle: &str) -> ProductId {
    ProductBuilder::new(handle).create(t, admin).await.id
}

/// A variant of a product with base prices.
pub fn variant(product_id: ProductId, sku: &str, prices: &[(&str, i64)]) -> NewVariant {
    NewVariant {
        prices: prices.iter().map(|(c, a)| ((*c).to_owned(), *a)).collect(),
        ..NewVariant::new(product_id, sku)
    }
}

pub use cityos_fixtures::customer;

/// Holds `quantity` units of a variant at `location` for `owner` until `hold` from now, as a hold
/// would be written (no code of the catalog makes holds yet: checkout sells outright), so the
/// availability every read computes can be checked against it. Under the tenant's row-level
/// security, like any write.
pub async fn hold(
    t: &TestDb,
    tenant: TenantId,
    owner: &str,
    (variant, location): (VariantId, LocationId),
    quantity: i32,
    hold: chrono::Duration,
) {
    use catalog::schema::stock_reservations as r;
    let owner = owner.to_owned();
    t.db()
        .tenant_tx(tenant, async move |tx| {
            diesel::insert_into(r::table)
                .values((
                    r::tenant_id.eq(tenant),
                    r::id.eq(catalog::ids::ReservationId::new()),
                    r::variant_id.eq(variant),
                    r::location_id.eq(location),
                    r::owner.eq(owner),
                    r::quantity.eq(quantity),
                    r::status.eq("ACTIVE"),
                    r::expires_at.eq(chrono::Utc::now() + hold),
                ))
                .execute(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("hold");
}
