//! B2B companies: registration and lifecycle, terms, members and their limits (with the catalog
//! customer group following them), locations, tax exemption certificates, and a member of one
//! company who can see or touch nothing of another.

use crate::common::{Shop, raw, run, test_db};
use cityos_core::ids::{CompanyId, UserId};
use cityos_core::{CompanyRole, RequestContext};
use cityos_testkit::{TestDb, company_context};
use serde_json::{Value, json};

pub const REGISTER: &str = "mutation($i: CompanyRegisterInput!) { companyRegister(input: $i) {
    company { id name legalName status currency paymentTerms creditLimit { amountMinor }
              members { email role } }
    userErrors { field code message } } }";
const UPDATE: &str = "mutation($i: CompanyUpdateInput!) { companyUpdate(input: $i) {
    company { name taxId currency poRequired approvalDays } userErrors { field code } } }";
const TERMS: &str = "mutation($i: CompanyTermsInput!) { companyTermsUpdate(input: $i) {
    company { paymentTerms earlyPaymentDiscount { rateBps days } creditLimit { amountMinor currency }
              graceDays customerGroupId }
    userErrors { field code message } } }";
const INVITE: &str = "mutation($i: CompanyInviteInput!) { companyInvite(input: $i) {
    invitation { id email role status } token userErrors { field code } } }";
const ACCEPT: &str = "mutation($t: String!) { companyInvitationAccept(token: $t) {
    member { email role company { name } } userErrors { field code } } }";
const LIMITS: &str = "mutation($i: CompanyMemberLimitsInput!) { companyMemberLimitsSet(input: $i) {
    member { email orderLimit { amountMinor } monthlyLimit { amountMinor } } userErrors { field code } } }";
const REMOVE: &str = "mutation($i: CompanyMemberInput!) { companyMemberRemove(input: $i) {
    member { email } userErrors { field code } } }";
const LOCATION_ADD: &str =
    "mutation($i: CompanyLocationAddInput!) { companyLocationAdd(input: $i) {
    location { id name isDefault } userErrors { field code } } }";
const LOCATION_UPDATE: &str =
    "mutation($i: CompanyLocationUpdateInput!) { companyLocationUpdate(input: $i) {
    location { id name isDefault } userErrors { field code } } }";
const LOCATION_REMOVE: &str = "mutation($id: ID!) { companyLocationRemove(id: $id) {
    location { id } userErrors { field code } } }";
const SUBMIT: &str = "mutation($i: TaxExemptionSubmitInput!) { taxExemptionSubmit(input: $i) {
    taxExemption { id country region status } userErrors { field code } } }";

fn transition(name: &str) -> String {
    format!(
        "mutation($i: CompanyTransitionInput!) {{ {name}(input: $i) {{
            company {{ status statusReason version }} userErrors {{ field code }} }} }}"
    )
}

fn address() -> Value {
    json!({ "firstName": "Accounts", "lastName": "", "line1": "Olaya St 10", "city": "Riyadh", "countryCode": "SA" })
}

fn errors(r: &Value, mutation: &str) -> Value {
    r[mutation]["userErrors"].clone()
}

/// The `field` path a refusal of `input.<dotted>` names.
fn path(dotted: &str) -> Value {
    let mut path = vec!["input"];
    path.extend(dotted.split('.'));
    json!(path)
}

fn code(r: &Value, mutation: &str) -> Value {
    r[mutation]["userErrors"][0]["code"].clone()
}

/// A company registered by a new customer `admin@<slug>.test`, verified by staff: its id and
/// its admin's user id and context acting for it.
pub async fn active_company(
    t: &TestDb,
    shop: &Shop,
    slug: &str,
) -> (CompanyId, UserId, RequestContext) {
    let (admin, customer) = shop.customer(t, &format!("admin@{slug}.test")).await;
    let r = run(
        t,
        &customer,
        REGISTER,
        json!({ "i": { "name": format!("{slug} Trading"), "email": format!("ap@{slug}.test"), "billingAddress": address() } }),
    )
    .await;
    assert_eq!(errors(&r, "companyRegister"), json!([]), "{r}");
    let id: CompanyId = r["companyRegister"]["company"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("company id");
    let r = run(
        t,
        &shop.admin,
        &transition("companyActivate"),
        json!({ "i": { "id": id.to_string() } }),
    )
    .await;
    assert_eq!(r["companyActivate"]["company"]["status"], "ACTIVE", "{r}");
    let acting = company_context(&shop.info, admin, id, CompanyRole::Admin);
    (id, admin, acting)
}

/// Invites `email` with `role` as `inviter` and accepts as a new customer with that address:
/// the member's user id and context acting for the company.
pub async fn join(
    t: &TestDb,
    shop: &Shop,
    inviter: &RequestContext,
    company: CompanyId,
    email: &str,
    role: CompanyRole,
) -> (UserId, RequestContext) {
    let r = run(
        t,
        inviter,
        INVITE,
        json!({ "i": { "companyId": company.to_string(), "email": email, "role": role.as_str() } }),
    )
    .await;
    let token = r["companyInvite"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (user, customer) = shop.customer(t, email).await;
    let r = run(t, &customer, ACCEPT, json!({ "t": token })).await;
    assert_eq!(errors(&r, "companyInvitationAccept"), json!([]), "{r}");
    (user, company_context(&shop.info, user, company, role))
}

#[tokio::test]
async fn a_registered_company_is_verified_put_on_hold_released_and_closed() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-life").await;
    let (founder, customer) = shop.customer(&t, "founder@life.test").await;

    // Bad input is refused by field and changes nothing.
    for (input, field, code_) in [
        (
            json!({ "name": "", "email": "ap@life.test", "billingAddress": address() }),
            "name",
            "INVALID_TEXT",
        ),
        (
            json!({ "name": "x".repeat(201), "email": "ap@life.test", "billingAddress": address() }),
            "name",
            "INVALID_TEXT",
        ),
        (
            json!({ "name": "Co", "email": "not an address", "billingAddress": address() }),
            "email",
            "INVALID_EMAIL",
        ),
        (
            json!({ "name": "Co", "email": "ap@life.test", "taxId": "<script>", "billingAddress": address() }),
            "taxId",
            "INVALID_REGISTRATION",
        ),
        (
            json!({ "name": "Co", "email": "ap@life.test", "currency": "XXX1", "billingAddress": address() }),
            "currency",
            "UNKNOWN_CURRENCY",
        ),
        (
            json!({ "name": "Co", "email": "ap@life.test", "approvalDays": 0, "billingAddress": address() }),
            "approvalDays",
            "INVALID_PERIOD",
        ),
        (
            json!({ "name": "Co", "email": "ap@life.test", "billingAddress": { "firstName": "A", "lastName": "", "line1": "", "city": "R", "countryCode": "SA" } }),
            "billingAddress.line1",
            "INVALID_ADDRESS",
        ),
    ] {
        let r = run(&t, &customer, REGISTER, json!({ "i": input })).await;
        assert_eq!(
            r["companyRegister"]["userErrors"][0]["field"],
            path(field),
            "{r}"
        );
        assert_eq!(code(&r, "companyRegister"), code_, "{r}");
    }
    let r = raw(&t, &customer, REGISTER, json!({ "i": { "name": "Bad\u{7}Co", "email": "ap@life.test", "billingAddress": address() } })).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "control characters never reach the domain"
    );
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM vendors.companies")
            .await,
        0
    );
    let anonymous = raw(
        &t,
        &shop.guest(),
        REGISTER,
        json!({ "i": { "name": "Co", "email": "ap@life.test", "billingAddress": address() } }),
    )
    .await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    // The founder registers it and becomes its admin.
    let r = run(&t, &customer, REGISTER, json!({ "i": { "name": " Gulf Builders ", "legalName": "Gulf Builders LLC", "email": "AP@Gulf.Test", "taxId": "300-1234567", "billingAddress": address() } })).await;
    let company = &r["companyRegister"]["company"];
    assert_eq!(company["name"], "Gulf Builders");
    assert_eq!(company["status"], "PENDING_VERIFICATION");
    assert_eq!(company["currency"], "SAR", "the tenant's currency");
    assert_eq!(company["paymentTerms"], "PREPAID");
    assert_eq!(company["creditLimit"]["amountMinor"], 0);
    assert_eq!(
        company["members"],
        json!([{ "email": "founder@life.test", "role": "ADMIN" }])
    );
    let id: CompanyId = company["id"].as_str().expect("id").parse().expect("id");
    let admin = company_context(&shop.info, founder, id, CompanyRole::Admin);
    let r = run(
        &t,
        &shop.customer_context_of(founder),
        "{ myCompanies { role company { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["myCompanies"],
        json!([{ "role": "ADMIN", "company": { "name": "Gulf Builders" } }])
    );
    let by_id = format!("{{ company(id: \"{id}\") {{ name }} }}");
    assert_eq!(
        run(&t, &customer, &by_id, json!({})).await["company"],
        Value::Null,
        "company(id:) reads for x-company-id"
    );
    assert_eq!(
        run(&t, &admin, &by_id, json!({})).await["company"]["name"],
        "Gulf Builders"
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM vendors.outbox WHERE topic = 'company.pending_verification'"
        )
        .await,
        1
    );

    // Its admin changes the currency while it is unverified; only staff verify it.
    let r = run(
        &t,
        &admin,
        UPDATE,
        json!({ "i": { "id": id.to_string(), "currency": "USD", "poRequired": true } }),
    )
    .await;
    assert_eq!(r["companyUpdate"]["company"]["currency"], "USD");
    assert_eq!(r["companyUpdate"]["company"]["poRequired"], true);
    let r = raw(
        &t,
        &admin,
        &transition("companyActivate"),
        json!({ "i": { "id": id.to_string() } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = run(
        &t,
        &shop.admin,
        &transition("companyActivate"),
        json!({ "i": { "id": id.to_string() } }),
    )
    .await;
    assert_eq!(
        r["companyActivate"]["company"],
        json!({ "status": "ACTIVE", "statusReason": null, "version": 2 })
    );
    let r = run(
        &t,
        &admin,
        UPDATE,
        json!({ "i": { "id": id.to_string(), "currency": "SAR" } }),
    )
    .await;
    assert_eq!(code(&r, "companyUpdate"), "CURRENCY_LOCKED");

    // Holding needs a reason; a release and a close follow the table; a closed company is done.
    let r = run(
        &t,
        &shop.admin,
        &transition("companyHold"),
        json!({ "i": { "id": id.to_string() } }),
    )
    .await;
    assert_eq!(code(&r, "companyHold"), "INVALID_TEXT");
    let r = run(
        &t,
        &shop.admin,
        &transition("companyHold"),
        json!({ "i": { "id": id.to_string(), "reason": "invoice 17 overdue" } }),
    )
    .await;
    assert_eq!(r["companyHold"]["company"]["status"], "ON_HOLD");
    let r = run(
        &t,
        &shop.admin,
        &transition("companyHold"),
        json!({ "i": { "id": id.to_string(), "reason": "again" } }),
    )
    .await;
    assert_eq!(code(&r, "companyHold"), "INVALID_TRANSITION");
    let r = run(
        &t,
        &shop.admin,
        &transition("companyActivate"),
        json!({ "i": { "id": id.to_string() } }),
    )
    .await;
    assert_eq!(r["companyActivate"]["company"]["status"], "ACTIVE");
    let r = run(
        &t,
        &shop.admin,
        &transition("companyClose"),
        json!({ "i": { "id": id.to_string(), "reason": "merged" } }),
    )
    .await;
    assert_eq!(r["companyClose"]["company"]["version"], 5);
    let r = run(
        &t,
        &shop.admin,
        UPDATE,
        json!({ "i": { "id": id.to_string(), "name": "Renamed" } }),
    )
    .await;
    assert_eq!(code(&r, "companyUpdate"), "COMPANY_CLOSED");
    let r = run(
        &t,
        &shop.admin,
        &transition("companyActivate"),
        json!({ "i": { "id": id.to_string() } }),
    )
    .await;
    assert_eq!(code(&r, "companyActivate"), "INVALID_TRANSITION");
    for topic in ["company.active", "company.on_hold", "company.closed"] {
        let sql = format!("SELECT count(*) AS n FROM vendors.outbox WHERE topic = '{topic}'");
        assert!(t.count_in(shop.info.id, &sql).await >= 1, "{topic}");
    }

    // Staff list companies by name and status.
    active_company(&t, &shop, "alpha").await;
    let r = run(
        &t,
        &shop.admin,
        "{ companies(filter: { status: [ACTIVE] }) { totalCount edges { node { name } } } }",
        json!({}),
    )
    .await;
    assert_eq!(r["companies"]["totalCount"], 1);
    assert_eq!(r["companies"]["edges"][0]["node"]["name"], "alpha Trading");
    let r = run(
        &t,
        &shop.admin,
        "{ companies(filter: { query: \"gulf\" }) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(r["companies"]["totalCount"], 1);
    let r = raw(&t, &admin, "{ companies { totalCount } }", json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn terms_are_granted_by_staff_and_checked() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-terms").await;
    let (id, _, admin) = active_company(&t, &shop, "terms").await;
    let terms = |extra: Value| {
        let mut i = json!({ "id": id.to_string() });
        i.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        json!({ "i": i })
    };

    let r = raw(
        &t,
        &admin,
        TERMS,
        terms(json!({ "creditLimit": 1_000_000 })),
    )
    .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "a company does not grant itself credit"
    );
    for (extra, field, code_) in [
        (
            json!({ "earlyPaymentDiscount": { "rateBps": 200, "days": 10 } }),
            "earlyPaymentDiscount",
            "INVALID_TERMS",
        ),
        (
            json!({ "paymentTerms": "NET_15", "earlyPaymentDiscount": { "rateBps": 200, "days": 15 } }),
            "earlyPaymentDiscount",
            "INVALID_TERMS",
        ),
        (
            json!({ "paymentTerms": "NET_30", "earlyPaymentDiscount": { "rateBps": 0, "days": 10 } }),
            "earlyPaymentDiscount",
            "INVALID_AMOUNT",
        ),
        (
            json!({ "creditLimit": -1 }),
            "creditLimit",
            "INVALID_AMOUNT",
        ),
        (json!({ "graceDays": 91 }), "graceDays", "INVALID_PERIOD"),
        (
            json!({ "customerGroupId": uuid::Uuid::now_v7().to_string() }),
            "customerGroupId",
            "NOT_FOUND",
        ),
    ] {
        let r = run(&t, &shop.admin, TERMS, terms(extra)).await;
        assert_eq!(
            r["companyTermsUpdate"]["userErrors"][0]["field"],
            path(field),
            "{r}"
        );
        assert_eq!(code(&r, "companyTermsUpdate"), code_, "{r}");
    }
    let r = run(&t, &shop.admin, TERMS, terms(json!({ "paymentTerms": "NET_30", "earlyPaymentDiscount": { "rateBps": 200, "days": 10 }, "creditLimit": 5_000_000, "graceDays": 5 }))).await;
    assert_eq!(
        r["companyTermsUpdate"]["company"],
        json!({ "paymentTerms": "NET_30", "earlyPaymentDiscount": { "rateBps": 200, "days": 10 },
                "creditLimit": { "amountMinor": 5_000_000, "currency": "SAR" }, "graceDays": 5, "customerGroupId": null })
    );
    // Back to PREPAID needs the discount gone.
    let r = run(
        &t,
        &shop.admin,
        TERMS,
        terms(json!({ "paymentTerms": "PREPAID" })),
    )
    .await;
    assert_eq!(code(&r, "companyTermsUpdate"), "INVALID_TERMS");
    let r = run(
        &t,
        &shop.admin,
        TERMS,
        terms(json!({ "paymentTerms": "PREPAID", "earlyPaymentDiscount": null })),
    )
    .await;
    assert_eq!(
        r["companyTermsUpdate"]["company"]["earlyPaymentDiscount"],
        Value::Null
    );
}

async fn group(t: &TestDb, shop: &Shop, name: &str) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    t.owner_sql(&format!(
        "INSERT INTO catalog.customer_groups (tenant_id, id, name) VALUES ('{}', '{id}', '{name}')",
        shop.info.id
    ))
    .await;
    id
}

async fn in_group(t: &TestDb, shop: &Shop, group: uuid::Uuid) -> i64 {
    t.count_in(
        shop.info.id,
        &format!(
            "SELECT count(*) AS n FROM catalog.customer_group_members WHERE group_id = '{group}'"
        ),
    )
    .await
}

#[tokio::test]
async fn members_join_by_invitation_with_limits_and_follow_the_customer_group() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-team").await;
    let (id, admin_id, admin) = active_company(&t, &shop, "team").await;
    let contract = group(&t, &shop, "Contract A").await;
    let r = run(
        &t,
        &shop.admin,
        TERMS,
        json!({ "i": { "id": id.to_string(), "customerGroupId": contract.to_string() } }),
    )
    .await;
    assert_eq!(errors(&r, "companyTermsUpdate"), json!([]), "{r}");
    assert_eq!(
        in_group(&t, &shop, contract).await,
        1,
        "the admin joined the group with the company"
    );

    // An invitation is a company's, not a vendor's; only the address invited accepts it, once.
    let r = run(&t, &admin, INVITE, json!({ "i": { "companyId": id.to_string(), "email": "Buyer@Team.Test", "role": "BUYER" } })).await;
    let token = r["companyInvite"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(token.starts_with("ci_"), "{token}");
    let (_, other) = shop.customer(&t, "other@team.test").await;
    let r = run(&t, &other, ACCEPT, json!({ "t": token })).await;
    assert_eq!(
        code(&r, "companyInvitationAccept"),
        "INVITATION_EMAIL_MISMATCH"
    );
    let (buyer_id, buyer) = shop.customer(&t, "buyer@team.test").await;
    let r = run(
        &t,
        &buyer,
        "mutation($t: String!) { vendorInvitationAccept(token: $t) { userErrors { code } } }",
        json!({ "t": token }),
    )
    .await;
    assert_eq!(
        code(&r, "vendorInvitationAccept"),
        "INVITATION_INVALID",
        "a company's token is no vendor's"
    );
    let r = run(&t, &buyer, ACCEPT, json!({ "t": token })).await;
    assert_eq!(
        r["companyInvitationAccept"]["member"],
        json!({ "email": "buyer@team.test", "role": "BUYER", "company": { "name": "team Trading" } })
    );
    let r = run(&t, &buyer, ACCEPT, json!({ "t": token })).await;
    assert_eq!(
        code(&r, "companyInvitationAccept"),
        "INVITATION_INVALID",
        "a replay changes nothing"
    );
    assert_eq!(
        in_group(&t, &shop, contract).await,
        2,
        "the buyer gets the contract prices"
    );
    let as_buyer = company_context(&shop.info, buyer_id, id, CompanyRole::Buyer);

    // Limits: its admins set them; a buyer sees their own, not a colleague's.
    let limits = |user: UserId, order: Value, month: Value| json!({ "i": { "companyId": id.to_string(), "userId": user.to_string(), "orderLimit": order, "monthlyLimit": month } });
    let r = raw(&t, &as_buyer, LIMITS, limits(buyer_id, json!(1), json!(1))).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = run(&t, &admin, LIMITS, limits(buyer_id, json!(-5), Value::Null)).await;
    assert_eq!(code(&r, "companyMemberLimitsSet"), "INVALID_AMOUNT");
    let r = run(
        &t,
        &admin,
        LIMITS,
        limits(UserId::new(), json!(5), Value::Null),
    )
    .await;
    assert_eq!(code(&r, "companyMemberLimitsSet"), "NOT_FOUND");
    let r = run(
        &t,
        &admin,
        LIMITS,
        limits(buyer_id, json!(100_000), json!(500_000)),
    )
    .await;
    assert_eq!(
        r["companyMemberLimitsSet"]["member"],
        json!({ "email": "buyer@team.test", "orderLimit": { "amountMinor": 100_000 }, "monthlyLimit": { "amountMinor": 500_000 } })
    );
    let (_, colleague) = join(
        &t,
        &shop,
        &admin,
        id,
        "colleague@team.test",
        CompanyRole::Buyer,
    )
    .await;
    let team = format!(
        "{{ company(id: \"{id}\") {{ members {{ email orderLimit {{ amountMinor }} }} }} }}"
    );
    let seen = |r: Value| {
        r["company"]["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["orderLimit"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seen(run(&t, &as_buyer, &team, json!({})).await),
        vec![Value::Null, json!({ "amountMinor": 100_000 }), Value::Null]
    );
    assert_eq!(
        seen(run(&t, &colleague, &team, json!({})).await),
        vec![Value::Null, Value::Null, Value::Null]
    );
    assert_eq!(
        seen(run(&t, &admin, &team, json!({})).await),
        vec![Value::Null, json!({ "amountMinor": 100_000 }), Value::Null]
    );
    let r = run(
        &t,
        &as_buyer,
        &format!("{{ company(id: \"{id}\") {{ invitations {{ id }} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(
        r["company"]["invitations"],
        Value::Null,
        "invitations are the admins'"
    );

    // The last admin stays; a member who leaves leaves the customer group too.
    let r = run(
        &t,
        &admin,
        REMOVE,
        json!({ "i": { "companyId": id.to_string(), "userId": admin_id.to_string() } }),
    )
    .await;
    assert_eq!(code(&r, "companyMemberRemove"), "LAST_OWNER");
    let r = run(
        &t,
        &as_buyer,
        REMOVE,
        json!({ "i": { "companyId": id.to_string(), "userId": buyer_id.to_string() } }),
    )
    .await;
    assert_eq!(
        r["companyMemberRemove"]["member"]["email"], "buyer@team.test",
        "{r}"
    );
    assert_eq!(
        in_group(&t, &shop, contract).await,
        2,
        "admin and colleague"
    );

    // Another group moves the members with the company.
    let other_group = group(&t, &shop, "Contract B").await;
    run(
        &t,
        &shop.admin,
        TERMS,
        json!({ "i": { "id": id.to_string(), "customerGroupId": other_group.to_string() } }),
    )
    .await;
    assert_eq!(in_group(&t, &shop, contract).await, 0);
    assert_eq!(in_group(&t, &shop, other_group).await, 2);
}

#[tokio::test]
async fn a_company_keeps_one_default_location() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-loc").await;
    let (id, _, admin) = active_company(&t, &shop, "loc").await;
    let add = |name: &str, default: Option<bool>| json!({ "i": { "companyId": id.to_string(), "name": name, "address": address(), "isDefault": default } });

    let r = run(&t, &admin, LOCATION_ADD, add("Riyadh warehouse", None)).await;
    let first = r["companyLocationAdd"]["location"].clone();
    assert_eq!(
        first["isDefault"], true,
        "the first location is the default"
    );
    let r = run(&t, &admin, LOCATION_ADD, add("Riyadh warehouse", None)).await;
    assert_eq!(code(&r, "companyLocationAdd"), "NAME_TAKEN");
    let r = run(&t, &admin, LOCATION_ADD, add("", None)).await;
    assert_eq!(code(&r, "companyLocationAdd"), "INVALID_TEXT");
    let r = run(&t, &admin, LOCATION_ADD, add("Jeddah site", Some(true))).await;
    let second = r["companyLocationAdd"]["location"].clone();
    assert_eq!(second["isDefault"], true);
    let r = run(
        &t,
        &admin,
        LOCATION_UPDATE,
        json!({ "i": { "id": second["id"], "isDefault": false } }),
    )
    .await;
    assert_eq!(code(&r, "companyLocationUpdate"), "DEFAULT_REQUIRED");
    let list = format!("{{ company(id: \"{id}\") {{ locations {{ name isDefault }} }} }}");
    let r = run(&t, &admin, &list, json!({})).await;
    assert_eq!(
        r["company"]["locations"],
        json!([{ "name": "Jeddah site", "isDefault": true }, { "name": "Riyadh warehouse", "isDefault": false }])
    );
    let r = run(&t, &admin, LOCATION_REMOVE, json!({ "id": second["id"] })).await;
    assert_eq!(errors(&r, "companyLocationRemove"), json!([]));
    let r = run(&t, &admin, &list, json!({})).await;
    assert_eq!(
        r["company"]["locations"],
        json!([{ "name": "Riyadh warehouse", "isDefault": true }]),
        "the remaining one became the default"
    );
}

#[tokio::test]
async fn tax_exemption_certificates_are_verified_by_staff() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-tax").await;
    let (id, _, admin) = active_company(&t, &shop, "tax").await;
    let (_, buyer) = join(&t, &shop, &admin, id, "buyer@tax.test", CompanyRole::Buyer).await;
    let today = chrono::Utc::now().date_naive();
    let submit = |country: &str, from: chrono::NaiveDate, until: chrono::NaiveDate| {
        json!({ "i": {
        "companyId": id.to_string(), "country": country, "region": "Riyadh", "number": "EX-2026/001",
        "validFrom": from.to_string(), "validUntil": until.to_string(), "documentUrl": "https://docs.test/ex.pdf" } })
    };
    let year = chrono::Duration::days(365);

    let r = raw(&t, &buyer, SUBMIT, submit("SA", today, today + year)).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "a buyer does not submit certificates"
    );
    for (input, code_) in [
        (submit("sa", today, today + year), "INVALID_CERTIFICATE"),
        (submit("SA", today, today - year), "INVALID_PERIOD"),
        (
            submit("SA", today - year - year, today - year),
            "DOCUMENT_EXPIRED",
        ),
    ] {
        let r = run(&t, &admin, SUBMIT, input).await;
        assert_eq!(code(&r, "taxExemptionSubmit"), code_, "{r}");
    }
    let r = run(&t, &admin, SUBMIT, submit("SA", today, today + year)).await;
    let cert = r["taxExemptionSubmit"]["taxExemption"].clone();
    assert_eq!(cert["status"], "PENDING");
    let review = |name: &str, reason: Option<&str>| {
        (
            format!(
                "mutation($i: TaxExemptionReviewInput!) {{ {name}(input: $i) {{ taxExemption {{ status reason }} userErrors {{ code }} }} }}"
            ),
            json!({ "i": { "id": cert["id"], "reason": reason } }),
        )
    };

    let (q, v) = review("taxExemptionVerify", None);
    let r = raw(&t, &admin, &q, v.clone()).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "a company does not verify itself"
    );
    let r = run(&t, &shop.admin, &q, v.clone()).await;
    assert_eq!(
        r["taxExemptionVerify"]["taxExemption"]["status"],
        "VERIFIED"
    );
    let r = run(&t, &shop.admin, &q, v).await;
    assert_eq!(code(&r, "taxExemptionVerify"), "CERTIFICATE_REVIEWED");
    let (q, v) = review("taxExemptionRevoke", None);
    let r = run(&t, &admin, &q, v).await;
    assert_eq!(
        code(&r, "taxExemptionRevoke"),
        "INVALID_TEXT",
        "revoking needs a reason"
    );
    let (q, v) = review("taxExemptionRevoke", Some("replaced"));
    let r = run(&t, &admin, &q, v).await;
    assert_eq!(
        r["taxExemptionRevoke"]["taxExemption"],
        json!({ "status": "REVOKED", "reason": "replaced" })
    );
    let r = run(
        &t,
        &buyer,
        &format!("{{ company(id: \"{id}\") {{ taxExemptions {{ number status }} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(
        r["company"]["taxExemptions"],
        json!([{ "number": "EX-2026/001", "status": "REVOKED" }])
    );
}

#[tokio::test]
async fn a_member_of_one_company_sees_and_touches_nothing_of_another() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-walls").await;
    let (a, _, admin_a) = active_company(&t, &shop, "walls-a").await;
    let (b, admin_b_id, admin_b) = active_company(&t, &shop, "walls-b").await;
    let r = run(
        &t,
        &admin_b,
        LOCATION_ADD,
        json!({ "i": { "companyId": b.to_string(), "name": "B site", "address": address() } }),
    )
    .await;
    let b_location = r["companyLocationAdd"]["location"]["id"].clone();
    let today = chrono::Utc::now().date_naive();
    let r = run(&t, &admin_b, SUBMIT, json!({ "i": { "companyId": b.to_string(), "country": "SA", "number": "B-1",
        "validFrom": today.to_string(), "validUntil": (today + chrono::Duration::days(30)).to_string(), "documentUrl": "https://docs.test/b.pdf" } })).await;
    let b_cert = r["taxExemptionSubmit"]["taxExemption"]["id"].clone();
    let r = run(
        &t,
        &admin_b,
        INVITE,
        json!({ "i": { "companyId": b.to_string(), "email": "new@b.test", "role": "BUYER" } }),
    )
    .await;
    let b_invitation = r["companyInvite"]["invitation"]["id"].clone();

    // Reads: company B is not there for A's admin, nor for a customer acting for no company.
    let read = format!("{{ company(id: \"{b}\") {{ name }} }}");
    assert_eq!(
        run(&t, &admin_a, &read, json!({})).await["company"],
        Value::Null
    );
    let (_, stranger) = shop.customer(&t, "stranger@walls.test").await;
    assert_eq!(
        run(&t, &stranger, &read, json!({})).await["company"],
        Value::Null
    );
    assert_eq!(
        run(&t, &shop.guest(), &read, json!({})).await["company"],
        Value::Null
    );
    // Entity references resolve nothing of B either.
    let r = run(&t, &admin_a, &format!("{{ _entities(representations: [{{ __typename: \"Company\", id: \"{b}\" }}]) {{ ... on Company {{ name }} }} }}"), json!({})).await;
    assert_eq!(r["_entities"], json!([null]));

    // Writes: every mutation on B's things is refused for A's admin, and B is unchanged.
    let attempts: Vec<(String, Value)> = vec![
        (UPDATE.into(), json!({ "i": { "id": b.to_string(), "name": "Taken" } })),
        (LOCATION_ADD.into(), json!({ "i": { "companyId": b.to_string(), "name": "A's", "address": address() } })),
        (LOCATION_UPDATE.into(), json!({ "i": { "id": b_location, "name": "A's" } })),
        (LOCATION_REMOVE.into(), json!({ "id": b_location })),
        (INVITE.into(), json!({ "i": { "companyId": b.to_string(), "email": "spy@a.test", "role": "ADMIN" } })),
        ("mutation($id: ID!) { companyInvitationRevoke(id: $id) { userErrors { code } } }".into(), json!({ "id": b_invitation })),
        (LIMITS.into(), json!({ "i": { "companyId": b.to_string(), "userId": admin_b_id.to_string(), "orderLimit": 1 } })),
        (REMOVE.into(), json!({ "i": { "companyId": b.to_string(), "userId": admin_b_id.to_string() } })),
        ("mutation($i: CompanyMemberRoleInput!) { companyMemberRoleChange(input: $i) { userErrors { code } } }".into(),
            json!({ "i": { "companyId": b.to_string(), "userId": admin_b_id.to_string(), "role": "BUYER" } })),
        (SUBMIT.into(), json!({ "i": { "companyId": b.to_string(), "country": "SA", "number": "A-1",
            "validFrom": today.to_string(), "validUntil": today.to_string(), "documentUrl": "https://docs.test/a.pdf" } })),
        ("mutation($i: TaxExemptionReviewInput!) { taxExemptionRevoke(input: $i) { userErrors { code } } }".into(),
            json!({ "i": { "id": b_cert, "reason": "sabotage" } })),
    ];
    for (query, vars) in attempts {
        let r = raw(&t, &admin_a, &query, vars).await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{query}: {r}"
        );
    }
    let r = run(&t, &admin_b, &format!("{{ company(id: \"{b}\") {{ name members {{ role }} locations {{ name }} taxExemptions {{ status }} invitations {{ status }} }} }}"), json!({})).await;
    assert_eq!(
        r["company"],
        json!({ "name": "walls-b Trading", "members": [{ "role": "ADMIN" }], "locations": [{ "name": "B site" }],
                "taxExemptions": [{ "status": "PENDING" }], "invitations": [{ "status": "PENDING" }] })
    );
    let _ = a;
}

const RULE_CREATE: &str = "mutation($i: CompanyApprovalRuleCreateInput!) {
    companyApprovalRuleCreate(input: $i) { approvalRule { id name active minTotal { amount currency }
      levels { mode roles memberIds } } userErrors { field code message } } }";
const RULE_DEACTIVATE: &str = "mutation($i: CompanyApprovalRuleDeactivateInput!) {
    companyApprovalRuleDeactivate(input: $i) { approvalRule { id active } userErrors { code } } }";

#[tokio::test]
async fn approval_rules_are_checked_kept_by_their_company_and_deactivated() {
    let t = test_db().await;
    let shop = Shop::new(&t, "b2b-rules").await;
    let (company, admin_id, admin) = active_company(&t, &shop, "rules").await;
    let (approver, _) = join(
        &t,
        &shop,
        &admin,
        company,
        "ap@rules.test",
        CompanyRole::Approver,
    )
    .await;
    let (other, _, other_admin) = active_company(&t, &shop, "rules-other").await;
    let input = |levels: Value, min: Value| {
        json!({ "i": { "companyId": company.to_string(), "name": "Over 500", "minTotal": min,
            "levels": levels } })
    };
    let sar = json!({ "amountMinor": 50000, "currency": "SAR" });

    // Bad rules are refused by field and change nothing.
    for (levels, min, field, expected) in [
        (json!([]), sar.clone(), "levels", "INVALID_APPROVAL_RULE"),
        (
            json!([{ "mode": "ANY" }]),
            sar.clone(),
            "levels.0",
            "INVALID_APPROVAL_RULE",
        ),
        (
            json!([{ "mode": "ALL", "memberIds": [other.to_string()] }]),
            sar.clone(),
            "levels.0.members",
            "INVALID_APPROVAL_RULE",
        ),
        (
            json!([{ "mode": "ANY", "roles": ["APPROVER"] }]),
            json!({ "amountMinor": 1, "currency": "XYZ" }),
            "minTotal.currency",
            "UNKNOWN_CURRENCY",
        ),
        (
            json!([{ "mode": "ANY", "roles": ["APPROVER"] }]),
            json!({ "amountMinor": -1, "currency": "SAR" }),
            "minTotal.amount",
            "INVALID_AMOUNT",
        ),
    ] {
        let r = run(&t, &admin, RULE_CREATE, input(levels, min)).await;
        assert_eq!(code(&r, "companyApprovalRuleCreate"), expected, "{r}");
        assert_eq!(
            r["companyApprovalRuleCreate"]["userErrors"][0]["field"],
            path(field),
            "{r}"
        );
    }
    let levels = json!([
        { "mode": "ANY", "roles": ["APPROVER"] },
        { "mode": "ALL", "memberIds": [admin_id.to_string(), approver.to_string()] }
    ]);
    let r = run(&t, &admin, RULE_CREATE, input(levels.clone(), sar.clone())).await;
    assert_eq!(errors(&r, "companyApprovalRuleCreate"), json!([]), "{r}");
    let rule = r["companyApprovalRuleCreate"]["approvalRule"].clone();
    assert_eq!(rule["levels"][1]["mode"], "ALL");
    assert_eq!(rule["minTotal"]["amount"], "500.00");

    // Another company's admin neither adds rules here nor deactivates this one.
    let r = raw(&t, &other_admin, RULE_CREATE, input(levels, sar)).await;
    assert!(r["errors"].is_array(), "{r}");
    let deactivate = json!({ "i": { "id": rule["id"] } });
    let r = run(&t, &other_admin, RULE_DEACTIVATE, deactivate.clone()).await;
    assert_eq!(code(&r, "companyApprovalRuleDeactivate"), "NOT_FOUND");
    let r = run(
        &t,
        &other_admin,
        "query($id: ID!) { company(id: $id) { approvalRules { id } } }",
        json!({ "id": company.to_string() }),
    )
    .await;
    assert_eq!(r["company"], Value::Null);

    // Its own company lists it until it is deactivated.
    let listed = "query($id: ID!) { company(id: $id) { approvalRules { id } } }";
    let r = run(&t, &admin, listed, json!({ "id": company.to_string() })).await;
    assert_eq!(r["company"]["approvalRules"][0]["id"], rule["id"]);
    let r = run(&t, &admin, RULE_DEACTIVATE, deactivate).await;
    assert_eq!(
        r["companyApprovalRuleDeactivate"]["approvalRule"]["active"],
        false
    );
    let r = run(&t, &admin, listed, json!({ "id": company.to_string() })).await;
    assert_eq!(r["company"]["approvalRules"], json!([]));
}
