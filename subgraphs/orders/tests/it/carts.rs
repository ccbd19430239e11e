//! Carts: live pricing by the catalog, line changes, details, merging, privacy and expiry.

use crate::common::*;
use catalog::price_lists::{self, NewTier};
use catalog::pricing::PriceRule;
use cityos_testkit::refusal;
use orders::carts::{self, Address, CartChanges, LineInput};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::VariantId;

#[tokio::test]
async fn lines_are_priced_by_the_catalog_with_tiers_and_gift_wrap() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let (product, oud) = item_of_product(&t, &shop, "OUD-1", 1000, 50, None).await;
    price_lists::create_tier(
        t.db(),
        &shop.admin,
        NewTier {
            product_id: product,
            variant_id: None,
            currency: "SAR".into(),
            customer_group_id: None,
            min_quantity: 5,
            max_quantity: None,
            unit_amount: Some(800),
            percent_off: None,
        },
    )
    .await
    .expect("tier");
    let buyer = shop.customer();
    let cart = carts::create(t.db(), &buyer, None, None)
        .await
        .expect("cart");
    assert_eq!(cart.cart.currency.code(), "SAR");
    let id = cart.cart.id;

    let cart = carts::add_lines(
        t.db(),
        &buyer,
        id,
        vec![LineInput {
            gift_wrap: Some(true),
            gift_message: Some(" Eid Mubarak ".into()),
            ..line(oud, 2)
        }],
    )
    .await
    .expect("add");
    let l = &cart.lines[0];
    let q = l.quote.expect("priced");
    assert_eq!(
        (q.unit_price.amount, q.rule, q.line_total.amount),
        (1000, PriceRule::BasePrice, 2000)
    );
    assert!(l.line.gift_wrap);
    assert_eq!(l.line.gift_message.as_deref(), Some("Eid Mubarak"));

    // Adding the same variant adds units; at 5 the tier applies.
    let cart = carts::add_lines(t.db(), &buyer, id, vec![line(oud, 3)])
        .await
        .expect("add more");
    assert_eq!(cart.lines.len(), 1);
    let q = cart.lines[0].quote.expect("priced");
    assert_eq!(
        (
            cart.lines[0].line.quantity,
            q.unit_price.amount,
            q.rule,
            q.line_total.amount
        ),
        (5, 800, PriceRule::VolumeTier, 4000)
    );
    assert!(cart.lines[0].line.gift_wrap, "the wrap stays");
    assert_eq!(cart.totals.total, 4000);

    // Back below the tier, unwrapped, message removed.
    let cart = carts::update_lines(
        t.db(),
        &buyer,
        id,
        vec![LineInput {
            variant_id: oud,
            quantity: Some(4),
            gift_wrap: Some(false),
            gift_message: Some(String::new()),
        }],
    )
    .await
    .expect("update");
    let l = &cart.lines[0];
    assert_eq!(
        (
            l.quote.expect("priced").line_total.amount,
            l.line.gift_wrap,
            l.line.gift_message.clone()
        ),
        (4000, false, None)
    );
    let cart = carts::remove_lines(t.db(), &buyer, id, vec![oud])
        .await
        .expect("remove");
    assert!(cart.lines.is_empty());
    assert_eq!(cart.totals.total, 0);
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let oud = item(&t, &shop, "OUD-1", 1000, 5, None).await;
    let unpriced = item(&t, &shop, "OUD-2", 1000, 5, None).await;
    let guest = shop.guest();
    let cart = carts::create(t.db(), &guest, Some("USD".into()), None)
        .await
        .expect("cart");
    let usd_cart = cart.cart.id;
    // A variant without a USD price cannot go into a USD cart.
    assert_eq!(
        refusal(carts::add_lines(t.db(), &guest, usd_cart, vec![line(unpriced, 1)]).await),
        Code::NoPrice
    );
    let id = carts::create(t.db(), &guest, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    carts::add_lines(t.db(), &guest, id, vec![line(oud, 2)])
        .await
        .expect("add");

    let refused = [
        (vec![line(oud, 0)], Code::InvalidQuantity),
        (vec![line(oud, 10_001)], Code::InvalidQuantity),
        (vec![line(oud, 1), line(oud, 1)], Code::DuplicateVariant),
        (vec![line(VariantId::new(), 1)], Code::VariantUnavailable),
        (vec![line(oud, 4)], Code::InsufficientStock),
        (vec![], Code::InvalidCount),
        (
            vec![LineInput {
                gift_message: Some("x".repeat(301)),
                ..line(oud, 1)
            }],
            Code::InvalidText,
        ),
    ];
    for (lines, code) in refused {
        assert_eq!(
            refusal(carts::add_lines(t.db(), &guest, id, lines).await),
            code
        );
    }
    assert_eq!(
        refusal(carts::update_lines(t.db(), &guest, id, vec![line(unpriced, 1)]).await),
        Code::NotFound
    );
    assert_eq!(
        refusal(carts::create(t.db(), &guest, Some("XXX".into()), None).await),
        Code::UnknownCurrency
    );
    let bad_address = Address {
        country_code: "Saudi".into(),
        ..address()
    };
    let outcome = carts::update(
        t.db(),
        &guest,
        id,
        CartChanges {
            shipping_address: Some(bad_address),
            ..CartChanges::default()
        },
    )
    .await;
    match outcome {
        Err(cityos_core::Failure::User(e)) => {
            assert_eq!(e.code, Code::InvalidAddress);
            assert_eq!(e.field, ["input", "shippingAddress", "countryCode"]);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    for email in ["not-an-email", "a@b"] {
        let changes = CartChanges {
            email: Some(email.into()),
            ..CartChanges::default()
        };
        assert_eq!(
            refusal(carts::update(t.db(), &guest, id, changes).await),
            Code::InvalidEmail
        );
    }
    let cart = carts::get(t.db(), &guest, id)
        .await
        .expect("read")
        .expect("cart");
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(cart.lines[0].line.quantity, 2);
    assert!(cart.cart.email.is_none() && cart.cart.shipping_address.is_none());
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_customers_cart_on_sign_in() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let oud = item(&t, &shop, "OUD-1", 1000, 50, None).await;
    let rug = item(&t, &shop, "RUG-1", 5000, 50, None).await;
    let guest = shop.guest();
    let guest_cart = carts::create(t.db(), &guest, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    carts::add_lines(t.db(), &guest, guest_cart, vec![line(oud, 1), line(rug, 2)])
        .await
        .expect("add");

    let buyer = shop.customer();
    let own = carts::create(t.db(), &buyer, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    carts::add_lines(t.db(), &buyer, own, vec![line(oud, 3)])
        .await
        .expect("add");
    // The customer's second cartCreate returns the open cart.
    assert_eq!(
        carts::create(t.db(), &buyer, None, None)
            .await
            .expect("again")
            .cart
            .id,
        own
    );
    let merged = carts::merge(t.db(), &buyer, guest_cart)
        .await
        .expect("merge");
    assert_eq!(merged.cart.id, own);
    let units: Vec<(VariantId, i32)> = merged
        .lines
        .iter()
        .filter_map(|l| Some((l.line.variant_id?, l.line.quantity)))
        .collect();
    assert!(
        units.contains(&(oud, 4)) && units.contains(&(rug, 2)),
        "{units:?}"
    );
    assert_eq!(merged.totals.total, 4 * 1000 + 2 * 5000);
    // The guest cart is closed.
    assert_eq!(
        refusal(carts::add_lines(t.db(), &guest, guest_cart, vec![line(oud, 1)]).await),
        Code::CartClosed
    );
    assert_eq!(
        refusal(carts::merge(t.db(), &buyer, guest_cart).await),
        Code::CartClosed
    );

    // A customer without a cart takes the guest cart over.
    let second_guest = carts::create(t.db(), &guest, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    carts::add_lines(t.db(), &guest, second_guest, vec![line(rug, 1)])
        .await
        .expect("add");
    let newcomer = shop.customer();
    let adopted = carts::merge(t.db(), &newcomer, second_guest)
        .await
        .expect("adopt");
    assert_eq!(adopted.cart.id, second_guest);
    assert_eq!(adopted.cart.customer_id, newcomer.user_id().ok());
    // Now it is the newcomer's: the guest can no longer use it.
    assert!(
        carts::get(t.db(), &guest, second_guest)
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn a_customers_cart_is_theirs_alone_and_stale_carts_expire() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let oud = item(&t, &shop, "OUD-1", 1000, 50, None).await;
    let buyer = shop.customer();
    let id = carts::create(t.db(), &buyer, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    let stranger = shop.customer();
    assert!(
        carts::get(t.db(), &stranger, id)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        refusal(carts::add_lines(t.db(), &stranger, id, vec![line(oud, 1)]).await),
        Code::NotFound
    );
    assert_eq!(
        refusal(carts::add_lines(t.db(), &shop.guest(), id, vec![line(oud, 1)]).await),
        Code::NotFound
    );

    // Thirty days untouched.
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query("UPDATE orders.carts SET expires_at = now() - interval '1 second'")
                .execute(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("age");
    assert_eq!(
        refusal(carts::add_lines(t.db(), &buyer, id, vec![line(oud, 1)]).await),
        Code::CartExpired
    );
}
