//! Product reviews: one per customer and product, moderated before storefronts show them, with a
//! staff response and helpful votes. The product's rating summary counts APPROVED reviews only and
//! is kept by a trigger (migration catalog 000009) in the transaction of every change.

pub mod graphql;

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{ProductId, ReviewId, UserId};
use crate::schema::{products, review_responses, review_votes, reviews};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, Failure, RequestContext, Role};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;
use uuid::Uuid;

// Moderation: an author's edit sends a review back to PENDING.
cityos_core::states! {
    /// Where a review is in moderation.
    pub enum ReviewStatus {
        /// Waiting for a moderator; only its author and staff see it.
        Pending = "PENDING",
        /// Shown on the storefront and counted in the product's rating.
        Approved = "APPROVED",
        /// Not shown; its author and staff still see it.
        Rejected = "REJECTED",
    }
    transitions {
        Pending -> Approved | Rejected,
        Approved -> Rejected,
        Rejected -> Approved,
    }
}

/// A review as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = reviews, check_for_backend(diesel::pg::Pg))]
pub struct Review {
    pub id: ReviewId,
    pub product_id: ProductId,
    pub customer_id: UserId,
    pub rating: i16,
    pub title: String,
    pub body: String,
    pub status: ReviewStatus,
    pub verified_purchase: bool,
    pub helpful_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub moderated_at: Option<DateTime<Utc>>,
    /// How many times it changed (moderation, edits): the order of its `review.changed` events.
    pub version: i32,
}

/// Writes `review.changed` for `review` as it now is (`counted` false once deleted).
async fn changed(
    tx: &mut TenantTx<'_>,
    review: &Review,
    counted: bool,
    version: i32,
) -> QueryResult<()> {
    use crate::products::sellers::{ReviewChanged, seller_of};
    let event = ReviewChanged {
        review_id: review.id,
        product_id: review.product_id,
        vendor_id: seller_of(tx, review.product_id).await?,
        rating: review.rating,
        counted,
        version,
    };
    crate::OUTBOX.publish(tx, review.id, &event).await
}

/// A staff response to a review.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = review_responses, check_for_backend(diesel::pg::Pg))]
pub struct Response {
    pub review_id: ReviewId,
    pub responder_id: Option<UserId>,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A product's rating from its approved reviews.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingSummary {
    /// How many approved reviews gave 1, 2, 3, 4 and 5 stars.
    pub distribution: [i64; 5],
}

impl RatingSummary {
    /// From the product row's counts.
    pub fn from_counts(counts: &[i32]) -> Self {
        let mut distribution = [0; 5];
        for (slot, n) in distribution.iter_mut().zip(counts) {
            *slot = i64::from(*n);
        }
        Self { distribution }
    }

    /// Approved reviews.
    pub fn total(&self) -> i64 {
        self.distribution.iter().sum()
    }

    /// Their mean rating, to two decimals; `None` without reviews.
    pub fn mean(&self) -> Option<f64> {
        let count = self.total();
        let stars: i64 = (1..=5).zip(self.distribution).map(|(s, n)| s * n).sum();
        (count > 0).then(|| (stars as f64 / count as f64 * 100.0).round() / 100.0)
    }
}

/// A review to write.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub product_id: ProductId,
    pub rating: i32,
    pub title: Option<String>,
    pub body: Option<String>,
}

fn check_content(rating: i32, title: &str, body: &str) -> Result<(i16, String, String), UserError> {
    let bad = |field: &str, message: &str| UserError::new(field, Code::InvalidReview, message);
    let rating = i16::try_from(rating)
        .ok()
        .filter(|r| (1..=5).contains(r))
        .ok_or_else(|| bad("rating", "a rating is 1 to 5 stars"))?;
    let (title, body) = (title.trim(), body.trim());
    if title.chars().count() > 200 {
        return Err(bad("title", "a review title has at most 200 characters"));
    }
    if body.chars().count() > 5000 {
        return Err(bad("body", "a review has at most 5,000 characters"));
    }
    Ok((rating, title.to_owned(), body.to_owned()))
}

async fn locked(tx: &mut TenantTx<'_>, id: ReviewId) -> Outcome<Review> {
    reviews::table
        .filter(reviews::id.eq(id))
        .select(Review::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| UserError::new("id", Code::NotFound, "no such review").into())
}

/// A customer reviews a published product, once (PENDING until moderated).
pub async fn create(db: &Database, ctx: &RequestContext, new: NewReview) -> Outcome<Review> {
    ctx.require_any(&[Role::Customer])?;
    let tenant = ctx.tenant()?.id;
    let customer = ctx.user_id()?;
    let (rating, title, body) = check_content(
        new.rating,
        new.title.as_deref().unwrap_or_default(),
        new.body.as_deref().unwrap_or_default(),
    )?;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let published: i64 = products::table
            .filter(products::id.eq(new.product_id))
            .filter(crate::products::listed())
            .count()
            .get_result(tx.conn())
            .await?;
        if published == 0 {
            return Err(UserError::new("productId", Code::NotFound, "no such product").into());
        }
        let review: Review = diesel::insert_into(reviews::table)
            .values((
                reviews::tenant_id.eq(tenant),
                reviews::id.eq(ReviewId::new()),
                reviews::product_id.eq(new.product_id),
                reviews::customer_id.eq(customer),
                reviews::rating.eq(rating),
                reviews::title.eq(&title),
                reviews::body.eq(&body),
            ))
            .returning(Review::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("reviews_once_per_customer", e, || {
                    UserError::new(
                        "productId",
                        Code::AlreadyReviewed,
                        "you have reviewed this product already; edit that review instead",
                    )
                })
            })?;
        let details = serde_json::json!({ "product": review.product_id, "rating": rating });
        cityos_db::audit::record(tx, &ctx, "review.create", review.id, details).await?;
        Ok(review)
    })
    .await
}

/// The author changes their review; it goes back to PENDING for moderation.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: ReviewId,
    rating: Option<i32>,
    title: Option<String>,
    body: Option<String>,
) -> Outcome<Review> {
    let tenant = ctx.tenant()?.id;
    let author = ctx.user_id()?;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let current = locked(tx, id).await?;
        if current.customer_id != author {
            return Err(UserError::new("id", Code::NotFound, "no such review").into());
        }
        let (rating, title, body) = check_content(
            rating.unwrap_or(i32::from(current.rating)),
            title.as_deref().unwrap_or(&current.title),
            body.as_deref().unwrap_or(&current.body),
        )?;
        let review: Review = diesel::update(reviews::table.filter(reviews::id.eq(id)))
            .set((
                reviews::rating.eq(rating),
                reviews::title.eq(&title),
                reviews::body.eq(&body),
                reviews::status.eq(ReviewStatus::Pending.as_str()),
                reviews::moderated_at.eq(None::<DateTime<Utc>>),
                reviews::updated_at.eq(diesel::dsl::now),
                reviews::version.eq(current.version + 1),
            ))
            .returning(Review::as_returning())
            .get_result(tx.conn())
            .await?;
        changed(tx, &review, false, review.version).await?;
        cityos_db::audit::record(
            tx,
            &ctx,
            "review.update",
            id,
            serde_json::json!({ "rating": rating }),
        )
        .await?;
        Ok(review)
    })
    .await
}

/// The author or staff delete a review.
pub async fn delete(db: &Database, ctx: &RequestContext, id: ReviewId) -> Outcome<ReviewId> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    let caller = ctx.user_id().ok();
    if !staff && caller.is_none() {
        return Err(ApiError::unauthenticated("sign in first").into());
    }
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let current = locked(tx, id).await?;
        if !staff && Some(current.customer_id) != caller {
            return Err(UserError::new("id", Code::NotFound, "no such review").into());
        }
        diesel::delete(reviews::table.filter(reviews::id.eq(id)))
            .execute(tx.conn())
            .await?;
        changed(tx, &current, false, current.version + 1).await?;
        let details = serde_json::json!({ "product": current.product_id });
        cityos_db::audit::record(tx, &ctx, "review.delete", id, details).await?;
        Ok(id)
    })
    .await
}

/// Staff approve or reject a review.
pub async fn moderate(
    db: &Database,
    ctx: &RequestContext,
    id: ReviewId,
    to: ReviewStatus,
) -> Outcome<Review> {
    db.staff(ctx, "review.moderate", async move |tx| {
        let current = locked(tx, id).await?;
        let from = current.status;
        if !from.can_become(to) {
            return Err(UserError::new(
                "status",
                Code::InvalidTransition,
                format!("a {} review cannot become {}", from.as_str(), to.as_str()),
            )
            .into());
        }
        let review: Review = diesel::update(reviews::table.filter(reviews::id.eq(id)))
            .set((
                reviews::status.eq(to),
                reviews::moderated_at.eq(diesel::dsl::now),
                reviews::version.eq(current.version + 1),
            ))
            .returning(Review::as_returning())
            .get_result(tx.conn())
            .await?;
        changed(tx, &review, to == ReviewStatus::Approved, review.version).await?;
        let details = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
        let audit = Audit::of(id, details);
        Ok((review, audit))
    })
    .await
}

/// A trusted caller (staff, or a server with a secret key, such as the orders domain) marks
/// whether the reviewer bought the product.
pub async fn set_verified(
    db: &Database,
    ctx: &RequestContext,
    id: ReviewId,
    verified: bool,
) -> Outcome<Review> {
    db.staff(ctx, "review.verify", async move |tx| {
        locked(tx, id).await?;
        let review: Review = diesel::update(reviews::table.filter(reviews::id.eq(id)))
            .set(reviews::verified_purchase.eq(verified))
            .returning(Review::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(id, serde_json::json!({ "verified": verified }));
        Ok((review, audit))
    })
    .await
}

/// Staff answer a review publicly (replacing an earlier answer).
pub async fn respond(
    db: &Database,
    ctx: &RequestContext,
    id: ReviewId,
    body: &str,
) -> Outcome<Response> {
    let writer = crate::products::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "review.respond", async move |tx| {
        writer.review(tx, id).await?;
        let tenant = tx.tenant();
        let body = body.trim().to_owned();
        if body.is_empty() || body.chars().count() > 5000 {
            return Err(UserError::new(
                "body",
                Code::InvalidReview,
                "a response has 1 to 5,000 characters",
            )
            .into());
        }
        let responder = ctx.user_id().ok();
        locked(tx, id).await?;
        let response: Response = diesel::insert_into(review_responses::table)
            .values((
                review_responses::tenant_id.eq(tenant),
                review_responses::review_id.eq(id),
                review_responses::responder_id.eq(responder),
                review_responses::body.eq(&body),
            ))
            .on_conflict((review_responses::tenant_id, review_responses::review_id))
            .do_update()
            .set((
                review_responses::body.eq(&body),
                review_responses::responder_id.eq(responder),
                review_responses::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Response::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(id, serde_json::json!({}));
        Ok((response, audit))
    })
    .await
}

/// A customer marks an approved review (not their own) helpful, or takes the vote back. One vote
/// per customer; the count moves only when a vote is added or removed.
pub async fn vote(
    db: &Database,
    ctx: &RequestContext,
    id: ReviewId,
    helpful: bool,
) -> Outcome<Review> {
    ctx.require_any(&[Role::Customer])?;
    let tenant = ctx.tenant()?.id;
    let customer = ctx.user_id()?;
    db.tenant_tx(tenant, async move |tx| {
        let review: Review = reviews::table
            .filter(reviews::id.eq(id))
            .filter(reviews::status.eq(ReviewStatus::Approved.as_str()))
            .select(Review::as_select())
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| UserError::new("id", Code::NotFound, "no such review"))?;
        if review.customer_id == customer {
            return Err(UserError::new(
                "id",
                Code::OwnReview,
                "you cannot vote on your own review",
            )
            .into());
        }
        let changed = if helpful {
            diesel::insert_into(review_votes::table)
                .values((
                    review_votes::tenant_id.eq(tenant),
                    review_votes::review_id.eq(id),
                    review_votes::customer_id.eq(customer),
                ))
                .on_conflict_do_nothing()
                .execute(tx.conn())
                .await?
        } else {
            diesel::delete(
                review_votes::table
                    .filter(review_votes::review_id.eq(id))
                    .filter(review_votes::customer_id.eq(customer)),
            )
            .execute(tx.conn())
            .await?
        };
        let delta = match (changed, helpful) {
            (0, _) => 0,
            (_, true) => 1,
            (_, false) => -1,
        };
        Ok(diesel::update(reviews::table.filter(reviews::id.eq(id)))
            .set(reviews::helpful_count.eq(reviews::helpful_count + delta))
            .returning(Review::as_returning())
            .get_result(tx.conn())
            .await?)
    })
    .await
}

/// Which reviews a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReviewFilter {
    pub product: Option<ProductId>,
    pub status: Option<ReviewStatus>,
}

/// A page of reviews, newest first: APPROVED ones for storefronts and customers (plus a customer's
/// own), any status for staff (optionally one).
pub async fn page(
    tx: &mut TenantTx<'_>,
    filter: ReviewFilter,
    page: &PageRequest<ReviewId>,
    staff: bool,
    caller: Option<UserId>,
) -> QueryResult<Page<Review>> {
    let base = || {
        let mut query = reviews::table.into_boxed();
        if let Some(product) = filter.product {
            query = query.filter(reviews::product_id.eq(product));
        }
        if staff {
            if let Some(status) = filter.status {
                query = query.filter(reviews::status.eq(status));
            }
        } else {
            let own = caller.map_or(Uuid::nil(), UserId::uuid);
            query = query.filter(
                reviews::status
                    .eq(ReviewStatus::Approved.as_str())
                    .or(reviews::customer_id.eq(own)),
            );
        }
        query
    };
    let total: i64 = base().count().get_result(tx.conn()).await?;
    let query = base().select(Review::as_select());
    let rows: Vec<Review> = cityos_db::keyset_page!(query, reviews::id, *page, newest_first)
        .load(tx.conn())
        .await?;
    Ok(page.finish(rows, |r| r.id, total))
}

/// The responses to reviews, by review.
pub async fn responses_of(
    tx: &mut TenantTx<'_>,
    ids: &[ReviewId],
) -> QueryResult<HashMap<ReviewId, Response>> {
    let rows: Vec<Response> = review_responses::table
        .filter(review_responses::review_id.eq_any(ids))
        .select(Response::as_select())
        .load(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|r| (r.review_id, r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_follows_the_distribution() {
        let s = RatingSummary::from_counts(&[0, 0, 1, 1, 1]);
        assert_eq!((s.total(), s.mean()), (3, Some(4.0)));
        let s = RatingSummary::from_counts(&[1, 0, 0, 0, 2]);
        assert_eq!(s.mean(), Some(3.67));
        assert_eq!(RatingSummary::from_counts(&[0; 5]).mean(), None);
    }

    #[test]
    fn content_is_checked() {
        assert!(check_content(5, " Great ", "").is_ok());
        for (rating, title, body) in [
            (0, "", ""),
            (6, "", ""),
            (3, &*"t".repeat(201), ""),
            (3, "", &*"b".repeat(5001)),
        ] {
            assert_eq!(
                check_content(rating, title, body).unwrap_err().code,
                Code::InvalidReview
            );
        }
    }
}
