//! Orders' demo data: shipping methods, tax rules and discount codes, created by the tenant's staff
//! as the data file gives them (each entry is the mutation's input).

use super::{Result, Tenant, run};
use cityos_client::operations::orders;
use serde::Deserialize;
use serde_json::{Value, json};

/// `subgraphs/orders/seed.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Data {
    /// `ShippingMethodCreateInput`s.
    shipping_methods: Vec<Value>,
    /// `TaxRuleCreateInput`s.
    tax_rules: Vec<Value>,
    /// `DiscountCodeCreateInput`s.
    discount_codes: Vec<Value>,
}

pub(super) async fn load(tenant: &Tenant, data: &Data) -> Result<()> {
    let staff = &tenant.staff;
    for input in &data.shipping_methods {
        run(
            staff,
            orders::SHIPPING_METHOD_CREATE,
            json!({ "input": input }),
        )
        .await?;
    }
    for input in &data.tax_rules {
        run(staff, orders::TAX_RULE_CREATE, json!({ "input": input })).await?;
    }
    for input in &data.discount_codes {
        run(
            staff,
            orders::DISCOUNT_CODE_CREATE,
            json!({ "input": input }),
        )
        .await?;
    }
    Ok(())
}
