//! The commerce scenarios' set-up: a shop of four vendors with stock, shipping and VAT, and carts
//! ready to add to or check out.

use super::Args;
use cityos_e2e::Stack;
use cityos_e2e::fixtures::{create_stocked_product, staff_op};
use cityos_e2e::operations::{catalog, orders};
use serde_json::json;

/// Request bodies of the commerce scenarios.
pub(crate) struct Commerce {
    /// `cartLinesAdd` of one unit to open carts, cycling over carts and variants.
    pub(crate) adds: Vec<String>,
    /// `checkoutComplete` of distinct ready carts: 4 lines of one vendor.
    pub(crate) one_vendor: Vec<String>,
    /// The same with 4 lines of 4 vendors.
    pub(crate) four_vendors: Vec<String>,
    /// How many of each checkout list are for the warm-up.
    pub(crate) warm: usize,
}

pub(crate) const ADDRESS: &str = "{ firstName: \"Bench\", lastName: \"Buyer\", line1: \"Olaya Street 1\", city: \"Riyadh\", postalCode: \"12211\", countryCode: \"SA\" }";

/// Guest carts with one unit of each of `lines` (none for empty carts), an e-mail and an address;
/// returns their ids.
pub(crate) async fn carts(stack: &Stack, key: &str, n: usize, lines: &[String]) -> Vec<String> {
    carts_as(stack, &[("x-publishable-key", key)], n, lines, 1).await
}

/// Carts created by the caller of `headers` (a company buyer's are their company's), with
/// `quantity` of each of `lines`, an e-mail and an address; returns their ids.
pub(crate) async fn carts_as(
    stack: &Stack,
    headers: &[(&str, &str)],
    n: usize,
    lines: &[String],
    quantity: u32,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let batch = (n - ids.len()).min(25);
        let document: String = (0..batch)
            .map(|k| format!("c{k}: cartCreate(input: {{ email: \"bench@example.com\" }}) {{ cart {{ id }} }} "))
            .collect();
        let created = mutations(stack, headers, &document, "creating carts").await;
        for k in 0..batch {
            ids.push(
                created[format!("c{k}")]["cart"]["id"]
                    .as_str()
                    .expect("cart")
                    .to_owned(),
            );
        }
    }
    let items: String = lines
        .iter()
        .map(|v| format!("{{ variantId: \"{v}\", quantity: {quantity} }}, "))
        .collect();
    for chunk in ids.chunks(10) {
        let document: String = chunk
            .iter()
            .enumerate()
            .map(|(k, cart)| {
                let add = if lines.is_empty() {
                    String::new()
                } else {
                    format!("l{k}: cartLinesAdd(input: {{ cartId: \"{cart}\", lines: [{items}] }}) {{ userErrors {{ code }} }} ")
                };
                format!("{add}u{k}: cartUpdate(input: {{ cartId: \"{cart}\", shippingAddress: {ADDRESS} }}) {{ userErrors {{ code }} }} ")
            })
            .collect();
        mutations(stack, headers, &document, "preparing carts").await;
    }
    ids
}

/// Runs `document`, aliased mutation fields, as the caller of `headers`; fails naming `what` on
/// any error or user error, else returns the data.
pub(crate) async fn mutations(
    stack: &Stack,
    headers: &[(&str, &str)],
    document: &str,
    what: &str,
) -> serde_json::Value {
    let r = stack
        .gql(headers, &format!("mutation {{ {document} }}"), json!({}))
        .await;
    assert!(
        !r.body.to_string().contains("\"code\""),
        "{what}: {}",
        r.body
    );
    r.data().clone()
}

/// Seven products for sale (four of one vendor, one each of three others) with plenty of stock,
/// a flat shipping rate and 15% VAT, and the carts the commerce scenarios use.
pub(crate) async fn prepare_commerce(
    stack: &Stack,
    shop: &cityos_e2e::fixtures::Tenant,
    location: &str,
    args: &Args,
) -> Commerce {
    let vendors: Vec<String> = (0..4).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let mut variants = Vec::new();
    for (i, vendor) in [0, 0, 0, 0, 1, 2, 3].into_iter().enumerate() {
        let (product, created) =
            create_stocked_product(stack, shop, &format!("bench-shop-{i}"), location, 100_000)
                .await;
        staff_op(
            stack,
            shop,
            catalog::PRODUCT_UPDATE,
            json!({ "input": { "id": product, "vendorId": vendors[vendor] } }),
        )
        .await;
        variants.push(created[0].clone());
    }
    staff_op(
        stack,
        shop,
        orders::SHIPPING_METHOD_CREATE,
        json!({ "input": { "name": "Courier", "kind": "FLAT_RATE", "rateMinor": 1500 } }),
    )
    .await;
    staff_op(
        stack,
        shop,
        orders::TAX_RULE_CREATE,
        json!({ "input": { "name": "VAT", "countryCode": "SA", "rateBasisPoints": 1500, "inclusive": false } }),
    )
    .await;
    let rate = usize::try_from(args.commerce_rate).unwrap_or(50);
    let warm = 2 * rate;
    let needed = warm + rate * usize::try_from(args.seconds).unwrap_or(10);
    let open = carts(stack, &shop.key, 300, &[]).await;
    let adds = (0..open.len() * 2)
        .map(|i| {
            let (cart, variant) = (&open[i % open.len()], &variants[i % variants.len()]);
            cityos_client::body(
                orders::CART_LINES_ADD,
                json!({ "input": { "cartId": cart, "lines": [{ "variantId": variant, "quantity": 1 }] } }),
            )
        })
        .collect();
    let checkout = |ids: Vec<String>, tag: &str| -> Vec<String> {
        ids.iter()
            .enumerate()
            .map(|(i, cart)| {
                cityos_client::body(
                    orders::CHECKOUT_COMPLETE,
                    json!({ "input": { "cartId": cart, "idempotencyKey": format!("bench-{tag}-{i}") } }),
                )
            })
            .collect()
    };
    let one = carts(stack, &shop.key, needed, &variants[..4]).await;
    let four = carts(
        stack,
        &shop.key,
        needed,
        &[
            variants[0].clone(),
            variants[4].clone(),
            variants[5].clone(),
            variants[6].clone(),
        ],
    )
    .await;
    Commerce {
        adds,
        one_vendor: checkout(one, "one"),
        four_vendors: checkout(four, "four"),
        warm,
    }
}
