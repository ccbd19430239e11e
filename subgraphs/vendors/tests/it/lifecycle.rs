//! A vendor's application, review, approval, suspension and closing; who sees which vendor; bad
//! input; racing transitions.

use crate::common::{
    APPLY, REVIEW, SUBMIT, Shop, apply, approved, documents_accepted, raw, run, test_db, transition,
};
use cityos_core::VendorRole;
use serde_json::json;

const VIEW: &str = "query($id: ID!, $h: String!) {
    byId: vendor(id: $id) { id status statusReason address { city } documents { kind } members { email role } }
    byHandle: vendor(handle: $h) { id }
    vendors(first: 10) { totalCount edges { node { id } } } }";

#[tokio::test]
async fn an_application_is_approved_only_with_every_document_accepted() {
    let t = test_db().await;
    let shop = Shop::new(&t, "market").await;
    let (owner, customer) = shop.customer(&t, "sara@market.test").await;
    let r = run(&t, &customer, APPLY, json!({ "i": {
        "name": "Oud House", "handle": "oud-house", "email": " Hello@Oud.Test ", "phone": "+966 50 123 4567",
        "address": { "firstName": "Sara", "lastName": "", "line1": "King Fahd Rd 1", "city": "Riyadh", "countryCode": "sa" },
        "handlingDays": 3 } })).await;
    let v = &r["vendorApply"]["vendor"];
    assert_eq!(
        (
            v["status"].as_str(),
            v["defaultCurrency"].as_str(),
            v["handlingDays"].as_i64()
        ),
        (Some("APPLIED"), Some("SAR"), Some(3))
    );
    let id = v["id"].as_str().expect("id").to_owned();
    let vars = json!({ "id": id, "h": "oud-house" });

    // Nobody outside sees an applicant; its team and staff do, with its private fields.
    let guest = run(&t, &shop.guest(), VIEW, vars.clone()).await;
    assert_eq!(
        (
            guest["byId"].is_null(),
            guest["byHandle"].is_null(),
            guest["vendors"]["totalCount"].as_i64()
        ),
        (true, true, Some(0))
    );
    let team = run(
        &t,
        &shop.acting(owner, id.parse().expect("id"), VendorRole::Owner),
        VIEW,
        vars.clone(),
    )
    .await;
    assert_eq!(team["byId"]["address"]["city"], "Riyadh");
    assert_eq!(
        team["byId"]["members"],
        json!([{ "email": "sara@market.test", "role": "OWNER" }])
    );
    let staff = run(&t, &shop.admin, VIEW, vars.clone()).await;
    assert_eq!(staff["vendors"]["totalCount"], 1);

    // Approval waits for the review, then for every document.
    let approve = transition("vendorApprove");
    let r = run(&t, &shop.admin, &approve, json!({ "i": { "id": id } })).await;
    assert_eq!(
        r["vendorApprove"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    run(
        &t,
        &shop.admin,
        &transition("vendorReviewStart"),
        json!({ "i": { "id": id } }),
    )
    .await;
    let r = run(&t, &shop.admin, &approve, json!({ "i": { "id": id } })).await;
    let refusal = &r["vendorApprove"]["userErrors"][0];
    assert_eq!(refusal["code"], "DOCUMENTS_MISSING");
    assert!(
        refusal["message"]
            .as_str()
            .expect("message")
            .contains("BANK_LETTER"),
        "{refusal}"
    );

    // A rejected document needs a reason and does not count; a new one supersedes it.
    let acting = shop.acting(owner, id.parse().expect("id"), VendorRole::Owner);
    let submit = |kind: &str| {
        json!({ "i": { "vendorId": id, "kind": kind, "url": "https://files.test/cr.pdf",
        "sha256": "B".repeat(64), "expiresOn": "2099-12-31" } })
    };
    let r = run(&t, &acting, SUBMIT, submit("OWNER_ID")).await;
    let doc = r["vendorDocumentSubmit"]["document"]["id"].clone();
    let r = run(
        &t,
        &shop.admin,
        REVIEW,
        json!({ "i": { "id": doc, "accept": false } }),
    )
    .await;
    assert_eq!(
        r["vendorDocumentReview"]["userErrors"][0]["code"],
        "INVALID_TEXT"
    );
    let r = run(
        &t,
        &shop.admin,
        REVIEW,
        json!({ "i": { "id": doc, "accept": false, "reason": "blurred" } }),
    )
    .await;
    assert_eq!(r["vendorDocumentReview"]["document"]["status"], "REJECTED");
    let r = run(
        &t,
        &shop.admin,
        REVIEW,
        json!({ "i": { "id": doc, "accept": true } }),
    )
    .await;
    assert_eq!(
        r["vendorDocumentReview"]["userErrors"][0]["code"],
        "DOCUMENT_REVIEWED"
    );
    // A customer not acting for the vendor cannot submit for it.
    let r = raw(&t, &customer, SUBMIT, submit("OWNER_ID")).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    documents_accepted(&t, &shop, &acting, id.parse().expect("id")).await;
    let team = run(&t, &acting, VIEW, vars.clone()).await;
    assert_eq!(
        team["byId"]["documents"].as_array().map(Vec::len),
        Some(4),
        "one current per kind"
    );
    let r = run(&t, &shop.admin, &approve, json!({ "i": { "id": id } })).await;
    assert_eq!(r["vendorApprove"]["vendor"]["status"], "APPROVED", "{r}");

    // Approved: storefronts see its public profile, not its private fields.
    let guest = run(&t, &shop.guest(), VIEW, vars).await;
    assert_eq!(guest["byHandle"]["id"], id);
    assert_eq!(guest["vendors"]["totalCount"], 1);
    assert_eq!(
        (
            guest["byId"]["address"].is_null(),
            guest["byId"]["documents"].is_null(),
            guest["byId"]["members"].is_null()
        ),
        (true, true, true)
    );

    // Each step wrote its event, versions in order, and an audit row.
    let events = t.count_in(shop.info.id, &format!(
        "SELECT count(*) AS n FROM vendors.outbox WHERE aggregate_id = '{id}'
           AND (topic, (payload->>'version')::int) IN (('vendor.applied', 1), ('vendor.under_review', 2), ('vendor.approved', 3))")).await;
    assert_eq!(events, 3);
    let audits = t
        .count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM identity.audit_log WHERE action LIKE 'vendor%'",
        )
        .await;
    // Apply, start the review, one submission and its rejection, four submissions and their
    // acceptance, approve; refusals leave none.
    assert_eq!(audits, 1 + 1 + 2 + 4 * 2 + 1);
}

#[tokio::test]
async fn bad_applications_are_refused_and_change_nothing() {
    let t = test_db().await;
    let shop = Shop::new(&t, "strict").await;
    let (_, customer) = shop.customer(&t, "sara@strict.test").await;
    apply(&t, &customer, "taken").await;
    let base = json!({ "name": "Shop", "handle": "fresh", "email": "a@b.test" });
    let cases = [
        (json!({ "name": "  " }), "name", "INVALID_TEXT"),
        (json!({ "name": "x".repeat(121) }), "name", "INVALID_TEXT"),
        (
            json!({ "handle": "Not A Handle" }),
            "handle",
            "INVALID_HANDLE",
        ),
        (json!({ "handle": "taken" }), "handle", "HANDLE_TAKEN"),
        (json!({ "email": "nope" }), "email", "INVALID_EMAIL"),
        (json!({ "phone": "call me" }), "phone", "INVALID_PHONE"),
        (
            json!({ "logoUrl": "http://cdn.test/x.png" }),
            "logoUrl",
            "INVALID_URL",
        ),
        (
            json!({ "defaultCurrency": "XXX" }),
            "defaultCurrency",
            "UNKNOWN_CURRENCY",
        ),
        (
            json!({ "handlingDays": 61 }),
            "handlingDays",
            "INVALID_HANDLING_TIME",
        ),
        (
            json!({ "description": "y".repeat(5001) }),
            "description",
            "INVALID_TEXT",
        ),
        (
            json!({ "address": { "firstName": "S", "lastName": "", "line1": "", "city": "R", "countryCode": "SA" } }),
            "address.line1",
            "INVALID_ADDRESS",
        ),
    ];
    for (spoil, field, code) in cases {
        let mut input = base.clone();
        for (k, v) in spoil.as_object().expect("object") {
            input[k] = v.clone();
        }
        let r = run(&t, &customer, APPLY, json!({ "i": input })).await;
        let e = &r["vendorApply"]["userErrors"][0];
        assert_eq!(
            (e["code"].as_str(), e["field"][1].as_str()),
            (Some(code), Some(field.split('.').next().unwrap_or(field))),
            "{field}: {r}"
        );
    }
    // A control character never reaches the resolver.
    let mut input = base.clone();
    input["name"] = json!("Sh\u{0}op");
    let r = raw(&t, &customer, APPLY, json!({ "i": input })).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );
    // Only a signed-in customer applies.
    let r = raw(&t, &shop.guest(), APPLY, json!({ "i": base })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let r = raw(&t, &shop.admin, APPLY, json!({ "i": base })).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        t.visible_rows("vendors.vendors", Some(shop.info.id)).await,
        1
    );
    assert_eq!(
        t.visible_rows("vendors.members", Some(shop.info.id)).await,
        1
    );
}

#[tokio::test]
async fn suspension_hides_a_vendor_until_it_is_reinstated_and_the_owner_may_close_it() {
    let t = test_db().await;
    let shop = Shop::new(&t, "suspend").await;
    let (vendor, owner) = approved(&t, &shop, "amber").await;
    let id = vendor.to_string();
    let vars = json!({ "id": id, "h": "amber" });
    let r = run(
        &t,
        &shop.admin,
        &transition("vendorSuspend"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(
        r["vendorSuspend"]["userErrors"][0]["code"], "INVALID_TEXT",
        "a reason is required"
    );
    let r = run(
        &t,
        &shop.admin,
        &transition("vendorSuspend"),
        json!({ "i": { "id": id, "reason": "late shipments" } }),
    )
    .await;
    assert_eq!(r["vendorSuspend"]["vendor"]["status"], "SUSPENDED");
    let guest = run(&t, &shop.guest(), VIEW, vars.clone()).await;
    assert_eq!(
        (
            guest["byHandle"].is_null(),
            guest["vendors"]["totalCount"].as_i64()
        ),
        (true, Some(0))
    );
    assert_eq!(
        guest["byId"]["status"], "SUSPENDED",
        "an old order still names it"
    );
    assert!(guest["byId"]["statusReason"].is_null());
    let team = run(
        &t,
        &shop.acting(owner, vendor, VendorRole::Owner),
        VIEW,
        vars.clone(),
    )
    .await;
    assert_eq!(team["byId"]["statusReason"], "late shipments");

    // Only staff suspend and reinstate; a manager may not close, the owner may.
    let r = raw(
        &t,
        &shop.acting(owner, vendor, VendorRole::Owner),
        &transition("vendorApprove"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = run(
        &t,
        &shop.admin,
        &transition("vendorApprove"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(
        r["vendorApprove"]["vendor"]["status"], "APPROVED",
        "reinstated: {r}"
    );
    let r = raw(
        &t,
        &shop.acting(owner, vendor, VendorRole::Manager),
        &transition("vendorClose"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = run(
        &t,
        &shop.acting(owner, vendor, VendorRole::Owner),
        &transition("vendorClose"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(r["vendorClose"]["vendor"]["status"], "CLOSED");
    // Closed takes no changes.
    let r = run(
        &t,
        &shop.admin,
        "mutation($i: VendorUpdateInput!) { vendorUpdate(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": id, "name": "Again" } }),
    )
    .await;
    assert_eq!(
        r["vendorUpdate"]["userErrors"][0]["code"],
        "VENDOR_INACTIVE"
    );
    let versions = t.count_in(shop.info.id, &format!("SELECT max((payload->>'version')::bigint) AS n FROM vendors.outbox WHERE aggregate_id = '{id}'")).await;
    assert_eq!(
        versions, 6,
        "applied, review, approved, suspended, approved, closed"
    );
}

#[tokio::test]
async fn a_member_manages_only_the_vendor_it_acts_for() {
    let t = test_db().await;
    let shop = Shop::new(&t, "two").await;
    let (a, a_owner) = approved(&t, &shop, "vendor-a").await;
    let (b, _) = approved(&t, &shop, "vendor-b").await;
    let as_a = shop.acting(a_owner, a, VendorRole::Owner);
    let update = "mutation($i: VendorUpdateInput!) { vendorUpdate(input: $i) { vendor { name } userErrors { code } } }";
    let r = raw(
        &t,
        &as_a,
        update,
        json!({ "i": { "id": b.to_string(), "name": "Mine now" } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = run(
        &t,
        &as_a,
        update,
        json!({ "i": { "id": a.to_string(), "name": "Renamed", "handle": "vendor-b" } }),
    )
    .await;
    assert_eq!(r["vendorUpdate"]["userErrors"][0]["code"], "HANDLE_TAKEN");
    let r = run(
        &t,
        &as_a,
        update,
        json!({ "i": { "id": a.to_string(), "name": "Renamed" } }),
    )
    .await;
    assert_eq!(r["vendorUpdate"]["vendor"]["name"], "Renamed");
    // B's private fields stay hidden from A: by id, in lists and through _entities.
    let seen = run(
        &t,
        &as_a,
        VIEW,
        json!({ "id": b.to_string(), "h": "vendor-b" }),
    )
    .await;
    assert_eq!(
        (
            seen["byId"]["address"].is_null(),
            seen["byId"]["members"].is_null(),
            seen["byId"]["documents"].is_null()
        ),
        (true, true, true)
    );
    let q = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Vendor { id members { email } statusReason } } }";
    let seen = run(
        &t,
        &as_a,
        q,
        json!({ "r": [{ "__typename": "Vendor", "id": b.to_string() }] }),
    )
    .await;
    assert!(seen["_entities"][0]["members"].is_null());
    let q = "{ vendors(first: 10) { edges { node { handle members { email } } } } }";
    let seen = run(&t, &as_a, q, json!({})).await;
    for edge in seen["vendors"]["edges"].as_array().expect("edges") {
        assert_eq!(
            edge["node"]["members"].is_null(),
            edge["node"]["handle"] == "vendor-b",
            "{edge}"
        );
    }
    // Another tenant's staff see neither.
    let other = Shop::new(&t, "elsewhere").await;
    let seen = run(
        &t,
        &other.admin,
        VIEW,
        json!({ "id": a.to_string(), "h": "vendor-a" }),
    )
    .await;
    assert_eq!(
        (
            seen["byId"].is_null(),
            seen["byHandle"].is_null(),
            seen["vendors"]["totalCount"].as_i64()
        ),
        (true, true, Some(0))
    );
}

#[tokio::test]
async fn racing_approvals_and_applications_keep_one_outcome() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race").await;
    let (owner, customer) = shop.customer(&t, "o@race.test").await;
    let vendor = apply(&t, &customer, "racer").await;
    documents_accepted(
        &t,
        &shop,
        &shop.acting(owner, vendor, VendorRole::Owner),
        vendor,
    )
    .await;
    run(
        &t,
        &shop.admin,
        &transition("vendorReviewStart"),
        json!({ "i": { "id": vendor.to_string() } }),
    )
    .await;
    let approve = transition("vendorApprove");
    let tries = (0..6).map(|_| {
        run(
            &t,
            &shop.admin,
            &approve,
            json!({ "i": { "id": vendor.to_string() } }),
        )
    });
    let results = futures_util::future::join_all(tries).await;
    let approved = results
        .iter()
        .filter(|r| r["vendorApprove"]["vendor"]["status"] == "APPROVED")
        .count();
    let refused = results
        .iter()
        .filter(|r| r["vendorApprove"]["userErrors"][0]["code"] == "INVALID_TRANSITION")
        .count();
    assert_eq!((approved, refused), (1, 5));
    let events = t
        .count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM vendors.outbox WHERE topic = 'vendor.approved'",
        )
        .await;
    assert_eq!(events, 1);

    // Eight customers race for one handle: one vendor.
    let mut customers = Vec::new();
    for i in 0..8 {
        customers.push(shop.customer(&t, &format!("c{i}@race.test")).await.1);
    }
    let tries = customers.iter().map(|c| {
        run(
            &t,
            c,
            APPLY,
            json!({ "i": { "name": "Same", "handle": "same", "email": "s@race.test" } }),
        )
    });
    let results = futures_util::future::join_all(tries).await;
    let won = results
        .iter()
        .filter(|r| r["vendorApply"]["vendor"].is_object())
        .count();
    let taken = results
        .iter()
        .filter(|r| r["vendorApply"]["userErrors"][0]["code"] == "HANDLE_TAKEN")
        .count();
    assert_eq!((won, taken), (1, 7), "{results:?}");
}
