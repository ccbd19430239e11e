//! Identity's demo data: the tenant, its admin, a storefront key and a customer.

use super::{Credentials, Result, Tenant, run};
use cityos_client::Client;
use cityos_client::operations::identity;
use serde::Deserialize;
use serde_json::{Value, json};

/// `subgraphs/identity/seed.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Data {
    /// `TenantCreateInput` without the admin's e-mail and password (the credentials').
    tenant: Value,
    /// `ApiKeyCreateInput` of the storefront's key.
    storefront_key: Value,
    /// The customer's names.
    customer: Names,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Names {
    first_name: String,
    last_name: String,
}

/// Creates the tenant unless it exists (then `None`).
pub(super) async fn load(
    router: &Client,
    credentials: &Credentials,
    data: &Data,
) -> Result<Option<Tenant>> {
    let platform = router
        .signed_in(
            &credentials.platform_admin.email,
            &credentials.platform_admin.password,
        )
        .await?;
    let slug = data.tenant["slug"]
        .as_str()
        .ok_or("the tenant has no slug")?;
    let existing = platform
        .run(identity::TENANT_BY_SLUG, json!({ "slug": slug }))
        .await?
        .ok()?;
    if !existing.is_null() {
        eprintln!("demo tenant `{slug}` exists; reusing it");
        return Ok(None);
    }
    eprintln!("seeding demo tenant `{slug}`");
    let mut input = data.tenant.clone();
    input["admin"]["email"] = json!(credentials.tenant_admin.email);
    input["admin"]["password"] = json!(credentials.tenant_admin.password);
    run(
        &platform,
        identity::TENANT_CREATE,
        json!({ "input": input }),
    )
    .await?;

    let staff = router
        .tenant(slug)
        .signed_in(
            &credentials.tenant_admin.email,
            &credentials.tenant_admin.password,
        )
        .await?;
    let key = run(
        &staff,
        identity::API_KEY_CREATE,
        json!({ "input": data.storefront_key }),
    )
    .await?["token"]
        .as_str()
        .ok_or("no publishable key returned")?
        .to_owned();
    let storefront = router.publishable_key(&key);
    let customer = run(
        &storefront,
        identity::CUSTOMER_SIGN_UP,
        json!({ "input": { "email": credentials.customer.email, "password": credentials.customer.password,
            "firstName": data.customer.first_name, "lastName": data.customer.last_name } }),
    )
    .await?["user"]["id"]
        .clone();
    Ok(Some(Tenant {
        slug: slug.to_owned(),
        staff,
        key,
        storefront,
        customer,
    }))
}

/// Signs a new customer up on the storefront and returns them signed in, with the tenant selected.
pub(super) async fn customer(
    router: &Client,
    tenant: &Tenant,
    email: &str,
    password: &str,
    first_name: &str,
) -> Result<Client> {
    run(
        &tenant.storefront,
        identity::CUSTOMER_SIGN_UP,
        json!({ "input": { "email": email, "password": password, "firstName": first_name } }),
    )
    .await?;
    Ok(router
        .tenant(&tenant.slug)
        .signed_in(email, password)
        .await?)
}
