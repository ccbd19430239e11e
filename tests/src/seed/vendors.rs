//! Vendors' demo data: four marketplace vendors, each applied for by its own owner (a customer
//! signed up for it; the first is the demo's vendor owner), its documents submitted by the owner
//! acting for it and accepted by staff, approved, and then given its products of the catalog's
//! demo data. The catalog learns of each approval from the vendor's event, so the products are
//! moved once it has (a vendor it has not seen approved is refused as NOT_FOUND). Then the
//! marketplace's commission rules: a default, and rules for two of the vendors.

use super::{Account, Result, Tenant, run};
use cityos_client::operations::{catalog, vendors};
use cityos_client::{Client, Error};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// `subgraphs/vendors/seed.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Data {
    /// The last day the demo documents are valid.
    documents_valid_until: String,
    /// `CommissionRuleCreateInput`s; a VENDOR rule names its vendor by `vendorHandle`.
    commission_rules: Vec<Value>,
    vendors: Vec<VendorData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VendorData {
    owner: Owner,
    /// A `VendorApplyInput`.
    profile: Value,
    /// Handles of the catalog's demo products it sells.
    products: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Owner {
    email: String,
    first_name: String,
}

const DOCUMENTS: [&str; 4] = [
    "COMMERCIAL_REGISTRATION",
    "VAT_CERTIFICATE",
    "OWNER_ID",
    "BANK_LETTER",
];

/// Loads the vendors; the first one's owner signs in as `first_owner` (the others with its
/// password, at the addresses the data file gives).
pub(super) async fn load(
    router: &Client,
    tenant: &Tenant,
    data: &Data,
    first_owner: &Account,
) -> Result<()> {
    let staff = &tenant.staff;
    let mut ids: Vec<(String, String)> = Vec::new();
    for (i, vendor) in data.vendors.iter().enumerate() {
        let email = if i == 0 {
            first_owner.email.as_str()
        } else {
            vendor.owner.email.as_str()
        };
        let owner = super::identity::customer(
            router,
            tenant,
            email,
            &first_owner.password,
            &vendor.owner.first_name,
        )
        .await?;
        let applied = run(
            &owner,
            vendors::VENDOR_APPLY,
            json!({ "input": vendor.profile }),
        )
        .await?;
        let id = applied["vendor"]["id"]
            .as_str()
            .ok_or("no vendor id")?
            .to_owned();
        let acting = owner.header("x-vendor-id", id.clone());
        let handle = vendor.profile["handle"].as_str().unwrap_or_default();
        ids.push((handle.to_owned(), id.clone()));
        run(
            staff,
            vendors::VENDOR_REVIEW_START,
            json!({ "input": { "id": id } }),
        )
        .await?;
        for kind in DOCUMENTS {
            let handle = vendor.profile["handle"].as_str().unwrap_or("vendor");
            let input = json!({ "vendorId": id, "kind": kind,
                "url": format!("https://files.dakkah.sa/{handle}/{}.pdf", kind.to_ascii_lowercase()),
                "sha256": format!("{:064x}", i * 16 + kind.len()), "expiresOn": data.documents_valid_until });
            let doc = run(
                &acting,
                vendors::VENDOR_DOCUMENT_SUBMIT,
                json!({ "input": input }),
            )
            .await?;
            let doc = doc["document"]["id"].clone();
            run(
                staff,
                vendors::VENDOR_DOCUMENT_REVIEW,
                json!({ "input": { "id": doc, "accept": true } }),
            )
            .await?;
        }
        run(
            staff,
            vendors::VENDOR_APPROVE,
            json!({ "input": { "id": id } }),
        )
        .await?;
        for handle in &vendor.products {
            let product = run(
                staff,
                catalog::PRODUCT_BY_HANDLE,
                json!({ "handle": handle }),
            )
            .await?;
            let product = product["id"].clone();
            if product.is_null() {
                return Err(format!("no demo product `{handle}` for vendor {id}").into());
            }
            assign(staff, &product, &id).await?;
        }
    }
    for rule in &data.commission_rules {
        let mut input = rule.clone();
        if let Some(handle) = input.as_object_mut().and_then(|o| o.remove("vendorHandle")) {
            let handle = handle.as_str().unwrap_or_default();
            let (_, id) = ids
                .iter()
                .find(|(h, _)| h == handle)
                .ok_or_else(|| format!("a commission rule names no demo vendor `{handle}`"))?;
            input["targetId"] = json!(id);
        }
        run(
            staff,
            vendors::COMMISSION_RULE_CREATE,
            json!({ "input": input }),
        )
        .await?;
    }
    Ok(())
}

/// Gives `product` to `vendor`, waiting (up to 30 s) for the catalog to learn of its approval.
async fn assign(staff: &Client, product: &Value, vendor: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = staff
            .run(
                catalog::PRODUCT_UPDATE,
                json!({ "input": { "id": product, "vendorId": vendor } }),
            )
            .await?;
        match r.ok() {
            Ok(_) => return Ok(()),
            Err(Error::Refused(errors))
                if errors[0]["code"] == "NOT_FOUND" && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
