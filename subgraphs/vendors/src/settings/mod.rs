//! What a tenant asks of its marketplace's vendors: the document kinds approval needs (all four
//! until staff say otherwise).

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            required_documents: DocumentKind::ALL.to_vec(),
        }
    }
}

/// The transaction's tenant's settings (the defaults until staff change them).
pub async fn read(tx: &mut TenantTx<'_>) -> QueryResult<Settings> {
    let stored: Option<Vec<DocumentKind>> = settings::table
        .select(settings::required_documents)
        .first(tx.conn())
        .await
        .optional()?;
    Ok(
        stored.map_or_else(Settings::default, |required_documents| Settings {
            required_documents,
        }),
    )
}

/// Sets the document kinds approval needs (staff); each kind once, any number of them.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    mut required: Vec<DocumentKind>,
) -> Outcome<Settings> {
    db.staff(ctx, "vendor_settings.update", async move |tx| {
        let before = required.len();
        required.sort_by_key(|k| k.as_str());
        required.dedup();
        if required.len() != before {
            return Err(refusal(
                "requiredDocuments",
                Code::DuplicateKind,
                "name each kind once",
            ));
        }
        diesel::insert_into(settings::table)
            .values((
                settings::tenant_id.eq(tx.tenant()),
                settings::required_documents.eq(&required),
            ))
            .on_conflict(settings::tenant_id)
            .do_update()
            .set((
                settings::required_documents.eq(&required),
                settings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        let tenant = tx.tenant();
        let audit = Audit::of(tenant, serde_json::json!({ "requiredDocuments": required }));
        Ok((
            Settings {
                required_documents: required,
            },
            audit,
        ))
    })
    .await
}
