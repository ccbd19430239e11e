//! Checkout: one transaction from cart to order, idempotent, exact under races and refusals.

use crate::common::*;
use cityos_testkit::refusal;
use futures_util::future::join_all;
use orders::carts::{self, CartChanges};
use orders::checkout::{self, CheckoutRequest};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::VendorId;
use orders::orders as order_reads;
use orders::payments::PaymentMethod;

#[tokio::test]
async fn checkout_places_one_order_split_by_vendor_and_takes_the_stock() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let atelier = cityos_fixtures::approved_vendor(&t, &shop.info).await;
    let weaver = cityos_fixtures::approved_vendor(&t, &shop.info).await;
    let oud = item(&t, &shop, "OUD-1", 1250, 10, Some(atelier)).await;
    let musk = item(&t, &shop, "MUSK-1", 700, 10, Some(atelier)).await;
    let rug = item(&t, &shop, "RUG-1", 9900, 3, Some(weaver)).await;
    let tea = item(&t, &shop, "TEA-1", 300, 20, None).await;
    let buyer = shop.customer();
    let cart = ready_cart(
        &t,
        &buyer,
        vec![line(oud, 2), line(musk, 1), line(rug, 1), line(tea, 4)],
    )
    .await;
    let expected = 2 * 1250 + 700 + 9900 + 4 * 300;
    assert_eq!(cart.totals.total, expected);

    let order = checkout::complete(
        t.db(),
        &buyer,
        CheckoutRequest {
            cart_id: cart.cart.id,
            idempotency_key: "k-1".into(),
            payment_method: PaymentMethod::BankTransfer,
            expected_total: Some(expected),
            purchase_order_number: None,
        },
        &orders::payments::Gateway::default(),
    )
    .await
    .map(placed)
    .expect("order");
    assert_eq!(
        (
            order.number,
            order.status.as_str(),
            order.payment_status.as_str()
        ),
        (1, "PENDING", "UNPAID")
    );
    assert_eq!((order.subtotal, order.total), (expected, expected));
    assert_eq!(order.customer_id, buyer.user_id().ok());

    let id = order.id;
    let (parts, lines, payments) = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            let parts = order_reads::vendor_orders_of(tx, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            let lines = order_reads::lines_of(tx, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            let payments = order_reads::payments_of(tx, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            Ok::<_, cityos_core::ApiError>((parts, lines, payments))
        })
        .await
        .expect("read");
    // One vendor order per vendor and one for the tenant's own tea; they sum to the order.
    assert_eq!(parts.len(), 3);
    let total_of = |vendor: Option<VendorId>| {
        parts
            .iter()
            .find(|p| p.vendor_id == vendor)
            .map(|p| p.total)
    };
    assert_eq!(total_of(Some(atelier)), Some(2 * 1250 + 700));
    assert_eq!(total_of(Some(weaver)), Some(9900));
    assert_eq!(total_of(None), Some(1200));
    assert_eq!(parts.iter().map(|p| p.total).sum::<i64>(), order.total);
    // Lines keep a snapshot and point at their vendor order.
    assert_eq!(lines.len(), 4);
    let oud_line = lines
        .iter()
        .find(|l| l.variant_id == Some(oud))
        .expect("oud line");
    assert_eq!(
        (
            oud_line.sku.as_str(),
            oud_line.product_title.as_str(),
            oud_line.unit_price,
            oud_line.total
        ),
        ("OUD-1", "Product OUD-1", 1250, 2500)
    );
    assert_eq!(
        parts
            .iter()
            .find(|p| p.id == oud_line.vendor_order_id)
            .and_then(|p| p.vendor_id),
        Some(atelier)
    );
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (
            payments[0].method.as_str(),
            payments[0].status.as_str(),
            payments[0].amount
        ),
        ("BANK_TRANSFER", "PENDING", expected)
    );
    // Stock left the shelf; the cart is closed; the event is written.
    assert_eq!(on_hand(&t, &shop, oud).await, 8);
    assert_eq!(on_hand(&t, &shop, rug).await, 2);
    assert_eq!(on_hand(&t, &shop, tea).await, 16);
    let closed = carts::get(t.db(), &buyer, cart.cart.id)
        .await
        .expect("read")
        .expect("cart");
    assert_eq!(
        (closed.cart.status.as_str(), closed.cart.order_id),
        ("COMPLETED", Some(id))
    );
    assert_eq!(t.visible_rows("orders.outbox", Some(shop.info.id)).await, 1);
    assert_eq!(
        t.visible_rows("orders.allocations", Some(shop.info.id))
            .await,
        4
    );

    // The next order gets the next number.
    let second = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    let next = check_out(&t, &buyer, second.cart.id, "k-2")
        .await
        .expect("second");
    assert_eq!(next.number, 2);
}

#[tokio::test]
async fn the_same_key_returns_the_same_order_and_another_cart_with_it_is_refused() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let tea = item(&t, &shop, "TEA-1", 300, 20, None).await;
    let guest = shop.guest();
    let cart = ready_cart(&t, &guest, vec![line(tea, 2)]).await;
    // Five racing retries of one checkout.
    let tries = (0..5).map(|_| check_out(&t, &guest, cart.cart.id, "same-key"));
    let placed: Vec<_> = join_all(tries)
        .await
        .into_iter()
        .map(|o| o.expect("order").id)
        .collect();
    assert!(placed.iter().all(|id| *id == placed[0]), "{placed:?}");
    assert_eq!(t.visible_rows("orders.orders", Some(shop.info.id)).await, 1);
    assert_eq!(
        on_hand(&t, &shop, tea).await,
        18,
        "the stock was taken once"
    );

    let other = ready_cart(&t, &guest, vec![line(tea, 1)]).await;
    assert_eq!(
        refusal(check_out(&t, &guest, other.cart.id, "same-key").await),
        Code::IdempotencyKeyReused
    );
    // A checked-out cart with a new key is closed.
    assert_eq!(
        refusal(check_out(&t, &guest, cart.cart.id, "new-key").await),
        Code::CartClosed
    );
    assert_eq!(
        refusal(check_out(&t, &guest, other.cart.id, " ").await),
        Code::InvalidIdempotencyKey
    );
}

#[tokio::test]
async fn a_refused_checkout_changes_nothing() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let tea = item(&t, &shop, "TEA-1", 300, 5, None).await;
    let rug_maker = cityos_fixtures::approved_vendor(&t, &shop.info).await;
    let rug = item(&t, &shop, "RUG-1", 9900, 1, Some(rug_maker)).await;
    let guest = shop.guest();

    let empty = carts::create(t.db(), &guest, None, None)
        .await
        .expect("cart");
    assert_eq!(
        refusal(check_out(&t, &guest, empty.cart.id, "a").await),
        Code::CartEmpty
    );

    let bare = carts::create(t.db(), &guest, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    carts::add_lines(t.db(), &guest, bare, vec![line(tea, 1)])
        .await
        .expect("add");
    assert_eq!(
        refusal(check_out(&t, &guest, bare, "b").await),
        Code::EmailRequired
    );
    let with_email = CartChanges {
        email: Some("guest@example.com".into()),
        ..CartChanges::default()
    };
    carts::update(t.db(), &guest, bare, with_email)
        .await
        .expect("email");
    assert_eq!(
        refusal(check_out(&t, &guest, bare, "c").await),
        Code::AddressRequired
    );

    // The shopper saw another total.
    let cart = ready_cart(&t, &guest, vec![line(tea, 2), line(rug, 1)]).await;
    let wrong_total = checkout::complete(
        t.db(),
        &guest,
        CheckoutRequest {
            cart_id: cart.cart.id,
            idempotency_key: "d".into(),
            payment_method: PaymentMethod::CashOnDelivery,
            expected_total: Some(1),
            purchase_order_number: None,
        },
        &orders::payments::Gateway::default(),
    )
    .await
    .map(placed);
    assert_eq!(refusal(wrong_total), Code::PriceChanged);
    let card = checkout::complete(
        t.db(),
        &guest,
        CheckoutRequest {
            cart_id: cart.cart.id,
            idempotency_key: "d".into(),
            payment_method: PaymentMethod::Card,
            expected_total: None,
            purchase_order_number: None,
        },
        &orders::payments::Gateway::default(),
    )
    .await
    .map(placed);
    assert_eq!(refusal(card), Code::InvalidPaymentMethod);

    // The rug sold out after it went into the cart: the tea is not taken either.
    let rival = ready_cart(&t, &shop.customer(), vec![line(rug, 1)]).await;
    check_out(&t, &rival_ctx(&t, &rival).await, rival.cart.id, "rival")
        .await
        .expect("rival");
    assert_eq!(
        refusal(check_out(&t, &guest, cart.cart.id, "e").await),
        Code::InsufficientStock
    );
    assert_eq!(on_hand(&t, &shop, tea).await, 5);
    assert_eq!(t.visible_rows("orders.orders", Some(shop.info.id)).await, 1);
    assert_eq!(t.visible_rows("orders.outbox", Some(shop.info.id)).await, 1);
    let still = carts::get(t.db(), &guest, cart.cart.id)
        .await
        .expect("read")
        .expect("cart");
    assert_eq!(still.cart.status.as_str(), "OPEN");
}

/// The context that owns a cart (its customer).
async fn rival_ctx(
    _t: &cityos_testkit::TestDb,
    cart: &carts::PricedCart,
) -> cityos_core::RequestContext {
    let tenant = cityos_testkit::tenant_info(cart.cart.tenant_id, "souq", "SAR", "ar");
    cityos_testkit::user_context(
        Some(&tenant),
        cart.cart.customer_id.expect("a customer's cart"),
        &[cityos_core::Role::Customer],
    )
}

#[tokio::test]
async fn a_hundred_racing_checkouts_for_ten_units_make_exactly_ten_orders() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let lamp_maker = cityos_fixtures::approved_vendor(&t, &shop.info).await;
    let lamp = item(&t, &shop, "LAMP-1", 4500, 10, Some(lamp_maker)).await;
    let mut buyers = Vec::new();
    for _ in 0..100 {
        let guest = shop.guest();
        let cart = ready_cart(&t, &guest, vec![line(lamp, 1)]).await;
        buyers.push((guest, cart.cart.id));
    }
    let keys: Vec<String> = (0..buyers.len()).map(|i| format!("race-{i}")).collect();
    let racing = buyers
        .iter()
        .zip(&keys)
        .map(|((who, cart), key)| check_out(&t, who, *cart, key));
    let outcomes = join_all(racing).await;
    let placed = outcomes.iter().filter(|o| o.is_ok()).count();
    let sold_out = outcomes
        .iter()
        .filter(|o| matches!(o, Err(cityos_core::Failure::User(e)) if e.code == Code::InsufficientStock))
        .count();
    assert_eq!((placed, sold_out), (10, 90));
    assert_eq!(on_hand(&t, &shop, lamp).await, 0);
    assert_eq!(
        t.visible_rows("orders.orders", Some(shop.info.id)).await,
        10
    );
    // Every order has its unit: ten allocations of one unit, and numbers 1 to 10 without gaps.
    assert_eq!(
        t.visible_rows("orders.allocations", Some(shop.info.id))
            .await,
        10
    );
    let mut numbers: Vec<i64> = outcomes
        .into_iter()
        .filter_map(|o| o.ok())
        .map(|o| o.number)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
}
