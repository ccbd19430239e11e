//! Diesel table definitions of the `catalog` schema (see migrations/catalog).

diesel::table! {
    catalog.products (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        title -> Text,
        handle -> Text,
        description -> Text,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.product_options (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        name -> Text,
        position -> Integer,
        option_values -> Array<Text>,
    }
}

diesel::table! {
    catalog.product_variants (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        sku -> Text,
        title -> Text,
        barcode -> Nullable<Text>,
        option_values -> Jsonb,
        weight_grams -> Nullable<Integer>,
        length_mm -> Nullable<Integer>,
        width_mm -> Nullable<Integer>,
        height_mm -> Nullable<Integer>,
        position -> Integer,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.variant_prices (tenant_id, variant_id, currency) {
        tenant_id -> Uuid,
        variant_id -> Uuid,
        currency -> Text,
        amount -> BigInt,
        updated_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    products,
    product_options,
    product_variants,
    variant_prices
);
