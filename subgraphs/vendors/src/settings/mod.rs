//! What a tenant asks of its marketplace's vendors: the document kinds approval needs (all four
//! until staff say otherwise), whether commissions are taken of tax and shipping too (neither,
//! until staff say otherwise), and how long after delivery a sale's money is held (the return
//! window; 14 days until staff say otherwise).

pub mod graphql;

use crate::documents::DocumentKind;
use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::schema::settings;
use cityos_core::RequestContext;
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A tenant's vendor settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The kinds of document a vendor needs accepted and unexpired to be approved.
    pub required_documents: Vec<DocumentKind>,
    /// Whether a line's tax counts towards what its commission is taken of.
    pub tax_commissionable: bool,
    /// Whether a vendor order's shipping does.
    pub shipping_commissionable: bool,
    /// Days after delivery before a vendor order's money is available (0 to 365).
    pub hold_days: i32,
}

/// The hold period until staff choose one.
pub const DEFAULT_HOLD_DAYS: i32 = 14;

impl Default for Settings {
    fn default() -> Self {
        Self {
            required_documents: DocumentKind::ALL.to_vec(),
            tax_commissionable: false,
            shipping_commissionable: false,
            hold_days: DEFAULT_HOLD_DAYS,
        }
    }
}

/// Changes to the settings; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub required_documents: Option<Vec<DocumentKind>>,
    pub tax_commissionable: Option<bool>,
    pub shipping_commissionable: Option<bool>,
    pub hold_days: Option<i32>,
}

/// The transaction's tenant's settings (the defaults until staff change them).
pub async fn read(tx: &mut TenantTx<'_>) -> QueryResult<Settings> {
    let stored: Option<(Vec<DocumentKind>, bool, bool, i32)> = settings::table
        .select((
            settings::required_documents,
            settings::tax_commissionable,
            settings::shipping_commissionable,
            settings::hold_days,
        ))
        .first(tx.conn())
        .await
        .optional()?;
    Ok(stored.map_or_else(
        Settings::default,
        |(required_documents, tax, shipping, hold_days)| Settings {
            required_documents,
            tax_commissionable: tax,
            shipping_commissionable: shipping,
            hold_days,
        },
    ))
}

/// Locks the tenant's settings row (made with the defaults if missing) for the transaction:
/// what serializes a tenant's changes of its settings and commission rules.
pub async fn lock(tx: &mut TenantTx<'_>) -> QueryResult<()> {
    diesel::insert_into(settings::table)
        .values(settings::tenant_id.eq(tx.tenant()))
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await?;
    settings::table
        .select(settings::tenant_id)
        .for_update()
        .first::<crate::ids::TenantId>(tx.conn())
        .await
        .map(drop)
}

/// Changes the settings (staff); document kinds are named once each, any number of them.
pub async fn update(db: &Database, ctx: &RequestContext, changes: Changes) -> Outcome<Settings> {
    db.staff(ctx, "vendor_settings.update", async move |tx| {
        if let Some(required) = &changes.required_documents {
            let mut unique = required.clone();
            unique.sort_by_key(|k| k.as_str());
            unique.dedup();
            if unique.len() != required.len() {
                return Err(refusal(
                    "requiredDocuments",
                    Code::DuplicateKind,
                    "name each kind once",
                ));
            }
        }
        if let Some(days) = changes.hold_days
            && !(0..=365).contains(&days)
        {
            return Err(refusal(
                "holdDays",
                Code::InvalidHoldPeriod,
                "the hold period is 0 to 365 days",
            ));
        }
        lock(tx).await?;
        let current = read(tx).await?;
        let next = Settings {
            required_documents: changes
                .required_documents
                .unwrap_or(current.required_documents),
            tax_commissionable: changes
                .tax_commissionable
                .unwrap_or(current.tax_commissionable),
            shipping_commissionable: changes
                .shipping_commissionable
                .unwrap_or(current.shipping_commissionable),
            hold_days: changes.hold_days.unwrap_or(current.hold_days),
        };
        diesel::update(settings::table)
            .set((
                settings::required_documents.eq(&next.required_documents),
                settings::tax_commissionable.eq(next.tax_commissionable),
                settings::shipping_commissionable.eq(next.shipping_commissionable),
                settings::hold_days.eq(next.hold_days),
                settings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        let audit = Audit::of(
            tx.tenant(),
            serde_json::json!({
                "requiredDocuments": next.required_documents,
                "taxCommissionable": next.tax_commissionable,
                "shippingCommissionable": next.shipping_commissionable,
                "holdDays": next.hold_days,
            }),
        );
        Ok((next, audit))
    })
    .await
}
