//! Demo data, created through the public GraphQL API (so it obeys every rule a client does):
//! tenant `dakkah` with a tenant admin, a storefront publishable key, a customer and a dozen
//! products across verticals. Passwords are generated on first run and kept in .data/demo.json.

use crate::Result;
use crate::stack::random_hex;
use serde_json::{Value, json};
use std::path::Path;

/// An account's credentials.
pub struct Account {
    pub email: String,
    pub password: String,
}

/// The demo credentials, kept between runs.
pub struct Demo {
    pub platform_admin: Account,
    pub tenant_admin: Account,
    pub customer: Account,
    pub publishable_key: Option<String>,
}

fn account(value: &Value, default_email: &str) -> Result<Account> {
    let email = value["email"].as_str().unwrap_or(default_email).to_owned();
    let password = match value["password"].as_str() {
        Some(p) => p.to_owned(),
        None => random_hex(9)?,
    };
    Ok(Account { email, password })
}

impl Demo {
    /// Reads .data/demo.json, or makes new credentials.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let stored: Value = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        // The platform admin comes from CITYOS_ADMIN_EMAIL / CITYOS_ADMIN_PASSWORD when they are set.
        let mut platform_admin = account(&stored["platformAdmin"], "admin@cityos.local")?;
        if let Ok(email) = std::env::var("CITYOS_ADMIN_EMAIL") {
            platform_admin.email = email;
        }
        if let Ok(password) = std::env::var("CITYOS_ADMIN_PASSWORD") {
            platform_admin.password = password;
        }
        Ok(Self {
            platform_admin,
            tenant_admin: account(&stored["tenantAdmin"], "admin@dakkah.sa")?,
            customer: account(&stored["customer"], "customer@dakkah.sa")?,
            publishable_key: stored["publishableKey"].as_str().map(str::to_owned),
        })
    }

    /// Writes .data/demo.json.
    pub fn save(&self, path: &Path) -> Result<()> {
        let acc = |a: &Account| json!({ "email": a.email, "password": a.password });
        let value = json!({
            "platformAdmin": acc(&self.platform_admin),
            "tenantAdmin": acc(&self.tenant_admin),
            "customer": acc(&self.customer),
            "publishableKey": self.publishable_key,
        });
        std::fs::write(path, serde_json::to_string_pretty(&value)?)?;
        Ok(())
    }
}

/// Sends one GraphQL request and returns `data`, failing on any GraphQL error or user error.
fn graphql(
    endpoint: &str,
    headers: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> Result<Value> {
    let mut request = ureq::post(endpoint).set("content-type", "application/json");
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response: Value = request
        .send_json(json!({ "query": query, "variables": variables }))?
        .into_json()?;
    if let Some(errors) = response.get("errors") {
        return Err(format!("GraphQL errors: {errors}").into());
    }
    let data = response["data"].clone();
    if let Some(payload) = data.as_object().and_then(|o| o.values().next())
        && let Some(errors) = payload.get("userErrors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        return Err(format!("refused: {}", Value::Array(errors.clone())).into());
    }
    Ok(data)
}

const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) { accessToken userErrors { code message } } }";

fn sign_in(endpoint: &str, tenant: Option<&str>, account: &Account) -> Result<String> {
    let headers: Vec<(&str, &str)> = tenant.map(|t| vec![("x-tenant", t)]).unwrap_or_default();
    let data = graphql(
        endpoint,
        &headers,
        SIGN_IN,
        json!({ "input": { "email": account.email, "password": account.password } }),
    )?;
    data["signIn"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "sign-in returned no token".into())
}

/// (title, handle, description, published)
const PRODUCTS: &[(&str, &str, &str, bool)] = &[
    (
        "Oud Perfume 50ml",
        "oud-perfume-50ml",
        "Cambodian oud with rose and saffron.",
        true,
    ),
    (
        "Khawlani Coffee Beans 1kg",
        "khawlani-coffee-1kg",
        "Single-origin Yemeni beans, medium roast.",
        true,
    ),
    (
        "Sukkari Dates Box",
        "sukkari-dates-box",
        "Premium Qassim dates, 1kg gift box.",
        true,
    ),
    (
        "Prayer Rug, Handwoven",
        "prayer-rug-handwoven",
        "Wool prayer rug woven in Najran.",
        true,
    ),
    (
        "Desert Safari for Two",
        "desert-safari-for-two",
        "Evening dune drive with dinner (bookable experience).",
        true,
    ),
    (
        "Riyadh Season Concert Ticket",
        "riyadh-season-concert-ticket",
        "General admission (events vertical).",
        true,
    ),
    (
        "Kabsa Family Meal",
        "kabsa-family-meal",
        "Chicken kabsa for four, from a partner restaurant.",
        true,
    ),
    (
        "Camping Tent Rental, 3 Days",
        "camping-tent-rental-3-days",
        "Four-person tent with delivery (rentals vertical).",
        true,
    ),
    (
        "Arabic Calligraphy Course",
        "arabic-calligraphy-course",
        "Eight weekly sessions (education vertical).",
        true,
    ),
    (
        "Dental Check-up",
        "dental-check-up",
        "Examination and cleaning at a partner clinic (healthcare vertical).",
        true,
    ),
    (
        "Bakhoor Burner, Brass",
        "bakhoor-burner-brass",
        "Hand-finished brass mabkhara (coming soon).",
        false,
    ),
    (
        "Vintage Dallah Coffee Pot",
        "vintage-dallah-coffee-pot",
        "Collectible dallah (auctions vertical, in preparation).",
        false,
    ),
];

/// Seeds the demo tenant through `endpoint` unless it exists already.
pub fn seed(endpoint: &str, demo: &mut Demo) -> Result<()> {
    let admin_token = sign_in(endpoint, None, &demo.platform_admin)?;
    let bearer = format!("Bearer {admin_token}");
    let existing = graphql(
        endpoint,
        &[("authorization", &bearer)],
        "{ tenant(slug: \"dakkah\") { id } }",
        json!({}),
    )?;
    if !existing["tenant"].is_null() {
        eprintln!("demo tenant `dakkah` exists; reusing it");
        return Ok(());
    }
    eprintln!("seeding demo tenant `dakkah`");
    graphql(
        endpoint,
        &[("authorization", &bearer)],
        "mutation($input: TenantCreateInput!) { tenantCreate(input: $input) { tenant { id } userErrors { code message } } }",
        json!({ "input": {
            "name": "Dakkah", "slug": "dakkah", "defaultCurrency": "SAR", "defaultLocale": "ar",
            "supportedLocales": ["ar", "en"], "timezone": "Asia/Riyadh",
            "admin": { "email": demo.tenant_admin.email, "password": demo.tenant_admin.password,
                       "firstName": "Dakkah", "lastName": "Admin" } } }),
    )?;
    let staff = format!(
        "Bearer {}",
        sign_in(endpoint, Some("dakkah"), &demo.tenant_admin)?
    );
    let headers = [("authorization", staff.as_str()), ("x-tenant", "dakkah")];
    let key = graphql(
        endpoint,
        &headers,
        "mutation { apiKeyCreate(input: { name: \"Dakkah storefront\", kind: PUBLISHABLE }) { token userErrors { code message } } }",
        json!({}),
    )?;
    let key = key["apiKeyCreate"]["token"]
        .as_str()
        .ok_or("no publishable key returned")?
        .to_owned();
    for (title, handle, description, published) in PRODUCTS {
        graphql(
            endpoint,
            &headers,
            "mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id } userErrors { code message } } }",
            json!({ "input": { "title": title, "handle": handle, "description": description,
                               "status": if *published { "PUBLISHED" } else { "DRAFT" } } }),
        )?;
    }
    graphql(
        endpoint,
        &[("x-publishable-key", &key)],
        "mutation($input: CustomerSignUpInput!) { customerSignUp(input: $input) { accessToken userErrors { code message } } }",
        json!({ "input": { "email": demo.customer.email, "password": demo.customer.password,
                           "firstName": "Sara", "lastName": "Al-Qahtani" } }),
    )?;
    demo.publishable_key = Some(key);
    Ok(())
}
