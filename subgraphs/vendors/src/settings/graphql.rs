//! Vendor settings in GraphQL: `vendorSettings` and `vendorSettingsUpdate` (staff).

use crate::documents::DocumentKind;
use crate::errors::VendorsUserError;
use crate::scope::in_tenant;
use crate::settings::{self, Settings};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use cityos_server::CtxExt as _;

/// What the tenant asks of its marketplace's vendors.
#[derive(SimpleObject)]
#[graphql(name = "VendorSettings")]
pub struct SettingsObject {
    /// The kinds of document a vendor needs accepted and unexpired to be approved.
    pub required_documents: Vec<DocumentKind>,
}

impl From<Settings> for SettingsObject {
    fn from(s: Settings) -> Self {
        Self {
            required_documents: s.required_documents,
        }
    }
}

/// New vendor settings.
#[derive(InputObject)]
pub struct VendorSettingsInput {
    /// The kinds of document approval needs, each once (empty: none).
    pub required_documents: Vec<DocumentKind>,
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
    /// Sets what the tenant asks of its vendors (staff).
    async fn vendor_settings_update(
        &self,
        ctx: &Context<'_>,
        input: VendorSettingsInput,
    ) -> Result<VendorSettingsPayload> {
        let outcome = settings::update(ctx.db(), ctx.request()?, input.required_documents).await;
        Ok(VendorSettingsPayload::of(
            outcome.map(SettingsObject::from),
        )?)
    }
}
