//! End-to-end through the router: a B2B company with an admin, an approver and a buyer on NET_30
//! with a contract price list. The buyer's company cart prices at the contract price; their
//! checkout over the approval threshold waits, is approved by the approver (acting for the company
//! with `x-company-id`), and is placed on account with its purchase-order number, confirmed and
//! invoiced due in 30 days; a second order that would pass the credit limit is refused; the same
//! lines by quote (requested, negotiated and sent by staff, accepted by the approver) become one
//! order at the quote's prices, once; and a member of another company sees nothing of either.

use cityos_e2e::fixtures::{
    self, Caller, create_location, create_stocked_product, create_tenant, platform_token,
    staff_mutation,
};
use cityos_e2e::{Stack, StackOptions};
use serde_json::{Value, json};

const CHECKOUT: &str = "mutation($i: CheckoutCompleteInput!) { checkoutComplete(input: $i) {
    order { id status total { amount } purchaseOrderNumber }
    approvalRequest { id status version total { amount } }
    userErrors { field code message } } }";

#[tokio::test(flavor = "multi_thread")]
async fn a_company_buyer_orders_on_account_after_approval_at_contract_prices_through_the_router() {
    let stack = Stack::start_with(StackOptions::default()).await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "b2b-e2e").await;
    let location = create_location(&stack, &shop, "Warehouse").await;
    let (_, variants) = create_stocked_product(&stack, &shop, "paper", &location, 100).await;
    let small = &variants[0]; // 99.00 SAR list price

    // The contract: a customer group whose price list sells the small pack at 80.00.
    let group = fixtures::contract_price(&stack, &shop, "Acme", small, 8000).await;

    // The company: its admin registers it, staff verify it and grant NET_30, 500.00 of credit
    // and the contract group; an approver and a buyer join by invitation.
    let fixtures::Company {
        id: company,
        admin,
        approver,
        buyer,
    } = fixtures::company(
        &stack,
        &shop,
        "Acme",
        json!({ "paymentTerms": "NET_30", "creditLimit": 50000, "customerGroupId": group }),
    )
    .await;
    let address = fixtures::company_address();

    // Orders of 200.00 or more wait for an approver.
    admin
        .ok(&stack,
            "mutation($i: CompanyApprovalRuleCreateInput!) { companyApprovalRuleCreate(input: $i) { approvalRule { id } userErrors { code } } }",
            json!({ "i": { "companyId": company, "name": "Over 200", "minTotal": { "amountMinor": 20000, "currency": "SAR" },
                "levels": [{ "mode": "ANY", "roles": ["APPROVER"] }] } }))
        .await;

    // The buyer's company cart: three small packs at the contract price.
    let cart = buyer
        .ok(
            &stack,
            "mutation { cartCreate(input: {}) { cart { id company { id } } userErrors { code } } }",
            json!({}),
        )
        .await["cart"]
        .clone();
    assert_eq!(cart["company"]["id"], company.as_str());
    let cart = cart["id"].as_str().expect("cart").to_owned();
    let lines = buyer
        .ok(&stack,
            "mutation($i: CartLinesAddInput!) { cartLinesAdd(input: $i) { cart { total { amount } lines { unitPrice { amount } } } userErrors { code } } }",
            json!({ "i": { "cartId": cart, "lines": [{ "variantId": small, "quantity": 3 }] } }))
        .await;
    assert_eq!(
        lines["cart"]["lines"][0]["unitPrice"]["amount"], "80.00",
        "{lines}"
    );
    buyer
        .ok(&stack,
            "mutation($i: CartUpdateInput!) { cartUpdate(input: $i) { cart { id } userErrors { code } } }",
            json!({ "i": { "cartId": cart, "shippingAddress": address } }))
        .await;

    // Checkout on account waits for approval.
    let waiting = buyer
        .ok(
            &stack,
            CHECKOUT,
            json!({ "i": { "cartId": cart, "idempotencyKey": "b2b-1",
            "paymentMethod": "ON_ACCOUNT", "purchaseOrderNumber": "PO-77" } }),
        )
        .await;
    assert_eq!(waiting["order"], Value::Null);
    let request = waiting["approvalRequest"].clone();
    assert_eq!(
        (
            request["status"].as_str(),
            request["total"]["amount"].as_str()
        ),
        (Some("PENDING"), Some("240.00"))
    );

    // The approver sees it and approves it: the order is placed on account, invoiced in 30 days.
    let listed = approver
        .send(
            &stack,
            "{ approvalRequests(first: 10) { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["approvalRequests"]["edges"][0]["node"]["id"],
        request["id"]
    );
    let approved = approver
        .ok(&stack,
            "mutation($i: ApprovalDecisionInput!) { approvalRequestApprove(input: $i) { approvalRequest { status
                order { status total { amount } purchaseOrderNumber company { id } invoices { dueAt issuedAt }
                        payments { method status } } } userErrors { code } } }",
            json!({ "i": { "id": request["id"], "version": request["version"], "comment": "ok" } }))
        .await;
    let order = &approved["approvalRequest"]["order"];
    assert_eq!(approved["approvalRequest"]["status"], "APPROVED");
    assert_eq!(
        (
            order["status"].as_str(),
            order["total"]["amount"].as_str(),
            order["purchaseOrderNumber"].as_str()
        ),
        (Some("CONFIRMED"), Some("240.00"), Some("PO-77")),
        "{order}"
    );
    assert_eq!(order["payments"][0]["method"], "ON_ACCOUNT");
    let due =
        chrono::DateTime::parse_from_rfc3339(order["invoices"][0]["dueAt"].as_str().expect("due"))
            .expect("due date");
    let issued = chrono::DateTime::parse_from_rfc3339(
        order["invoices"][0]["issuedAt"].as_str().expect("issued"),
    )
    .expect("issue date");
    assert_eq!((due - issued).num_days(), 30);

    // 240.00 owed of 500.00: an order of 320.00 on account is refused.
    let second = buyer
        .ok(
            &stack,
            "mutation { cartCreate(input: {}) { cart { id } userErrors { code } } }",
            json!({}),
        )
        .await["cart"]["id"]
        .as_str()
        .expect("cart")
        .to_owned();
    buyer
        .ok(&stack,
            "mutation($i: CartLinesAddInput!) { cartLinesAdd(input: $i) { cart { id } userErrors { code } } }",
            json!({ "i": { "cartId": second, "lines": [{ "variantId": small, "quantity": 4 }] } }))
        .await;
    buyer
        .ok(&stack,
            "mutation($i: CartUpdateInput!) { cartUpdate(input: $i) { cart { id } userErrors { code } } }",
            json!({ "i": { "cartId": second, "shippingAddress": address } }))
        .await;
    let refused = buyer
        .send(
            &stack,
            CHECKOUT,
            json!({ "i": { "cartId": second, "idempotencyKey": "b2b-2",
            "paymentMethod": "ON_ACCOUNT", "purchaseOrderNumber": "PO-78" } }),
        )
        .await;
    assert_eq!(
        refused["checkoutComplete"]["userErrors"][0]["code"], "CREDIT_LIMIT_EXCEEDED",
        "{refused}"
    );

    // The same four packs by quote: the buyer asks, staff negotiate 60.00 a pack and send it,
    // the approver accepts it once; 240.00 more on account fits the 500.00 now.
    let quote = buyer
        .ok(&stack,
            "mutation($i: QuoteRequestInput!) { quoteRequest(input: $i) { quote { id status version current { version } } userErrors { code } } }",
            json!({ "i": { "cartId": second, "message": "Four packs every month: a better price?" } }))
        .await["quote"]
        .clone();
    assert_eq!(
        (quote["status"].as_str(), &quote["current"]),
        (Some("DRAFT"), &Value::Null),
        "nothing sent yet: {quote}"
    );
    let valid_until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    staff_mutation(&stack, &shop,
        "mutation($i: QuoteUpdateInput!) { quoteUpdate(input: $i) { quote { id } userErrors { code } } }",
        json!({ "i": { "id": quote["id"], "validUntil": valid_until,
            "lines": [{ "variantId": small, "quantity": 4, "unitPriceMinor": 6000 }] } })).await;
    staff_mutation(&stack, &shop,
        "mutation($i: QuoteRefInput!) { quoteSend(input: $i) { quote { status } userErrors { code } } }",
        json!({ "i": { "id": quote["id"] } })).await;
    let offered = buyer
        .send(&stack,
            "query($id: ID!) { quote(id: $id) { status version current { subtotal { amount } lines { unitPrice { amount } listUnitPrice { amount } } } } }",
            json!({ "id": quote["id"] }))
        .await;
    let current = &offered["quote"]["current"];
    assert_eq!(offered["quote"]["status"], "SENT");
    assert_eq!(
        (
            current["lines"][0]["unitPrice"]["amount"].as_str(),
            current["lines"][0]["listUnitPrice"]["amount"].as_str(),
            current["subtotal"]["amount"].as_str()
        ),
        (Some("60.00"), Some("80.00"), Some("240.00")),
        "{offered}"
    );
    const QUOTE_ACCEPT: &str = "mutation($i: QuoteAcceptInput!) { quoteAccept(input: $i) {
        quote { status } order { id total { amount } purchaseOrderNumber payments { method } }
        userErrors { code } } }";
    let by_buyer = buyer
        .post(
            &stack,
            QUOTE_ACCEPT,
            json!({ "i": { "id": quote["id"], "version": 1, "idempotencyKey": "q-0" } }),
        )
        .await;
    assert_eq!(
        by_buyer.error_code(),
        Some("FORBIDDEN"),
        "a buyer does not accept for the company"
    );
    let accepted = approver
        .ok(&stack, QUOTE_ACCEPT,
            json!({ "i": { "id": quote["id"], "version": 1, "idempotencyKey": "q-1", "purchaseOrderNumber": "PO-79" } }))
        .await;
    assert_eq!(accepted["quote"]["status"], "ACCEPTED");
    assert_eq!(
        (
            accepted["order"]["total"]["amount"].as_str(),
            accepted["order"]["purchaseOrderNumber"].as_str(),
            accepted["order"]["payments"][0]["method"].as_str()
        ),
        (Some("240.00"), Some("PO-79"), Some("ON_ACCOUNT")),
        "{accepted}"
    );
    let again = approver
        .send(&stack, QUOTE_ACCEPT,
            json!({ "i": { "id": quote["id"], "version": 1, "idempotencyKey": "q-2", "purchaseOrderNumber": "PO-80" } }))
        .await;
    assert_eq!(
        again["quoteAccept"]["userErrors"][0]["code"], "REQUEST_CLOSED",
        "converted once: {again}"
    );
    let converted = buyer
        .send(
            &stack,
            "query($id: ID!) { quote(id: $id) { order { id } } }",
            json!({ "id": quote["id"] }),
        )
        .await;
    assert_eq!(converted["quote"]["order"]["id"], accepted["order"]["id"]);

    // The admin's dashboard, the company's name from the vendors subgraph: both orders owed on
    // account (480.00 of 500.00), their invoices open, the month's spend by member.
    let dashboard = admin
        .send(
            &stack,
            "query { companyDashboard { company { name } creditLimit { amount }
                openBalance { amount } availableCredit { amount } spendThisMonth { amount }
                members { email committed { amount } } openInvoiceCount pendingApprovalCount } }",
            json!({}),
        )
        .await;
    let d = &dashboard["companyDashboard"];
    assert_eq!(
        (
            d["company"]["name"].as_str(),
            d["openBalance"]["amount"].as_str(),
            d["availableCredit"]["amount"].as_str(),
            d["spendThisMonth"]["amount"].as_str(),
            d["openInvoiceCount"].as_i64(),
            d["pendingApprovalCount"].as_i64(),
        ),
        (
            Some("Acme"),
            Some("480.00"),
            Some("20.00"),
            Some("480.00"),
            Some(2),
            Some(0)
        ),
        "{dashboard}"
    );
    assert_eq!(
        d["members"].as_array().map(Vec::len),
        Some(3),
        "{dashboard}"
    );
    // Nothing is overdue yet: staff's list is empty.
    let overdue = stack
        .gql(
            &fixtures::headers(&shop.staff()),
            "query { overdueCompanies { totalCount } }",
            json!({}),
        )
        .await
        .data()
        .clone();
    assert_eq!(overdue["overdueCompanies"]["totalCount"], 0);

    // Another company's admin neither sees the request nor approves it.
    let mut outsider = Caller::sign_up(&stack, &shop, "admin@other.test").await;
    let other = outsider
        .ok(&stack,
            "mutation($i: CompanyRegisterInput!) { companyRegister(input: $i) { company { id } userErrors { code } } }",
            json!({ "i": { "name": "Other", "email": "ap@other.test", "billingAddress": address } }))
        .await["company"]["id"]
        .as_str()
        .expect("company")
        .to_owned();
    outsider.company = Some(other);
    let seen = outsider
        .send(
            &stack,
            "query($id: ID!) { approvalRequest(id: $id) { id } }",
            json!({ "id": request["id"] }),
        )
        .await;
    assert_eq!(seen["approvalRequest"], Value::Null);
    let seen = outsider
        .send(
            &stack,
            "query($id: ID!) { quote(id: $id) { id } quotes(first: 5) { totalCount } }",
            json!({ "id": quote["id"] }),
        )
        .await;
    assert_eq!(
        (&seen["quote"], seen["quotes"]["totalCount"].as_i64()),
        (&Value::Null, Some(0))
    );
    let seen = outsider
        .send(
            &stack,
            "query($id: ID) { companyDashboard(companyId: $id) { openBalance { amount } } }",
            json!({ "id": company }),
        )
        .await;
    assert_eq!(seen["companyDashboard"], Value::Null);
}
