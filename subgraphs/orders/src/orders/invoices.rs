//! Invoices and credit notes.
//!
//! An order's invoice is issued in the transaction that confirms it (whichever way: staff, a
//! manual capture, Stripe's webhook), numbered from the tenant's gap-free `invoice` counter: its
//! lines, discounts, tax per rate and totals are a snapshot of the order. It is PAID when the
//! order's money is captured, VOID when the order is cancelled, and OVERDUE while unpaid past its
//! due date (14 days, or a company's NET days for an order on account): it reads so at once, and
//! the `invoice.overdue` job stores the status and writes `invoice.overdue` at the due time. A
//! company's invoice still unpaid its grace days after that puts the company ON_HOLD (the
//! `invoice.hold` job, through the vendors subgraph's api). What arrives against an invoice on
//! account is recorded in part or in full ([`record_payment`]); paid in full, it is PAID. Every refund gets a credit note against it, numbered from the
//! `credit_note` counter, crediting the refunded amount and its proportional share of the tax.
//! Both render as a printable HTML document.

use crate::carts::Address;
use crate::counters;
use crate::ids::{InvoiceId, OrderId, RefundId, TenantId};
use crate::orders::{self, Order, OrderPaymentStatus};
use chrono::{DateTime, Duration, Utc};
use cityos_core::money::{Currency, Money, ratio};
use cityos_db::outbox::Topic;
use cityos_db::{Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

/// How long an unpaid invoice may stay unpaid.
pub const PAYMENT_TERM: Duration = Duration::days(14);

cityos_core::states! {
    /// Which document.
    pub enum InvoiceKind {
        /// What the customer owes for an order.
        Invoice = "INVOICE",
        /// Money given back against an invoice.
        CreditNote = "CREDIT_NOTE",
    }
}

cityos_core::states! {
    /// Where an invoice stands.
    pub enum InvoiceStatus {
        /// Issued and not paid yet, within its term.
        Issued = "ISSUED",
        /// Paid (a credit note is paid when its refund is made).
        Paid = "PAID",
        /// Unpaid past its due date.
        Overdue = "OVERDUE",
        /// Cancelled with its order.
        Void = "VOID",
    }
}

/// A line of a document.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DocumentLine {
    pub description: String,
    pub sku: String,
    pub quantity: i32,
    pub unit_price: i64,
    pub discount: i64,
    /// Basis points.
    pub tax_rate: i32,
    pub tax_included: bool,
    pub tax: i64,
    pub total: i64,
}

/// The tax of one rate over a document.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TaxSummary {
    /// Basis points.
    pub rate: i32,
    pub included: bool,
    /// What the rate applies to (lines after discounts).
    pub base: i64,
    pub tax: i64,
}

/// What a document says besides its amounts.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Document {
    pub order_number: i64,
    pub email: Option<String>,
    pub bill_to: Option<Address>,
    pub lines: Vec<DocumentLine>,
    pub taxes: Vec<TaxSummary>,
    /// For a credit note: the invoice's number and the refund's reason.
    pub credits: Option<i64>,
    pub note: Option<String>,
}

/// An invoice or credit note as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct Invoice {
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: TenantId,
    #[diesel(sql_type = SqlUuid)]
    pub id: InvoiceId,
    #[diesel(sql_type = Text)]
    pub kind: InvoiceKind,
    #[diesel(sql_type = BigInt)]
    pub number: i64,
    #[diesel(sql_type = SqlUuid)]
    pub order_id: OrderId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub invoice_id: Option<InvoiceId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub refund_id: Option<RefundId>,
    #[diesel(sql_type = Text)]
    pub status: InvoiceStatus,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub subtotal: i64,
    #[diesel(sql_type = BigInt)]
    pub discount_total: i64,
    #[diesel(sql_type = BigInt)]
    pub shipping_total: i64,
    #[diesel(sql_type = BigInt)]
    pub tax_total: i64,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = Jsonb)]
    pub document: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub due_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub paid_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "tenant_id, id, kind, number, order_id, invoice_id, refund_id, status, \
    currency, subtotal, discount_total, shipping_total, tax_total, total, document, issued_at, \
    due_at, paid_at";

impl Invoice {
    /// Its status at `now` (an unpaid invoice past its due date is OVERDUE).
    pub fn status_at(&self, now: DateTime<Utc>) -> InvoiceStatus {
        match self.status.as_str() {
            "PAID" => InvoiceStatus::Paid,
            "VOID" => InvoiceStatus::Void,
            "OVERDUE" => InvoiceStatus::Overdue,
            _ if self.due_at.is_some_and(|due| due < now) => InvoiceStatus::Overdue,
            _ => InvoiceStatus::Issued,
        }
    }

    /// Its printed number, e.g. `INV-000042` or `CN-000003`.
    pub fn printed_number(&self) -> String {
        printed_number(self.kind, self.number)
    }

    /// What it says besides its amounts.
    pub fn parsed_document(&self) -> Option<Document> {
        serde_json::from_value(self.document.clone()).ok()
    }
}

/// The printed form of document `number` of `kind`, e.g. `INV-000042` or `CN-000003`.
pub fn printed_number(kind: InvoiceKind, number: i64) -> String {
    let prefix = match kind {
        InvoiceKind::Invoice => "INV",
        InvoiceKind::CreditNote => "CN",
    };
    format!("{prefix}-{number:06}")
}

/// The documents of orders, by order: invoice first, then credit notes by number.
pub async fn of_orders(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<Invoice>>> {
    let rows: Vec<Invoice> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM orders.invoices WHERE order_id = ANY ($1)
             ORDER BY order_id, kind DESC, number"
        ))
        .bind::<Array<SqlUuid>, _>(orders),
    )
    .load(tx.conn())
    .await?;
    Ok(orders::group(rows, |i| i.order_id))
}

async fn invoice_of(tx: &mut TenantTx<'_>, order: OrderId) -> QueryResult<Option<Invoice>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM orders.invoices WHERE order_id = $1 AND kind = 'INVOICE'"
        ))
        .bind::<SqlUuid, _>(order),
    )
    .get_result(tx.conn())
    .await
    .optional()
}

#[allow(clippy::too_many_arguments, reason = "one row's columns")]
async fn insert(
    tx: &mut TenantTx<'_>,
    order: &Order,
    kind: &str,
    number: i64,
    credits: Option<(InvoiceId, Option<RefundId>)>,
    status: &str,
    amounts: [i64; 5],
    document: &Document,
    due_at: Option<DateTime<Utc>>,
) -> QueryResult<Invoice> {
    let [subtotal, discount, shipping, tax, total] = amounts;
    let document = serde_json::to_value(document)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let paid = (status == "PAID").then(Utc::now);
    Prepared(
        diesel::sql_query(format!(
            "INSERT INTO orders.invoices (tenant_id, id, kind, number, order_id, invoice_id,
                refund_id, status, currency, subtotal, discount_total, shipping_total, tax_total,
                total, document, due_at, paid_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(order.tenant_id)
        .bind::<SqlUuid, _>(InvoiceId::new())
        .bind::<Text, _>(kind)
        .bind::<BigInt, _>(number)
        .bind::<SqlUuid, _>(order.id)
        .bind::<Nullable<SqlUuid>, _>(credits.map(|c| c.0))
        .bind::<Nullable<SqlUuid>, _>(credits.and_then(|c| c.1))
        .bind::<Text, _>(status)
        .bind::<Text, _>(&order.currency)
        .bind::<BigInt, _>(subtotal)
        .bind::<BigInt, _>(discount)
        .bind::<BigInt, _>(shipping)
        .bind::<BigInt, _>(tax)
        .bind::<BigInt, _>(total)
        .bind::<Jsonb, _>(document)
        .bind::<Nullable<Timestamptz>, _>(due_at)
        .bind::<Nullable<Timestamptz>, _>(paid),
    )
    .get_result(tx.conn())
    .await
}

/// Writes `invoice.issued` or `credit_note.issued` for a document just issued.
async fn issued(tx: &mut TenantTx<'_>, invoice: &Invoice) -> QueryResult<()> {
    let event = DocumentIssued {
        invoice_id: invoice.id,
        order_id: invoice.order_id,
        kind: invoice.kind,
        number: invoice.printed_number(),
        total: invoice.total,
        currency: invoice.currency,
    };
    crate::OUTBOX.publish(tx, invoice.id, &event).await
}

/// Issues the invoice of `order` (in the transaction confirming it); nothing when it has one.
pub async fn issue(tx: &mut TenantTx<'_>, order: &Order) -> QueryResult<()> {
    if invoice_of(tx, order.id).await?.is_some() {
        return Ok(());
    }
    // Read again: the caller's copy may predate a payment recorded in this transaction.
    let Some(order) = orders::by_ids(tx, &[order.id]).await?.pop() else {
        return Ok(());
    };
    let lines = orders::lines_of(tx, &[order.id])
        .await?
        .remove(&order.id)
        .unwrap_or_default();
    let mut taxes: Vec<TaxSummary> = Vec::new();
    let lines: Vec<DocumentLine> = lines
        .into_iter()
        .map(|l| {
            let base = l.subtotal - l.discount_total;
            match taxes
                .iter_mut()
                .find(|t| t.rate == l.tax_rate && t.included == l.tax_inclusive)
            {
                Some(t) => {
                    t.base += base;
                    t.tax += l.tax_total;
                }
                None => taxes.push(TaxSummary {
                    rate: l.tax_rate,
                    included: l.tax_inclusive,
                    base,
                    tax: l.tax_total,
                }),
            }
            DocumentLine {
                description: if l.variant_title.is_empty() {
                    l.product_title
                } else {
                    format!("{} ({})", l.product_title, l.variant_title)
                },
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price,
                discount: l.discount_total,
                tax_rate: l.tax_rate,
                tax_included: l.tax_inclusive,
                tax: l.tax_total,
                total: l.total,
            }
        })
        .collect();
    let document = Document {
        order_number: order.number,
        email: order.email.clone(),
        bill_to: Address::from_stored(&order.billing_address)
            .or_else(|| Address::from_stored(&order.shipping_address)),
        lines,
        taxes,
        credits: None,
        note: None,
    };
    let paid = order.payment_status == OrderPaymentStatus::Paid;
    let number = counters::next(tx, "invoice").await?;
    let invoice = insert(
        tx,
        &order,
        "INVOICE",
        number,
        None,
        if paid { "PAID" } else { "ISSUED" },
        [
            order.subtotal,
            order.discount_total,
            order.shipping_total,
            order.tax_total,
            order.total,
        ],
        &document,
        (!paid).then(|| {
            Utc::now()
                + order
                    .payment_due_days
                    .map_or(PAYMENT_TERM, |d| Duration::days(i64::from(d)))
        }),
    )
    .await?;
    if let Some(due) = invoice.due_at {
        let job = InvoiceOverdue {
            invoice_id: invoice.id,
        };
        crate::JOBS.schedule(tx, &job, due).await?;
    }
    issued(tx, &invoice).await
}

/// The `invoice.overdue` job of one invoice, due at its due date: an invoice still unpaid then
/// becomes OVERDUE and `invoice.overdue` is written; a paid or void one needs nothing.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceOverdue {
    pub invoice_id: InvoiceId,
}

impl cityos_db::jobs::Job for InvoiceOverdue {
    const NAME: &'static str = "invoice.overdue";

    fn key(&self) -> String {
        self.invoice_id.to_string()
    }

    async fn run(
        self,
        tx: &mut TenantTx<'_>,
        _: &cityos_db::jobs::Provided,
    ) -> Result<cityos_db::jobs::Next, cityos_core::ApiError> {
        #[derive(QueryableByName)]
        struct Overdue {
            #[diesel(sql_type = SqlUuid)]
            order_id: OrderId,
            #[diesel(sql_type = Timestamptz)]
            due_at: DateTime<Utc>,
            #[diesel(sql_type = Nullable<SqlUuid>)]
            company_id: Option<crate::ids::CompanyId>,
        }
        let moved: Option<Overdue> = Prepared(
            diesel::sql_query(
                "UPDATE orders.invoices i SET status = 'OVERDUE'
                 WHERE i.id = $1 AND i.kind = 'INVOICE' AND i.status = 'ISSUED' AND i.due_at <= now()
                 RETURNING i.order_id, i.due_at,
                     (SELECT o.company_id FROM orders.orders o
                      WHERE o.tenant_id = i.tenant_id AND o.id = i.order_id) AS company_id",
            )
            .bind::<SqlUuid, _>(self.invoice_id),
        )
        .get_result(tx.conn())
        .await
        .optional()?;
        if let Some(overdue) = moved {
            let event = InvoiceFellOverdue {
                invoice_id: self.invoice_id,
                order_id: overdue.order_id,
                due_at: overdue.due_at,
            };
            crate::OUTBOX.publish(tx, self.invoice_id, &event).await?;
            if let Some(company) = overdue.company_id {
                let grace = vendors::api::grace_days(tx, company).await?.unwrap_or(0);
                let job = InvoiceHold {
                    invoice_id: self.invoice_id,
                };
                let at = overdue.due_at + Duration::days(i64::from(grace));
                crate::JOBS.schedule(tx, &job, at).await?;
            }
        }
        Ok(cityos_db::jobs::Next::Done)
    }
}

/// The `invoice.hold` job of a company's overdue invoice, due its company's grace days after the
/// due date: an invoice still unpaid then puts an ACTIVE company ON_HOLD (through the vendors
/// subgraph's api, which writes `company.on_hold`); a paid or void one needs nothing, and a company
/// already on hold or closed stays as it is.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceHold {
    pub invoice_id: InvoiceId,
}

impl cityos_db::jobs::Job for InvoiceHold {
    const NAME: &'static str = "invoice.hold";

    fn key(&self) -> String {
        self.invoice_id.to_string()
    }

    async fn run(
        self,
        tx: &mut TenantTx<'_>,
        _: &cityos_db::jobs::Provided,
    ) -> Result<cityos_db::jobs::Next, cityos_core::ApiError> {
        #[derive(QueryableByName)]
        struct Unpaid {
            #[diesel(sql_type = SqlUuid)]
            company_id: crate::ids::CompanyId,
            #[diesel(sql_type = BigInt)]
            number: i64,
        }
        let unpaid: Option<Unpaid> = Prepared(
            diesel::sql_query(
                "SELECT o.company_id, i.number FROM orders.invoices i
                 JOIN orders.orders o ON o.tenant_id = i.tenant_id AND o.id = i.order_id
                 WHERE i.id = $1 AND i.kind = 'INVOICE' AND i.status IN ('ISSUED', 'OVERDUE')
                   AND o.company_id IS NOT NULL",
            )
            .bind::<SqlUuid, _>(self.invoice_id),
        )
        .get_result(tx.conn())
        .await
        .optional()?;
        if let Some(unpaid) = unpaid {
            let why = format!(
                "invoice {} is unpaid past its due date and grace period",
                printed_number(InvoiceKind::Invoice, unpaid.number)
            );
            vendors::api::hold_for_unpaid(tx, unpaid.company_id, &why).await?;
        }
        Ok(cityos_db::jobs::Next::Done)
    }
}

/// `invoice.overdue`: an invoice was still unpaid at its due date.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceFellOverdue {
    pub invoice_id: InvoiceId,
    pub order_id: OrderId,
    pub due_at: DateTime<Utc>,
}

impl cityos_db::outbox::FixedTopic for InvoiceFellOverdue {
    const TOPIC: &'static str = "invoice.overdue";
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    value: InvoiceId,
}

/// Moves the unpaid (ISSUED or OVERDUE) invoice of `order` to `to` (PAID, with `paid_at`, or
/// VOID) and writes `invoice.paid` or `invoice.voided`; nothing when it has no unpaid one.
async fn settle(tx: &mut TenantTx<'_>, order: OrderId, to: &str) -> QueryResult<()> {
    let moved: Option<IdRow> = Prepared(
        diesel::sql_query(
            "UPDATE orders.invoices
             SET status = $2, paid_at = CASE WHEN $2 = 'PAID' THEN now() ELSE paid_at END
             WHERE order_id = $1 AND kind = 'INVOICE' AND status IN ('ISSUED', 'OVERDUE')
             RETURNING id AS value",
        )
        .bind::<SqlUuid, _>(order)
        .bind::<Text, _>(to),
    )
    .get_result(tx.conn())
    .await
    .optional()?;
    if let Some(IdRow { value: id }) = moved {
        let event = InvoiceSettled {
            invoice_id: id,
            order_id: order,
            paid: to == "PAID",
        };
        crate::OUTBOX.publish(tx, id, &event).await?;
    }
    Ok(())
}

/// Marks the invoice of `order` paid, if it is issued and unpaid.
pub async fn mark_paid(tx: &mut TenantTx<'_>, order: OrderId) -> QueryResult<()> {
    settle(tx, order, "PAID").await
}

/// Voids the unpaid invoice of a cancelled order.
pub async fn void(tx: &mut TenantTx<'_>, order: OrderId) -> QueryResult<()> {
    settle(tx, order, "VOID").await
}

/// Issues the credit note for `amount` paid back on `order` (`refund`, when the platform made
/// it). Without an invoice (an order never confirmed) there is nothing to credit.
pub async fn credit(
    tx: &mut TenantTx<'_>,
    order: OrderId,
    amount: i64,
    refund: Option<RefundId>,
    reason: Option<String>,
) -> QueryResult<()> {
    let Some(invoice) = invoice_of(tx, order).await? else {
        tracing::warn!(%order, amount, "money refunded on an order without an invoice");
        return Ok(());
    };
    let Some(order) = orders::by_ids(tx, &[order]).await?.pop() else {
        return Ok(());
    };
    let tax = if invoice.total > 0 {
        ratio(amount, invoice.tax_total, invoice.total)
    } else {
        0
    };
    let document = Document {
        order_number: order.number,
        email: order.email.clone(),
        bill_to: invoice.parsed_document().and_then(|d| d.bill_to),
        lines: vec![DocumentLine {
            description: format!("Refund against invoice {}", invoice.printed_number()),
            sku: String::new(),
            quantity: 1,
            unit_price: amount,
            discount: 0,
            tax_rate: 0,
            tax_included: true,
            tax,
            total: amount,
        }],
        taxes: Vec::new(),
        credits: Some(invoice.number),
        note: reason.filter(|r| !r.is_empty()),
    };
    let number = counters::next(tx, "credit_note").await?;
    let note = insert(
        tx,
        &order,
        "CREDIT_NOTE",
        number,
        Some((invoice.id, refund)),
        "PAID",
        [amount, 0, 0, tax, amount],
        &document,
        None,
    )
    .await?;
    issued(tx, &note).await
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn percent(basis_points: i32) -> String {
    format!("{}.{:02}%", basis_points / 100, basis_points % 100)
}

/// The document as a printable HTML page.
pub fn render_html(invoice: &Invoice, now: DateTime<Utc>) -> String {
    let currency = invoice.currency;
    let m = |amount: i64| escape(&Money::new(amount, currency).to_string());
    let doc = invoice.parsed_document();
    let title = match invoice.kind {
        InvoiceKind::Invoice => "Invoice",
        InvoiceKind::CreditNote => "Credit note",
    };
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} {number}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%}}\
         th,td{{border-bottom:1px solid #ccc;padding:.3em;text-align:left}}td.n,th.n{{text-align:right}}\
         @media print{{body{{margin:0}}}}</style></head><body>\
         <h1>{title} {number}</h1><p>Status: {status:?}<br>Issued: {issued}",
        number = escape(&invoice.printed_number()),
        status = invoice.status_at(now),
        issued = invoice.issued_at.format("%Y-%m-%d"),
    );
    if let Some(due) = invoice.due_at {
        let _ = write!(html, "<br>Due: {}", due.format("%Y-%m-%d"));
    }
    if let Some(doc) = &doc {
        let _ = write!(html, "<br>Order: {}", doc.order_number);
        if let Some(credits) = doc.credits {
            let _ = write!(html, "<br>Credits invoice: INV-{credits:06}");
        }
        html.push_str("</p>");
        if let Some(to) = &doc.bill_to {
            let _ = write!(
                html,
                "<h2>Bill to</h2><p>{} {}<br>{}<br>{}{}<br>{}</p>",
                escape(&to.first_name),
                escape(&to.last_name),
                escape(&to.line1),
                escape(&to.city),
                to.postal_code
                    .as_deref()
                    .map(|p| format!(" {}", escape(p)))
                    .unwrap_or_default(),
                escape(&to.country_code),
            );
        }
        if let Some(email) = &doc.email {
            let _ = write!(html, "<p>{}</p>", escape(email));
        }
        html.push_str(
            "<table><tr><th>Item</th><th>SKU</th><th class=\"n\">Qty</th>\
             <th class=\"n\">Unit price</th><th class=\"n\">Discount</th><th class=\"n\">Tax</th>\
             <th class=\"n\">Total</th></tr>",
        );
        for line in &doc.lines {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{} ({}{})</td><td class=\"n\">{}</td></tr>",
                escape(&line.description),
                escape(&line.sku),
                line.quantity,
                m(line.unit_price),
                m(line.discount),
                m(line.tax),
                percent(line.tax_rate),
                if line.tax_included { " incl." } else { "" },
                m(line.total),
            );
        }
        html.push_str("</table>");
        if !doc.taxes.is_empty() {
            html.push_str("<h2>Tax</h2><table><tr><th>Rate</th><th class=\"n\">Base</th><th class=\"n\">Tax</th></tr>");
            for t in &doc.taxes {
                let _ = write!(
                    html,
                    "<tr><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    percent(t.rate),
                    if t.included { " (included)" } else { "" },
                    m(t.base),
                    m(t.tax),
                );
            }
            html.push_str("</table>");
        }
        if let Some(note) = &doc.note {
            let _ = write!(html, "<p>Reason: {}</p>", escape(note));
        }
    } else {
        html.push_str("</p>");
    }
    let _ = write!(
        html,
        "<table><tr><td>Subtotal</td><td class=\"n\">{}</td></tr>\
         <tr><td>Discount</td><td class=\"n\">-{}</td></tr>\
         <tr><td>Shipping</td><td class=\"n\">{}</td></tr>\
         <tr><td>Tax</td><td class=\"n\">{}</td></tr>\
         <tr><th>Total</th><th class=\"n\">{}</th></tr></table></body></html>",
        m(invoice.subtotal),
        m(invoice.discount_total),
        m(invoice.shipping_total),
        m(invoice.tax_total),
        m(invoice.total),
    );
    html
}

/// `invoice.issued` or `credit_note.issued`: a document was issued (its kind names the topic).
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DocumentIssued {
    pub invoice_id: InvoiceId,
    pub order_id: OrderId,
    pub kind: InvoiceKind,
    pub number: String,
    pub total: i64,
    pub currency: Currency,
}

impl Topic for DocumentIssued {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(format!("{}.issued", self.kind.as_str().to_lowercase()))
    }
}

/// `invoice.paid` or `invoice.voided`: an issued invoice was settled.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceSettled {
    pub invoice_id: InvoiceId,
    pub order_id: OrderId,
    #[serde(skip)]
    pub paid: bool,
}

impl Topic for InvoiceSettled {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(if self.paid {
            "invoice.paid"
        } else {
            "invoice.voided"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_rates_print_as_percentages() {
        assert_eq!(
            escape("<b>\"Oud\" & 'rose'</b>"),
            "&lt;b&gt;&quot;Oud&quot; &amp; &#39;rose&#39;&lt;/b&gt;"
        );
        assert_eq!(
            (percent(1500), percent(525), percent(0)),
            ("15.00%".into(), "5.25%".into(), "0.00%".into())
        );
    }
}
