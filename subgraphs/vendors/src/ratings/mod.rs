//! Vendors' ratings: the approved reviews of the products they sell, learnt from the catalog's
//! `review.changed` events (consumed once each). Every review's last state is kept with its
//! `version`, and an event older than the one kept changes nothing, so late or repeated deliveries
//! cannot undo a later moderation. A vendor's rating is then its approved reviews' count and stars,
//! recounted for the vendors the change touched (the product's seller, and the review's previous
//! one when the product changed hands).

use crate::ids::VendorId;
use cityos_core::ApiError;
use cityos_db::inbox::Consume;
use cityos_db::outbox::Event;
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, SmallInt, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// The vendors subgraph's reading of `review.changed`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReviewChanged {
    pub review_id: uuid::Uuid,
    pub vendor_id: Option<VendorId>,
    pub rating: i16,
    pub counted: bool,
    pub version: i32,
}

#[derive(diesel::QueryableByName)]
struct Seller {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    vendor_id: Option<VendorId>,
}

impl Consume for ReviewChanged {
    const TOPIC: &'static str = "review.changed";

    async fn apply(self, tx: &mut TenantTx<'_>, _: &Event) -> Result<(), ApiError> {
        if !(1..=5).contains(&self.rating) || self.version < 1 {
            return Err(ApiError::bad_input(format!(
                "a review.changed event with {} stars at version {}",
                self.rating, self.version
            )));
        }
        let before: Vec<Seller> = Prepared(
            diesel::sql_query(
                "SELECT vendor_id FROM vendors.vendor_reviews WHERE review_id = $1 FOR UPDATE",
            )
            .bind::<SqlUuid, _>(self.review_id),
        )
        .load(tx.conn())
        .await?;
        let applied: Vec<Seller> = Prepared(
            diesel::sql_query(
                "INSERT INTO vendors.vendor_reviews AS r (tenant_id, review_id, vendor_id, rating, counted, version)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, review_id) DO UPDATE
                     SET vendor_id = excluded.vendor_id, rating = excluded.rating,
                         counted = excluded.counted, version = excluded.version
                     WHERE r.version < excluded.version
                 RETURNING r.vendor_id",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(self.review_id)
            .bind::<Nullable<SqlUuid>, _>(self.vendor_id)
            .bind::<SmallInt, _>(self.rating)
            .bind::<Bool, _>(self.counted)
            .bind::<Integer, _>(self.version),
        )
        .load(tx.conn())
        .await?;
        if applied.is_empty() {
            // Older than what is kept: nothing changes.
            return Ok(());
        }
        let mut touched: Vec<VendorId> = before
            .into_iter()
            .chain(applied)
            .filter_map(|s| s.vendor_id)
            .collect();
        touched.sort_unstable();
        touched.dedup();
        recount(tx, &touched).await?;
        Ok(())
    }
}

/// Recounts the ratings of `vendors` from their reviews' kept states.
async fn recount(tx: &mut TenantTx<'_>, vendors: &[VendorId]) -> QueryResult<()> {
    if vendors.is_empty() {
        return Ok(());
    }
    Prepared(
        diesel::sql_query(
            "INSERT INTO vendors.vendor_ratings (tenant_id, vendor_id, reviews, stars)
             SELECT $1, v.id, count(r.review_id), coalesce(sum(r.rating), 0)
             FROM unnest($2::uuid[]) AS v (id)
             LEFT JOIN vendors.vendor_reviews r ON r.tenant_id = $1 AND r.vendor_id = v.id AND r.counted
             GROUP BY v.id
             ON CONFLICT (tenant_id, vendor_id) DO UPDATE
                 SET reviews = excluded.reviews, stars = excluded.stars",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<Array<SqlUuid>, _>(vendors),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

/// A vendor's rating: how many approved reviews its products have, and their stars in all.
#[derive(diesel::QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Integer)]
    pub reviews: i32,
    #[diesel(sql_type = BigInt)]
    pub stars: i64,
}

/// The ratings of `vendors` (none for a vendor without approved reviews).
pub async fn of(
    tx: &mut TenantTx<'_>,
    vendors: &[VendorId],
) -> QueryResult<HashMap<VendorId, Rating>> {
    let rows: Vec<Rating> = Prepared(
        diesel::sql_query(
            "SELECT vendor_id, reviews, stars FROM vendors.vendor_ratings WHERE vendor_id = ANY ($1)",
        )
        .bind::<Array<SqlUuid>, _>(vendors),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.vendor_id, r)).collect())
}
