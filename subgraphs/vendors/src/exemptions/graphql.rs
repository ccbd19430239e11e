//! Tax exemption certificates in GraphQL: `Company.taxExemptions` (in `companies::graphql`),
//! submission and review.

use super::{Exemption, ExemptionStatus, Submission};
use crate::errors::VendorsUserError;
use crate::ids::{CompanyId, TaxExemptionId};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;

/// A company's certificate that it owes no sales tax in one jurisdiction between two days.
#[Object(name = "TaxExemption")]
impl Exemption {
    /// The certificate's id (orders record the one that applied).
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The country it covers (ISO 3166-1 alpha-2).
    async fn country(&self) -> &str {
        &self.country
    }
    /// The region of the country it covers; null for the whole country.
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The certificate's number, as the authority issued it.
    async fn number(&self) -> &str {
        &self.number
    }
    /// The first day it is valid.
    async fn valid_from(&self) -> NaiveDate {
        self.valid_from
    }
    /// The last day it is valid.
    async fn valid_until(&self) -> NaiveDate {
        self.valid_until
    }
    /// Where the scanned certificate is (https).
    async fn document_url(&self) -> &str {
        &self.document_url
    }
    /// PENDING until staff review it; only a VERIFIED one applies.
    async fn status(&self) -> ExemptionStatus {
        self.status
    }
    /// Why it was rejected or revoked.
    async fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    /// When it was last reviewed.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.reviewed_at
    }
    /// When it was submitted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A certificate to submit.
#[derive(InputObject)]
pub struct TaxExemptionSubmitInput {
    /// The company.
    pub company_id: CompanyId,
    /// The country it covers (ISO 3166-1 alpha-2, capitals).
    pub country: String,
    /// The region it covers (at most 100 characters); absent for the whole country.
    pub region: Option<String>,
    /// The certificate's number (1 to 64 letters, digits, spaces, dots, slashes and hyphens).
    pub number: String,
    /// The first day it is valid.
    pub valid_from: NaiveDate,
    /// The last day it is valid (today or later).
    pub valid_until: NaiveDate,
    /// Where the scanned certificate is (https).
    pub document_url: String,
}

/// A certificate to review.
#[derive(InputObject)]
pub struct TaxExemptionReviewInput {
    /// The certificate.
    pub id: TaxExemptionId,
    /// Why (required to reject or revoke; at most 1,000 characters).
    pub reason: Option<String>,
}

cityos_core::payload! {
    /// The result of a tax exemption mutation.
    TaxExemptionPayload<VendorsUserError> {
        /// The certificate as it now is; null when refused.
        tax_exemption: Exemption,
    }
}

/// The mutations of tax exemption certificates.
#[derive(Default)]
pub struct ExemptionMutation;

#[Object]
impl ExemptionMutation {
    /// Submits a company's certificate (its admins acting for it, or staff): PENDING until
    /// staff review it.
    async fn tax_exemption_submit(
        &self,
        ctx: &Context<'_>,
        input: TaxExemptionSubmitInput,
    ) -> Result<TaxExemptionPayload> {
        let submission = Submission {
            country: input.country,
            region: input.region,
            number: input.number,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            document_url: input.document_url,
        };
        Ok(TaxExemptionPayload::of(
            super::submit(ctx.db(), ctx.request()?, input.company_id, submission).await,
        )?)
    }

    /// Verifies a pending certificate (staff): it applies to orders from now on.
    async fn tax_exemption_verify(
        &self,
        ctx: &Context<'_>,
        input: TaxExemptionReviewInput,
    ) -> Result<TaxExemptionPayload> {
        review(ctx, input, ExemptionStatus::Verified).await
    }

    /// Turns a pending certificate down, with a reason (staff).
    async fn tax_exemption_reject(
        &self,
        ctx: &Context<'_>,
        input: TaxExemptionReviewInput,
    ) -> Result<TaxExemptionPayload> {
        review(ctx, input, ExemptionStatus::Rejected).await
    }

    /// Withdraws a certificate, with a reason (staff, or the company's admins acting for it):
    /// it no longer applies.
    async fn tax_exemption_revoke(
        &self,
        ctx: &Context<'_>,
        input: TaxExemptionReviewInput,
    ) -> Result<TaxExemptionPayload> {
        review(ctx, input, ExemptionStatus::Revoked).await
    }
}

async fn review(
    ctx: &Context<'_>,
    input: TaxExemptionReviewInput,
    to: ExemptionStatus,
) -> Result<TaxExemptionPayload> {
    Ok(TaxExemptionPayload::of(
        super::review(ctx.db(), ctx.request()?, input.id, to, input.reason).await,
    )?)
}
