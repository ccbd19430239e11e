//! Who sells a product: the tenant itself, or a marketplace vendor, which the catalog knows from
//! the vendors subgraph's `vendor.approved`, `vendor.suspended` and `vendor.closed` events
//! (consumed once each). Each event carries the vendor's `version`; an event older than the one
//! applied changes nothing, so events arriving late or out of order cannot undo a later one.
//! When a vendor's status changes, its products' `listed` flag follows: storefronts, search and
//! carts see a vendor's products only while it is approved, and see them again on reinstatement.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::VendorId;
use cityos_core::ApiError;
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
