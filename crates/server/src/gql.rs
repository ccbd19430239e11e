//! What resolvers take from their context, written once for every subgraph: `ctx.request()`,
//! `ctx.db()`, `ctx.loader::<L>()`.

use crate::RequestLoader;
use async_graphql::Context;
use cityos_core::{ApiError, RequestContext};
use cityos_db::Database;

/// The request's data as resolvers use it.
pub trait CtxExt<'a> {
    /// The request's context (tenant, actor, locale). The server always puts it in; a request
    /// without one is a fault of ours (`INTERNAL`).
    fn request(&self) -> Result<&'a RequestContext, ApiError>;

    /// The application-role pool, which every executable schema carries (only an SDL-printing
    /// schema has none, and it never resolves a field).
    fn db(&self) -> &'a Database;

    /// The request's loader of type `L`. The subgraph registers its loaders for requests with a
    /// tenant, so without one this is `TENANT_REQUIRED`; with a tenant, a missing loader is a
    /// fault of ours: `INTERNAL`, logged, never "tenant required".
    fn loader<L: Send + Sync + 'static>(&self) -> Result<&'a RequestLoader<L>, ApiError>;
}

impl<'a> CtxExt<'a> for Context<'a> {
    fn request(&self) -> Result<&'a RequestContext, ApiError> {
        self.data::<RequestContext>()
            .map_err(|_| ApiError::internal("the request has no RequestContext"))
    }

    fn db(&self) -> &'a Database {
        self.data_unchecked::<Database>()
    }

    fn loader<L: Send + Sync + 'static>(&self) -> Result<&'a RequestLoader<L>, ApiError> {
        if let Some(loader) = self.data_opt::<RequestLoader<L>>() {
            return Ok(loader);
        }
        match self.request()?.tenant {
            None => Err(ApiError::tenant_required()),
            Some(_) => Err(ApiError::internal(format_args!(
                "loader {} is not registered",
                std::any::type_name::<L>()
            ))),
        }
    }
}

/// Runs one read on the request's tenant-scoped connection and gives its result as an
/// `async_graphql::Result`: `in_tenant!(ctx, |tx| repo::read(tx, ..))`, where the read returns a
/// `Result<_, E>` with `ApiError: From<E>`. (A macro: a generic async function over a borrowed
/// connection loses `Send`.)
#[macro_export]
macro_rules! in_tenant {
    ($ctx:expr, |$tx:ident| $read:expr) => {{
        let found: ::async_graphql::Result<_> = async {
            let tenant = $crate::CtxExt::request($ctx)?.tenant()?.id;
            $crate::CtxExt::db($ctx)
                .tenant_tx(tenant, async move |$tx| {
                    $read.await.map_err(::cityos_core::ApiError::from)
                })
                .await
                .map_err(::async_graphql::Error::from)
        }
        .await;
        found
    }};
}
