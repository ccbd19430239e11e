//! Payments: the provider abstraction and the manual provider (Stripe is in [`crate::stripe`]).
//!
//! A provider authorizes an amount for an order, captures it, cancels an authorization and
//! refunds captured money. The manual provider stands for money that moves outside the platform:
//! cash on delivery and bank transfer. Authorizing records the expectation; staff capture when
//! the cash or transfer arrives; cancelling forgets it; a refund is paid back by hand.

use crate::schema::payments;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::future::Future;
use uuid::Uuid;

/// How the customer pays.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    /// Cash to the courier on delivery (manual provider).
    CashOnDelivery,
    /// A bank transfer, confirmed by staff when it arrives (manual provider).
    BankTransfer,
    /// A card, through Stripe.
    Card,
}

impl PaymentMethod {
    /// The database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CashOnDelivery => "CASH_ON_DELIVERY",
            Self::BankTransfer => "BANK_TRANSFER",
            Self::Card => "CARD",
        }
    }

    /// Parses the database form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::CashOnDelivery, Self::BankTransfer, Self::Card]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Where a payment stands with its provider.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Started; no money is held yet (cash or transfer expected, or a card not yet confirmed).
    Pending,
    /// The provider holds the amount; it can be captured or released.
    Authorized,
    /// The money was taken.
    Captured,
    /// Released before capture; nothing was or will be taken.
    Cancelled,
    /// The provider refused it.
    Failed,
}

impl PaymentStatus {
    /// The database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Authorized => "AUTHORIZED",
            Self::Captured => "CAPTURED",
            Self::Cancelled => "CANCELLED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the database form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Authorized,
            Self::Captured,
            Self::Cancelled,
            Self::Failed,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A payment as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub struct Payment {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub order_id: Uuid,
    pub provider: String,
    pub method: String,
    pub status: String,
    pub currency: String,
    pub amount: i64,
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub provider_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub client_secret: Option<String>,
}

impl Payment {
    /// The payment's status.
    pub fn parsed_status(&self) -> PaymentStatus {
        PaymentStatus::parse(&self.status).unwrap_or(PaymentStatus::Failed)
    }

    /// The payment's method.
    pub fn parsed_method(&self) -> PaymentMethod {
        PaymentMethod::parse(&self.method).unwrap_or(PaymentMethod::BankTransfer)
    }
}

/// An amount to authorize for an order.
#[derive(Debug, Clone)]
pub struct Charge<'a> {
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub payment_id: Uuid,
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
    /// The database form of the provider's name.
    fn name(&self) -> &'static str;
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
    fn name(&self) -> &'static str {
        "MANUAL"
    }

    async fn authorize(&self, charge: &Charge<'_>) -> Result<Answer, ProviderError> {
        match charge.method {
            PaymentMethod::CashOnDelivery | PaymentMethod::BankTransfer => Ok(Answer {
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
    pub stripe: Option<crate::stripe::Stripe>,
    /// The secret Stripe signs webhook events with (`STRIPE_WEBHOOK_SECRET`); without it the
    /// webhook endpoint refuses every event.
    pub webhook_secret: Option<String>,
}

impl Gateway {
    /// The providers configured in the environment.
    pub fn from_env() -> Self {
        Self {
            stripe: crate::stripe::Stripe::from_env(),
            webhook_secret: std::env::var("STRIPE_WEBHOOK_SECRET")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}
