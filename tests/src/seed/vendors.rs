//! Vendors' demo data: four marketplace vendors, each applied for by its own owner (a customer
//! signed up for it; the first is the demo's vendor owner), its documents submitted by the owner
//! acting for it and accepted by staff, approved, and then given its products of the catalog's
//! demo data. The catalog learns of each approval from the vendor's event, so the products are
//! moved once it has (a vendor it has not seen approved is refused as NOT_FOUND). Then the
//! marketplace's commission rules: a default, and rules for two of the vendors. Last, a B2B buying
//! company: its admin registers it, staff verify it and grant NET_30 terms with a credit limit and
//! the catalog's contract group, an approver and a buyer (with a monthly limit) join by
//! invitation, and an approval rule sends large orders to the approver.

use super::{Account, Result, Tenant, run};
use cityos_client::operations::{catalog, orders, vendors};
use cityos_client::{Client, Error};
use cityos_server::stripe::Stripe;
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
    /// Days after delivery before a sale's money is available (the demo's: so its payout shows).
    hold_days: i32,
    /// Orders a guest places, each a list of (product handle, quantity) (the first variant of
    /// each): paid, shipped and delivered, so the vendors have sales, commissions and ledgers.
    orders: Vec<Vec<(String, i32)>>,
    /// The vendor paid out, through Stripe Connect, when Stripe is configured.
    paid_out: String,
    /// A B2B buying company with an admin, an approver and a buyer.
    company: CompanyData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CompanyData {
    admin: Owner,
    approver: Owner,
    buyer: Owner,
    /// A `CompanyRegisterInput`.
    profile: Value,
    /// A `CompanyTermsInput` without its id.
    terms: Value,
    /// The name of the catalog's customer group whose contract prices the company gets.
    contract_group: String,
    buyer_monthly_limit_minor: i64,
    /// A `CompanyApprovalRuleCreateInput` without its company.
    approval_rule: Value,
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
    stripe: Option<&Stripe>,
) -> Result<()> {
    let staff = &tenant.staff;
    let mut ids: Vec<(String, String)> = Vec::new();
    let mut teams: Vec<(String, Client)> = Vec::new();
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
        teams.push((id.clone(), acting.clone()));
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
    run(
        staff,
        vendors::VENDOR_SETTINGS_UPDATE,
        json!({ "input": { "holdDays": data.hold_days } }),
    )
    .await?;
    for lines in &data.orders {
        sell(tenant, lines).await?;
    }
    for (vendor, team) in &teams {
        deliver(team, vendor).await?;
    }
    let paid = ids
        .iter()
        .find(|(handle, _)| *handle == data.paid_out)
        .and_then(|(_, id)| teams.iter().find(|(v, _)| v == id))
        .ok_or_else(|| format!("no demo vendor `{}` to pay out", data.paid_out))?;
    if let Some(stripe) = stripe {
        pay_out(stripe, &paid.1, &paid.0).await?;
    }
    company(router, tenant, &data.company, &first_owner.password).await
}

/// The demo's B2B company (see the module documentation).
async fn company(
    router: &Client,
    tenant: &Tenant,
    data: &CompanyData,
    password: &str,
) -> Result<()> {
    let staff = &tenant.staff;
    let customer = async |who: &Owner| {
        super::identity::customer(router, tenant, &who.email, password, &who.first_name).await
    };
    let admin = customer(&data.admin).await?;
    let registered = run(
        &admin,
        vendors::COMPANY_REGISTER,
        json!({ "input": data.profile }),
    )
    .await?;
    let id = registered["company"]["id"]
        .as_str()
        .ok_or("no company id")?
        .to_owned();
    let admin = admin.header("x-company-id", id.clone());
    run(
        staff,
        vendors::COMPANY_ACTIVATE,
        json!({ "input": { "id": id } }),
    )
    .await?;
    let groups = run(staff, catalog::CUSTOMER_GROUPS, json!({})).await?;
    let group = groups["edges"]
        .as_array()
        .and_then(|edges| {
            edges
                .iter()
                .find(|e| e["node"]["name"] == data.contract_group.as_str())
        })
        .map(|e| e["node"]["id"].clone())
        .ok_or_else(|| format!("no customer group `{}`", data.contract_group))?;
    let mut terms = data.terms.clone();
    terms["id"] = json!(id);
    terms["customerGroupId"] = group;
    run(
        staff,
        vendors::COMPANY_TERMS_UPDATE,
        json!({ "input": terms }),
    )
    .await?;
    let mut members = Vec::new();
    for (who, role) in [(&data.approver, "APPROVER"), (&data.buyer, "BUYER")] {
        let invited = run(
            &admin,
            vendors::COMPANY_INVITE,
            json!({ "input": { "companyId": id, "email": who.email, "role": role } }),
        )
        .await?;
        let token = invited["token"].clone();
        let member = customer(who).await?;
        let joined = run(
            &member,
            vendors::COMPANY_INVITATION_ACCEPT,
            json!({ "token": token }),
        )
        .await?;
        members.push(joined["member"]["userId"].clone());
    }
    run(
        &admin,
        vendors::COMPANY_MEMBER_LIMITS_SET,
        json!({ "input": { "companyId": id, "userId": members[1],
            "monthlyLimit": data.buyer_monthly_limit_minor } }),
    )
    .await?;
    let mut rule = data.approval_rule.clone();
    rule["companyId"] = json!(id);
    run(
        &admin,
        vendors::COMPANY_APPROVAL_RULE_CREATE,
        json!({ "input": rule }),
    )
    .await?;
    Ok(())
}

/// A guest orders `lines` (product handle, quantity) by bank transfer; staff record the money.
async fn sell(tenant: &Tenant, lines: &[(String, i32)]) -> Result<()> {
    let shop = &tenant.storefront;
    let mut items = Vec::new();
    for (handle, quantity) in lines {
        let product = run(
            shop,
            catalog::PRODUCT_VARIANT_IDS,
            json!({ "handle": handle }),
        )
        .await?;
        let variant = product["variants"][0]["id"].clone();
        if variant.is_null() {
            return Err(format!("no demo product `{handle}` to order").into());
        }
        items.push(json!({ "variantId": variant, "quantity": quantity }));
    }
    let cart = run(shop, orders::CART_CREATE, json!({ "input": {} })).await?;
    let cart = cart["cart"]["id"].clone();
    let address = json!({ "firstName": "Huda", "lastName": "Al-Otaibi", "line1": "Tahlia Street 12",
        "city": "Jeddah", "postalCode": "23431", "countryCode": "SA" });
    run(
        shop,
        orders::CART_LINES_ADD,
        json!({ "input": { "cartId": cart, "lines": items } }),
    )
    .await?;
    run(shop, orders::CART_UPDATE, json!({ "input": { "cartId": cart, "email": "huda@example.com", "shippingAddress": address } })).await?;
    let placed = run(
        shop,
        orders::CHECKOUT_COMPLETE,
        json!({ "input": { "cartId": cart, "idempotencyKey": cart } }),
    )
    .await?;
    let order = placed["order"]["id"].clone();
    let payments = run(
        &tenant.staff,
        orders::ORDER_PAYMENTS,
        json!({ "orderId": order }),
    )
    .await?;
    let payment = payments["payments"][0]["id"].clone();
    run(
        &tenant.staff,
        orders::PAYMENT_CAPTURE,
        json!({ "input": { "paymentId": payment } }),
    )
    .await?;
    Ok(())
}

/// `vendor`'s team ships and delivers every part of an order it has to ship.
async fn deliver(team: &Client, vendor: &str) -> Result<()> {
    let parts = run(
        team,
        orders::VENDOR_ORDERS_TO_SHIP,
        json!({ "vendorId": vendor }),
    )
    .await?;
    for part in parts["edges"].as_array().into_iter().flatten() {
        let number = part["node"]["orderNumber"].as_i64().unwrap_or_default();
        let shipped = run(team, orders::FULFILLMENT_CREATE, json!({ "input": {
            "vendorOrderId": part["node"]["id"], "carrier": "SMSA", "trackingNumber": format!("SMSA-{number:06}") } })).await?;
        run(
            team,
            orders::FULFILLMENT_DELIVER,
            json!({ "input": { "fulfillmentId": shipped["fulfillment"]["id"] } }),
        )
        .await?;
    }
    Ok(())
}

/// Opens `vendor`'s connected account at Stripe, records it, and pays its available money out,
/// waiting (up to 30 s each) for the sales to reach its ledger and for the transfer. With
/// Stripe's own test mode the account still needs its onboarding, so nothing is paid yet.
async fn pay_out(stripe: &Stripe, team: &Client, vendor: &str) -> Result<()> {
    let account = stripe
        .post(
            "/v1/accounts",
            &format!("demo-account-{vendor}"),
            &[
                ("type", "custom".to_owned()),
                ("country", "SA".to_owned()),
                ("capabilities[transfers][requested]", "true".to_owned()),
            ],
        )
        .await
        .map_err(|e| e.message)?;
    let terms = run(
        team,
        vendors::VENDOR_PAYOUT_TERMS_UPDATE,
        json!({ "input": {
        "vendorId": vendor, "stripeAccountId": account["id"] } }),
    )
    .await?;
    if terms["terms"]["accountState"] != "ACTIVE" {
        return Ok(());
    }
    until(team, vendor, |money| {
        money["balances"][0]["available"]["amountMinor"]
            .as_i64()
            .unwrap_or(0)
            > 0
    })
    .await?;
    run(
        team,
        vendors::VENDOR_PAYOUT_REQUEST,
        json!({ "input": { "vendorId": vendor, "currency": "SAR" } }),
    )
    .await?;
    until(team, vendor, |money| {
        money["payouts"]["edges"][0]["node"]["status"] == "PAID"
    })
    .await
}

/// Waits (up to 30 s) until `vendor`'s money satisfies `done`.
async fn until(team: &Client, vendor: &str, done: impl Fn(&Value) -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let money = run(team, vendors::VENDOR_MONEY, json!({ "vendorId": vendor })).await?;
        if done(&money) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("vendor {vendor}'s money never got there: {money}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
