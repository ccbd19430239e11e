//! Set-up through the public API, shared by the end-to-end tests and the benchmark.

use crate::operations::{catalog, identity};
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Operation, Response, Stack};
use serde_json::json;

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
        .op(
            &[],
            identity::SIGN_IN,
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
        .op(
            &[("authorization", &bearer(platform))],
            identity::TENANT_CREATE,
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
        .op(&[("x-tenant", slug)], identity::SIGN_IN, json!({ "input": { "email": admin_email.to_uppercase(), "password": "tenant-admin-pass" } }))
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
        .op(
            &headers(&staff),
            identity::API_KEY_CREATE,
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
        .op(
            &headers(&tenant.staff()),
            catalog::PRODUCT_CREATE,
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
    payload_of(stack.gql(&headers(&tenant.staff()), query, variables).await)
}

/// [`staff_mutation`] with a named operation.
pub async fn staff_op(
    stack: &Stack,
    tenant: &Tenant,
    operation: Operation,
    variables: serde_json::Value,
) -> serde_json::Value {
    payload_of(
        stack
            .op(&headers(&tenant.staff()), operation, variables)
            .await,
    )
}

/// The payload of a mutation response whose payload is its only root field, after checking it has
/// no errors and no user errors.
pub fn payload_of(r: Response) -> serde_json::Value {
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
    staff_op(
        stack,
        tenant,
        catalog::PRODUCT_OPTION_CREATE,
        json!({ "input": { "productId": product, "name": "Size", "values": ["S", "L"] } }),
    )
    .await;
    let mut variants = Vec::new();
    for (size, sar) in [("S", 9_900), ("L", 14_900)] {
        let created = staff_op(
            stack,
            tenant,
            catalog::PRODUCT_VARIANT_CREATE,
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
            staff_op(
                stack,
                tenant,
                catalog::STOCK_ADJUST,
                json!({ "input": { "variantId": id, "locationId": location, "delta": units, "reason": "RECEIVED" } }),
            )
            .await;
        }
        variants.push(id);
    }
    (product, variants)
}

/// Creates a stock location; returns its id.
pub async fn create_location(stack: &Stack, tenant: &Tenant, name: &str) -> String {
    let payload = staff_op(
        stack,
        tenant,
        catalog::STOCK_LOCATION_CREATE,
        json!({ "input": { "name": name } }),
    )
    .await;
    payload["stockLocation"]["id"]
        .as_str()
        .expect("location id")
        .to_owned()
}

/// Signs a customer up on `tenant`'s storefront (its publishable key) and in: their access token
/// and user id.
pub async fn customer(stack: &Stack, tenant: &Tenant, email: &str) -> (String, String) {
    let password = "customer-pass-1";
    let storefront = [("x-publishable-key", tenant.key.as_str())];
    let r = stack
        .op(
            &storefront,
            identity::CUSTOMER_SIGN_UP,
            json!({ "input": { "email": email, "password": password } }),
        )
        .await;
    let user = r.data()["customerSignUp"]["user"]["id"]
        .as_str()
        .expect("user")
        .to_owned();
    let r = stack
        .op(
            &[("x-tenant", tenant.slug.as_str())],
            identity::SIGN_IN,
            json!({ "input": { "email": email, "password": password } }),
        )
        .await;
    let token = r.data()["signIn"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    (token, user)
}

/// A signed-in caller of a tenant, acting for a company (`x-company-id`) when given.
pub struct Caller {
    /// Their access token.
    pub token: String,
    /// The tenant's slug.
    pub slug: String,
    /// The company they act for.
    pub company: Option<String>,
}

impl Caller {
    /// A customer of `tenant` signed up and in, acting for no company yet.
    pub async fn sign_up(stack: &Stack, tenant: &Tenant, email: &str) -> Self {
        Self {
            token: customer(stack, tenant, email).await.0,
            slug: tenant.slug.clone(),
            company: None,
        }
    }

    /// Their request headers.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("authorization", bearer(&self.token)),
            ("x-tenant", self.slug.clone()),
        ];
        if let Some(company) = &self.company {
            h.push(("x-company-id", company.clone()));
        }
        h
    }

    /// Sends `query` as them.
    pub async fn post(&self, stack: &Stack, query: &str, vars: serde_json::Value) -> Response {
        let h = self.headers();
        stack.gql(&headers(&h), query, vars).await
    }

    /// Sends `query` as them: the response's data.
    pub async fn send(
        &self,
        stack: &Stack,
        query: &str,
        vars: serde_json::Value,
    ) -> serde_json::Value {
        self.post(stack, query, vars).await.data().clone()
    }

    /// A mutation that must succeed: its payload.
    pub async fn ok(
        &self,
        stack: &Stack,
        query: &str,
        vars: serde_json::Value,
    ) -> serde_json::Value {
        payload_of(self.post(stack, query, vars).await)
    }
}

/// A company of `tenant`, active, with its admin, an approver and a buyer acting for it.
pub struct Company {
    /// Its id.
    pub id: String,
    /// The member who registered it (ADMIN).
    pub admin: Caller,
    /// An APPROVER, joined by invitation.
    pub approver: Caller,
    /// A BUYER, joined by invitation.
    pub buyer: Caller,
}

/// The billing address companies are registered with, and their carts ship to.
pub fn company_address() -> serde_json::Value {
    json!({ "firstName": "Acme", "lastName": "Stores", "line1": "Olaya St 1",
        "city": "Riyadh", "countryCode": "SA" })
}

/// Registers company `name` through the router (its admin `admin@<name>.test`), has staff activate
/// it and set `terms` (`CompanyTermsInput` without its id: payment terms, credit limit, customer
/// group, ...), and invites and signs in `approver@<name>.test` and `buyer@<name>.test`.
pub async fn company(
    stack: &Stack,
    tenant: &Tenant,
    name: &str,
    terms: serde_json::Value,
) -> Company {
    let domain = name.to_lowercase();
    let mut admin = Caller::sign_up(stack, tenant, &format!("admin@{domain}.test")).await;
    let id = admin
        .ok(stack,
            "mutation($i: CompanyRegisterInput!) { companyRegister(input: $i) { company { id } userErrors { code } } }",
            json!({ "i": { "name": name, "email": format!("ap@{domain}.test"), "billingAddress": company_address() } }))
        .await["company"]["id"]
        .as_str()
        .expect("company")
        .to_owned();
    admin.company = Some(id.clone());
    staff_mutation(stack, tenant,
        "mutation($i: CompanyTransitionInput!) { companyActivate(input: $i) { company { status } userErrors { code } } }",
        json!({ "i": { "id": id } })).await;
    let mut terms = terms;
    terms["id"] = json!(id);
    staff_mutation(stack, tenant,
        "mutation($i: CompanyTermsInput!) { companyTermsUpdate(input: $i) { company { paymentTerms } userErrors { code } } }",
        json!({ "i": terms })).await;
    let join = async |role: &str| {
        let email = format!("{}@{domain}.test", role.to_lowercase());
        let token = admin
            .ok(stack,
                "mutation($i: CompanyInviteInput!) { companyInvite(input: $i) { token userErrors { code } } }",
                json!({ "i": { "companyId": id, "email": email, "role": role } }))
            .await["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let mut member = Caller::sign_up(stack, tenant, &email).await;
        member
            .ok(stack,
                "mutation($t: String!) { companyInvitationAccept(token: $t) { member { userId } userErrors { code } } }",
                json!({ "t": token }))
            .await;
        member.company = Some(id.clone());
        member
    };
    let approver = join("APPROVER").await;
    let buyer = join("BUYER").await;
    Company {
        id,
        admin,
        approver,
        buyer,
    }
}

/// A contract: a customer group `name` whose OVERRIDE price list sells `variant` at `sar_minor`
/// SAR; returns the group's id.
pub async fn contract_price(
    stack: &Stack,
    tenant: &Tenant,
    name: &str,
    variant: &str,
    sar_minor: i64,
) -> serde_json::Value {
    let group = staff_mutation(stack, tenant,
        "mutation($i: CustomerGroupCreateInput!) { customerGroupCreate(input: $i) { customerGroup { id } userErrors { code } } }",
        json!({ "i": { "name": format!("{name} contract") } })).await["customerGroup"]["id"].clone();
    let list = staff_mutation(stack, tenant,
        "mutation($i: PriceListCreateInput!) { priceListCreate(input: $i) { priceList { id } userErrors { code } } }",
        json!({ "i": { "name": name, "kind": "OVERRIDE", "customerGroupId": group } })).await["priceList"]["id"].clone();
    staff_mutation(stack, tenant,
        "mutation($i: PriceListPricesSetInput!) { priceListPricesSet(input: $i) { priceList { id } userErrors { code } } }",
        json!({ "i": { "priceListId": list, "entries": [{ "variantId": variant, "prices": [{ "currency": "SAR", "amountMinor": sar_minor }] }] } })).await;
    group
}
