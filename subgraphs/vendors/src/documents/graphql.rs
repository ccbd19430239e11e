//! Know-your-customer documents in GraphQL: `Vendor.documents` (in `vendors::graphql`), their
//! submission by a vendor and their review by staff.

use crate::documents::{self, Document, DocumentKind, DocumentStatus, NewDocument};
use crate::errors::VendorsUserError;
use crate::ids::{DocumentId, VendorId};
use crate::scope::{DocumentsOf, children_of};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;

children_of!(DocumentsOf => Document, documents::current_of);

/// A document a vendor submitted to prove who it is.
#[Object(name = "VendorDocument")]
impl Document {
    /// The document's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// What it proves.
    async fn kind(&self) -> DocumentKind {
        self.kind
    }
    /// Where the vendor hosts the file (https).
    async fn url(&self) -> &str {
        &self.url
    }
    /// The file's SHA-256, hexadecimal: what was reviewed.
    async fn sha256(&self) -> &str {
        &self.sha256
    }
    /// The last day it is valid.
    async fn expires_on(&self) -> NaiveDate {
        self.expires_on
    }
    /// Where it is in its review.
    async fn status(&self) -> DocumentStatus {
        self.status
    }
    /// Why staff rejected it.
    async fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When staff reviewed it.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.reviewed_at
    }
}

/// A document to submit.
#[derive(InputObject)]
pub struct VendorDocumentSubmitInput {
    /// The vendor (the one the caller acts for, unless staff).
    pub vendor_id: VendorId,
    /// What it proves.
    pub kind: DocumentKind,
    /// Where the file is hosted: an https URL.
    pub url: String,
    /// The file's SHA-256, 64 hexadecimal digits.
    pub sha256: String,
    /// The last day it is valid; after today.
    pub expires_on: NaiveDate,
}

/// A document to review.
#[derive(InputObject)]
pub struct VendorDocumentReviewInput {
    /// The document.
    pub id: DocumentId,
    /// Accept it (true) or reject it (false, with a reason).
    pub accept: bool,
    /// Why it is rejected.
    pub reason: Option<String>,
}

cityos_core::payload! {
    /// The result of a document mutation.
    VendorDocumentPayload<VendorsUserError> {
        /// The document as it now is; null when refused.
        document: Document,
    }
}

/// The mutations of documents.
#[derive(Default)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// Submits a document (a vendor's owners and managers acting for it, or staff); it replaces
    /// the vendor's current one of its kind and waits for review.
    async fn vendor_document_submit(
        &self,
        ctx: &Context<'_>,
        input: VendorDocumentSubmitInput,
    ) -> Result<VendorDocumentPayload> {
        let new = NewDocument {
            vendor_id: input.vendor_id,
            kind: input.kind,
            url: input.url,
            sha256: input.sha256,
            expires_on: input.expires_on,
        };
        Ok(VendorDocumentPayload::of(
            documents::submit(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Accepts or rejects a pending document (staff).
    async fn vendor_document_review(
        &self,
        ctx: &Context<'_>,
        input: VendorDocumentReviewInput,
    ) -> Result<VendorDocumentPayload> {
        Ok(VendorDocumentPayload::of(
            documents::review(
                ctx.db(),
                ctx.request()?,
                input.id,
                input.accept,
                input.reason,
            )
            .await,
        )?)
    }
}
