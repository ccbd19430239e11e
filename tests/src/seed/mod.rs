//! The demo data, loaded through the public GraphQL API (so it obeys every rule a client does) from
//! each subgraph's data file, `subgraphs/<name>/seed.json`, in the manifest's order: identity makes
//! tenant `dakkah` with its admin, a storefront key and a customer; the catalog 60 products in 12
//! verticals with variants, SAR and USD prices, stock in two locations, a running sale, volume
//! tiers, a Wholesale group on contract prices, categories, a collection and reviews; orders the
//! shipping methods, VAT and a discount code; vendors four approved marketplace vendors (each with
//! its owner, accepted documents and five of the catalog's products); bookings a clinic, a gym
//! class and a meeting room with their providers, rooms and hours. Every request is a named
//! operation of the subgraph's `operations.graphql`.
//!
//! `cargo xtask up` runs it (the `seed` binary) against the stack it starts; the credentials are
//! the caller's ([`Credentials`], kept in `.data/demo.json`). A tenant `dakkah` that exists already
//! is reused, not seeded again.

mod bookings;
mod catalog;
mod identity;
mod orders;
mod vendors;

use cityos_client::{Client, Error};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An account's sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// Its e-mail address.
    pub email: String,
    /// Its password.
    pub password: String,
}

/// Who the seed acts as and creates: the platform admin it signs in as, and the tenant admin and
/// customer it signs up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The platform admin the subgraphs were started with.
    pub platform_admin: Account,
    /// The demo tenant's admin.
    pub tenant_admin: Account,
    /// The demo customer.
    pub customer: Account,
    /// The owner of the first demo vendor (the others' owners share its password).
    pub vendor_owner: Account,
    /// The storefront's publishable key, once seeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishable_key: Option<String>,
}

/// A failed seed.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// What identity's part leaves for the others: the tenant's staff and storefront, and the demo
/// customer's id.
pub struct Tenant {
    /// Its slug.
    pub slug: String,
    /// The tenant admin, with the tenant selected.
    pub staff: Client,
    /// The storefront's publishable key.
    pub key: String,
    /// A storefront client (the publishable key).
    pub storefront: Client,
    /// The demo customer's user id.
    pub customer: Value,
}

/// The data files, by subgraph; each has a loader in [`seed`] (a subgraph without a data file
/// seeds nothing).
const DATA: &[(&str, &str)] = &[
    (
        "identity",
        include_str!("../../../subgraphs/identity/seed.json"),
    ),
    (
        "catalog",
        include_str!("../../../subgraphs/catalog/seed.json"),
    ),
    (
        "orders",
        include_str!("../../../subgraphs/orders/seed.json"),
    ),
    (
        "bookings",
        include_str!("../../../subgraphs/bookings/seed.json"),
    ),
    (
        "vendors",
        include_str!("../../../subgraphs/vendors/seed.json"),
    ),
];

/// A subgraph's data file, parsed.
fn data<T: DeserializeOwned>(subgraph: &str) -> Result<T> {
    let (_, text) = DATA
        .iter()
        .find(|(name, _)| *name == subgraph)
        .ok_or_else(|| format!("no seed data for {subgraph}"))?;
    serde_json::from_str(text).map_err(|e| format!("subgraphs/{subgraph}/seed.json: {e}").into())
}

/// The payload of a staff or storefront mutation, failing on any error or refusal.
pub(crate) async fn run(
    client: &Client,
    operation: cityos_client::Operation,
    variables: Value,
) -> Result<Value, Error> {
    client.run(operation, variables).await?.ok()
}

/// Seeds the demo tenant through `endpoint` (the router) unless it exists, with the Stripe account
/// of the environment (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`) for the demo's payout; returns
/// whether it seeded, and records the storefront key in `credentials`.
pub async fn seed(endpoint: &str, credentials: &mut Credentials) -> Result<bool> {
    seed_with(
        endpoint,
        credentials,
        cityos_server::stripe::Stripe::from_env().as_ref(),
    )
    .await
}

/// [`seed`] with the given Stripe account (the subgraphs' own), or none: no payout then.
pub async fn seed_with(
    endpoint: &str,
    credentials: &mut Credentials,
    stripe: Option<&cityos_server::stripe::Stripe>,
) -> Result<bool> {
    let router = Client::new(endpoint);
    let manifest = cityos_stack::Manifest::load()?;
    let identity_data = data("identity")?;
    let Some(tenant) = identity::load(&router, credentials, &identity_data).await? else {
        return Ok(false);
    };
    // In the data files' order, not the start order: the vendors' demo orders are placed on
    // orders' shipping methods and tax rules, so orders seeds before vendors.
    let mut names = manifest.names();
    names.sort_by_key(|n| DATA.iter().position(|(d, _)| d == n).unwrap_or(usize::MAX));
    for name in names {
        match name {
            "identity" => {}
            "catalog" => catalog::load(&router, &tenant, &data("catalog")?).await?,
            "orders" => orders::load(&tenant, &data("orders")?).await?,
            "bookings" => bookings::load(&tenant, &data("bookings")?).await?,
            "vendors" => {
                let data = data("vendors")?;
                vendors::load(&router, &tenant, &data, &credentials.vendor_owner, stripe).await?;
            }
            other if DATA.iter().any(|(name, _)| *name == other) => {
                return Err(format!("{other} has seed data but no loader").into());
            }
            _ => {}
        }
    }
    credentials.publishable_key = Some(tenant.key);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_file_parses() {
        data::<identity::Data>("identity").expect("identity");
        data::<catalog::Data>("catalog").expect("catalog");
        data::<orders::Data>("orders").expect("orders");
        data::<vendors::Data>("vendors").expect("vendors");
        data::<bookings::Data>("bookings").expect("bookings");
    }

    #[test]
    fn every_data_file_is_a_subgraph_of_the_manifest() {
        let manifest = cityos_stack::Manifest::load().expect("subgraphs.toml");
        for (name, _) in DATA {
            assert!(manifest.names().contains(name), "{name}");
        }
    }
}
