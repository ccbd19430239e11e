//! Tenant isolation of every vendors table at once: rows in each for one tenant (and another),
//! then the testkit probes every table the catalogue lists, so a table added without rows here
//! fails by name.

use crate::common::{Shop, approved, run, test_db};
use cityos_core::VendorRole;
use serde_json::json;

#[tokio::test]
async fn every_vendors_table_is_isolated_by_tenant() {
    let t = test_db().await;
    let own = Shop::new(&t, "iso-own").await;
    let other = Shop::new(&t, "iso-other").await;
    let double = cityos_testkit::stripe::StripeDouble::start().await;
    for shop in [&own, &other] {
        // Vendors, documents, members (approved() goes through all three), the outbox.
        let (vendor, owner) = approved(&t, shop, &format!("{}-v", shop.info.slug)).await;
        // An invitation and the settings.
        let r = run(&t, &shop.acting(owner, vendor, VendorRole::Owner),
            "mutation($i: VendorInviteInput!) { vendorInvite(input: $i) { token } }",
            json!({ "i": { "vendorId": vendor.to_string(), "email": "new@iso.test", "role": "STAFF" } })).await;
        assert!(r["vendorInvite"]["token"].is_string());
        run(&t, &shop.admin, "mutation { vendorSettingsUpdate(input: { requiredDocuments: [OWNER_ID] }) { userErrors { code } } }", json!({})).await;
        // A commission rule.
        let r = run(&t, &shop.admin, "mutation { commissionRuleCreate(input: { name: \"Default\", method: PERCENTAGE, scope: TENANT, rateBasisPoints: 1000 }) { userErrors { code } } }", json!({})).await;
        assert_eq!(r["commissionRuleCreate"]["userErrors"], json!([]));
        // A review of its product, from the catalog's event: the inbox, the review, the rating.
        let event = crate::ratings::review_changed(
            shop.info.id,
            uuid::Uuid::now_v7(),
            Some(vendor),
            4,
            true,
            2,
        );
        crate::ratings::apply(&t, &event).await;
        // A sale and its delivery, from orders' events: sales, commission lines, the ledger and
        // its balance, deliveries.
        let order = uuid::Uuid::now_v7();
        let product = uuid::Uuid::now_v7();
        let sold = crate::ledger::part(order, vendor, 0, &[(product, 1, 1_000, 0)]);
        let capture = crate::ledger::captured(shop.info.id, chrono::Utc::now(), vec![sold]);
        crate::ratings::apply(&t, &capture).await;
        let arrived = crate::ledger::delivered(shop.info.id, order, vendor, chrono::Utc::now());
        crate::ratings::apply(&t, &arrived).await;
        // The order as placed, for analytics (vendor_days has rows from the sale already).
        let placed = crate::analytics::placed(
            shop.info.id,
            uuid::Uuid::now_v7(),
            chrono::Utc::now(),
            &[(order, Some(vendor), 1)],
        );
        crate::ratings::apply(&t, &placed).await;
        // Payout terms, a payout and its transfer job.
        let handle = format!("{}-paid", shop.info.slug);
        let (paid, owner, _) = crate::payouts::paid_vendor(&t, &double, shop, &handle).await;
        crate::payouts::sale(&t, shop, paid, 1_000, Some(20)).await;
        let r = crate::payouts::run(
            &t,
            &double,
            &owner,
            crate::payouts::REQUEST,
            crate::payouts::request(paid),
        )
        .await;
        assert!(r["vendorPayoutRequest"]["payout"].is_object(), "{r}");
        // A company with a member, a location, a tax exemption certificate and an approval rule.
        let slug = format!("{}-co", shop.info.slug);
        let (company, _, admin) = crate::companies::active_company(&t, shop, &slug).await;
        let r = run(&t, &admin, "mutation($i: CompanyLocationAddInput!) { companyLocationAdd(input: $i) { userErrors { code } } }",
            json!({ "i": { "companyId": company.to_string(), "name": "Depot",
                "address": { "firstName": "A", "lastName": "", "line1": "Olaya St 1", "city": "Riyadh", "countryCode": "SA" } } })).await;
        assert_eq!(r["companyLocationAdd"]["userErrors"], json!([]));
        let today = chrono::Utc::now().date_naive();
        let r = run(&t, &admin, "mutation($i: TaxExemptionSubmitInput!) { taxExemptionSubmit(input: $i) { userErrors { code } } }",
            json!({ "i": { "companyId": company.to_string(), "country": "SA", "number": "X-1", "validFrom": today.to_string(),
                "validUntil": today.to_string(), "documentUrl": "https://docs.test/x.pdf" } })).await;
        assert_eq!(r["taxExemptionSubmit"]["userErrors"], json!([]));
        let r = run(&t, &admin, "mutation($i: CompanyApprovalRuleCreateInput!) { companyApprovalRuleCreate(input: $i) { userErrors { code } } }",
            json!({ "i": { "companyId": company.to_string(), "name": "Large orders",
                "minTotal": { "amountMinor": 100000, "currency": "SAR" },
                "levels": [{ "mode": "ANY", "roles": ["ADMIN"] }] } })).await;
        assert_eq!(r["companyApprovalRuleCreate"]["userErrors"], json!([]));
    }
    // The outbox's deliveries exist once a subscriber takes the topic.
    vendors::OUTBOX
        .subscribe(t.db(), &[("catalog".into(), "vendor.approved".into())])
        .await
        .expect("subscribed");
    approved(&t, &own, "iso-late").await;
    approved(&t, &other, "iso-late").await;
    t.assert_every_table_isolated("vendors", own.info.id, other.info.id)
        .await;
}
