//! The orders subgraph's GraphQL API: the root query and mutation types, merged from each
//! domain's (`<domain>/graphql.rs`), and the entities of other subgraphs it uses (`federation`).

use crate::carts::graphql::{CartMutation, CartQuery};
use crate::checkout::graphql::{CheckoutMutation, CheckoutQuery};
use crate::dashboards::graphql::DashboardQuery;
use crate::discounts::graphql::{DiscountMutation, DiscountQuery};
use crate::disputes::graphql::DisputeMutation;
use crate::federation::FederationQuery;
use crate::orders::graphql::{OrderMutation, OrdersQuery};
use crate::payments::graphql::PaymentMutation;
use crate::quotes::graphql::{QuoteMutation, QuoteQuery};
use crate::refunds::graphql::RefundMutation;
use crate::returns::graphql::ReturnMutation;
use crate::shipping::graphql::{ShippingMutation, ShippingQuery};
use crate::taxes::graphql::{TaxMutation, TaxQuery};
use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    CartQuery,
    CheckoutQuery,
    OrdersQuery,
    FederationQuery,
    ShippingQuery,
    TaxQuery,
    DiscountQuery,
    QuoteQuery,
    DashboardQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    CartMutation,
    CheckoutMutation,
    OrderMutation,
    PaymentMutation,
    RefundMutation,
    ShippingMutation,
    TaxMutation,
    DiscountMutation,
    ReturnMutation,
    DisputeMutation,
    QuoteMutation,
);
