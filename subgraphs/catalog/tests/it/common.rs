//! Set-up shared by the catalog's integration tests.

use catalog::ids::{LocationId, ProductId, TenantId, UserId, VariantId};
use catalog::products::variants::NewVariant;
use catalog::products::{self, NewProduct, ProductStatus};
use cityos_core::{RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, platform_admin, tenant_info, user_context};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use identity::onboarding::{self, NewTenant};
use identity::users::NewUser;

/// A fresh database with the catalog's schema and those it depends on (identity).
pub async fn test_db() -> TestDb {
    TestDb::for_subgraph::<catalog::Catalog>().await
}

/// A tenant and a context of its admin.
pub async fn tenant(t: &TestDb, slug: &str) -> (TenantInfo, RequestContext) {
    let new = NewTenant {
        name: slug.to_owned(),
        slug: slug.to_owned(),
        default_currency: "SAR".into(),
        default_locale: "ar".into(),
        supported_locales: None,
        timezone: "Asia/Riyadh".into(),
        admin: NewUser {
            email: format!("admin@{slug}.test"),
            password: "admin-password".into(),
            first_name: None,
            last_name: None,
        },
    };
    let (row, admin) = onboarding::create(t.db(), &platform_admin(), new)
        .await
        .expect("tenant");
    let info = tenant_info(row.id, &row.slug, "SAR", "ar");
    let ctx = user_context(Some(&info), admin.id, &[Role::TenantAdmin]);
    (info, ctx)
}

/// A published product with `handle` as its title and handle.
pub async fn product(t: &TestDb, admin: &RequestContext, handle: &str) -> ProductId {
    let new = NewProduct {
        title: handle.into(),
        handle: handle.into(),
        description: None,
        status: Some(ProductStatus::Published),
        ..NewProduct::default()
    };
    products::create(t.db(), admin, new)
        .await
        .expect("product")
        .id
}

/// A variant of a product with base prices.
pub fn variant(product_id: ProductId, sku: &str, prices: &[(&str, i64)]) -> NewVariant {
    NewVariant {
        prices: prices.iter().map(|(c, a)| ((*c).to_owned(), *a)).collect(),
        ..NewVariant::new(product_id, sku)
    }
}

/// A customer signed up with the tenant; returns their user id.
pub async fn customer(t: &TestDb, info: &TenantInfo, email: &str) -> UserId {
    let guest = cityos_testkit::context(Some(info), cityos_core::Actor::Anonymous);
    let new = NewUser {
        email: email.to_owned(),
        password: "customer-password".into(),
        first_name: None,
        last_name: None,
    };
    identity::sessions::sign_up_customer(t.db(), &t.platform.keys, &guest, new)
        .await
        .expect("customer")
        .user
        .id
}

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
