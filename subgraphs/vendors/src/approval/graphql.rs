//! The lifecycle's moves in GraphQL: review, approval (and reinstatement), rejection, suspension
//! and closing.

use crate::approval;
use crate::ids::VendorId;
use crate::vendors::VendorStatus;
use crate::vendors::graphql::VendorPayload;
use async_graphql::{Context, InputObject, Object, Result};
use cityos_server::CtxExt as _;

/// A vendor to move on in its lifecycle.
#[derive(InputObject)]
pub struct VendorTransitionInput {
    /// The vendor.
    pub id: VendorId,
    /// Why (required to reject or suspend; at most 1,000 characters).
    pub reason: Option<String>,
}

/// The mutations of the vendor lifecycle.
#[derive(Default)]
pub struct ApprovalMutation;

#[Object]
impl ApprovalMutation {
    /// Starts the review of an application: APPLIED -> UNDER_REVIEW (staff).
    async fn vendor_review_start(
        &self,
        ctx: &Context<'_>,
        input: VendorTransitionInput,
    ) -> Result<VendorPayload> {
        move_to(ctx, input, VendorStatus::UnderReview).await
    }

    /// Approves a vendor under review, or reinstates a suspended one (staff): it sells from now
    /// on. Refused with DOCUMENTS_MISSING until every required document is accepted and unexpired.
    async fn vendor_approve(
        &self,
        ctx: &Context<'_>,
        input: VendorTransitionInput,
    ) -> Result<VendorPayload> {
        move_to(ctx, input, VendorStatus::Approved).await
    }

    /// Turns an application down, with a reason (staff).
    async fn vendor_reject(
        &self,
        ctx: &Context<'_>,
        input: VendorTransitionInput,
    ) -> Result<VendorPayload> {
        move_to(ctx, input, VendorStatus::Rejected).await
    }

    /// Bars an approved vendor from selling, with a reason (staff): its products leave the
    /// storefront and carts until it is approved again.
    async fn vendor_suspend(
        &self,
        ctx: &Context<'_>,
        input: VendorTransitionInput,
    ) -> Result<VendorPayload> {
        move_to(ctx, input, VendorStatus::Suspended).await
    }

    /// Closes a vendor for good (staff, or its owner acting for it).
    async fn vendor_close(
        &self,
        ctx: &Context<'_>,
        input: VendorTransitionInput,
    ) -> Result<VendorPayload> {
        move_to(ctx, input, VendorStatus::Closed).await
    }
}

async fn move_to(
    ctx: &Context<'_>,
    input: VendorTransitionInput,
    to: VendorStatus,
) -> Result<VendorPayload> {
    Ok(VendorPayload::of(
        approval::transition(ctx.db(), ctx.request()?, input.id, to, input.reason).await,
    )?)
}
