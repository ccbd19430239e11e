//! Payments: the provider abstraction and the manual provider (Stripe is in [`crate::payments::stripe`]).
//!
//! A provider authorizes an amount for an order, captures it, cancels an authorization and
//! refunds captured money. The manual provider stands for money that moves outside the platform:
//! cash on delivery, bank transfer, and a company's account. Authorizing records the expectation; staff capture when
//! the cash or transfer arrives; cancelling forgets it; a refund is paid back by hand.

pub mod graphql;
pub mod stripe;

use crate::ids::{OrderId, PaymentId, TenantId};
use crate::schema::payments;
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use diesel::prelude::*;
use std::future::Future;

cityos_core::states! {
    /// Who moves a payment's money.
    pub enum ProviderKind {
        /// Money moves outside the platform (cash on delivery, bank transfer); staff record it.
        Manual = "MANUAL",
        /// Stripe, by card.
        Stripe = "STRIPE",
    }
}

cityos_core::states! {
    /// How the customer pays.
    pub enum PaymentMethod {
        /// Cash to the courier on delivery (manual provider).
        CashOnDelivery = "CASH_ON_DELIVERY",
        /// A bank transfer, confirmed by staff when it arrives (manual provider).
        BankTransfer = "BANK_TRANSFER",
        /// A card, through Stripe.
        Card = "CARD",
        /// On the account of the buyer's B2B company, which has NET terms: the invoice is due
        /// the terms' days after the order is placed; staff record what arrives against it
        /// (manual provider).
        OnAccount = "ON_ACCOUNT",
    }
}

cityos_core::states! {
    /// Where a payment stands with its provider.
    pub enum PaymentStatus {
        /// Started; no money is held yet (cash or transfer expected, or a card not yet confirmed).
        Pending = "PENDING",
        /// The provider holds the amount; it can be captured or released.
        Authorized = "AUTHORIZED",
        /// The money was taken.
        Captured = "CAPTURED",
        /// Released before capture; nothing was or will be taken.
        Cancelled = "CANCELLED",
        /// The provider refused it.
        Failed = "FAILED",
    }
}

/// A payment as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub struct Payment {
    pub tenant_id: TenantId,
    pub id: PaymentId,
    pub order_id: OrderId,
    pub provider: ProviderKind,
    pub method: PaymentMethod,
    pub status: PaymentStatus,
    pub currency: Currency,
    pub amount: i64,
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub provider_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub client_secret: Option<String>,
}

/// An amount to authorize for an order.
#[derive(Debug, Clone)]
pub struct Charge<'a> {
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub amount: i64,
    pub currency: &'a str,
    pub method: PaymentMethod,
    /// Repeating a call with the same key must not charge twice.
    pub idempotency_key: &'a str,
}

/// What a provider answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: PaymentStatus,
    /// The provider's id for the payment, when it has one.
    pub reference: Option<String>,
    /// What the customer's browser needs to confirm the payment with the provider.
    pub client_secret: Option<String>,
}

/// The provider refused or could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment provider: {0}")]
pub struct ProviderError(pub String);

/// A payment provider.
pub trait PaymentProvider: Send + Sync {
    /// Which provider it is, as stored with its payments.
    fn kind(&self) -> ProviderKind;
    /// Starts a payment of `charge`.
    fn authorize(
        &self,
        charge: &Charge<'_>,
    ) -> impl Future<Output = Result<Answer, ProviderError>> + Send;
    /// Takes `amount` of an authorized payment.
    fn capture(
        &self,
        payment: &Payment,
        amount: i64,
    ) -> impl Future<Output = Result<Answer, ProviderError>> + Send;
    /// Releases an uncaptured payment.
    fn cancel(
        &self,
        payment: &Payment,
    ) -> impl Future<Output = Result<Answer, ProviderError>> + Send;
    /// Pays `amount` of a captured payment back; `key` makes a repeated call refund once.
    /// Returns the provider's id for the refund, when it has one.
    fn refund(
        &self,
        payment: &Payment,
        amount: i64,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, ProviderError>> + Send;
}

/// Money that moves outside the platform: cash on delivery and bank transfer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Manual;

impl PaymentProvider for Manual {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Manual
    }

    async fn authorize(&self, charge: &Charge<'_>) -> Result<Answer, ProviderError> {
        match charge.method {
            PaymentMethod::CashOnDelivery
            | PaymentMethod::BankTransfer
            | PaymentMethod::OnAccount => Ok(Answer {
                status: PaymentStatus::Pending,
                reference: None,
                client_secret: None,
            }),
            PaymentMethod::Card => Err(ProviderError(
                "cards are not paid through the manual provider".into(),
            )),
        }
    }

    async fn capture(&self, payment: &Payment, amount: i64) -> Result<Answer, ProviderError> {
        if amount != payment.amount {
            return Err(ProviderError("a manual payment is captured whole".into()));
        }
        Ok(Answer {
            status: PaymentStatus::Captured,
            reference: payment.provider_reference.clone(),
            client_secret: None,
        })
    }

    async fn cancel(&self, payment: &Payment) -> Result<Answer, ProviderError> {
        Ok(Answer {
            status: PaymentStatus::Cancelled,
            reference: payment.provider_reference.clone(),
            client_secret: None,
        })
    }

    async fn refund(
        &self,
        _payment: &Payment,
        _amount: i64,
        _key: &str,
    ) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
}

/// The payment providers this process can reach, shared by every request.
#[derive(Clone, Debug, Default)]
pub struct Gateway {
    /// Stripe, when `STRIPE_SECRET_KEY` is set; without it card payments are not offered.
    pub stripe: Option<stripe::Stripe>,
    /// The secret Stripe signs webhook events with (`STRIPE_WEBHOOK_SECRET`); without it the
    /// webhook endpoint refuses every event.
    pub webhook_secret: Option<String>,
}

impl Gateway {
    /// The providers configured in the environment.
    pub fn from_env() -> Self {
        Self {
            stripe: stripe::Stripe::from_env(),
            webhook_secret: std::env::var("STRIPE_WEBHOOK_SECRET")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}
