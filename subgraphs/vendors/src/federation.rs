//! The entities the vendors subgraph owns and resolves for the supergraph: `Vendor`, whose
//! references other subgraphs hold (a product's vendor, a vendor order's) and whose `products`
//! the catalog adds; and `Company`, which orders' B2B orders name.

use crate::companies::Company;
use crate::ids::{CompanyId, VendorId};
use crate::scope::VendorsLoader;
use crate::vendors::Vendor;
use async_graphql::{Context, Object, Result};
use cityos_server::CtxExt as _;

/// Resolves references to the entities the vendors subgraph owns.
#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// Resolves `Vendor` references: any vendor that was ever approved (an old order still names
    /// a closed one), and every vendor for staff and its own team; an error for any other.
    #[graphql(entity)]
    async fn find_vendor_by_id(&self, ctx: &Context<'_>, id: VendorId) -> Result<Vendor> {
        crate::vendors::graphql::visible(ctx, id).await
    }

    /// Resolves `Company` references: for staff and the company's members acting for it; null
    /// for anyone else, as for a company that does not exist.
    #[graphql(entity)]
    async fn find_company_by_id(
        &self,
        ctx: &Context<'_>,
        id: CompanyId,
    ) -> Result<Option<Company>> {
        Ok(ctx.loader::<VendorsLoader>()?.load_one(id).await?)
    }
}
