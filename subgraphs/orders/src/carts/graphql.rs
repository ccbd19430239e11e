//! Carts in GraphQL: `Cart` with its lines, vendor groups and shipping options, `cart` and
//! `myCart`, and the cart mutations.

use crate::carts::quick::{self, LineRefusal};
use crate::carts::totals::{self, Shipment};
use crate::carts::{
    self, Address, CartChanges, CartStatus, LineInput, LineProblem, PricedCart, PricedLine,
    ShippingChoice,
};
use crate::errors::{OrdersUserError, Outcome};
use crate::federation::{BookingService, Company, Product, ProductVariant, Vendor};
use crate::ids::{CartId, HoldId, ShippingMethodId, VariantId, VendorId};
use crate::orders::Order;
use crate::scope::OrdersLoader;
use crate::shipping::ShippingMethod;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use catalog::api::PriceRule;
use chrono::{DateTime, Utc};
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::Money;
use cityos_server::CtxExt as _;

/// A shopping cart: lines by variant and booking lines (held slots), priced live for its
/// customer in its currency, with its discount, shipping per vendor group and taxes.
#[Object(name = "Cart")]
impl PricedCart {
    /// The cart's id. For a guest cart it is also the key to it: keep it private.
    async fn id(&self) -> ID {
        to_id(self.cart.id)
    }
    /// ISO 4217 currency the cart is priced in.
    async fn currency(&self) -> &str {
        self.cart.currency.code()
    }
    /// Where the cart stands.
    async fn status(&self) -> CartStatus {
        self.cart.status
    }
    /// The guest's e-mail address (a customer's cart may have none).
    async fn email(&self) -> Option<&str> {
        self.cart.email.as_deref()
    }
    /// The lines, oldest first.
    async fn lines(&self) -> &[PricedLine] {
        &self.lines
    }
    /// The lines grouped by the vendor that sells them: each group ships as one vendor order,
    /// with its own shipping method and totals.
    async fn vendor_groups(&self) -> Vec<CartVendorGroup<'_>> {
        self.totals
            .shipments
            .iter()
            .map(|shipment| CartVendorGroup {
                shipment,
                cart: self,
            })
            .collect()
    }
    /// Units over all lines.
    async fn item_count(&self) -> i64 {
        self.units()
    }
    /// The sum of the line totals before discounts, shipping and tax (lines without a price
    /// count 0).
    async fn subtotal(&self) -> Money {
        self.money(self.totals.subtotal)
    }
    /// What the discount code takes off.
    async fn discount_total(&self) -> Money {
        self.money(self.totals.discount_total)
    }
    /// Shipping over all vendor groups.
    async fn shipping_total(&self) -> Money {
        self.money(self.totals.shipping_total)
    }
    /// Tax on all lines, whether included in prices or added to them (see each line's
    /// `taxIncluded`).
    async fn tax_total(&self) -> Money {
        self.money(self.totals.tax_total)
    }
    /// What checking out would charge now: subtotal less discount, plus shipping, plus tax that
    /// prices do not include.
    async fn total(&self) -> Money {
        self.money(self.totals.total)
    }
    /// The discount code on the cart, with what it takes off or why it does not apply now.
    async fn discount(&self) -> Option<CartDiscount> {
        let code = self.cart.discount_code.clone()?;
        Some(match &self.totals.discount {
            Some(Err(refusal)) => CartDiscount {
                code,
                amount: self.money(0),
                problem: Some(refusal.code),
                message: Some(refusal.message.clone()),
            },
            outcome => CartDiscount {
                code,
                amount: self.money(outcome.as_ref().and_then(|o| o.clone().ok()).unwrap_or(0)),
                problem: None,
                message: None,
            },
        })
    }
    /// Whether every line can be bought as it stands (on sale, priced, in stock), every vendor
    /// group has a shipping method, and the discount code (if any) applies.
    async fn ready(&self) -> bool {
        let totals = &self.totals;
        !self.lines.is_empty()
            && self.lines.iter().all(|l| l.problem.is_none())
            && !matches!(totals.discount, Some(Err(_)))
            && (!totals.shipping_offered || totals.shipments.iter().all(|s| s.method().is_some()))
    }
    /// Where to ship.
    async fn shipping_address(&self) -> Option<Address> {
        Address::from_stored(&self.cart.shipping_address)
    }
    /// Where to bill.
    async fn billing_address(&self) -> Option<Address> {
        Address::from_stored(&self.cart.billing_address)
    }
    /// Instructions for delivering the whole cart.
    async fn delivery_instructions(&self) -> &str {
        &self.cart.delivery_instructions
    }
    /// The B2B company the cart buys for (made by a member acting for it): checkout holds it to
    /// the company's rules. Null for a personal or guest cart.
    async fn company(&self) -> Option<Company> {
        self.cart.company_id.map(|id| Company { id: to_id(id) })
    }
    /// The number of the company's tax exemption certificate that applies to the cart's address
    /// today: no tax is charged. Null when none applies.
    async fn tax_exemption_number(&self) -> Option<&str> {
        self.terms.exemption.as_ref().map(|e| e.number.as_str())
    }
    /// The order placed from the cart, once checked out.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        match self.cart.order_id {
            None => Ok(None),
            Some(id) => Ok(ctx.loader::<OrdersLoader>()?.load_one(id).await?),
        }
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.cart.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.cart.updated_at
    }
    /// When it expires unless changed again (30 days after the last change).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.cart.expires_at
    }
}

/// A discount code on a cart.
#[derive(SimpleObject)]
pub struct CartDiscount {
    /// The code, upper-cased.
    pub code: String,
    /// What it takes off now (zero when it does not apply).
    pub amount: Money,
    /// Why it does not apply now (e.g. DISCOUNT_MINIMUM_NOT_MET after lines were removed);
    /// null when it does. Checkout refuses with this code.
    pub problem: Option<crate::errors::OrdersErrorCode>,
    /// The reason in words.
    pub message: Option<String>,
}

/// The lines of a cart one vendor sells.
pub struct CartVendorGroup<'a> {
    shipment: &'a Shipment,
    cart: &'a PricedCart,
}

/// One of a vendor group's shipping options, read from the cart's totals.
pub struct ShippingOption<'a> {
    option: &'a totals::ShippingOption,
    cart: &'a PricedCart,
}

/// A shipping method offered for a vendor group, with what it would cost the group.
#[Object]
impl ShippingOption<'_> {
    /// The method.
    async fn method(&self) -> &ShippingMethod {
        &self.option.method
    }
    /// What it would cost this vendor group.
    async fn cost(&self) -> Money {
        self.cart.money(self.option.cost)
    }
}

/// The lines of a cart that one vendor sells (or the tenant itself), shipped as one vendor order.
#[Object]
impl CartVendorGroup<'_> {
    /// The vendor; null for the tenant's own products.
    async fn vendor(&self) -> Option<Vendor> {
        self.shipment.vendor.map(|id| Vendor { id: to_id(id) })
    }
    /// Its lines.
    async fn lines(&self) -> Vec<&PricedLine> {
        self.shipment
            .lines
            .iter()
            .map(|&i| &self.cart.lines[i])
            .collect()
    }
    /// The sum of its lines before discounts.
    async fn subtotal(&self) -> Money {
        self.cart.money(self.shipment.subtotal)
    }
    /// The discount taken off its lines.
    async fn discount_total(&self) -> Money {
        self.cart.money(self.shipment.discount)
    }
    /// The methods that can deliver it now, cheapest first (empty when the tenant ships nothing
    /// in this currency, or nothing to the address's country).
    async fn shipping_options(&self) -> Vec<ShippingOption<'_>> {
        self.shipment
            .options
            .iter()
            .map(|option| ShippingOption {
                option,
                cart: self.cart,
            })
            .collect()
    }
    /// The method it ships with: the one chosen with `cartShippingMethodSet` while it is
    /// available, otherwise the cheapest option.
    async fn shipping_method(&self) -> Option<&ShippingMethod> {
        self.shipment.method().map(|o| &o.method)
    }
    /// What shipping it costs.
    async fn shipping_total(&self) -> Money {
        self.cart.money(self.shipment.shipping)
    }
    /// Tax on its lines (included or added).
    async fn tax_total(&self) -> Money {
        self.cart.money(self.shipment.tax)
    }
    /// What this vendor's part costs: its lines' totals plus shipping.
    async fn total(&self) -> Money {
        self.cart.money(self.shipment.total)
    }
    /// Instructions for delivering this part.
    async fn delivery_instructions(&self) -> &str {
        &self.shipment.instructions
    }
}

/// A line of a cart: a variant, how many, and what they cost now.
#[Object(name = "CartLine")]
impl PricedLine {
    /// The line's id.
    async fn id(&self) -> ID {
        to_id(self.line.id)
    }
    /// The variant; null on a booking line.
    async fn variant(&self) -> Option<ProductVariant> {
        self.line
            .variant_id
            .map(|v| ProductVariant { id: to_id(v) })
    }
    /// A booking line's hold: the service and time it keeps; null on a product line.
    async fn booking(&self) -> Option<CartBooking> {
        let hold = self.line.hold_id?;
        Some(match &self.booking {
            Some(held) => CartBooking {
                hold_id: to_id(hold),
                service: Some(BookingService {
                    id: to_id(held.hold.service_id),
                }),
                service_name: Some(held.service_name.clone()),
                provider_name: held.provider_name.clone(),
                starts_at: Some(held.hold.starts_at),
                ends_at: Some(held.hold.ends_at),
                held_until: Some(held.hold.expires_at),
            },
            None => CartBooking {
                hold_id: to_id(hold),
                service: None,
                service_name: None,
                provider_name: None,
                starts_at: None,
                ends_at: None,
                held_until: None,
            },
        })
    }
    /// Its product (a booking line's: its service's linked product, when that prices it);
    /// null when the variant is no longer on sale.
    async fn product(&self) -> Option<Product> {
        self.item.as_ref().map(|i| Product {
            id: to_id(i.product_id),
        })
    }
    /// The product's title (a booking line's service name); null when not on sale.
    async fn product_title(&self) -> Option<&str> {
        match &self.booking {
            Some(held) => Some(held.service_name.as_str()),
            None => self.item.as_ref().map(|i| i.product_title.as_str()),
        }
    }
    /// The variant's title; null when not on sale.
    async fn variant_title(&self) -> Option<&str> {
        self.item.as_ref().map(|i| i.variant.variant.title.as_str())
    }
    /// The variant's SKU; null when not on sale.
    async fn sku(&self) -> Option<&str> {
        self.item.as_ref().map(|i| i.variant.variant.sku.as_str())
    }
    /// Units (a booking line's seats).
    async fn quantity(&self) -> i32 {
        self.line.quantity
    }
    /// Price of one unit for this quantity, customer and moment; null when there is none.
    async fn unit_price(&self) -> Option<Money> {
        self.quote.map(|q| q.unit_price)
    }
    /// The base unit price when the customer pays less (for a struck-through price).
    async fn compare_at_unit_price(&self) -> Option<Money> {
        self.quote.and_then(|q| q.compare_at)
    }
    /// Which pricing rule gave the unit price.
    async fn price_rule(&self) -> Option<PriceRule> {
        self.quote.map(|q| q.rule)
    }
    /// Unit price times quantity.
    async fn line_total(&self) -> Option<Money> {
        self.quote.map(|q| q.line_total)
    }
    /// The line's part of the cart's discount.
    async fn discount_total(&self) -> Option<Money> {
        self.quote
            .map(|q| Money::new(self.amounts.discount, q.line_total.currency))
    }
    /// The tax rate applied, in basis points (1500 is 15%); 0 when no rule applies or the cart
    /// has no address yet.
    async fn tax_rate_basis_points(&self) -> i32 {
        self.amounts.tax.rate
    }
    /// Whether the tax is part of the price (true) or added to it (false).
    async fn tax_included(&self) -> bool {
        self.amounts.tax.inclusive
    }
    /// The tax in or on the line after its discount.
    async fn tax_total(&self) -> Option<Money> {
        self.quote
            .map(|q| Money::new(self.amounts.tax.amount, q.line_total.currency))
    }
    /// What the line costs: line total less its discount plus tax that the price does not
    /// include.
    async fn total(&self) -> Option<Money> {
        self.quote
            .map(|q| Money::new(self.amounts.total, q.line_total.currency))
    }
    /// Units available now across locations; a booking line's seats while its hold keeps them.
    async fn available_quantity(&self) -> i64 {
        self.available()
    }
    /// Whether to gift-wrap the line.
    async fn gift_wrap(&self) -> bool {
        self.line.gift_wrap
    }
    /// A message for the gift card.
    async fn gift_message(&self) -> Option<&str> {
        self.line.gift_message.as_deref()
    }
    /// Why the line cannot be bought as it stands; null when it can.
    async fn problem(&self) -> Option<LineProblem> {
        self.problem
    }
}

/// What a booking line of a cart keeps: seats of a service at a time, while its hold lasts.
/// Everything but the hold's id is null once the hold is gone.
#[derive(SimpleObject)]
pub struct CartBooking {
    /// The bookings hold the line checks out.
    pub hold_id: ID,
    /// The service booked.
    pub service: Option<BookingService>,
    /// The service's name.
    pub service_name: Option<String>,
    /// Who it is with, when the service takes a provider.
    pub provider_name: Option<String>,
    /// When it starts.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ends.
    pub ends_at: Option<DateTime<Utc>>,
    /// When the hold lets the seats go unless checked out.
    pub held_until: Option<DateTime<Utc>>,
}

/// The queries of carts.
#[derive(Default)]
pub struct CartQuery;

#[Object]
impl CartQuery {
    /// A cart by id: a guest cart, or the signed-in customer's own. Null when there is none the
    /// caller may use.
    async fn cart(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PricedCart>> {
        Ok(carts::get(ctx.db(), ctx.request()?, parse_id(&id)?).await?)
    }
    /// The signed-in customer's open cart, if they have one.
    async fn my_cart(&self, ctx: &Context<'_>) -> Result<Option<PricedCart>> {
        Ok(carts::mine(ctx.db(), ctx.request()?).await?)
    }
}

cityos_core::payload! {
    /// The result of a cart mutation.
    CartPayload<OrdersUserError> {
        /// The cart as it is now; null when refused.
        cart: PricedCart,
    }
}

fn cart_payload(outcome: Outcome<PricedCart>) -> Result<CartPayload> {
    Ok(CartPayload::of(outcome)?)
}

cityos_core::payload! {
    /// The result of `cartQuickOrder` and `cartReorder`: the lines that could be bought were
    /// added; each other line is in `refusedLines` with its own code.
    CartQuickOrderPayload<OrdersUserError> {
        /// The cart as it is now; null when the whole request was refused.
        cart: PricedCart,
        /// The lines not added, in the order given.
        refused_lines: Vec<LineRefusal>,
    }
}

/// A quick order: lines by SKU.
#[derive(InputObject)]
pub struct CartQuickOrderInput {
    /// The cart.
    pub cart_id: CartId,
    /// 1 to 100 lines; the same SKU twice counts once with the units added up.
    pub lines: Vec<CartSkuLineInput>,
}

/// A line of a quick order.
#[derive(InputObject)]
pub struct CartSkuLineInput {
    /// The variant's SKU, exactly as the catalog has it.
    pub sku: String,
    /// Units, 1 to 10,000; added to the units already on the cart.
    pub quantity: i32,
}

/// A past order to buy again.
#[derive(InputObject)]
pub struct CartReorderInput {
    /// The order (the caller's own).
    pub order_id: crate::ids::OrderId,
}

/// A new cart.
#[derive(InputObject)]
pub struct CartCreateInput {
    /// ISO 4217 currency to price the cart in; the tenant's default when omitted.
    pub currency: Option<String>,
    /// A guest's e-mail address.
    pub email: Option<String>,
}

/// A line to put in a cart.
#[derive(InputObject)]
pub struct CartLineInput {
    /// The variant.
    pub variant_id: VariantId,
    /// Units, 1 to 10,000; added to the units already on the cart.
    pub quantity: i32,
    /// Gift-wrap the line.
    pub gift_wrap: Option<bool>,
    /// A message for the gift card, at most 300 characters.
    pub gift_message: Option<String>,
}

/// Lines to add.
#[derive(InputObject)]
pub struct CartLinesAddInput {
    /// The cart.
    pub cart_id: CartId,
    /// 1 to 100 lines, each variant once.
    pub lines: Vec<CartLineInput>,
}

/// A change to a line already in a cart; omitted fields stay as they are.
#[derive(InputObject)]
pub struct CartLineUpdateInput {
    /// The variant whose line to change.
    pub variant_id: VariantId,
    /// The new number of units, 1 to 10,000 (remove a line with `cartLinesRemove`).
    pub quantity: Option<i32>,
    /// Gift-wrap the line or not.
    pub gift_wrap: Option<bool>,
    /// A new gift message; an empty one removes it.
    pub gift_message: Option<String>,
}

/// Lines to change.
#[derive(InputObject)]
pub struct CartLinesUpdateInput {
    /// The cart.
    pub cart_id: CartId,
    /// 1 to 100 changes, each variant once.
    pub lines: Vec<CartLineUpdateInput>,
}

/// Lines to remove.
#[derive(InputObject)]
pub struct CartLinesRemoveInput {
    /// The cart.
    pub cart_id: CartId,
    /// The variants whose lines to remove (1 to 100).
    pub variant_ids: Vec<VariantId>,
}

/// Contact and delivery details of a cart; omitted fields stay as they are.
#[derive(InputObject)]
pub struct CartUpdateInput {
    /// The cart.
    pub cart_id: CartId,
    /// The buyer's e-mail address (required for a guest checkout).
    pub email: Option<String>,
    /// Where to ship (required for checkout unless every vendor group is picked up); also where
    /// taxes are reckoned.
    pub shipping_address: Option<Address>,
    /// Where to bill (required for a cart that is picked up entirely).
    pub billing_address: Option<Address>,
    /// Instructions for delivering the cart, at most 500 characters; empty clears them.
    pub delivery_instructions: Option<String>,
}

/// A discount code to apply to a cart.
#[derive(InputObject)]
pub struct CartDiscountApplyInput {
    /// The cart.
    pub cart_id: CartId,
    /// The code as the shopper typed it (case and surrounding spaces do not matter).
    pub code: String,
}

/// A cart to act on.
#[derive(InputObject)]
pub struct CartInput {
    /// The cart.
    pub cart_id: CartId,
}

/// How one vendor's part of a cart ships.
#[derive(InputObject)]
pub struct CartShippingMethodSetInput {
    /// The cart.
    pub cart_id: CartId,
    /// The vendor whose part it is; omit it for the tenant's own products.
    pub vendor_id: Option<VendorId>,
    /// One of the group's `shippingOptions`.
    pub method_id: ShippingMethodId,
    /// Instructions for delivering this part, at most 500 characters; empty clears them,
    /// omitted keeps them.
    pub delivery_instructions: Option<String>,
}

/// A bookings hold to put into, or take out of, a cart.
#[derive(InputObject)]
pub struct CartBookingInput {
    /// The cart: the signed-in customer's own.
    pub cart_id: CartId,
    /// A live hold of theirs (`bookingHold`, `bookingHoldSeries`, an accepted waitlist offer).
    pub hold_id: HoldId,
}

/// A guest cart to merge after sign-in.
#[derive(InputObject)]
pub struct CartMergeInput {
    /// The cart the shopper filled before signing in.
    pub guest_cart_id: ID,
}

fn line_inputs(
    lines: impl IntoIterator<Item = (VariantId, Option<i32>, Option<bool>, Option<String>)>,
) -> Result<Vec<LineInput>> {
    Ok(lines
        .into_iter()
        .map(
            |(variant_id, quantity, gift_wrap, gift_message)| LineInput {
                variant_id,
                quantity,
                gift_wrap,
                gift_message,
            },
        )
        .collect())
}

/// Cart and checkout mutations.
#[derive(Default)]
pub struct CartMutation;

#[Object]
impl CartMutation {
    /// Starts a cart. Guests may (with the storefront key); a signed-in customer gets back their
    /// open cart when they have one in that currency.
    async fn cart_create(&self, ctx: &Context<'_>, input: CartCreateInput) -> Result<CartPayload> {
        cart_payload(carts::create(ctx.db(), ctx.request()?, input.currency, input.email).await)
    }

    /// Adds lines; a variant already in the cart gets the units added. Each must be on sale,
    /// priced in the cart's currency and in stock for the line's new quantity.
    async fn cart_lines_add(
        &self,
        ctx: &Context<'_>,
        input: CartLinesAddInput,
    ) -> Result<CartPayload> {
        let lines = line_inputs(
            input
                .lines
                .into_iter()
                .map(|l| (l.variant_id, Some(l.quantity), l.gift_wrap, l.gift_message)),
        )?;
        let cart = input.cart_id;
        cart_payload(carts::add_lines(ctx.db(), ctx.request()?, cart, lines).await)
    }

    /// Puts a held slot into the caller's cart as a booking line of its seats, priced in the
    /// cart's currency (the service's price, or its linked product's). Checkout makes it a
    /// booking; the hold keeps its own time meanwhile (the line says HOLD_EXPIRED after).
    async fn cart_booking_add(
        &self,
        ctx: &Context<'_>,
        input: CartBookingInput,
    ) -> Result<CartPayload> {
        let (cart, hold) = (input.cart_id, input.hold_id);
        cart_payload(carts::add_booking(ctx.db(), ctx.request()?, cart, hold).await)
    }

    /// Takes a booking line out of a cart and releases its hold: the slot is free for others at
    /// once.
    async fn cart_booking_remove(
        &self,
        ctx: &Context<'_>,
        input: CartBookingInput,
    ) -> Result<CartPayload> {
        let (cart, hold) = (input.cart_id, input.hold_id);
        cart_payload(carts::remove_booking(ctx.db(), ctx.request()?, cart, hold).await)
    }

    /// Adds lines by SKU (a B2B buyer's quick order): each line that can be bought now is added;
    /// each other line (unknown SKU, not on sale, no price, too few in stock, a bad quantity, a
    /// full cart) is reported in `refusedLines` instead of refusing the list.
    async fn cart_quick_order(
        &self,
        ctx: &Context<'_>,
        input: CartQuickOrderInput,
    ) -> Result<CartQuickOrderPayload> {
        let lines = input
            .lines
            .into_iter()
            .map(|l| quick::SkuLine {
                sku: l.sku,
                quantity: l.quantity,
            })
            .collect();
        let done = quick::quick_order(ctx.db(), ctx.request()?, input.cart_id, lines).await;
        Ok(CartQuickOrderPayload::of(done)?)
    }

    /// Puts the lines of one of the caller's past orders into a cart again (their open cart, or a
    /// new company cart when acting for a company), at today's prices; lines that cannot be
    /// bought now are reported in `refusedLines`. Booking lines are not: a slot is booked anew.
    async fn cart_reorder(
        &self,
        ctx: &Context<'_>,
        input: CartReorderInput,
    ) -> Result<CartQuickOrderPayload> {
        let done = quick::reorder(ctx.db(), ctx.request()?, input.order_id).await;
        Ok(CartQuickOrderPayload::of(done)?)
    }

    /// Changes lines' quantity, gift wrap or gift message.
    async fn cart_lines_update(
        &self,
        ctx: &Context<'_>,
        input: CartLinesUpdateInput,
    ) -> Result<CartPayload> {
        let lines = line_inputs(
            input
                .lines
                .into_iter()
                .map(|l| (l.variant_id, l.quantity, l.gift_wrap, l.gift_message)),
        )?;
        let cart = input.cart_id;
        cart_payload(carts::update_lines(ctx.db(), ctx.request()?, cart, lines).await)
    }

    /// Removes lines by variant.
    async fn cart_lines_remove(
        &self,
        ctx: &Context<'_>,
        input: CartLinesRemoveInput,
    ) -> Result<CartPayload> {
        let variants = input.variant_ids;
        let cart = input.cart_id;
        cart_payload(carts::remove_lines(ctx.db(), ctx.request()?, cart, variants).await)
    }

    /// Sets the cart's e-mail, addresses and delivery instructions.
    async fn cart_update(&self, ctx: &Context<'_>, input: CartUpdateInput) -> Result<CartPayload> {
        let cart = input.cart_id;
        let changes = CartChanges {
            email: input.email,
            shipping_address: input.shipping_address,
            billing_address: input.billing_address,
            delivery_instructions: input.delivery_instructions,
        };
        cart_payload(carts::update(ctx.db(), ctx.request()?, cart, changes).await)
    }

    /// Applies a discount code, replacing the cart's code if it had one. Refused, with the reason
    /// as its code, when the code does not apply to the cart now.
    async fn cart_discount_apply(
        &self,
        ctx: &Context<'_>,
        input: CartDiscountApplyInput,
    ) -> Result<CartPayload> {
        let cart = input.cart_id;
        cart_payload(carts::apply_discount(ctx.db(), ctx.request()?, cart, input.code).await)
    }

    /// Takes the discount code off the cart.
    async fn cart_discount_remove(
        &self,
        ctx: &Context<'_>,
        input: CartInput,
    ) -> Result<CartPayload> {
        let cart = input.cart_id;
        cart_payload(carts::remove_discount(ctx.db(), ctx.request()?, cart).await)
    }

    /// Chooses how one vendor's part of the cart ships, with instructions for that shipment.
    async fn cart_shipping_method_set(
        &self,
        ctx: &Context<'_>,
        input: CartShippingMethodSetInput,
    ) -> Result<CartPayload> {
        let cart = input.cart_id;
        let choice = ShippingChoice {
            vendor: input.vendor_id,
            method: input.method_id,
            instructions: input.delivery_instructions,
        };
        cart_payload(carts::choose_shipping(ctx.db(), ctx.request()?, cart, choice).await)
    }

    /// After sign-in: moves a guest cart's lines into the customer's open cart (or makes the guest
    /// cart theirs when they have none). The guest cart is closed as MERGED.
    async fn cart_merge(&self, ctx: &Context<'_>, input: CartMergeInput) -> Result<CartPayload> {
        let guest = parse_id(&input.guest_cart_id)?;
        cart_payload(carts::merge(ctx.db(), ctx.request()?, guest).await)
    }
}
