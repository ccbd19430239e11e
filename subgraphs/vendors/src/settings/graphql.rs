//! Vendor settings in GraphQL: `vendorSettings` and `vendorSettingsUpdate` (staff).

use crate::documents::DocumentKind;
use crate::errors::VendorsUserError;
use crate::scope::in_tenant;
use crate::settings::{self, Changes, Settings};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use cityos_server::CtxExt as _;

/// What the tenant asks of its marketplace's vendors.
#[derive(SimpleObject)]
#[graphql(name = "VendorSettings")]
pub struct SettingsObject {
    /// The kinds of document a vendor needs accepted and unexpired to be approved.
    pub required_documents: Vec<DocumentKind>,
    /// Whether commissions are taken of a line's tax too.
    pub tax_commissionable: bool,
    /// Whether commissions are taken of a vendor order's shipping too.
    pub shipping_commissionable: bool,
    /// Days after delivery before a vendor order's money is available to pay out (the return
    /// window).
    pub hold_days: i32,
}

impl From<Settings> for SettingsObject {
    fn from(s: Settings) -> Self {
        Self {
            required_documents: s.required_documents,
            tax_commissionable: s.tax_commissionable,
            shipping_commissionable: s.shipping_commissionable,
            hold_days: s.hold_days,
        }
    }
}

/// Changes to the vendor settings; fields left out stay.
#[derive(InputObject)]
pub struct VendorSettingsInput {
    /// The kinds of document approval needs, each once (empty: none).
    pub required_documents: Option<Vec<DocumentKind>>,
    /// Whether commissions are taken of a line's tax too.
    pub tax_commissionable: Option<bool>,
    /// Whether commissions are taken of a vendor order's shipping too.
    pub shipping_commissionable: Option<bool>,
    /// Days after delivery before a vendor order's money is available, 0 to 365.
    pub hold_days: Option<i32>,
}

cityos_core::payload! {
    /// The result of `vendorSettingsUpdate`.
    VendorSettingsPayload<VendorsUserError> {
        /// The settings as they now are; null when refused.
        settings: SettingsObject,
    }
}

/// The queries of vendor settings.
#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// What the tenant asks of its vendors (staff).
    async fn vendor_settings(&self, ctx: &Context<'_>) -> Result<SettingsObject> {
        ctx.request()?.require_staff()?;
        Ok(in_tenant!(ctx, |tx| settings::read(tx))?.into())
    }
}

/// The mutations of vendor settings.
#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    /// Changes what the tenant asks of its vendors (staff).
    async fn vendor_settings_update(
        &self,
        ctx: &Context<'_>,
        input: VendorSettingsInput,
    ) -> Result<VendorSettingsPayload> {
        let changes = Changes {
            required_documents: input.required_documents,
            tax_commissionable: input.tax_commissionable,
            shipping_commissionable: input.shipping_commissionable,
            hold_days: input.hold_days,
        };
        let outcome = settings::update(ctx.db(), ctx.request()?, changes).await;
        Ok(VendorSettingsPayload::of(
            outcome.map(SettingsObject::from),
        )?)
    }
}
