//! Know-your-customer documents: what a vendor proves about itself before it may sell.
//!
//! A vendor's manager submits a document of a kind (an https URL where the vendor hosts the file,
//! its SHA-256 so the reviewed file cannot be swapped later, and its expiry date); the new one
//! supersedes the vendor's current document of that kind. Staff accept or reject it (with a
//! reason). Approval ([`crate::approval`]) is refused until every kind the tenant requires has an
//! accepted document that has not expired ([`missing`]).

pub mod graphql;

use crate::errors::{Outcome, VendorsErrorCode as Code, reason, refusal};
use crate::ids::{DocumentId, VendorId};
use crate::schema::documents;
use crate::vendors::{check_url, lock, require_active};
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::{ApiError, RequestContext, VendorRole};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// What a vendor's document proves.
    #[graphql(name = "VendorDocumentKind")]
    pub enum DocumentKind {
        /// The commercial registration (trade licence).
        CommercialRegistration = "COMMERCIAL_REGISTRATION",
        /// The VAT registration certificate.
        VatCertificate = "VAT_CERTIFICATE",
        /// The owner's identity document.
        OwnerId = "OWNER_ID",
        /// A bank's letter confirming the payout account.
        BankLetter = "BANK_LETTER",
    }
}

cityos_core::states! {
    /// Where a vendor's document is in its review.
    #[graphql(name = "VendorDocumentStatus")]
    pub enum DocumentStatus {
        /// Waiting for staff.
        Pending = "PENDING",
        /// Staff accepted it.
        Accepted = "ACCEPTED",
        /// Staff turned it down (with a reason); submit a new one.
        Rejected = "REJECTED",
        /// A newer document of its kind replaced it.
        Superseded = "SUPERSEDED",
    }
    transitions {
        Pending -> Accepted | Rejected | Superseded,
        Accepted -> Superseded,
        Rejected -> Superseded,
    }
}

/// A document as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = documents, check_for_backend(diesel::pg::Pg))]
pub struct Document {
    pub id: DocumentId,
    pub vendor_id: VendorId,
    pub kind: DocumentKind,
    pub url: String,
    pub sha256: String,
    pub expires_on: NaiveDate,
    pub status: DocumentStatus,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// A document as a vendor submits it.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub vendor_id: VendorId,
    pub kind: DocumentKind,
    pub url: String,
    pub sha256: String,
    pub expires_on: NaiveDate,
}

/// Submits a document for vendor `input.vendor_id`: its managers acting for it, or staff. The
/// vendor's current document of the kind is superseded.
pub async fn submit(db: &Database, ctx: &RequestContext, input: NewDocument) -> Outcome<Document> {
    let submitter = ctx.user_id().ok();
    if !ctx.is_staff() {
        let scope = ctx.require_vendor(VendorRole::Manager)?;
        if scope.id != input.vendor_id {
            return Err(ApiError::forbidden("you act for another vendor").into());
        }
    }
    db.recorded(ctx, "vendor_document.submit", async move |tx| {
        let vendor = lock(tx, input.vendor_id).await?;
        require_active(&vendor)?;
        let url = check_url(&input.url, "url")?;
        let sha256 = input.sha256.trim().to_ascii_lowercase();
        if !(sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(refusal(
                "sha256",
                Code::InvalidDigest,
                "a SHA-256 is 64 hexadecimal digits",
            ));
        }
        if input.expires_on <= Utc::now().date_naive() {
            return Err(refusal(
                "expiresOn",
                Code::DocumentExpired,
                "the document has expired; submit a current one",
            ));
        }
        diesel::update(
            documents::table
                .filter(documents::vendor_id.eq(vendor.id))
                .filter(documents::kind.eq(input.kind))
                .filter(documents::status.ne(DocumentStatus::Superseded)),
        )
        .set(documents::status.eq(DocumentStatus::Superseded))
        .execute(tx.conn())
        .await?;
        let document: Document = diesel::insert_into(documents::table)
            .values((
                documents::tenant_id.eq(tx.tenant()),
                documents::id.eq(DocumentId::new()),
                documents::vendor_id.eq(vendor.id),
                documents::kind.eq(input.kind),
                documents::url.eq(&url),
                documents::sha256.eq(&sha256),
                documents::expires_on.eq(input.expires_on),
                documents::submitted_by.eq(submitter),
            ))
            .returning(Document::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(
            document.id,
            serde_json::json!({ "vendor": vendor.id, "kind": document.kind }),
        );
        Ok((document, audit))
    })
    .await
}

/// Accepts or rejects (with a reason) a pending document (staff).
pub async fn review(
    db: &Database,
    ctx: &RequestContext,
    id: DocumentId,
    accept: bool,
    why: Option<String>,
) -> Outcome<Document> {
    let reviewer = ctx.user_id().ok();
    let action = if accept {
        "vendor_document.accept"
    } else {
        "vendor_document.reject"
    };
    db.staff(ctx, action, async move |tx| {
        let current: Document = documents::table
            .filter(documents::id.eq(id))
            .select(Document::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| refusal("id", Code::NotFound, "no such document"))?;
        if current.status != DocumentStatus::Pending {
            return Err(refusal(
                "id",
                Code::DocumentReviewed,
                format!("the document is {} already", current.status),
            ));
        }
        let (status, reason) = if accept {
            (DocumentStatus::Accepted, None)
        } else {
            (
                DocumentStatus::Rejected,
                Some(reason::<1000>(why.as_deref(), "reason")?),
            )
        };
        let document: Document = diesel::update(documents::table.filter(documents::id.eq(id)))
            .set((
                documents::status.eq(status),
                documents::reason.eq(&reason),
                documents::reviewed_by.eq(reviewer),
                documents::reviewed_at.eq(diesel::dsl::now),
            ))
            .returning(Document::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "vendor": document.vendor_id, "status": status, "reason": reason }),
        );
        Ok((document, audit))
    })
    .await
}

/// The current (not superseded) documents of each of `vendors`, by kind.
pub async fn current_of(
    tx: &mut TenantTx<'_>,
    vendors: &[VendorId],
) -> QueryResult<HashMap<VendorId, Vec<Document>>> {
    let rows: Vec<Document> = documents::table
        .filter(documents::vendor_id.eq_any(vendors))
        .filter(documents::status.ne(DocumentStatus::Superseded))
        .select(Document::as_select())
        .order((documents::vendor_id, documents::kind))
        .load(tx.conn())
        .await?;
    let mut by_vendor: HashMap<VendorId, Vec<Document>> = HashMap::new();
    for d in rows {
        by_vendor.entry(d.vendor_id).or_default().push(d);
    }
    Ok(by_vendor)
}

/// The kinds of `required` that `vendor` has no accepted, unexpired document of.
pub async fn missing(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    required: &[DocumentKind],
) -> QueryResult<Vec<DocumentKind>> {
    let today = Utc::now().date_naive();
    let good: Vec<DocumentKind> = documents::table
        .filter(documents::vendor_id.eq(vendor))
        .filter(documents::status.eq(DocumentStatus::Accepted))
        .filter(documents::expires_on.gt(today))
        .select(documents::kind)
        .load(tx.conn())
        .await?;
    Ok(required
        .iter()
        .copied()
        .filter(|k| !good.contains(k))
        .collect())
}
