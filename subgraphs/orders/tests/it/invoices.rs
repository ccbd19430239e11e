//! Invoices on confirmation (gap-free numbers, snapshot lines and taxes, PAID, OVERDUE, VOID),
//! credit notes per refund, the printable document, and tenant isolation.

use crate::common::*;
use cityos_testkit::TestDb;
use futures_util::future::join_all;
use orders::ids::OrderId;
use orders::payments::Gateway;
use serde_json::{Value, json};

const DOCUMENTS: &str = "query($o: ID!) { order(id: $o) { paymentStatus invoices {
    kind number displayNumber status creditedInvoiceId refundId subtotal { amountMinor }
    discountTotal { amountMinor } shippingTotal { amountMinor } taxTotal { amountMinor }
    total { amountMinor } dueAt paidAt documentHtml } } }";

async fn documents(t: &TestDb, shop: &Shop, order: OrderId) -> Vec<Value> {
    let v = gql(t, &shop.admin, DOCUMENTS, json!({"o": order.to_string()})).await;
    v["data"]["order"]["invoices"]
        .as_array()
        .unwrap_or_else(|| panic!("no invoices in {v}"))
        .clone()
}

async fn confirm(t: &TestDb, shop: &Shop, order: OrderId) {
    orders::orders::confirm(t.db(), &shop.admin, order)
        .await
        .expect("confirmed");
}

fn amount(doc: &Value, field: &str) -> i64 {
    doc[field]["amountMinor"].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn an_invoice_is_issued_on_confirmation_paid_voided_and_credited_per_refund() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let oud = item(&t, &souq, "OUD-1", 10000, 10, None).await;
    let vat = "mutation { taxRuleCreate(input: {name: \"VAT\", countryCode: \"SA\", rateBasisPoints: 1500, inclusive: false}) { userErrors { code } } }";
    gql(&t, &souq.admin, vat, json!({})).await;
    let buyer = souq.customer();

    // Placed: no invoice. Confirmed (cash on delivery): invoice 1, ISSUED, due in 14 days.
    let cart = ready_cart(&t, &buyer, vec![line(oud, 2)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "a")
        .await
        .expect("order");
    assert!(documents(&t, &souq, order.id).await.is_empty());
    confirm(&t, &souq, order.id).await;
    let docs = documents(&t, &souq, order.id).await;
    let invoice = &docs[0];
    assert_eq!(
        (
            invoice["kind"].as_str(),
            invoice["displayNumber"].as_str(),
            invoice["status"].as_str()
        ),
        (Some("INVOICE"), Some("INV-000001"), Some("ISSUED"))
    );
    assert_eq!(
        (
            amount(invoice, "subtotal"),
            amount(invoice, "taxTotal"),
            amount(invoice, "total")
        ),
        (20000, 3000, 23000)
    );
    assert!(invoice["dueAt"].is_string() && invoice["paidAt"].is_null());
    let html = invoice["documentHtml"].as_str().expect("html");
    assert!(
        html.contains("INV-000001") && html.contains("OUD-1") && html.contains("15.00%"),
        "{html}"
    );
    assert!(html.contains("Sara") && html.contains("<table>"), "{html}");

    // The money arrives: PAID. Two refunds: two credit notes with their share of the tax.
    let payment = payment_of(&t, &souq, order.id).await.id;
    orders::orders::capture_payment(t.db(), &souq.admin, payment)
        .await
        .expect("captured");
    let none = Gateway::default();
    orders::refunds::refund(
        t.db(),
        &souq.admin,
        &none,
        payment,
        4600,
        Some("one <broken> flask".into()),
    )
    .await
    .expect("refund");
    orders::refunds::refund(t.db(), &souq.admin, &none, payment, 2300, None)
        .await
        .expect("refund");
    let docs = documents(&t, &souq, order.id).await;
    assert_eq!(docs.len(), 3);
    assert_eq!(
        (docs[0]["status"].as_str(), docs[0]["paidAt"].is_string()),
        (Some("PAID"), true)
    );
    let notes: Vec<(String, i64, i64)> = docs[1..]
        .iter()
        .map(|d| {
            (
                d["displayNumber"].as_str().unwrap_or("").to_owned(),
                amount(d, "total"),
                amount(d, "taxTotal"),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            ("CN-000001".to_owned(), 4600, 600),
            ("CN-000002".to_owned(), 2300, 300)
        ]
    );
    assert!(
        docs[1..]
            .iter()
            .all(|d| d["kind"] == "CREDIT_NOTE" && d["refundId"].is_string())
    );
    let note_html = docs[1]["documentHtml"].as_str().expect("html");
    assert!(
        note_html.contains("Refund against invoice INV-000001"),
        "{note_html}"
    );
    assert!(
        note_html.contains("one &lt;broken&gt; flask") && !note_html.contains("<broken>"),
        "escaped: {note_html}"
    );

    // A confirmed, unpaid order that is cancelled voids its invoice; an overdue one says so.
    let cart = ready_cart(&t, &buyer, vec![line(oud, 1)]).await;
    let cancelled = check_out(&t, &buyer, cart.cart.id, "b")
        .await
        .expect("order");
    confirm(&t, &souq, cancelled.id).await;
    orders::orders::cancel(t.db(), &souq.admin, cancelled.id, None, &none)
        .await
        .expect("cancelled");
    let docs = documents(&t, &souq, cancelled.id).await;
    assert_eq!(
        (
            docs[0]["displayNumber"].as_str(),
            docs[0]["status"].as_str()
        ),
        (Some("INV-000002"), Some("VOID"))
    );
    let cart = ready_cart(&t, &buyer, vec![line(oud, 1)]).await;
    let late = check_out(&t, &buyer, cart.cart.id, "c")
        .await
        .expect("order");
    confirm(&t, &souq, late.id).await;
    let id = late.id;
    t.db()
        .tenant_tx(souq.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "UPDATE orders.invoices SET due_at = now() - interval '1 day' WHERE order_id = $1",
            )
            .bind::<diesel::sql_types::Uuid, _>(id)
            .execute(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("backdated");
    assert_eq!(documents(&t, &souq, late.id).await[0]["status"], "OVERDUE");
    assert_eq!(
        t.visible_rows("orders.invoices", Some(souq.info.id)).await,
        5
    );

    // Isolation: another tenant sees none of them.
    let other = shop(&t, "other").await;
    assert_eq!(
        t.visible_rows("orders.invoices", Some(other.info.id)).await,
        0
    );
    assert_eq!(t.visible_rows("orders.invoices", None).await, 0);
    let v = gql(
        &t,
        &other.admin,
        DOCUMENTS,
        json!({"o": order.id.to_string()}),
    )
    .await;
    assert_eq!(v["data"]["order"], Value::Null);
}

#[tokio::test]
async fn racing_confirmations_number_invoices_without_gaps() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let tea = item(&t, &souq, "TEA-1", 500, 100, None).await;
    let mut placed = Vec::new();
    for i in 0..12 {
        let buyer = souq.customer();
        let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
        placed.push(
            check_out(&t, &buyer, cart.cart.id, &format!("k{i}"))
                .await
                .expect("order")
                .id,
        );
    }
    let outcomes = join_all(
        placed
            .iter()
            .map(|o| orders::orders::confirm(t.db(), &souq.admin, *o)),
    )
    .await;
    assert!(outcomes.iter().all(Result::is_ok));
    let mut numbers = Vec::new();
    for order in &placed {
        numbers.push(
            documents(&t, &souq, *order).await[0]["number"]
                .as_i64()
                .expect("number"),
        );
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=12).collect::<Vec<i64>>());
}
