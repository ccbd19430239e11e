//! Reviews and ratings in GraphQL.

use crate::errors::CatalogUserError;
use crate::federation::User;
use crate::ids::{ProductId, ReviewId};
use crate::products::Product;
use crate::reviews::{
    self, NewReview, RatingSummary, Response, Review, ReviewFilter, ReviewStatus,
};
use crate::scope::{CatalogLoader, ResponseTo};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(ReviewConnection, ReviewEdge, Review, "review");

/// A page of reviews for the caller (see [`reviews::page`]).
pub(crate) async fn page_of_reviews(
    ctx: &Context<'_>,
    filter: ReviewFilter,
    page: PageRequest<ReviewId>,
) -> Result<ReviewConnection> {
    let rc = ctx.request()?;
    let tenant = rc.tenant()?.id;
    let (staff, caller) = (rc.is_staff(), rc.user_id().ok());
    let found = ctx
        .db()
        .tenant_tx(tenant, async move |tx| {
            Ok::<_, ApiError>(reviews::page(tx, filter, &page, staff, caller).await?)
        })
        .await?;
    Ok(found.into())
}

/// A customer's review of a product.
#[Object]
impl Review {
    /// The review's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// 1 to 5 stars.
    async fn rating(&self) -> i32 {
        i32::from(self.rating)
    }
    /// Headline, possibly empty.
    async fn title(&self) -> &str {
        &self.title
    }
    /// Text, possibly empty.
    async fn body(&self) -> &str {
        &self.body
    }
    /// Moderation status; storefronts see APPROVED reviews (and a customer their own).
    async fn status(&self) -> ReviewStatus {
        self.status
    }
    /// Whether the reviewer bought the product (set by a trusted caller).
    async fn verified_purchase(&self) -> bool {
        self.verified_purchase
    }
    /// How many customers found it helpful.
    async fn helpful_count(&self) -> i32 {
        self.helpful_count
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it was last edited.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// Who wrote it.
    async fn author(&self) -> User {
        User {
            id: to_id(self.customer_id),
        }
    }
    /// The product reviewed (null if the caller may no longer see it).
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(self.product_id)
            .await?)
    }
    /// The shop's public answer, if any.
    async fn response(&self, ctx: &Context<'_>) -> Result<Option<Response>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(ResponseTo(self.id))
            .await?)
    }
}

/// The shop's public answer to a review.
#[Object(name = "ReviewResponse")]
impl Response {
    /// The answer.
    async fn body(&self) -> &str {
        &self.body
    }
    /// When it was first given.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// A product's rating from its approved reviews.
#[Object]
impl RatingSummary {
    /// Approved reviews.
    async fn count(&self) -> i64 {
        self.total()
    }
    /// Their mean rating (two decimals); null without reviews.
    async fn average(&self) -> Option<f64> {
        self.mean()
    }
    /// How many gave 1, 2, 3, 4 and 5 stars, in that order.
    async fn distribution(&self) -> Vec<i64> {
        self.distribution.to_vec()
    }
}

/// Review queries.
#[derive(Default)]
pub struct ReviewQuery;

#[Object]
impl ReviewQuery {
    /// Reviews across the tenant, newest first (staff: the moderation queue, by status and product).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "the connection arguments plus two filters"
    )]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        status: Option<ReviewStatus>,
        product_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ReviewConnection> {
        ctx.request()?.require_staff()?;
        let filter = ReviewFilter {
            product: product_id.as_ref().map(parse_id).transpose()?,
            status,
        };
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        page_of_reviews(ctx, filter, page).await
    }
}

/// A review to write.
#[derive(InputObject)]
pub struct ReviewCreateInput {
    /// The product (published).
    pub product_id: ProductId,
    /// 1 to 5 stars.
    pub rating: i32,
    /// Headline, at most 200 characters.
    pub title: Option<String>,
    /// Text, at most 5,000 characters.
    pub body: Option<String>,
}

/// Changes to one's review; omitted fields stay as they are. The review goes back to moderation.
#[derive(InputObject)]
pub struct ReviewUpdateInput {
    /// The review.
    pub id: ReviewId,
    /// New rating.
    pub rating: Option<i32>,
    /// New headline.
    pub title: Option<String>,
    /// New text.
    pub body: Option<String>,
}

cityos_core::payload! {
    /// The result of a review mutation.
    ReviewPayload<CatalogUserError> {
        /// The review as saved; null when refused.
        review: Review,
    }
}

cityos_core::payload! {
    /// The result of `reviewDelete`.
    ReviewDeletePayload<CatalogUserError> {
        /// The deleted review's id; null when refused.
        deleted_id: ID,
    }
}

cityos_core::payload! {
    /// The result of `reviewRespond`.
    ReviewResponsePayload<CatalogUserError> {
        /// The response as saved; null when refused.
        response: Response,
    }
}

fn payload(outcome: crate::errors::Outcome<Review>) -> Result<ReviewPayload> {
    Ok(ReviewPayload::of(outcome)?)
}

/// A review to delete.
#[derive(InputObject)]
pub struct ReviewDeleteInput {
    /// The review.
    pub id: ReviewId,
}

/// A moderation decision.
#[derive(InputObject)]
pub struct ReviewModerateInput {
    /// The review.
    pub id: ReviewId,
    /// APPROVED or REJECTED.
    pub status: ReviewStatus,
}

/// Whether a reviewer bought the product.
#[derive(InputObject)]
pub struct ReviewVerifiedPurchaseSetInput {
    /// The review.
    pub id: ReviewId,
    /// Whether the reviewer bought the product.
    pub verified: bool,
}

/// The shop's answer to a review.
#[derive(InputObject)]
pub struct ReviewRespondInput {
    /// The review.
    pub id: ReviewId,
    /// The answer, 1 to 5,000 characters.
    pub body: String,
}

/// A helpful vote.
#[derive(InputObject)]
pub struct ReviewVoteInput {
    /// The review (approved, not your own).
    pub id: ReviewId,
    /// true to vote, false to take the vote back.
    pub helpful: bool,
}

/// Review mutations.
#[derive(Default)]
pub struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// A signed-in customer reviews a published product, once; it waits for moderation.
    async fn review_create(
        &self,
        ctx: &Context<'_>,
        input: ReviewCreateInput,
    ) -> Result<ReviewPayload> {
        let new = NewReview {
            product_id: input.product_id,
            rating: input.rating,
            title: input.title,
            body: input.body,
        };
        payload(reviews::create(ctx.db(), ctx.request()?, new).await)
    }

    /// The author edits their review; it goes back to PENDING.
    async fn review_update(
        &self,
        ctx: &Context<'_>,
        input: ReviewUpdateInput,
    ) -> Result<ReviewPayload> {
        let outcome = reviews::update(
            ctx.db(),
            ctx.request()?,
            input.id,
            input.rating,
            input.title,
            input.body,
        )
        .await;
        payload(outcome)
    }

    /// The author or staff delete a review.
    async fn review_delete(
        &self,
        ctx: &Context<'_>,
        input: ReviewDeleteInput,
    ) -> Result<ReviewDeletePayload> {
        Ok(ReviewDeletePayload::of(
            reviews::delete(ctx.db(), ctx.request()?, input.id)
                .await
                .map(to_id),
        )?)
    }

    /// Staff approve (APPROVED) or reject (REJECTED) a review.
    async fn review_moderate(
        &self,
        ctx: &Context<'_>,
        input: ReviewModerateInput,
    ) -> Result<ReviewPayload> {
        payload(reviews::moderate(ctx.db(), ctx.request()?, input.id, input.status).await)
    }

    /// A trusted caller (staff, or a server with a secret key) marks whether the reviewer bought
    /// the product.
    async fn review_verified_purchase_set(
        &self,
        ctx: &Context<'_>,
        input: ReviewVerifiedPurchaseSetInput,
    ) -> Result<ReviewPayload> {
        payload(reviews::set_verified(ctx.db(), ctx.request()?, input.id, input.verified).await)
    }

    /// Answers a review publicly, replacing an earlier answer (staff, or the team of the vendor
    /// selling the product, acting for it).
    async fn review_respond(
        &self,
        ctx: &Context<'_>,
        input: ReviewRespondInput,
    ) -> Result<ReviewResponsePayload> {
        let outcome = reviews::respond(ctx.db(), ctx.request()?, input.id, &input.body).await;
        Ok(ReviewResponsePayload::of(outcome)?)
    }

    /// A customer marks an approved review helpful (`helpful: true`) or takes the vote back; one
    /// vote per customer, never on their own review.
    async fn review_vote(
        &self,
        ctx: &Context<'_>,
        input: ReviewVoteInput,
    ) -> Result<ReviewPayload> {
        payload(reviews::vote(ctx.db(), ctx.request()?, input.id, input.helpful).await)
    }
}

impl Loader<ResponseTo> for CatalogLoader {
    type Value = Response;
    type Error = ApiError;

    async fn load(&self, keys: &[ResponseTo]) -> Result<HashMap<ResponseTo, Response>, ApiError> {
        let ids: Vec<ReviewId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                Ok::<_, ApiError>(reviews::responses_of(tx, &ids).await?)
            })
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, r)| (ResponseTo(id), r))
            .collect())
    }
}
