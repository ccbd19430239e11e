//! Wishlists: named lists per customer, private or shared by token, items added, moved and
//! removed; staff see the most wished-for products.

use crate::common::{product, tenant, test_db};
use catalog::ids::UserId;
use catalog::wishlists;
use catalog::{Catalog, build_schema};
use cityos_core::{Actor, RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, context, user_context};
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

fn customer(info: &TenantInfo) -> RequestContext {
    user_context(Some(info), UserId::new(), &[Role::Customer])
}

async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

const CREATE: &str = "mutation($n: String!) { wishlistCreate(input: { name: $n }) { wishlist { id name shared } userErrors { field code } } }";
const ADD: &str = "mutation($w: ID!, $p: ID!, $v: ID) { wishlistItemAdd(input: { wishlistId: $w, productId: $p, variantId: $v }) {
    wishlist { items { id product { handle } } } userErrors { field code } } }";
const MINE: &str = "{ myWishlists { name shared shareToken items { id product { handle } } } }";

fn handles(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["product"]["handle"].as_str().expect("handle").to_owned())
        .collect()
}

#[tokio::test]
async fn customers_keep_share_and_rearrange_their_lists() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "wish").await;
    let (oud, rug) = (
        product(&t, &admin, "oud").await.to_string(),
        product(&t, &admin, "rug").await.to_string(),
    );
    let sara = customer(&info);
    let gifts = run(&t, &sara, CREATE, json!({ "n": "Eid gifts" })).await["wishlistCreate"]["wishlist"]["id"].clone();
    let home =
        run(&t, &sara, CREATE, json!({ "n": "Home" })).await["wishlistCreate"]["wishlist"]["id"]
            .clone();
    let taken = run(&t, &sara, CREATE, json!({ "n": "Home" })).await;
    assert_eq!(
        taken["wishlistCreate"]["userErrors"][0]["code"],
        "NAME_TAKEN"
    );

    // Adding twice keeps one item; a draft product or another product's variant is refused.
    for p in [&oud, &oud, &rug] {
        run(&t, &sara, ADD, json!({ "w": gifts, "p": p })).await;
    }
    let draft = run(&t, &admin, "mutation { productCreate(input: { title: \"Vase\", handle: \"vase\" }) { product { id } } }", json!({})).await["productCreate"]["product"]["id"].clone();
    let r = run(&t, &sara, ADD, json!({ "w": gifts, "p": draft })).await;
    assert_eq!(r["wishlistItemAdd"]["userErrors"][0]["code"], "NOT_FOUND");
    let r = run(
        &t,
        &sara,
        ADD,
        json!({ "w": gifts, "p": oud, "v": Uuid::now_v7().to_string() }),
    )
    .await;
    assert_eq!(
        r["wishlistItemAdd"]["userErrors"][0]["field"],
        json!(["input", "variantId"])
    );
    let mine = run(&t, &sara, MINE, json!({})).await;
    assert_eq!(handles(&mine["myWishlists"][0]["items"]), ["oud", "rug"]);

    // Move the rug to Home, remove the oud.
    let rug_item = mine["myWishlists"][0]["items"][1]["id"].clone();
    let moved = run(&t, &sara, "mutation($i: ID!, $to: ID!) { wishlistItemMove(input: { itemId: $i, toWishlistId: $to }) { wishlist { name items { product { handle } } } userErrors { code } } }", json!({ "i": rug_item, "to": home })).await;
    assert_eq!(moved["wishlistItemMove"]["wishlist"]["name"], "Home");
    assert_eq!(
        handles(&moved["wishlistItemMove"]["wishlist"]["items"]),
        ["rug"]
    );
    let oud_item = mine["myWishlists"][0]["items"][0]["id"].clone();
    run(
        &t,
        &sara,
        "mutation($i: ID!) { wishlistItemRemove(input: { itemId: $i }) { userErrors { code } } }",
        json!({ "i": oud_item }),
    )
    .await;
    let mine = run(&t, &sara, MINE, json!({})).await;
    assert_eq!(
        handles(&mine["myWishlists"][0]["items"]),
        Vec::<String>::new()
    );

    // Another customer can neither see nor change Sara's lists.
    let omar = customer(&info);
    assert_eq!(
        run(&t, &omar, MINE, json!({})).await["myWishlists"],
        json!([])
    );
    let r = run(&t, &omar, ADD, json!({ "w": home, "p": oud })).await;
    assert_eq!(r["wishlistItemAdd"]["userErrors"][0]["code"], "NOT_FOUND");

    // Shared by token: anyone with the link reads it; a new share or unsharing kills old links.
    let share = "mutation($id: ID!, $s: Boolean!) { wishlistShare(input: { id: $id, shared: $s }) { wishlist { shared shareToken } } }";
    let token =
        run(&t, &sara, share, json!({ "id": home, "s": true })).await["wishlistShare"]["wishlist"]
            ["shareToken"]
            .clone();
    assert!(
        token
            .as_str()
            .is_some_and(|t| t.starts_with("wl_") && t.len() > 70)
    );
    let by_token = "query($t: String!) { wishlistByToken(token: $t) { name shareToken items { product { handle } } } }";
    let shop = context(
        Some(&info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let seen = run(&t, &shop, by_token, json!({ "t": token })).await;
    assert_eq!(seen["wishlistByToken"]["name"], "Home");
    assert_eq!(seen["wishlistByToken"]["shareToken"], Value::Null);
    assert_eq!(handles(&seen["wishlistByToken"]["items"]), ["rug"]);
    let fresh =
        run(&t, &sara, share, json!({ "id": home, "s": true })).await["wishlistShare"]["wishlist"]
            ["shareToken"]
            .clone();
    assert_ne!(fresh, token);
    assert_eq!(
        run(&t, &shop, by_token, json!({ "t": token })).await["wishlistByToken"],
        Value::Null
    );
    run(&t, &sara, share, json!({ "id": home, "s": false })).await;
    assert_eq!(
        run(&t, &shop, by_token, json!({ "t": fresh })).await["wishlistByToken"],
        Value::Null
    );

    // Storefronts and guests cannot keep lists.
    let schema = build_schema(Some(&t.platform));
    let denied = t
        .graphql::<Catalog>(&schema, &shop, CREATE, json!({ "n": "x" }))
        .await;
    assert!(denied["errors"][0]["extensions"]["code"].is_string());
}

#[tokio::test]
async fn staff_see_the_most_wished_products_and_limits_hold_under_races() {
    let t = Arc::new(test_db().await);
    let (info, admin) = tenant(&t, "wish-top").await;
    let oud = product(&t, &admin, "oud").await;
    let rug = product(&t, &admin, "rug").await;
    for wanted in [vec![oud, rug], vec![oud], vec![oud]] {
        let c = customer(&info);
        let list = wishlists::create(t.db(), &c, "Mine")
            .await
            .expect("list")
            .id;
        for p in wanted {
            wishlists::add_item(t.db(), &c, list, p, None)
                .await
                .expect("add");
        }
    }
    let top = run(
        &t,
        &admin,
        "{ mostWishedProducts(first: 5) { wishlists product { handle } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        top["mostWishedProducts"],
        json!([{ "wishlists": 3, "product": { "handle": "oud" } }, { "wishlists": 1, "product": { "handle": "rug" } }])
    );
    let schema = build_schema(Some(&t.platform));
    let denied = t
        .graphql::<Catalog>(
            &schema,
            &customer(&info),
            "{ mostWishedProducts { wishlists } }",
            json!({}),
        )
        .await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // 30 racing creations by one customer: exactly the limit of 20 exists afterwards.
    let c = customer(&info);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (t, c) = (t.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            wishlists::create(t.db(), &c, &format!("List {i}")).await
        }));
    }
    let mut made = 0;
    for task in tasks {
        made += usize::from(task.await.expect("task").is_ok());
    }
    assert_eq!(made, 20);
}

#[tokio::test]
async fn wishlists_are_isolated_by_tenant() {
    let t = test_db().await;
    let (a, a_admin) = tenant(&t, "wish-a").await;
    let (b, _) = tenant(&t, "wish-b").await;
    let oud = product(&t, &a_admin, "oud").await;
    let sara = customer(&a);
    let list = wishlists::create(t.db(), &sara, "Mine")
        .await
        .expect("list")
        .id;
    wishlists::add_item(t.db(), &sara, list, oud, None)
        .await
        .expect("add");
    let token = wishlists::share(t.db(), &sara, list, true)
        .await
        .expect("share")
        .share_token;
    for table in ["catalog.wishlists", "catalog.wishlist_items"] {
        assert_eq!(t.visible_rows(table, None).await, 0, "{table}");
        assert_eq!(t.visible_rows(table, Some(b.id)).await, 0, "{table}");
        assert_eq!(t.visible_rows(table, Some(a.id)).await, 1, "{table}");
    }
    // A's share link read from B's storefront finds nothing; B's customers cannot add A's product.
    let shop_b = context(
        Some(&b),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let r = run(
        &t,
        &shop_b,
        "query($t: String!) { wishlistByToken(token: $t) { name } }",
        json!({ "t": token }),
    )
    .await;
    assert_eq!(r["wishlistByToken"], Value::Null);
    let omar = customer(&b);
    let b_list = wishlists::create(t.db(), &omar, "Mine")
        .await
        .expect("list")
        .id;
    assert!(
        wishlists::add_item(t.db(), &omar, b_list, oud, None)
            .await
            .is_err()
    );
    assert!(
        wishlists::add_item(t.db(), &omar, list, oud, None)
            .await
            .is_err()
    );
}
