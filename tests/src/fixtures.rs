//! Set-up through the public API, shared by the end-to-end tests and the benchmark.

use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack};
use serde_json::json;

/// `signIn`.
pub const SIGN_IN: &str = "mutation($input: SignInInput!) {
  signIn(input: $input) { accessToken refreshToken user { id kind roles } userErrors { field code message } } }";
const TENANT_CREATE: &str = "mutation($input: TenantCreateInput!) {
  tenantCreate(input: $input) { tenant { id slug status } admin { id email } userErrors { field code message } } }";
/// `productCreate`.
pub const PRODUCT_CREATE: &str = "mutation($input: ProductCreateInput!) {
  productCreate(input: $input) { product { id handle status } userErrors { field code message } } }";
const KEY_CREATE: &str = "mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { apiKey { id kind } token userErrors { field code message } } }";

/// `Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Borrows owned header pairs for a request.
pub fn headers<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Signs the stack's platform admin in.
pub async fn platform_token(stack: &Stack) -> String {
    let r = stack
        .gql(
            &[],
            SIGN_IN,
            json!({ "input": { "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD } }),
        )
        .await;
    r.data()["signIn"]["accessToken"]
        .as_str()
        .expect("platform admin token")
        .to_owned()
}

/// A tenant with its admin signed in and a publishable key.
pub struct Tenant {
    /// Its id.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its admin's access token.
    pub admin_token: String,
    /// A publishable key.
    pub key: String,
}

impl Tenant {
    /// Headers of its admin, with the tenant selected.
    pub fn staff(&self) -> [(&'static str, String); 2] {
        [
            ("authorization", bearer(&self.admin_token)),
            ("x-tenant", self.slug.clone()),
        ]
    }
}

/// Creates a tenant (as `platform`), signs its admin in and creates a publishable key.
pub async fn create_tenant(stack: &Stack, platform: &str, slug: &str) -> Tenant {
    let admin_email = format!("admin@{slug}.test");
    let r = stack
        .gql(
            &[("authorization", &bearer(platform))],
            TENANT_CREATE,
            json!({ "input": { "name": format!("Tenant {slug}"), "slug": slug, "defaultCurrency": "SAR",
                "defaultLocale": "ar", "supportedLocales": ["en"], "timezone": "Asia/Riyadh",
                "admin": { "email": admin_email, "password": "tenant-admin-pass" } } }),
        )
        .await;
    let created = &r.data()["tenantCreate"];
    assert_eq!(created["userErrors"], json!([]), "{}", r.body);
    let id = created["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    let r = stack
        .gql(&[("x-tenant", slug)], SIGN_IN, json!({ "input": { "email": admin_email.to_uppercase(), "password": "tenant-admin-pass" } }))
        .await;
    let admin_token = r.data()["signIn"]["accessToken"]
        .as_str()
        .expect("tenant admin token")
        .to_owned();
    let staff = [
        ("authorization", bearer(&admin_token)),
        ("x-tenant", slug.to_owned()),
    ];
    let r = stack
        .gql(
            &headers(&staff),
            KEY_CREATE,
            json!({ "input": { "name": "storefront", "kind": "PUBLISHABLE" } }),
        )
        .await;
    let key = r.data()["apiKeyCreate"]["token"]
        .as_str()
        .expect("publishable key")
        .to_owned();
    assert!(key.starts_with("pk_"));
    Tenant {
        id,
        slug: slug.to_owned(),
        admin_token,
        key,
    }
}

/// Creates a product with `handle` as handle and title; returns its id.
pub async fn create_product(stack: &Stack, tenant: &Tenant, handle: &str, status: &str) -> String {
    let r = stack
        .gql(
            &headers(&tenant.staff()),
            PRODUCT_CREATE,
            json!({ "input": { "title": handle, "handle": handle, "status": status } }),
        )
        .await;
    assert_eq!(
        r.data()["productCreate"]["userErrors"],
        json!([]),
        "{}",
        r.body
    );
    r.data()["productCreate"]["product"]["id"]
        .as_str()
        .expect("product id")
        .to_owned()
}
