//! The entities the vendors subgraph owns and resolves for the supergraph: `Vendor`, whose
//! references other subgraphs hold (a product's vendor, a vendor order's) and whose `products`
//! the catalog adds.

use crate::ids::VendorId;
use crate::vendors::Vendor;
use async_graphql::{Context, Object, Result};

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
}
