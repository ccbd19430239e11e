//! Reading product cards (migration catalog 000005).
//!
//! A card holds what a product page shows of a product's options, variants, base prices,
//! price-list entries and volume tiers, as one JSON document that triggers rebuild in the
//! transaction of every change to those rows. Readers add two things per request: the caller's
//! customer groups (which price lists and tiers they may get) and live stock, because stock changes
//! with every sale and reservations expire with time.
//!
//! Every statement here is [`Prepared`]: its text is fixed (values are bind parameters), so each
//! connection plans it once.

use crate::ids::{CategoryId, CustomerGroupId, ProductId, UserId, VariantId, VendorId};
use crate::pricing::{ListPrice, PriceRequest, Quote, VariantPrice, VolumeTier};
use crate::products::media::Media;
use crate::products::translations::{self, Wanted};
use crate::products::variants::{
    PricedVariant, ProductDetails, ProductOption, StockSummary, Variant,
};
use crate::products::{Product, Scope};
use cityos_core::paging::{Page, PageRequest};
use cityos_db::{Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Record, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// A card as stored.
#[derive(Deserialize)]
struct Card {
    options: Vec<ProductOption>,
    variants: Vec<CardVariant>,
    /// The product's tiers and its variants' tiers, for every customer group.
    tiers: Vec<VolumeTier>,
    media: Vec<Media>,
}

#[derive(Deserialize)]
struct CardVariant {
    variant: Variant,
    prices: Vec<VariantPrice>,
    /// Entries on every price list, with the list's kind, group and window.
    list_prices: Vec<ListPrice>,
}

/// Who reads a card: staff get every price list and tier; others those without a customer group
/// and those of their own groups.
struct Viewer {
    groups: Vec<CustomerGroupId>,
    staff: bool,
}

impl Viewer {
    fn may_get(&self, group: Option<CustomerGroupId>) -> bool {
        self.staff || group.is_none_or(|g| self.groups.contains(&g))
    }
}

/// The columns every card read selects: `$2` is the caller's user id (null for guests), `p` the
/// product and `c` its card. Groups are an uncorrelated subquery (evaluated once per statement);
/// stock is one row per (variant, location) found by the product's index on stock levels: on hand,
/// and on hand less ACTIVE unexpired holds.
macro_rules! card_columns {
    () => {
        "p.id AS product_id,
        (SELECT coalesce(array_agg(m.group_id), '{}') FROM catalog.customer_group_members m
         WHERE m.user_id = $2) AS groups,
        c.card::text AS card,
        (SELECT array_agg((s.variant_id, s.on_hand, greatest(s.on_hand - coalesce((
                SELECT sum(r.quantity) FROM catalog.stock_reservations r
                WHERE r.variant_id = s.variant_id AND r.location_id = s.location_id
                  AND r.status = 'ACTIVE' AND r.expires_at > now()), 0), 0)::int))
         FROM catalog.stock_levels s WHERE s.product_id = p.id) AS stock"
    };
}
pub(crate) use card_columns;

/// The best translation of product `p` that the request wants (the parameters of its locale and
/// of that locale's language), as `tr`.
macro_rules! translation_join {
    ($locale:literal, $language:literal) => {
        concat!(
            " LEFT JOIN LATERAL (
            SELECT t.title, t.description FROM catalog.product_translations t
            WHERE t.tenant_id = p.tenant_id AND t.product_id = p.id AND t.locale IN (",
            $locale,
            ", ",
            $language,
            ")
            ORDER BY t.locale = ",
            $locale,
            " DESC LIMIT 1) tr ON true"
        )
    };
}
pub(crate) use translation_join;

/// Products joined to their cards.
macro_rules! with_cards {
    () => {
        " FROM catalog.products p
        JOIN catalog.product_cards c ON c.tenant_id = p.tenant_id AND c.product_id = p.id"
    };
}

#[derive(QueryableByName)]
struct CardRow {
    #[diesel(sql_type = SqlUuid)]
    product_id: ProductId,
    #[diesel(sql_type = Array<SqlUuid>)]
    groups: Vec<CustomerGroupId>,
    #[diesel(sql_type = Text)]
    card: String,
    #[diesel(sql_type = Nullable<Array<Record<(SqlUuid, Integer, Integer)>>>)]
    stock: Option<Vec<(VariantId, i32, i32)>>,
}

/// A listed product with its list's total, its best wanted translation and its card.
#[derive(QueryableByName)]
pub(crate) struct ListingRow {
    #[diesel(embed)]
    pub(crate) product: Product,
    #[diesel(sql_type = BigInt)]
    pub(crate) total: i64,
    /// The best translation wanted, if any.
    #[diesel(sql_type = Nullable<Text>)]
    tr_title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tr_description: Option<String>,
    #[diesel(embed)]
    card: CardRow,
}

impl CardRow {
    /// The product's options and variants as this row's caller sees them, and the caller's groups.
    fn read(self, staff: bool) -> QueryResult<Read> {
        let card: Card = serde_json::from_str(&self.card)
            .map_err(|e| diesel::result::Error::DeserializationError(e.into()))?;
        let viewer = Viewer {
            groups: self.groups,
            staff,
        };
        let levels = self.stock.unwrap_or_default();
        let stock_of = |variant: VariantId| {
            levels.iter().filter(|(v, _, _)| *v == variant).fold(
                StockSummary::default(),
                |sum, (_, on_hand, available)| StockSummary {
                    on_hand: sum.on_hand + i64::from(*on_hand),
                    available: sum.available + i64::from(*available),
                },
            )
        };
        let tiers = card.tiers;
        let variants = card
            .variants
            .into_iter()
            .map(|v| {
                let id = v.variant.id;
                PricedVariant {
                    list_prices: v
                        .list_prices
                        .into_iter()
                        .filter(|l| viewer.may_get(l.customer_group_id))
                        .collect(),
                    tiers: tiers
                        .iter()
                        .filter(|t| t.variant_id.is_none_or(|v| v == id))
                        .filter(|t| viewer.may_get(t.customer_group_id))
                        .cloned()
                        .collect(),
                    stock: stock_of(id),
                    groups: viewer.groups.clone(),
                    variant: v.variant,
                    prices: v.prices,
                }
            })
            .collect();
        Ok(Read {
            groups: viewer.groups,
            options: card.options,
            variants,
            media: card.media,
        })
    }
}

/// One card, read for one caller.
struct Read {
    groups: Vec<CustomerGroupId>,
    options: Vec<ProductOption>,
    variants: Vec<PricedVariant>,
    media: Vec<Media>,
}

impl Read {
    fn details(self) -> ProductDetails {
        ProductDetails {
            options: self.options,
            variants: self.variants.into_iter().map(Arc::new).collect(),
            media: self.media,
        }
    }
}

/// Options and variants (with prices, price lists, tiers and stock) of products, as `customer`
/// sees them: one statement whatever the number of products. Products the caller may not see
/// (drafts, for anyone but staff) are left out.
pub async fn details_of(
    tx: &mut TenantTx<'_>,
    products: &[ProductId],
    customer: Option<UserId>,
    staff: bool,
) -> QueryResult<HashMap<ProductId, ProductDetails>> {
    let rows: Vec<CardRow> = Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            card_columns!(),
            with_cards!(),
            " WHERE p.id = ANY ($1) AND ($3 OR p.listed)"
        ))
        .bind::<Array<SqlUuid>, _>(products)
        .bind::<Nullable<SqlUuid>, _>(customer)
        .bind::<Bool, _>(staff),
    )
    .load(tx.conn())
    .await?;
    rows.into_iter()
        .map(|row| {
            let id = row.product_id;
            Ok((id, row.read(staff)?.details()))
        })
        .collect()
}

/// Variants by id with their facts, as one caller sees them.
pub struct Facts {
    /// The caller's customer groups.
    pub groups: Vec<CustomerGroupId>,
    /// The variants found (those of products the caller may see), in no particular order.
    pub variants: Vec<PricedVariant>,
}

/// Loads [`Facts`] for variant ids on the caller's connection: one statement.
pub async fn facts_of(
    tx: &mut TenantTx<'_>,
    ids: &[VariantId],
    customer: Option<UserId>,
    staff: bool,
) -> QueryResult<Facts> {
    let rows: Vec<CardRow> = Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            card_columns!(),
            with_cards!(),
            " WHERE p.id IN (SELECT v.product_id FROM catalog.product_variants v WHERE v.id = ANY ($1))
              AND ($3 OR p.listed)"
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Nullable<SqlUuid>, _>(customer)
        .bind::<Bool, _>(staff),
    )
    .load(tx.conn())
    .await?;
    let mut facts = Facts {
        groups: Vec::new(),
        variants: Vec::new(),
    };
    for row in rows {
        let read = row.read(staff)?;
        facts.groups = read.groups;
        facts.variants.extend(
            read.variants
                .into_iter()
                .filter(|v| ids.contains(&v.variant.id)),
        );
    }
    Ok(facts)
}

/// The products in `scope` as alias `a` (with the collection's rows as `{a}_cp`): the FROM list
/// and the conditions, on the binds of [`listing_sql`].
fn scope_sql(scope: Scope, a: &str) -> (String, Vec<String>) {
    let mut from = format!("catalog.products {a}");
    let mut conditions = vec!["true".to_owned()];
    if let Some(condition) = scope.visibility.condition(Some(a)) {
        conditions.push(condition);
    }
    if scope.vendor.is_some() {
        conditions.push(format!("{a}.vendor_id = $5"));
    }
    if scope.collection.is_some() {
        from.push_str(&format!(
            " JOIN catalog.collection_products {a}_cp ON {a}_cp.tenant_id = {a}.tenant_id
              AND {a}_cp.product_id = {a}.id AND {a}_cp.collection_id = $6"
        ));
    }
    if scope.category.is_some() {
        // The category and its descendants.
        conditions.push(format!(
            "{a}.id IN (SELECT pc.product_id FROM catalog.product_categories pc
               JOIN catalog.categories cat ON cat.tenant_id = pc.tenant_id AND cat.id = pc.category_id
               WHERE cat.path <@ (SELECT t.path FROM catalog.categories t WHERE t.id = $7))"
        ));
    }
    (from, conditions)
}

/// The listing statement for `scope` and the page's cursors and direction. Binds: `$1` the fetch
/// limit, `$2` the caller, `$3`/`$4` the after/before product, `$5` vendor, `$6` collection,
/// `$7` category, `$8`/`$9` the wanted locale and its language. One text per shape (visibility,
/// vendor, collection, category, cursors, direction, translation: 256 at most, a handful in
/// practice), each prepared once per connection.
fn listing_sql(scope: Scope, page: &PageRequest<ProductId>, translated: bool) -> String {
    let (counted_from, counted) = scope_sql(scope, "q");
    let (listed_from, mut listed) = scope_sql(scope, "p");
    // Collections list in their own order; everything else oldest first (ids are UUID v7).
    let (key, after, before) = if scope.collection.is_some() {
        let at = |cursor: &str| {
            format!(
                "(SELECT x.position FROM catalog.collection_products x
                  WHERE x.collection_id = $6 AND x.product_id = {cursor})"
            )
        };
        ("p_cp.position", at("$3"), at("$4"))
    } else {
        ("p.id", "$3".to_owned(), "$4".to_owned())
    };
    if page.after.is_some() {
        listed.push(format!("{key} > {after}"));
    }
    if page.before.is_some() {
        listed.push(format!("{key} < {before}"));
    }
    let order = if page.backward { "DESC" } else { "ASC" };
    let (translation, translated_columns) = if translated {
        (
            translation_join!("$8", "$9"),
            "tr.title AS tr_title, tr.description AS tr_description",
        )
    } else {
        ("", "NULL::text AS tr_title, NULL::text AS tr_description")
    };
    format!(
        "SELECT p.*, (SELECT count(*) FROM {counted_from} WHERE {counted}) AS total,
            {translated_columns}, {columns}
         FROM {listed_from}
         JOIN catalog.product_cards c ON c.tenant_id = p.tenant_id AND c.product_id = p.id
         {translation}
         WHERE {listed} ORDER BY {key} {order} LIMIT $1",
        counted = counted.join(" AND "),
        listed = listed.join(" AND "),
        columns = card_columns!(),
    )
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many products `scope` covers: the listing's count, for a page without rows to carry it.
pub(crate) async fn count_in(tx: &mut TenantTx<'_>, scope: Scope) -> QueryResult<i64> {
    let (from, conditions) = scope_sql(scope, "q");
    let sql = format!(
        "SELECT count(*) AS n FROM {from} WHERE {}",
        conditions.join(" AND ")
    );
    let count: Count = Prepared(
        diesel::sql_query(sql)
            .bind::<BigInt, _>(0)
            .bind::<Nullable<SqlUuid>, _>(None::<ProductId>)
            .bind::<Nullable<SqlUuid>, _>(None::<ProductId>)
            .bind::<Nullable<SqlUuid>, _>(None::<ProductId>)
            .bind::<Nullable<SqlUuid>, _>(scope.vendor)
            .bind::<Nullable<SqlUuid>, _>(scope.collection)
            .bind::<Nullable<SqlUuid>, _>(scope.category),
    )
    .get_result(tx.conn())
    .await?;
    Ok(count.n)
}

/// A page of the products `scope` covers (oldest first, or in the collection's order), with their total count and their details
/// as `customer` sees them: one statement whatever the page size.
pub async fn page_in(
    tx: &mut TenantTx<'_>,
    scope: Scope,
    page: &PageRequest<ProductId>,
    customer: Option<UserId>,
    staff: bool,
    wanted: &Wanted,
) -> QueryResult<(Page<Product>, HashMap<ProductId, ProductDetails>)> {
    let sql = listing_sql(scope, page, wanted.any());
    let rows: Vec<ListingRow> = Prepared(
        diesel::sql_query(sql)
            .bind::<BigInt, _>(page.fetch_limit())
            .bind::<Nullable<SqlUuid>, _>(customer)
            .bind::<Nullable<SqlUuid>, _>(page.after)
            .bind::<Nullable<SqlUuid>, _>(page.before)
            .bind::<Nullable<SqlUuid>, _>(scope.vendor)
            .bind::<Nullable<SqlUuid>, _>(scope.collection)
            .bind::<Nullable<SqlUuid>, _>(scope.category)
            .bind::<Nullable<Text>, _>(wanted.exact.as_deref())
            .bind::<Nullable<Text>, _>(wanted.language.as_deref()),
    )
    .load(tx.conn())
    .await?;
    let total = match <[_]>::first(&rows) {
        Some(row) => row.total,
        // An empty page past a cursor has no row to carry the count.
        None if page.after.is_some() || page.before.is_some() => count_in(tx, scope).await?,
        None => 0,
    };
    let (products, details) = read_listing(rows, staff)?;
    Ok((page.finish(products, |p| p.id, total), details))
}

/// The products of listing rows, translated, and their details as the rows' caller sees them.
pub(crate) fn read_listing(
    rows: Vec<ListingRow>,
    staff: bool,
) -> QueryResult<(Vec<Product>, HashMap<ProductId, ProductDetails>)> {
    let mut details = HashMap::with_capacity(rows.len());
    let mut products = Vec::with_capacity(rows.len());
    for mut row in rows {
        details.insert(row.product.id, row.card.read(staff)?.details());
        if let Some(title) = row.tr_title {
            translations::apply(
                &mut row.product,
                title,
                row.tr_description.unwrap_or_default(),
            );
        }
        products.push(row.product);
    }
    Ok((products, details))
}

/// A variant as a cart or a checkout sees it: what its product is called, who sells it, the
/// categories it is in (with their ancestors, for category-wide discounts and tax rates), and the
/// facts that price it for one customer, stock included.
#[derive(Debug, Clone)]
pub struct Purchasable {
    /// The product's id.
    pub product_id: ProductId,
    /// The product's title (its own text, not a translation: what the order records).
    pub product_title: String,
    /// The marketplace vendor selling it; `None` when the tenant sells it itself.
    pub vendor_id: Option<VendorId>,
    /// The product's categories and all their ancestors.
    pub categories: Vec<CategoryId>,
    /// The variant with its prices, price lists, tiers and stock, as the customer sees them.
    pub variant: PricedVariant,
}

#[derive(QueryableByName)]
struct PurchasableRow {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    vendor_id: Option<VendorId>,
    #[diesel(sql_type = Array<SqlUuid>)]
    categories: Vec<CategoryId>,
    #[diesel(embed)]
    card: CardRow,
}

/// The variants `ids` that are on sale (their product is published), as `customer` (none for a
/// guest) would buy them, on the caller's connection and inside its tenant-scoped transaction:
/// one statement. Variants that do not exist or are not on sale are left out.
pub async fn purchasables(
    tx: &mut TenantTx<'_>,
    ids: &[VariantId],
    customer: Option<UserId>,
) -> QueryResult<Vec<Purchasable>> {
    let rows: Vec<PurchasableRow> = Prepared(
        diesel::sql_query(concat!(
            "SELECT p.title, p.vendor_id,
                (SELECT coalesce(array_agg(DISTINCT a.id), '{}')
                 FROM catalog.product_categories pc
                 JOIN catalog.categories c ON c.tenant_id = pc.tenant_id AND c.id = pc.category_id
                 JOIN catalog.categories a ON a.tenant_id = c.tenant_id AND a.path @> c.path
                 WHERE pc.tenant_id = p.tenant_id AND pc.product_id = p.id) AS categories, ",
            card_columns!(),
            with_cards!(),
            " WHERE p.id IN (SELECT v.product_id FROM catalog.product_variants v WHERE v.id = ANY ($1))
              AND p.listed"
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Nullable<SqlUuid>, _>(customer),
    )
    .load(tx.conn())
    .await?;
    let mut found = Vec::with_capacity(ids.len());
    for row in rows {
        let product_id = row.card.product_id;
        for variant in row.card.read(false)?.variants {
            if ids.contains(&variant.variant.id) {
                found.push(Purchasable {
                    product_id,
                    product_title: row.title.clone(),
                    vendor_id: row.vendor_id,
                    categories: row.categories.clone(),
                    variant,
                });
            }
        }
    }
    Ok(found)
}

/// Prices a request for `customer` (none for a guest) on the caller's connection, inside the
/// caller's tenant-scoped transaction. `None` when the variant does not exist or has no price.
pub async fn quote(
    tx: &mut TenantTx<'_>,
    request: &PriceRequest,
    customer: Option<UserId>,
) -> QueryResult<Option<Quote>> {
    let facts = facts_of(tx, &[request.variant_id], customer, false).await?;
    Ok(facts
        .variants
        .as_slice()
        .first()
        .and_then(|v| v.quote(request)))
}
