//! Diesel table definitions of the `orders` schema (see migrations/orders).
//!
//! Diesel's tables hold at most 16 columns here, so the wide tables (orders, order lines) list the
//! columns the query builder filters and updates; they are read and written whole with SQL in
//! `orders.rs` and `checkout.rs`.

diesel::table! {
    orders.carts (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        customer_id -> Nullable<Uuid>,
        email -> Nullable<Text>,
        currency -> Text,
        status -> Text,
        shipping_address -> Nullable<Jsonb>,
        billing_address -> Nullable<Jsonb>,
        delivery_instructions -> Text,
        order_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        expires_at -> Timestamptz,
        discount_code -> Nullable<Text>,
        company_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    orders.cart_lines (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        cart_id -> Uuid,
        variant_id -> Nullable<Uuid>,
        quantity -> Integer,
        gift_wrap -> Bool,
        gift_message -> Nullable<Text>,
        created_at -> Timestamptz,
        hold_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    orders.orders (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        number -> BigInt,
        cart_id -> Uuid,
        idempotency_key -> Text,
        customer_id -> Nullable<Uuid>,
        currency -> Text,
        status -> Text,
        payment_status -> Text,
        total -> BigInt,
        cancel_reason -> Nullable<Text>,
        placed_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders.vendor_orders (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        vendor_id -> Nullable<Uuid>,
        status -> Text,
        subtotal -> BigInt,
        discount_total -> BigInt,
        shipping_total -> BigInt,
        tax_total -> BigInt,
        total -> BigInt,
        shipping_method_id -> Nullable<Uuid>,
        shipping_method_name -> Nullable<Text>,
        shipping_kind -> Nullable<Text>,
        pickup_location -> Nullable<Text>,
        delivery_instructions -> Text,
        refunded_total -> BigInt,
    }
}

diesel::table! {
    orders.allocations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        order_line_id -> Uuid,
        variant_id -> Uuid,
        location_id -> Uuid,
        quantity -> Integer,
        restocked -> Integer,
    }
}

diesel::table! {
    orders.payments (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        provider -> Text,
        method -> Text,
        status -> Text,
        currency -> Text,
        amount -> BigInt,
        captured_amount -> BigInt,
        refunded_amount -> BigInt,
        provider_reference -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        client_secret -> Nullable<Text>,
    }
}

diesel::table! {
    orders.refunds (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        payment_id -> Uuid,
        amount -> BigInt,
        reason -> Text,
        status -> Text,
        provider_reference -> Nullable<Text>,
        failure -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders.fulfillments (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        vendor_order_id -> Uuid,
        carrier -> Text,
        tracking_number -> Text,
        shipped_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    orders.counters (tenant_id, name) {
        tenant_id -> Uuid,
        name -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    orders.outbox (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        topic -> Text,
        aggregate_id -> Nullable<Uuid>,
        payload -> Jsonb,
    }
}

diesel::table! {
    orders.shipping_methods (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        kind -> Text,
        currency -> Text,
        rate -> BigInt,
        free_above -> Nullable<BigInt>,
        pickup_location -> Nullable<Text>,
        countries -> Array<Text>,
        active -> Bool,
        position -> Integer,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders.cart_shipments (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        cart_id -> Uuid,
        vendor_id -> Nullable<Uuid>,
        method_id -> Uuid,
        delivery_instructions -> Text,
    }
}

diesel::table! {
    orders.tax_rules (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        country_code -> Text,
        region -> Nullable<Text>,
        category_id -> Nullable<Uuid>,
        rate -> Integer,
        inclusive -> Bool,
        created_at -> Timestamptz,
    }
}

// `created_at` left out: 16 columns at most.
diesel::table! {
    orders.discount_codes (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        code -> Text,
        kind -> Text,
        percent -> Nullable<Integer>,
        amount -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        min_subtotal -> Nullable<BigInt>,
        starts_at -> Timestamptz,
        ends_at -> Nullable<Timestamptz>,
        usage_limit -> Nullable<Integer>,
        per_customer_limit -> Nullable<Integer>,
        times_used -> Integer,
        vendor_id -> Nullable<Uuid>,
        category_id -> Nullable<Uuid>,
        active -> Bool,
    }
}

diesel::table! {
    orders.discount_redemptions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        discount_id -> Uuid,
        order_id -> Uuid,
        customer_id -> Nullable<Uuid>,
        email -> Nullable<Text>,
        amount -> BigInt,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    carts,
    cart_lines,
    orders,
    vendor_orders,
    allocations,
    payments,
    fulfillments,
);

diesel::table! {
    orders.returns (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        status -> Text,
        reason -> Text,
        staff_note -> Nullable<Text>,
        requested_by -> Nullable<Uuid>,
        amount -> BigInt,
        refund_id -> Nullable<Uuid>,
        restocked -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders.return_lines (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        return_id -> Uuid,
        order_line_id -> Uuid,
        quantity -> Integer,
        amount -> BigInt,
    }
}

diesel::table! {
    orders.disputes (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        reason -> Text,
        status -> Text,
        resolution -> Nullable<Text>,
        resolution_note -> Nullable<Text>,
        refund_id -> Nullable<Uuid>,
        opened_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    orders.dispute_messages (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        dispute_id -> Uuid,
        author_id -> Nullable<Uuid>,
        side -> Text,
        body -> Text,
        evidence -> Array<Text>,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(returns, return_lines);
