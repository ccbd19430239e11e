//! Demo data, created through the public GraphQL API (so it obeys every rule a client does):
//! tenant `dakkah` with a tenant admin, a storefront publishable key, a customer, and a catalog of
//! 60 products in 12 verticals with variants, SAR and USD prices, stock in two locations, a running
//! sale, volume tiers and a Wholesale group on contract prices. Passwords are generated on first
//! run and kept in .data/demo.json.

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

/// One vertical of the demo catalog: the option its products vary by (each value with its price
/// as a percentage of the product's base price) and its products (title, handle, description, base
/// price in halalas).
struct Vertical {
    /// The product type of its products, and their first tag.
    kind: &'static str,
    option: (&'static str, &'static [(&'static str, i64)]),
    products: [(&'static str, &'static str, &'static str, i64); 5],
    /// Whether its products get volume tiers and the Wholesale contract price.
    bulk: bool,
}

/// The category tree: departments and the verticals (product types) under each.
const DEPARTMENTS: &[(&str, &[&str])] = &[
    ("Food & Drink", &["Coffee", "Dates", "Grocery", "Meal kits"]),
    ("Beauty & Fragrance", &["Perfume", "Beauty"]),
    ("Fashion & Sports", &["Fashion", "Sports"]),
    ("Home & Tech", &["Home", "Electronics"]),
    ("Books & Toys", &["Books", "Toys"]),
];

const SIZES: &[(&str, i64)] = &[("S", 100), ("M", 100), ("L", 100)];

const CATALOG: &[Vertical] = &[
    Vertical {
        kind: "Perfume",
        option: ("Size", &[("50ml", 100), ("100ml", 170)]),
        products: [
            (
                "Oud Perfume",
                "oud-perfume",
                "Cambodian oud with rose and saffron.",
                25_000,
            ),
            (
                "Taifi Rose Attar",
                "taifi-rose-attar",
                "Distilled from roses picked at dawn in Taif.",
                32_000,
            ),
            (
                "Amber Musk",
                "amber-musk",
                "Warm amber over white musk.",
                18_000,
            ),
            (
                "Saffron Oud",
                "saffron-oud",
                "Oud and Iranian saffron, long-lasting.",
                41_000,
            ),
            (
                "Sandalwood Mist",
                "sandalwood-mist",
                "Light Mysore sandalwood body mist.",
                9_500,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Coffee",
        option: ("Weight", &[("250g", 100), ("1kg", 350)]),
        products: [
            (
                "Khawlani Coffee Beans",
                "khawlani-coffee",
                "Jazan-grown Khawlani beans, medium roast.",
                6_500,
            ),
            (
                "Arabic Coffee with Cardamom",
                "arabic-coffee-cardamom",
                "Light roast ground with green cardamom.",
                4_500,
            ),
            (
                "Ethiopian Yirgacheffe",
                "ethiopian-yirgacheffe",
                "Floral, citrus, washed process.",
                7_000,
            ),
            (
                "House Espresso Blend",
                "house-espresso-blend",
                "Chocolate and caramel, for milk drinks.",
                5_500,
            ),
            (
                "Colombia Decaf",
                "colombia-decaf",
                "Sugarcane-processed decaf, full flavour.",
                6_000,
            ),
        ],
        bulk: true,
    },
    Vertical {
        kind: "Dates",
        option: ("Box", &[("500g", 100), ("1kg", 190)]),
        products: [
            (
                "Ajwa Dates",
                "ajwa-dates",
                "Madinah Ajwa, soft and dark.",
                9_000,
            ),
            (
                "Sukkari Dates",
                "sukkari-dates",
                "Qassim Sukkari, caramel-sweet.",
                4_500,
            ),
            (
                "Medjool Dates",
                "medjool-dates",
                "Large Medjool from Al-Ula.",
                7_500,
            ),
            (
                "Khalas Dates",
                "khalas-dates",
                "Al-Ahsa Khalas, the classic with coffee.",
                3_500,
            ),
            (
                "Safawi Dates",
                "safawi-dates",
                "Madinah Safawi, chewy and rich.",
                5_000,
            ),
        ],
        bulk: true,
    },
    Vertical {
        kind: "Fashion",
        option: ("Size", SIZES),
        products: [
            (
                "Linen Thobe",
                "linen-thobe",
                "Breathable linen thobe for summer.",
                29_000,
            ),
            (
                "Embroidered Abaya",
                "embroidered-abaya",
                "Crepe abaya with hand embroidery.",
                45_000,
            ),
            (
                "Red Shemagh",
                "red-shemagh",
                "Cotton shemagh, classic red check.",
                12_000,
            ),
            (
                "Silk Hijab",
                "silk-hijab",
                "Mulberry silk, soft drape.",
                15_000,
            ),
            (
                "Kids Thobe",
                "kids-thobe",
                "Easy-care cotton thobe for children.",
                11_000,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Electronics",
        option: ("Colour", &[("Black", 100), ("Silver", 105)]),
        products: [
            (
                "Wireless Earbuds",
                "wireless-earbuds",
                "Noise-cancelling earbuds, 30-hour case.",
                39_900,
            ),
            (
                "Smart Watch",
                "smart-watch",
                "Heart rate, GPS and prayer-time reminders.",
                79_900,
            ),
            (
                "Power Bank 20000mAh",
                "power-bank-20000",
                "Two USB-C ports, 65 W fast charge.",
                14_900,
            ),
            (
                "Bluetooth Speaker",
                "bluetooth-speaker",
                "Waterproof speaker for the desert camp.",
                24_900,
            ),
            (
                "USB-C Charger 65W",
                "usb-c-charger-65w",
                "GaN charger for laptop and phone.",
                12_900,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Home",
        option: ("Colour", &[("Sand", 100), ("Charcoal", 100)]),
        products: [
            (
                "Majlis Cushion Set",
                "majlis-cushion-set",
                "Six floor cushions in Sadu weave.",
                89_000,
            ),
            (
                "Brass Mabkhara",
                "brass-mabkhara",
                "Incense burner in engraved brass.",
                16_000,
            ),
            (
                "Prayer Rug",
                "prayer-rug",
                "Wool prayer rug woven in Najran.",
                22_000,
            ),
            (
                "Ceramic Dallah",
                "ceramic-dallah",
                "Coffee pot glazed by hand in Al-Ahsa.",
                13_500,
            ),
            (
                "Palm Frond Basket",
                "palm-frond-basket",
                "Woven palm basket from Al-Qatif.",
                6_500,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Beauty",
        option: ("Size", &[("30ml", 100), ("100ml", 250)]),
        products: [
            (
                "Argan Hair Oil",
                "argan-hair-oil",
                "Cold-pressed Moroccan argan oil.",
                7_500,
            ),
            (
                "Rosewater Toner",
                "rosewater-toner",
                "Taif rosewater, alcohol free.",
                5_500,
            ),
            (
                "Sidr Shampoo",
                "sidr-shampoo",
                "Gentle shampoo with sidr leaf.",
                4_900,
            ),
            (
                "Musk Body Lotion",
                "musk-body-lotion",
                "White musk lotion, light and fast-absorbing.",
                6_900,
            ),
            (
                "Black Seed Oil",
                "black-seed-oil",
                "Cold-pressed Nigella sativa oil.",
                5_900,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Grocery",
        option: ("Pack", &[("Single", 100), ("Pack of 6", 540)]),
        products: [
            (
                "Sidr Honey 500g",
                "sidr-honey",
                "Raw sidr honey from the Asir mountains.",
                18_000,
            ),
            (
                "Saffron 2g",
                "saffron-2g",
                "Grade-one Negin saffron threads.",
                6_500,
            ),
            (
                "Tahini 450g",
                "tahini",
                "Stone-ground sesame tahini.",
                1_900,
            ),
            (
                "Olive Oil 1L",
                "olive-oil",
                "Extra-virgin olive oil from Al-Jouf.",
                4_500,
            ),
            (
                "Basmati Rice 5kg",
                "basmati-rice",
                "Aged sella basmati for kabsa.",
                5_900,
            ),
        ],
        bulk: true,
    },
    Vertical {
        kind: "Books",
        option: ("Format", &[("Paperback", 100), ("Hardcover", 160)]),
        products: [
            (
                "Arabic Calligraphy Basics",
                "arabic-calligraphy-basics",
                "Naskh and Thuluth, step by step.",
                6_500,
            ),
            (
                "A History of Diriyah",
                "history-of-diriyah",
                "The first Saudi state and its capital.",
                9_500,
            ),
            (
                "Stories for Young Readers",
                "stories-young-readers",
                "Twelve illustrated Arabic stories.",
                4_500,
            ),
            (
                "The Saudi Kitchen",
                "the-saudi-kitchen",
                "Regional recipes from Hijaz to Najd.",
                12_000,
            ),
            (
                "Stars over the Empty Quarter",
                "stars-empty-quarter",
                "Desert astronomy and star lore.",
                8_500,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Sports",
        option: ("Size", SIZES),
        products: [
            (
                "Running Jacket",
                "running-jacket",
                "Light windproof jacket with reflective trim.",
                21_000,
            ),
            (
                "Cycling Jersey",
                "cycling-jersey",
                "Breathable jersey with three back pockets.",
                17_500,
            ),
            (
                "Training Shorts",
                "training-shorts",
                "Quick-dry shorts with zip pocket.",
                9_000,
            ),
            (
                "Compression Tee",
                "compression-tee",
                "Long-sleeve base layer.",
                11_500,
            ),
            (
                "Padel Visor",
                "padel-visor",
                "Sweat-wicking visor for the court.",
                5_500,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Toys",
        option: ("Edition", &[("Standard", 100), ("Deluxe", 150)]),
        products: [
            (
                "Camel Plush",
                "camel-plush",
                "Soft camel toy, safe from birth.",
                7_500,
            ),
            (
                "Map of the Kingdom Puzzle",
                "kingdom-map-puzzle",
                "Wooden puzzle of the thirteen regions.",
                9_900,
            ),
            (
                "Falcon Kite",
                "falcon-kite",
                "Ripstop kite shaped like a saker falcon.",
                6_500,
            ),
            (
                "Arabic Alphabet Blocks",
                "arabic-alphabet-blocks",
                "Twenty-eight wooden letter blocks.",
                8_900,
            ),
            (
                "Build-a-Masjid Blocks",
                "build-a-masjid",
                "Interlocking blocks, 450 pieces.",
                15_900,
            ),
        ],
        bulk: false,
    },
    Vertical {
        kind: "Meal kits",
        option: ("Serves", &[("2", 100), ("4", 180)]),
        products: [
            (
                "Kabsa Meal Kit",
                "kabsa-meal-kit",
                "Rice, spices and chicken for a family kabsa.",
                8_500,
            ),
            (
                "Mandi Meal Kit",
                "mandi-meal-kit",
                "Smoked lamb mandi with its rice.",
                13_500,
            ),
            (
                "Jareesh Kit",
                "jareesh-kit",
                "Cracked wheat, spices and a Najdi recipe card.",
                4_500,
            ),
            (
                "Kunafa Kit",
                "kunafa-kit",
                "Kataifi, cheese and syrup for two trays.",
                6_000,
            ),
            (
                "Mutabbaq Kit",
                "mutabbaq-kit",
                "Dough, filling and spices for eight pieces.",
                5_000,
            ),
        ],
        bulk: false,
    },
];

/// The USD price shown for a SAR price: converted at 3.75 and ending in .99.
fn usd(sar_minor: i64) -> i64 {
    (sar_minor * 4 / 15) / 100 * 100 + 99
}

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
    let customer = graphql(
        endpoint,
        &[("x-publishable-key", &key)],
        "mutation($input: CustomerSignUpInput!) { customerSignUp(input: $input) { user { id } userErrors { code message } } }",
        json!({ "input": { "email": demo.customer.email, "password": demo.customer.password,
                           "firstName": "Sara", "lastName": "Al-Qahtani" } }),
    )?;
    let customer = customer["customerSignUp"]["user"]["id"].clone();
    seed_catalog(endpoint, &headers, &customer)?;
    seed_reviews(endpoint, &headers, &key)?;
    seed_checkout_terms(endpoint, &headers)?;
    demo.publishable_key = Some(key);
    Ok(())
}

/// The demo catalog: 60 published products in 12 verticals, each with an option and
/// its variants priced in SAR and USD; stock in two locations; a SALE list running for two weeks;
/// volume tiers on bulk goods; a Wholesale group (with the demo customer) and its contract prices;
/// a category per vertical under five departments; a gift collection.
fn seed_catalog(endpoint: &str, staff: &[(&str, &str)], customer: &Value) -> Result<()> {
    let run = |query: &str, variables: Value| graphql(endpoint, staff, query, variables);
    let mut locations = Vec::new();
    for name in ["Riyadh Warehouse", "Jeddah Store"] {
        let created = run(
            "mutation($n: String!) { stockLocationCreate(input: { name: $n }) { stockLocation { id } userErrors { code message } } }",
            json!({ "n": name }),
        )?;
        locations.push(created["stockLocationCreate"]["stockLocation"]["id"].clone());
    }
    let group = run(
        "mutation { customerGroupCreate(input: { name: \"Wholesale\", description: \"Trade buyers on contract prices\" }) { customerGroup { id } userErrors { code message } } }",
        json!({}),
    )?["customerGroupCreate"]["customerGroup"]["id"]
        .clone();
    run(
        "mutation($g: ID!, $c: ID!) { customerGroupMembersAdd(input: { groupId: $g, customerIds: [$c] }) { userErrors { code message } } }",
        json!({ "g": group, "c": customer }),
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let day = 86_400;
    let list = |name: &str, kind: &str, group: Option<&Value>, starts: u64, ends: Option<u64>| {
        run(
            "mutation($input: PriceListCreateInput!) { priceListCreate(input: $input) { priceList { id } userErrors { code message } } }",
            json!({ "input": { "name": name, "kind": kind, "customerGroupId": group,
                "startsAt": rfc3339(starts), "endsAt": ends.map(rfc3339) } }),
        )
        .map(|d| d["priceListCreate"]["priceList"]["id"].clone())
    };
    let sale = list(
        "White Friday",
        "SALE",
        None,
        now - day,
        Some(now + 14 * day),
    )?;
    let contract = list(
        "Wholesale contract",
        "OVERRIDE",
        Some(&group),
        now - day,
        None,
    )?;

    // Five departments, one category per vertical under its department; a gift collection.
    let mut categories: Vec<(&str, Value)> = Vec::new();
    for (department, kinds) in DEPARTMENTS {
        let handle = department
            .to_lowercase()
            .replace(" & ", "-")
            .replace(' ', "-");
        let parent = run(
            "mutation($input: CategoryCreateInput!) { categoryCreate(input: $input) { category { id } userErrors { code message } } }",
            json!({ "input": { "name": department, "handle": handle } }),
        )?["categoryCreate"]["category"]["id"]
            .clone();
        for kind in *kinds {
            let id = run(
                "mutation($input: CategoryCreateInput!) { categoryCreate(input: $input) { category { id } userErrors { code message } } }",
                json!({ "input": { "name": kind, "handle": kind.to_lowercase().replace(' ', "-"), "parentId": parent } }),
            )?["categoryCreate"]["category"]["id"]
                .clone();
            categories.push((kind, id));
        }
    }
    let gifts = run(
        "mutation { collectionCreate(input: { title: \"Gift ideas\", handle: \"gift-ideas\", description: \"Hand-picked for Eid and birthdays\" }) { collection { id } userErrors { code message } } }",
        json!({}),
    )?["collectionCreate"]["collection"]["id"]
        .clone();

    let mut n: i64 = 0;
    for vertical in CATALOG {
        for (index, (title, handle, description, base)) in vertical.products.iter().enumerate() {
            n += 1;
            let product = run(
                "mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id } userErrors { code message } } }",
                json!({ "input": { "title": title, "handle": handle, "description": description, "status": "PUBLISHED",
                    "productType": vertical.kind,
                    "tags": [vertical.kind, if vertical.bulk { "bulk" } else { "gift" }],
                    "metadata": { "demo": true } } }),
            )?["productCreate"]["product"]["id"]
                .clone();
            run(
                "mutation($input: ProductMediaAddInput!) { productMediaAdd(input: $input) { userErrors { code message } } }",
                json!({ "input": { "productId": product, "url": format!("https://cdn.cityos.example/demo/{handle}.jpg"),
                    "altText": title } }),
            )?;
            let category = categories
                .iter()
                .find(|(kind, _)| *kind == vertical.kind)
                .map(|(_, id)| id.clone())
                .ok_or("a vertical without a category")?;
            run(
                "mutation($p: ID!, $c: [ID!]!) { productCategoriesSet(input: { productId: $p, categoryIds: $c }) { userErrors { code message } } }",
                json!({ "p": product, "c": [category] }),
            )?;
            if !vertical.bulk && index == 0 {
                run(
                    "mutation($c: ID!, $p: ID!) { collectionProductsAdd(input: { collectionId: $c, productIds: [$p] }) { userErrors { code message } } }",
                    json!({ "c": gifts, "p": product }),
                )?;
            }
            let (option, values) = vertical.option;
            run(
                "mutation($input: ProductOptionCreateInput!) { productOptionCreate(input: $input) { userErrors { code message } } }",
                json!({ "input": { "productId": product, "name": option,
                    "values": values.iter().map(|(v, _)| *v).collect::<Vec<_>>() } }),
            )?;
            for (position, (value, percent)) in values.iter().enumerate() {
                let sar = base * percent / 100;
                let sku = format!("{}-{}", handle, value.replace(' ', "")).to_uppercase();
                let variant = run(
                    "mutation($input: ProductVariantCreateInput!) { productVariantCreate(input: $input) { variant { id } userErrors { code message } } }",
                    json!({ "input": { "productId": product, "sku": sku, "options": [{ "name": option, "value": value }],
                        "weightGrams": 250 * (position + 1),
                        "prices": [{ "currency": "SAR", "amountMinor": sar }, { "currency": "USD", "amountMinor": usd(sar) }] } }),
                )?["productVariantCreate"]["variant"]["id"]
                    .clone();
                // Deterministic, uneven stock; a few variants sold out in one or both places.
                let p = i64::try_from(position).unwrap_or(0);
                for (location, units) in locations
                    .iter()
                    .zip([(n * 7 + p * 3) % 25, (n * 5 + p) % 12])
                {
                    if units > 0 {
                        run(
                            "mutation($input: StockAdjustInput!) { stockAdjust(input: $input) { userErrors { code message } } }",
                            json!({ "input": { "variantId": variant, "locationId": location, "delta": units,
                                "reason": "RECEIVED", "note": "opening stock" } }),
                        )?;
                    }
                }
                if n % 3 == 0 && position == 0 {
                    set_list_price(&run, &sale, &variant, sar * 80 / 100)?;
                }
                if vertical.bulk {
                    set_list_price(&run, &contract, &variant, sar * 75 / 100)?;
                }
            }
            if vertical.bulk {
                for (min, max, percent) in [(10, Some(49), 10), (50, None, 15)] {
                    run(
                        "mutation($input: VolumeTierCreateInput!) { volumeTierCreate(input: $input) { userErrors { code message } } }",
                        json!({ "input": { "productId": product, "currency": "SAR", "minQuantity": min,
                            "maxQuantity": max, "percentOff": percent } }),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Four reviewers (random passwords, not kept) each review a dozen products; staff approve them
/// all and answer the critical ones.
fn seed_reviews(endpoint: &str, staff: &[(&str, &str)], key: &str) -> Result<()> {
    const REVIEWS: [(i32, &str, &str); 4] = [
        (5, "Excellent", "Exactly as described, arrived quickly."),
        (4, "Very good", "Good quality for the price."),
        (5, "Will buy again", "My family loved it."),
        (3, "Decent", "Fine, but the packaging could be better."),
    ];
    let products = graphql(
        endpoint,
        &[("x-publishable-key", key)],
        "{ products(first: 60) { edges { node { id } } } }",
        json!({}),
    )?;
    let products: Vec<Value> = products["products"]["edges"]
        .as_array()
        .ok_or("no products")?
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    for (r, name) in ["Noura", "Faisal", "Layla", "Khalid"].iter().enumerate() {
        let account = Account {
            email: format!("{}@reviewers.dakkah.sa", name.to_lowercase()),
            password: random_hex(9)?,
        };
        graphql(
            endpoint,
            &[("x-publishable-key", key)],
            "mutation($input: CustomerSignUpInput!) { customerSignUp(input: $input) { user { id } userErrors { code message } } }",
            json!({ "input": { "email": account.email, "password": account.password, "firstName": name } }),
        )?;
        let token = format!("Bearer {}", sign_in(endpoint, Some("dakkah"), &account)?);
        let reviewer = [("authorization", token.as_str()), ("x-tenant", "dakkah")];
        for (i, product) in products
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + r) % 5 != 0)
            .take(12)
        {
            let (rating, title, body) = REVIEWS[(i + r) % REVIEWS.len()];
            let review = graphql(
                endpoint,
                &reviewer,
                "mutation($input: ReviewCreateInput!) { reviewCreate(input: $input) { review { id } userErrors { code message } } }",
                json!({ "input": { "productId": product, "rating": rating, "title": title, "body": body } }),
            )?["reviewCreate"]["review"]["id"]
                .clone();
            graphql(
                endpoint,
                staff,
                "mutation($id: ID!) { reviewModerate(input: { id: $id, status: APPROVED }) { userErrors { code message } } }",
                json!({ "id": review }),
            )?;
            if rating <= 3 {
                graphql(
                    endpoint,
                    staff,
                    "mutation($id: ID!) { reviewRespond(input: { id: $id, body: \"Thank you, we are improving our packaging.\" }) { userErrors { code message } } }",
                    json!({ "id": review }),
                )?;
            }
        }
    }
    Ok(())
}

/// Shipping, tax and a discount code for the demo: standard delivery in the Gulf (free from
/// SAR 200 per vendor), express anywhere, pickup at the Jeddah store, and in USD a flat rate;
/// Saudi VAT at 15% added to prices; WELCOME10 (10% off from SAR 100, once per customer).
fn seed_checkout_terms(endpoint: &str, staff: &[(&str, &str)]) -> Result<()> {
    let run = |query: &str, variables: Value| graphql(endpoint, staff, query, variables);
    for method in [
        json!({ "name": "Standard delivery", "kind": "FREE_ABOVE", "rateMinor": 2500,
                "freeAboveMinor": 20000, "countries": ["SA", "AE", "BH", "KW", "OM", "QA"] }),
        json!({ "name": "Express (next day)", "kind": "FLAT_RATE", "rateMinor": 4500, "position": 1 }),
        json!({ "name": "Pickup at Jeddah Store", "kind": "PICKUP", "position": 2,
                "pickupLocation": "Jeddah Store, Tahlia Street 40, Jeddah" }),
        json!({ "name": "International", "kind": "FLAT_RATE", "currency": "USD", "rateMinor": 1500 }),
    ] {
        run(
            "mutation($input: ShippingMethodCreateInput!) { shippingMethodCreate(input: $input) { shippingMethod { id } userErrors { code message } } }",
            json!({ "input": method }),
        )?;
    }
    run(
        "mutation { taxRuleCreate(input: { name: \"VAT\", countryCode: \"SA\", rateBasisPoints: 1500, inclusive: false }) { taxRule { id } userErrors { code message } } }",
        json!({}),
    )?;
    run(
        "mutation { discountCodeCreate(input: { code: \"WELCOME10\", kind: PERCENTAGE, percent: 10, currency: \"SAR\", minSubtotalMinor: 10000, perCustomerLimit: 1 }) { discountCode { id } userErrors { code message } } }",
        json!({}),
    )?;
    Ok(())
}

fn set_list_price(
    run: &impl Fn(&str, Value) -> Result<Value>,
    list: &Value,
    variant: &Value,
    amount: i64,
) -> Result<()> {
    run(
        "mutation($input: PriceListPricesSetInput!) { priceListPricesSet(input: $input) { userErrors { code message } } }",
        json!({ "input": { "priceListId": list, "entries": [{ "variantId": variant,
            "prices": [{ "currency": "SAR", "amountMinor": amount }] }] } }),
    )
    .map(drop)
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp (std only: the xtask has no date crate).
fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_219_200), "2026-11-21T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn the_catalog_has_sixty_products_with_unique_handles() {
        let handles: std::collections::HashSet<&str> = CATALOG
            .iter()
            .flat_map(|v| v.products.iter().map(|p| p.1))
            .collect();
        assert_eq!(handles.len(), 60);
        assert_eq!(usd(9_900), 2_699);
    }

    #[test]
    fn every_vertical_has_one_department() {
        for vertical in CATALOG {
            let homes = DEPARTMENTS
                .iter()
                .filter(|(_, kinds)| kinds.contains(&vertical.kind))
                .count();
            assert_eq!(homes, 1, "{}", vertical.kind);
        }
    }
}
