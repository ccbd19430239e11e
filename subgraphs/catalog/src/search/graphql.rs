//! Search in the API: the `filter` and `sort` of `products`, facet counts on product connections,
//! and `productSuggestions` for autocomplete.

use crate::federation::{Tenant, Vendor};
use crate::ids::{CategoryId, CollectionId, TenantId, VendorId};
use crate::products::translations::Wanted;
use crate::products::{Product, Visibility, cards};
use crate::scope::{Caller, CatalogLoader, DetailsOf, currency, in_tenant};
use crate::search::{self, Facets, ProductSortKey, Search, Typed};
use crate::taxonomy::categories::Category;
use crate::taxonomy::collections::Collection;
use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject};
use cityos_core::ApiError;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::{Currency, Money};
use cityos_core::paging::{Page, PageInfo, PageRequest, page_cost};
use cityos_server::CtxExt as _;
use std::collections::HashMap;
use std::sync::Arc;

/// Which products to list. Every condition given must hold.
#[derive(InputObject, Default)]
pub struct ProductFilter {
    /// Words to find in titles, SKUs and barcodes, tags, product types and descriptions (and
    /// their translations), in the request's language and as written: `oud perfume` (both words),
    /// `"rose oud"` (the phrase), `oud or musk`, `oud -sample` (without). At most 200 characters.
    /// Results come best match first unless another sort is asked for.
    pub query: Option<String>,
    /// Products in this category or any category below it.
    pub category_id: Option<CategoryId>,
    /// Products in this collection.
    pub collection_id: Option<CollectionId>,
    /// Products of this vendor.
    pub vendor_id: Option<VendorId>,
    /// Products carrying every one of these tags (case-insensitive; at most 20).
    pub tags: Option<Vec<String>>,
    /// ISO 4217 code of the currency for `minPrice`, `maxPrice`, the PRICE sort and the price
    /// facet. A product's price is what the caller pays for one unit of its cheapest variant.
    pub currency: Option<String>,
    /// Lowest price, in minor units of `currency`, inclusive.
    pub min_price: Option<i64>,
    /// Highest price, in minor units of `currency`, inclusive.
    pub max_price: Option<i64>,
    /// Only products with at least one unit available (on hand less active reservations).
    pub in_stock: Option<bool>,
}

/// The order of a product list.
#[derive(InputObject)]
pub struct ProductSort {
    /// What to sort by.
    pub key: ProductSortKey,
    /// Runs the key's order the other way (highest price first, oldest first, ...).
    #[graphql(default)]
    pub reverse: bool,
}

/// A listing's filter and sort, read from the API's arguments.
pub(crate) struct Asked {
    pub within: Within,
    pub search: Search,
}

/// The list's own scope narrowed by what the filter asks; a filter that contradicts it is refused.
fn merge<I: PartialEq>(own: Option<I>, asked: Option<I>, name: &str) -> Result<Option<I>> {
    match (own, asked) {
        (Some(own), Some(asked)) if own != asked => {
            Err(ApiError::bad_input(format!("`{name}` differs from the list's own")).into())
        }
        (own, asked) => Ok(own.or(asked)),
    }
}

impl Asked {
    /// Merges the list's own scope (a category's, vendor's or collection's products) with the
    /// filter; a filter that contradicts the scope is refused.
    pub fn new(
        ctx: &Context<'_>,
        within: Within,
        filter: Option<ProductFilter>,
        sort: Option<ProductSort>,
    ) -> Result<Self> {
        let filter = filter.unwrap_or_default();
        let within = Within {
            vendor: merge(within.vendor, filter.vendor_id, "vendorId")?,
            collection: merge(within.collection, filter.collection_id, "collectionId")?,
            category: merge(within.category, filter.category_id, "categoryId")?,
        };
        let rc = ctx.request()?;
        let locale = rc
            .locale
            .clone()
            .or_else(|| rc.tenant.as_ref().map(|t| t.default_locale.clone()));
        let search = Search {
            text: filter.query,
            tags: filter.tags.unwrap_or_default(),
            currency: filter.currency.as_deref().map(currency).transpose()?,
            min_price: filter.min_price,
            max_price: filter.max_price,
            in_stock: filter.in_stock.unwrap_or(false),
            sort: sort.as_ref().map(|s| s.key),
            reverse: sort.is_some_and(|s| s.reverse),
            locale,
        }
        .checked()?;
        Ok(Self { within, search })
    }
}

/// How many of the listed products (all pages, every filter applied) fall under each value of
/// each filter: the counts a storefront shows beside its filters. Counts narrow as filters are
/// added: under a category filter, `categories` counts its subcategories.
pub struct ProductFacets {
    facets: Facets,
    currency: Option<Currency>,
}

impl ProductFacets {
    pub fn new(facets: Facets, currency: Option<Currency>) -> Self {
        Self { facets, currency }
    }
}

/// A category and how many listed products are in it or below it.
#[derive(SimpleObject)]
pub struct CategoryFacet {
    /// The category.
    pub category: Category,
    /// Listed products in it or any category below it.
    pub count: i64,
}

/// A collection and how many listed products it holds.
#[derive(SimpleObject)]
pub struct CollectionFacet {
    /// The collection.
    pub collection: Collection,
    /// Listed products in it.
    pub count: i64,
}

/// A vendor and how many listed products it sells.
#[derive(SimpleObject)]
pub struct VendorFacet {
    /// The vendor.
    pub vendor: Vendor,
    /// Listed products of the vendor.
    pub count: i64,
}

/// A tag and how many listed products carry it.
#[derive(SimpleObject)]
pub struct TagFacet {
    /// The tag (lower case).
    pub tag: String,
    /// Listed products carrying it.
    pub count: i64,
}

/// The spread of the listed products' prices in the filter's currency.
#[derive(SimpleObject)]
pub struct PriceFacet {
    /// The lowest price.
    pub min: Money,
    /// The highest price.
    pub max: Money,
    /// Round ranges (1, 2 or 5 times a power of ten wide) with at least one product, lowest
    /// first.
    pub ranges: Vec<PriceRangeFacet>,
}

/// Products priced in one range.
#[derive(SimpleObject)]
pub struct PriceRangeFacet {
    /// Start of the range, inclusive.
    pub from: Money,
    /// End of the range, exclusive.
    pub to: Money,
    /// Listed products priced in it.
    pub count: i64,
}

#[Object]
impl ProductFacets {
    /// Categories with listed products in them or below them, most first (at most 100).
    async fn categories(&self) -> Vec<CategoryFacet> {
        self.facets
            .categories
            .iter()
            .map(|c| CategoryFacet {
                category: c.category.clone(),
                count: c.count,
            })
            .collect()
    }

    /// Collections holding listed products, most first (at most 100).
    async fn collections(&self) -> Vec<CollectionFacet> {
        self.facets
            .collections
            .iter()
            .map(|c| CollectionFacet {
                collection: c.collection.clone(),
                count: c.count,
            })
            .collect()
    }

    /// Vendors of listed products, most first (at most 100).
    async fn vendors(&self) -> Vec<VendorFacet> {
        self.facets
            .vendors
            .iter()
            .map(|v| VendorFacet {
                vendor: Vendor { id: to_id(v.id) },
                count: v.count,
            })
            .collect()
    }

    /// Tags of listed products, most common first (at most 100).
    async fn tags(&self) -> Vec<TagFacet> {
        self.facets
            .tags
            .iter()
            .map(|t| TagFacet {
                tag: t.tag.clone(),
                count: t.count,
            })
            .collect()
    }

    /// How many listed products are in stock.
    async fn in_stock(&self) -> i64 {
        self.facets.in_stock
    }

    /// The spread of prices, in the filter's `currency`; null without one, or when no listed
    /// product has a price in it.
    async fn price(&self) -> Option<PriceFacet> {
        let (spread, currency) = (self.facets.price.as_ref()?, self.currency?);
        let money = |amount| Money::new(amount, currency);
        Some(PriceFacet {
            min: money(spread.min),
            max: money(spread.max),
            ranges: spread
                .ranges
                .iter()
                .map(|r| PriceRangeFacet {
                    from: money(r.from),
                    to: money(r.from.saturating_add(spread.step)),
                    count: r.count,
                })
                .collect(),
        })
    }
}

/// A product suggested for what a shopper is typing.
#[derive(SimpleObject)]
pub struct ProductSuggestion {
    /// The product (its title is in the request's locale).
    pub product: Product,
    /// How well it matches: above 1 when its words start with what was typed (higher for better
    /// ranked matches), from 0.3 to 1 when its words are only close to it (a typo).
    pub score: f64,
}

/// Autocomplete.
#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Products for a search box as the shopper types, best first: products with words starting
    /// with the typed words (the last one may be unfinished), then products with words close to
    /// them, forgiving typos ("parfume" finds "perfume"). Storefronts see published products.
    async fn product_suggestions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What has been typed so far (at most 200 characters).")] query: String,
        #[graphql(desc = "How many suggestions, 1 to 20; 8 when not given.")] first: Option<i32>,
    ) -> Result<Vec<ProductSuggestion>> {
        let rc = ctx.request()?;
        let Some(typed) = Typed::parse(&query)? else {
            return Ok(Vec::new());
        };
        let (visibility, wanted) = (Visibility::of(rc), Wanted::of(rc));
        let found = in_tenant!(ctx, |tx| search::suggest(
            tx,
            visibility,
            &typed,
            first.unwrap_or(8),
            &wanted
        ))?;
        Ok(found
            .into_iter()
            .map(|(product, score)| ProductSuggestion { product, score })
            .collect())
    }
}

impl ProductConnection {
    /// The connection with its facets.
    pub(super) fn with_facets(mut self, facets: Option<ProductFacets>) -> Self {
        self.facets = facets;
        self
    }
}

/// One product in a list, with its cursor.
#[derive(SimpleObject)]
pub struct ProductEdge {
    /// Opaque cursor: pass it as `after` or `before` to page from here.
    pub cursor: String,
    /// The product.
    pub node: Product,
}

/// A page of products (Relay connection), with facet counts on request.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProductConnection {
    /// The products on this page, in order.
    pub edges: Vec<ProductEdge>,
    /// Where this page sits in the whole list.
    pub page_info: PageInfo,
    /// How many products the whole list has, over all pages.
    pub total_count: i64,
    #[graphql(skip)]
    facets: Option<ProductFacets>,
}

impl From<Page<Product>> for ProductConnection {
    fn from(page: Page<Product>) -> Self {
        Self {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, node)| ProductEdge { cursor, node })
                .collect(),
            page_info: page.page_info,
            total_count: page.total_count,
            facets: None,
        }
    }
}

#[ComplexObject]
impl ProductConnection {
    /// How many of the listed products fall under each filter value (categories, collections,
    /// vendors, tags, in stock, price ranges), over all pages.
    async fn facets(&self) -> Result<&ProductFacets> {
        self.facets
            .as_ref()
            .ok_or_else(|| ApiError::internal("facets were not read with the page").into())
    }
}

/// Narrows a product list to one vendor's, collection's or category's (with its descendants).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Within {
    pub vendor: Option<VendorId>,
    pub collection: Option<CollectionId>,
    pub category: Option<CategoryId>,
}

pub(crate) async fn page_of_products(
    ctx: &Context<'_>,
    asked: Asked,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ProductConnection> {
    let rc = ctx.request()?;
    let caller = Caller::of(rc, rc.tenant()?.id);
    let (within, search) = (asked.within, asked.search);
    let look = ctx.look_ahead();
    // When the query asks for details, read them with the page in one statement (BEGIN, the
    // listing, COMMIT whatever the page size), and hand them to the request's loader.
    let node = look.field("edges").field("node");
    let with_details = ["options", "variants", "priceRange", "media"]
        .iter()
        .any(|f| node.field(f).exists());
    let with_facets = look.field("facets").exists();
    let visibility = Visibility::of(rc);
    let scope = crate::products::Scope {
        visibility,
        vendor: within.vendor,
        collection: within.collection,
        category: within.category,
    };
    let wanted = Wanted::of(rc);
    let (customer, staff) = (caller.customer, caller.staff);
    let currency = search.currency;
    let (page, details, facets) = if search.is_plain() {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        ctx.db()
            .tenant_tx(caller.tenant, async move |tx| {
                let (page, details) = if with_details || within != Within::default() {
                    cards::page_in(tx, scope, &page, customer, staff, &wanted).await?
                } else {
                    (
                        crate::products::list_in(tx, visibility, &page, &wanted).await?,
                        HashMap::new(),
                    )
                };
                let facets = if with_facets {
                    Some(search::facets(tx, scope, &search, customer, &wanted).await?)
                } else {
                    None
                };
                Ok::<_, ApiError>((page, details, facets))
            })
            .await?
    } else {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        ctx.db()
            .tenant_tx(caller.tenant, async move |tx| {
                let found = search::page(
                    tx,
                    scope,
                    &search,
                    &page,
                    customer,
                    staff,
                    &wanted,
                    with_facets,
                )
                .await?;
                Ok::<_, ApiError>((found.page, found.details, found.facets))
            })
            .await?
    };
    if with_details {
        let shared = details
            .into_iter()
            .map(|(id, d)| (DetailsOf(id), Arc::new(d)));
        ctx.loader::<CatalogLoader>()?.feed_many(shared).await;
    }
    let facets = facets.map(|f| ProductFacets::new(f, currency));
    Ok(ProductConnection::from(page).with_facets(facets))
}

#[ComplexObject]
impl Tenant {
    /// The tenant's products that the caller may see (published ones for storefronts).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ProductConnection> {
        let selected = ctx.request()?.tenant()?.id;
        if parse_id::<TenantId>(&self.id)? != selected {
            return Err(ApiError::forbidden("products of another tenant are not visible").into());
        }
        let asked = Asked::new(ctx, Within::default(), None, None)?;
        page_of_products(ctx, asked, first, after, last, before).await
    }
}

#[ComplexObject]
impl Vendor {
    /// The vendor's products that the caller may see (published ones for storefronts), oldest
    /// first, or narrowed by `filter` and ordered by `sort` as in `Query.products`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(
        clippy::too_many_arguments,
        reason = "the connection arguments plus filter and sort"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProductFilter>,
        sort: Option<ProductSort>,
    ) -> Result<ProductConnection> {
        let vendor = parse_id(&self.id)?;
        let within = Within {
            vendor: Some(vendor),
            ..Within::default()
        };
        let asked = Asked::new(ctx, within, filter, sort)?;
        page_of_products(ctx, asked, first, after, last, before).await
    }
}
