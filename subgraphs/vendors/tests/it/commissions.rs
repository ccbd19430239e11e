//! Commission rules through GraphQL: each method and scope, every refusal, ties refused (also
//! when creations race), deactivation; the engine's own rules are unit- and property-tested beside
//! it (`commissions::engine`).

use crate::common::{Shop, approved, raw, run, test_db};
use catalog::taxonomy::categories::{self, NewCategory};
use cityos_fixtures::ProductBuilder;
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CommissionRuleCreateInput!) { commissionRuleCreate(input: $i) {
    rule { id method scope targetId rateBasisPoints perUnitMinor tiers { fromMinor rateBasisPoints } currency priority active }
    userErrors { field code message } } }";

fn refusal(r: &Value) -> (String, String) {
    let e = &r["commissionRuleCreate"]["userErrors"][0];
    (
        e["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not refused: {r}"))
            .to_owned(),
        e["field"][1].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn rules_of_every_method_and_scope_are_checked_and_never_tie() {
    let t = test_db().await;
    let shop = Shop::new(&t, "rules").await;
    let (vendor, _) = approved(&t, &shop, "rules-v").await;
    let product = ProductBuilder::new("oud").create(&t, &shop.admin).await.id;
    let category = categories::create(
        t.db(),
        &shop.admin,
        NewCategory {
            name: "Perfume".into(),
            handle: "perfume".into(),
            description: None,
            parent_id: None,
        },
    )
    .await
    .expect("category")
    .id;
    let admin = &shop.admin;

    let created = [
        json!({ "name": "Default", "method": "PERCENTAGE", "scope": "TENANT", "rateBasisPoints": 1000 }),
        json!({ "name": "Vendor", "method": "FIXED", "scope": "VENDOR", "targetId": vendor.to_string(), "perUnitMinor": 250, "currency": "SAR" }),
        json!({ "name": "Perfume", "method": "TIERED", "scope": "CATEGORY", "targetId": category.to_string(), "tierBasis": "VENDOR_MONTH_SALES", "currency": "SAR",
            "tiers": [{ "fromMinor": 0, "rateBasisPoints": 1500 }, { "fromMinor": 1000000, "rateBasisPoints": 1000 }] }),
        json!({ "name": "Oud", "method": "PERCENTAGE", "scope": "PRODUCT", "targetId": product.to_string(), "rateBasisPoints": 500,
            "currency": "SAR", "minOrderMinor": 10000, "maxCommissionMinor": 5000 }),
    ];
    for input in created {
        let r = run(&t, admin, CREATE, json!({ "i": input })).await;
        assert_eq!(r["commissionRuleCreate"]["userErrors"], json!([]), "{r}");
        assert_eq!(r["commissionRuleCreate"]["rule"]["active"], true);
    }

    let base = json!({ "name": "X", "method": "PERCENTAGE", "scope": "TENANT", "rateBasisPoints": 100, "priority": 1 });
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({ "rateBasisPoints": 10001 }),
            "INVALID_AMOUNT",
            "rateBasisPoints",
        ),
        (
            json!({ "rateBasisPoints": -1 }),
            "INVALID_AMOUNT",
            "rateBasisPoints",
        ),
        (json!({ "name": "" }), "INVALID_TEXT", "name"),
        (json!({ "perUnitMinor": 5 }), "INVALID_RULE", "perUnitMinor"),
        (
            json!({ "method": "FIXED", "rateBasisPoints": null, "perUnitMinor": 5 }),
            "INVALID_RULE",
            "currency",
        ),
        (
            json!({ "method": "FIXED", "rateBasisPoints": null, "perUnitMinor": -5, "currency": "SAR" }),
            "INVALID_AMOUNT",
            "perUnitMinor",
        ),
        (
            json!({ "method": "TIERED", "rateBasisPoints": null, "currency": "SAR", "tierBasis": "ORDER_AMOUNT",
            "tiers": [{ "fromMinor": 5, "rateBasisPoints": 100 }] }),
            "INVALID_RULE",
            "tiers",
        ),
        (
            json!({ "method": "TIERED", "rateBasisPoints": null, "currency": "SAR", "tierBasis": "ORDER_AMOUNT",
            "tiers": [{ "fromMinor": 0, "rateBasisPoints": 100 }, { "fromMinor": 0, "rateBasisPoints": 50 }] }),
            "INVALID_RULE",
            "tiers",
        ),
        (json!({ "minOrderMinor": 100 }), "INVALID_RULE", "currency"),
        (json!({ "currency": "XXX" }), "UNKNOWN_CURRENCY", "currency"),
        (json!({ "priority": 5000 }), "INVALID_AMOUNT", "priority"),
        (
            json!({ "validFrom": "2027-01-02T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z" }),
            "INVALID_RULE",
            "validUntil",
        ),
        (
            json!({ "targetId": vendor.to_string() }),
            "INVALID_RULE",
            "targetId",
        ),
        (json!({ "scope": "VENDOR" }), "INVALID_RULE", "targetId"),
        (
            json!({ "scope": "VENDOR", "targetId": uuid::Uuid::now_v7().to_string() }),
            "NOT_FOUND",
            "targetId",
        ),
        (
            json!({ "scope": "CATEGORY", "targetId": uuid::Uuid::now_v7().to_string() }),
            "NOT_FOUND",
            "targetId",
        ),
        (
            json!({ "scope": "PRODUCT", "targetId": uuid::Uuid::now_v7().to_string() }),
            "NOT_FOUND",
            "targetId",
        ),
        // The default at priority 0 exists with no currency: any other default there ties.
        (
            json!({ "priority": 0, "currency": "SAR" }),
            "RULE_OVERLAP",
            "priority",
        ),
        (
            json!({ "priority": 0, "validFrom": "2030-01-01T00:00:00Z" }),
            "RULE_OVERLAP",
            "priority",
        ),
    ];
    for (spoil, code, field) in cases {
        let mut input = base.clone();
        for (k, v) in spoil.as_object().expect("object") {
            input[k] = v.clone();
        }
        let r = run(&t, admin, CREATE, json!({ "i": input })).await;
        assert_eq!(
            refusal(&r),
            (code.to_owned(), field.to_owned()),
            "{input}: {r}"
        );
    }
    let rules = "{ commissionRules(first: 50) { totalCount } }";
    assert_eq!(
        run(&t, admin, rules, json!({})).await["commissionRules"]["totalCount"],
        4,
        "refusals created nothing"
    );

    // Another priority does not tie; a deactivated rule ties with nothing.
    let r = run(&t, admin, CREATE, json!({ "i": base })).await;
    assert_eq!(r["commissionRuleCreate"]["userErrors"], json!([]));
    let list = run(
        &t,
        admin,
        "{ commissionRules(first: 50) { edges { node { id name } } } }",
        json!({}),
    )
    .await;
    let default = list["commissionRules"]["edges"][0]["node"]["id"].clone();
    let r = run(&t, admin, "mutation($id: ID!) { commissionRuleDeactivate(id: $id) { rule { active } userErrors { code } } }", json!({ "id": default })).await;
    assert_eq!(r["commissionRuleDeactivate"]["rule"]["active"], false);
    let r = run(
        &t,
        admin,
        "mutation($id: ID!) { commissionRuleDeactivate(id: $id) { userErrors { code } } }",
        json!({ "id": default }),
    )
    .await;
    assert_eq!(
        r["commissionRuleDeactivate"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let mut again = base.clone();
    again["priority"] = json!(0);
    let r = run(&t, admin, CREATE, json!({ "i": again })).await;
    assert_eq!(r["commissionRuleCreate"]["userErrors"], json!([]), "{r}");
    let all = run(
        &t,
        admin,
        "{ commissionRules(first: 50, all: true) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(all["commissionRules"]["totalCount"], 6);

    // Only staff see or make rules.
    let (_, customer) = shop.customer(&t, "c@rules.test").await;
    let r = raw(&t, &customer, rules, json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = raw(&t, &customer, CREATE, json!({ "i": base })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn racing_creations_of_one_rule_make_one() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race-rules").await;
    let input = json!({ "i": { "name": "Default", "method": "PERCENTAGE", "scope": "TENANT", "rateBasisPoints": 800 } });
    let tries = (0..8).map(|_| run(&t, &shop.admin, CREATE, input.clone()));
    let results = futures_util::future::join_all(tries).await;
    let made = results
        .iter()
        .filter(|r| r["commissionRuleCreate"]["rule"].is_object())
        .count();
    let tied = results
        .iter()
        .filter(|r| r["commissionRuleCreate"]["userErrors"][0]["code"] == "RULE_OVERLAP")
        .count();
    assert_eq!((made, tied), (1, 7), "{results:?}");
}
