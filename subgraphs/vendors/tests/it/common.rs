//! Set-up shared by the vendors subgraph's tests: a tenant, its customers, and a vendor taken
//! through the GraphQL mutations its users send.

use cityos_core::ids::{UserId, VendorId};
use cityos_core::{RequestContext, Role, TenantInfo, VendorRole};
use cityos_fixtures::TenantBuilder;
use cityos_testkit::{TestDb, user_context, vendor_context};
use serde_json::{Value, json};
use vendors::{Vendors, build_schema};

/// A fresh database with the vendors schema and those it depends on.
pub async fn test_db() -> TestDb {
    TestDb::for_subgraph::<Vendors>().await
}

/// A tenant, its admin, and one of its customers.
pub struct Shop {
    pub info: TenantInfo,
    pub admin: RequestContext,
}

impl Shop {
    pub async fn new(t: &TestDb, slug: &str) -> Self {
        let tenant = TenantBuilder::new(slug).create(t).await;
        Self {
            info: tenant.info,
            admin: tenant.admin,
        }
    }

    /// A signed-up customer and their context.
    pub async fn customer(&self, t: &TestDb, email: &str) -> (UserId, RequestContext) {
        let id = cityos_fixtures::customer(t, &self.info, email).await;
        (id, user_context(Some(&self.info), id, &[Role::Customer]))
    }

    /// `user` acting for `vendor` with `role` (what `x-vendor-id` resolves to for a member).
    pub fn acting(&self, user: UserId, vendor: VendorId, role: VendorRole) -> RequestContext {
        vendor_context(&self.info, user, vendor, role)
    }

    /// The context of customer `id` (signed in, not acting for a vendor).
    pub fn customer_context_of(&self, id: UserId) -> RequestContext {
        user_context(Some(&self.info), id, &[Role::Customer])
    }

    /// A storefront visitor.
    pub fn guest(&self) -> RequestContext {
        cityos_testkit::context(Some(&self.info), cityos_core::Actor::Anonymous)
    }
}

/// Runs `query` as `ctx` through the vendors schema; the response's `data`, with no errors.
pub async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let r = raw(t, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// Runs `query` as `ctx`: the whole response.
pub async fn raw(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    t.graphql::<Vendors>(&schema, ctx, query, vars).await
}

pub const APPLY: &str = "mutation($i: VendorApplyInput!) { vendorApply(input: $i) {
    vendor { id handle status defaultCurrency handlingDays } userErrors { field code message } } }";

/// The lifecycle mutations, by name: `vendorApprove` and the others take `VendorTransitionInput`.
pub fn transition(name: &str) -> String {
    format!(
        "mutation($i: VendorTransitionInput!) {{ {name}(input: $i) {{
            vendor {{ id status statusReason }} userErrors {{ field code message }} }} }}"
    )
}

pub const SUBMIT: &str =
    "mutation($i: VendorDocumentSubmitInput!) { vendorDocumentSubmit(input: $i) {
    document { id kind status } userErrors { field code message } } }";
pub const REVIEW: &str =
    "mutation($i: VendorDocumentReviewInput!) { vendorDocumentReview(input: $i) {
    document { id status reason } userErrors { field code message } } }";

/// `customer` applies with `handle`; the new vendor's id.
pub async fn apply(t: &TestDb, customer: &RequestContext, handle: &str) -> VendorId {
    let r = run(
        t,
        customer,
        APPLY,
        json!({ "i": { "name": format!("{handle} house"), "handle": handle, "email": format!("hello@{handle}.test") } }),
    )
    .await;
    let id = r["vendorApply"]["vendor"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("applied: {r}"));
    id.parse().expect("vendor id")
}

/// Submits and accepts every document kind for `vendor`, as its owner and staff.
pub async fn documents_accepted(t: &TestDb, shop: &Shop, owner: &RequestContext, vendor: VendorId) {
    for kind in [
        "COMMERCIAL_REGISTRATION",
        "VAT_CERTIFICATE",
        "OWNER_ID",
        "BANK_LETTER",
    ] {
        let r = run(t, owner, SUBMIT, json!({ "i": {
            "vendorId": vendor.to_string(), "kind": kind, "url": format!("https://files.test/{kind}.pdf"),
            "sha256": "a".repeat(64), "expiresOn": "2099-01-01" } }))
        .await;
        let id = r["vendorDocumentSubmit"]["document"]["id"].clone();
        assert!(id.is_string(), "{r}");
        let r = run(
            t,
            &shop.admin,
            REVIEW,
            json!({ "i": { "id": id, "accept": true } }),
        )
        .await;
        assert_eq!(r["vendorDocumentReview"]["document"]["status"], "ACCEPTED");
    }
}

/// A vendor taken to APPROVED: applied by a new customer (its owner), reviewed, documents
/// accepted. Returns the vendor and its owner's user id.
pub async fn approved(t: &TestDb, shop: &Shop, handle: &str) -> (VendorId, UserId) {
    let (owner, customer) = shop.customer(t, &format!("owner@{handle}.test")).await;
    let vendor = apply(t, &customer, handle).await;
    let acting = shop.acting(owner, vendor, VendorRole::Owner);
    documents_accepted(t, shop, &acting, vendor).await;
    for step in ["vendorReviewStart", "vendorApprove"] {
        let r = run(
            t,
            &shop.admin,
            &transition(step),
            json!({ "i": { "id": vendor.to_string() } }),
        )
        .await;
        assert_eq!(r[step]["userErrors"], json!([]), "{r}");
    }
    (vendor, owner)
}
