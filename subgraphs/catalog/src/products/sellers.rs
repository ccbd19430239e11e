//! Who sells a product: the tenant itself, or a marketplace vendor, which the catalog knows from
//! the vendors subgraph's `vendor.approved`, `vendor.suspended` and `vendor.closed` events
//! (consumed once each). Each event carries the vendor's `version`; an event older than the one
//! applied changes nothing, so events arriving late or out of order cannot undo a later one.
//! When a vendor's status changes, its products' `listed` flag follows: storefronts, search and
//! carts see a vendor's products only while it is approved, and see them again on reinstatement.
//!
//! Who writes a product ([`Writer`]): staff write any; a member of a vendor's team acting for it
//! (`x-vendor-id`, any role) writes that vendor's products only: a new product is the vendor's
//! whatever the input says, and another seller's product, variant, media or review is refused as
//! NOT_FOUND, as a missing one is, so nothing about it leaks.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{MediaId, ProductId, ReviewId, VariantId, VendorId};
use cityos_core::{Acting, ApiError, RequestContext, VendorRole};
use cityos_db::inbox::Consume;
use cityos_db::outbox::Event;
use cityos_db::{Prepared, TenantTx};
use diesel::sql_types::{Bool, Integer, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// The catalog's reading of a `vendor.<status>` event.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct VendorChanged {
    pub vendor_id: VendorId,
    pub status: String,
    pub version: i32,
}

impl VendorChanged {
    async fn apply(self, tx: &mut TenantTx<'_>, topic: &str) -> Result<(), ApiError> {
        if !matches!(self.status.as_str(), "APPROVED" | "SUSPENDED" | "CLOSED")
            || topic != format!("vendor.{}", self.status.to_ascii_lowercase())
            || self.version < 1
        {
            return Err(ApiError::bad_input(format!(
                "a {topic} event says status {} at version {}",
                self.status, self.version
            )));
        }
        #[derive(diesel::QueryableByName)]
        struct Applied {
            #[diesel(sql_type = Bool)]
            approved: bool,
        }
        // The vendor's lock first, as every write of its products takes it (the listing trigger):
        // a product written meanwhile is committed before the update below reads the products.
        Prepared(
            diesel::sql_query("SELECT catalog.lock_vendor($1)").bind::<SqlUuid, _>(self.vendor_id),
        )
        .execute(tx.conn())
        .await?;
        let applied: Vec<Applied> = Prepared(
            diesel::sql_query(
                "INSERT INTO catalog.vendors AS v (tenant_id, id, status, version)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, id) DO UPDATE
                     SET status = excluded.status, version = excluded.version, updated_at = now()
                     WHERE v.version < excluded.version
                 RETURNING v.status = 'APPROVED' AS approved",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(self.vendor_id)
            .bind::<Text, _>(&self.status)
            .bind::<Integer, _>(self.version),
        )
        .load(tx.conn())
        .await?;
        // Nothing returned: an older event than the one applied; it changes nothing.
        if let Some(applied) = applied.into_iter().next() {
            Prepared(
                diesel::sql_query(
                    "UPDATE catalog.products SET listed = (status = 'PUBLISHED' AND $3)
                     WHERE tenant_id = $1 AND vendor_id = $2 AND listed <> (status = 'PUBLISHED' AND $3)",
                )
                .bind::<SqlUuid, _>(tx.tenant())
                .bind::<SqlUuid, _>(self.vendor_id)
                .bind::<Bool, _>(applied.approved),
            )
            .execute(tx.conn())
            .await?;
        }
        Ok(())
    }
}

macro_rules! vendor_topic {
    ($name:ident, $topic:literal) => {
        #[doc = concat!("`", $topic, "`, read as [`VendorChanged`].")]
        #[derive(serde::Deserialize, Debug)]
        #[serde(transparent)]
        pub struct $name(pub VendorChanged);

        impl Consume for $name {
            const TOPIC: &'static str = $topic;

            async fn apply(self, tx: &mut TenantTx<'_>, _: &Event) -> Result<(), ApiError> {
                self.0.apply(tx, $topic).await
            }
        }
    };
}

vendor_topic!(VendorApproved, "vendor.approved");
vendor_topic!(VendorSuspended, "vendor.suspended");
vendor_topic!(VendorClosed, "vendor.closed");

/// Refuses a vendor the catalog has not seen approved (unknown, another tenant's, or still
/// applying): only approved vendors sell, so only they get products.
pub(crate) async fn check_vendor(tx: &mut TenantTx<'_>, vendor: VendorId) -> Outcome<()> {
    #[derive(diesel::QueryableByName)]
    struct Known {
        #[diesel(sql_type = Bool)]
        known: bool,
    }
    let found: Known = Prepared(
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM catalog.vendors WHERE id = $1) AS known")
            .bind::<SqlUuid, _>(vendor),
    )
    .get_result(tx.conn())
    .await?;
    if found.known {
        Ok(())
    } else {
        Err(UserError::new(
            "vendorId",
            Code::NotFound,
            "no such vendor: only vendors the marketplace has approved get products",
        )
        .into())
    }
}

/// `review.changed`: a review was moderated, edited (back to PENDING) or deleted, or its product
/// changed hands; `counted` says whether it counts in ratings (APPROVED and not deleted),
/// `version` orders a review's changes, `vendorId` is the product's seller now (none for the
/// tenant's own), so a vendor's rating follows its products' reviews.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReviewChanged {
    pub review_id: ReviewId,
    pub product_id: ProductId,
    pub vendor_id: Option<VendorId>,
    pub rating: i16,
    pub counted: bool,
    pub version: i32,
}

impl cityos_db::outbox::FixedTopic for ReviewChanged {
    const TOPIC: &'static str = "review.changed";
}

/// The seller of `product` now (`None`: the tenant itself, or no such product).
pub(crate) async fn seller_of(
    tx: &mut TenantTx<'_>,
    product: ProductId,
) -> diesel::QueryResult<Option<VendorId>> {
    let seller: Vec<Seller> = Prepared(
        diesel::sql_query("SELECT vendor_id FROM catalog.products WHERE id = $1")
            .bind::<SqlUuid, _>(product),
    )
    .load(tx.conn())
    .await?;
    Ok(seller.into_iter().next().and_then(|s| s.vendor_id))
}

/// After `product` changed hands, announces each of its reviews again (a new version), so the
/// ratings of the vendors it left and joined follow.
pub(crate) async fn reviews_changed_hands(
    tx: &mut TenantTx<'_>,
    product: ProductId,
) -> diesel::QueryResult<()> {
    #[derive(diesel::QueryableByName)]
    struct Bumped {
        #[diesel(sql_type = SqlUuid)]
        id: ReviewId,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        rating: i16,
        #[diesel(sql_type = Bool)]
        counted: bool,
        #[diesel(sql_type = Integer)]
        version: i32,
    }
    let bumped: Vec<Bumped> = Prepared(
        diesel::sql_query(
            "UPDATE catalog.reviews SET version = version + 1 WHERE product_id = $1
             RETURNING id, rating, status = 'APPROVED' AS counted, version",
        )
        .bind::<SqlUuid, _>(product),
    )
    .load(tx.conn())
    .await?;
    let vendor_id = seller_of(tx, product).await?;
    for b in bumped {
        let event = ReviewChanged {
            review_id: b.id,
            product_id: product,
            vendor_id,
            rating: b.rating,
            counted: b.counted,
            version: b.version,
        };
        crate::OUTBOX.publish(tx, b.id, &event).await?;
    }
    Ok(())
}

/// Who changes a product, as far as whose products go: staff any, a vendor's team its own
/// ([`Acting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer(pub Acting);

/// The seller of what a statement finds (`None`: nothing found, or the tenant's own).
#[derive(diesel::QueryableByName)]
struct Seller {
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    vendor_id: Option<VendorId>,
}

impl Writer {
    /// The writer a request is: staff, or a team member acting for a vendor; anyone else is
    /// refused (`UNAUTHENTICATED` or `FORBIDDEN`) before anything runs.
    pub fn of(ctx: &RequestContext) -> Result<Self, ApiError> {
        ctx.staff_or_vendor(VendorRole::Staff).map(Self)
    }

    /// Whether the writer is staff (who may give a product to another seller).
    pub fn is_staff(self) -> bool {
        self.0 == Acting::Staff
    }

    /// The vendor a new product is sold by: what staff ask for (checked to be an approved
    /// vendor), or the acting vendor itself (asking for another is refused).
    pub async fn new_product_vendor(
        self,
        tx: &mut TenantTx<'_>,
        asked: Option<VendorId>,
    ) -> Outcome<Option<VendorId>> {
        match self.0 {
            Acting::Staff => {
                if let Some(vendor) = asked {
                    check_vendor(tx, vendor).await?;
                }
                Ok(asked)
            }
            Acting::Vendor(own) if asked.is_none_or(|a| a == own) => Ok(Some(own)),
            Acting::Vendor(_) => {
                Err(ApiError::forbidden("a vendor's team sells its own products only").into())
            }
        }
    }

    async fn owns(
        self,
        tx: &mut TenantTx<'_>,
        sql: &'static str,
        id: uuid::Uuid,
        field: &str,
        what: &str,
    ) -> Outcome<()> {
        if self.is_staff() {
            return Ok(());
        }
        let found: Vec<Seller> = Prepared(diesel::sql_query(sql).bind::<SqlUuid, _>(id))
            .load(tx.conn())
            .await?;
        // Nothing found reads as the tenant's own: refused too.
        if self
            .0
            .may_touch(found.into_iter().next().and_then(|s| s.vendor_id))
        {
            Ok(())
        } else {
            Err(UserError::new(field, Code::NotFound, format!("no such {what}")).into())
        }
    }

    /// Refuses a product this writer may not change, as NOT_FOUND at `field`.
    pub async fn product(self, tx: &mut TenantTx<'_>, id: ProductId, field: &str) -> Outcome<()> {
        let sql = "SELECT vendor_id FROM catalog.products WHERE id = $1";
        self.owns(tx, sql, id.into(), field, "product").await
    }

    /// Refuses a variant of a product this writer may not change, as NOT_FOUND at `field`.
    pub async fn variant(self, tx: &mut TenantTx<'_>, id: VariantId, field: &str) -> Outcome<()> {
        let sql = "SELECT p.vendor_id FROM catalog.product_variants v
                   JOIN catalog.products p ON p.tenant_id = v.tenant_id AND p.id = v.product_id
                   WHERE v.id = $1";
        self.owns(tx, sql, id.into(), field, "variant").await
    }

    /// Refuses media of a product this writer may not change, as NOT_FOUND.
    pub async fn media(self, tx: &mut TenantTx<'_>, id: MediaId) -> Outcome<()> {
        let sql = "SELECT p.vendor_id FROM catalog.product_media m
                   JOIN catalog.products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id
                   WHERE m.id = $1";
        self.owns(tx, sql, id.into(), "id", "media").await
    }

    /// Refuses a review of a product this writer may not answer, as NOT_FOUND.
    pub async fn review(self, tx: &mut TenantTx<'_>, id: ReviewId) -> Outcome<()> {
        let sql = "SELECT p.vendor_id FROM catalog.reviews r
                   JOIN catalog.products p ON p.tenant_id = r.tenant_id AND p.id = r.product_id
                   WHERE r.id = $1";
        self.owns(tx, sql, id.into(), "id", "review").await
    }
}
