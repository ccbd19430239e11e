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

/// Runs a staff mutation of `tenant` whose payload is its only root field; fails on any error or
/// user error and returns the payload.
pub async fn staff_mutation(
    stack: &Stack,
    tenant: &Tenant,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    let r = stack.gql(&headers(&tenant.staff()), query, variables).await;
    let payload = r
        .data()
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or_default();
    assert_eq!(payload["userErrors"], json!([]), "{}", r.body);
    payload
}

/// A published product with two variants (S and L) priced in SAR and USD, `units` of each in
/// stock at `location` (none when 0); returns the product id and the variant ids.
pub async fn create_stocked_product(
    stack: &Stack,
    tenant: &Tenant,
    handle: &str,
    location: &str,
    units: i32,
) -> (String, Vec<String>) {
    let product = create_product(stack, tenant, handle, "PUBLISHED").await;
    staff_mutation(
        stack,
        tenant,
        "mutation($p: ID!) { productOptionCreate(input: { productId: $p, name: \"Size\", values: [\"S\", \"L\"] }) { userErrors { code } } }",
        json!({ "p": product }),
    )
    .await;
    let mut variants = Vec::new();
    for (size, sar) in [("S", 9_900), ("L", 14_900)] {
        let created = staff_mutation(
            stack,
            tenant,
            "mutation($input: ProductVariantCreateInput!) { productVariantCreate(input: $input) { variant { id } userErrors { code } } }",
            json!({ "input": { "productId": product, "sku": format!("{handle}-{size}").to_uppercase(),
                "options": [{ "name": "Size", "value": size }],
                "prices": [{ "currency": "SAR", "amountMinor": sar }, { "currency": "USD", "amountMinor": sar * 4 / 15 }] } }),
        )
        .await;
        let id = created["variant"]["id"]
            .as_str()
            .expect("variant id")
            .to_owned();
        if units > 0 {
            staff_mutation(
                stack,
                tenant,
                "mutation($v: ID!, $l: ID!, $n: Int!) { stockAdjust(input: { variantId: $v, locationId: $l, delta: $n, reason: RECEIVED }) { userErrors { code } } }",
                json!({ "v": id, "l": location, "n": units }),
            )
            .await;
        }
        variants.push(id);
    }
    (product, variants)
}

/// Creates a stock location; returns its id.
pub async fn create_location(stack: &Stack, tenant: &Tenant, name: &str) -> String {
    let payload = staff_mutation(
        stack,
        tenant,
        "mutation($n: String!) { stockLocationCreate(input: { name: $n }) { stockLocation { id } userErrors { code } } }",
        json!({ "n": name }),
    )
    .await;
    payload["stockLocation"]["id"]
        .as_str()
        .expect("location id")
        .to_owned()
}
