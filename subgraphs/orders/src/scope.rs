//! What every orders resolver reads of its request, kept apart from the domains so each of them
//! can use it: the subgraph's one DataLoader (orders by id in `orders::graphql`, and each kind of
//! an order's children by a key naming the parent, declared with [`children_of!`] beside the type it
//! loads), the payment gateway and money in an order's currency.

use crate::ids::{OrderId, TenantId};
use crate::payments::Gateway;
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Result};
use cityos_core::ApiError;
use cityos_core::money::{Currency, Money};
use cityos_db::Database;
use cityos_server::CtxExt as _;

/// The payment providers of the process.
pub(crate) fn gateway<'a>(ctx: &Context<'a>) -> &'a Gateway {
    ctx.data_unchecked::<Gateway>()
}

/// `amount` minor units of `currency`.
pub(crate) fn money(amount: i64, currency: Currency) -> Money {
    Money::new(amount, currency)
}

/// The orders subgraph's one DataLoader, built per request for the request's tenant (callers check
/// who may see what it loads): orders by id, and each kind of an order's children by a key naming
/// the parent (`LinesOf(order)`), one statement per batch.
pub struct OrdersLoader {
    pub db: Database,
    pub tenant: TenantId,
}

/// The children `key` names, through the request's loader (none when nothing hangs off it).
pub(crate) async fn children<K, T>(ctx: &Context<'_>, key: K) -> Result<Vec<T>>
where
    OrdersLoader: Loader<K, Value = Vec<T>, Error = ApiError>,
    K: Copy + Eq + std::hash::Hash + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Ok(ctx
        .loader::<OrdersLoader>()?
        .load_one(key)
        .await?
        .unwrap_or_default())
}

/// Declares a key naming a parent's children and the loader's batch read of them.
macro_rules! children_of {
    ($key:ident($parent:ty) => $value:ty, $read:path, $what:literal) => {
        #[doc = concat!("The ", $what, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub $parent);

        ::cityos_server::children_loader!($crate::scope::OrdersLoader, $key($parent) => $value, $read);
    };
}
pub(crate) use children_of;

/// An amount of an order's vendor order or line, in the order's currency.
pub(crate) async fn order_money(ctx: &Context<'_>, order: OrderId, amount: i64) -> Result<Money> {
    let order = ctx
        .loader::<OrdersLoader>()?
        .load_one(order)
        .await?
        .ok_or_else(|| ApiError::internal("a part of an order without its order"))?;
    Ok(money(amount, order.currency))
}
