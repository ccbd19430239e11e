//! Set-up shared by the catalog's integration tests.

use cityos_core::{RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, platform_admin, tenant_info, user_context};
use identity::tenants::{self, NewTenant};
use identity::users::NewUser;

/// A fresh database with the identity and catalog schemas.
pub async fn test_db() -> TestDb {
    TestDb::new(vec![
        ("identity", identity::MIGRATIONS),
        ("catalog", catalog::MIGRATIONS),
    ])
    .await
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
    let (row, admin) = tenants::create(t.db(), &platform_admin(), new)
        .await
        .expect("tenant");
    let info = tenant_info(row.id, &row.slug, "SAR", "ar");
    let ctx = user_context(Some(&info), admin.id, &[Role::TenantAdmin]);
    (info, ctx)
}
