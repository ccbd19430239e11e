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
        archived_at -> Nullable<Timestamptz>,
        product_type -> Nullable<Text>,
        tags -> Array<Text>,
        metadata -> Jsonb,
        vendor_id -> Nullable<Uuid>,
        rating_counts -> Array<Integer>,
        units_sold -> BigInt,
    }
}

diesel::table! {
    catalog.product_media (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        url -> Text,
        alt_text -> Text,
        position -> Integer,
        created_at -> Timestamptz,
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

diesel::table! {
    catalog.customer_groups (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        description -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.customer_group_members (tenant_id, group_id, user_id) {
        tenant_id -> Uuid,
        group_id -> Uuid,
        user_id -> Uuid,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.price_lists (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        kind -> Text,
        customer_group_id -> Nullable<Uuid>,
        starts_at -> Nullable<Timestamptz>,
        ends_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.price_list_prices (tenant_id, price_list_id, variant_id, currency) {
        tenant_id -> Uuid,
        price_list_id -> Uuid,
        variant_id -> Uuid,
        currency -> Text,
        amount -> BigInt,
    }
}

diesel::table! {
    catalog.volume_tiers (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        variant_id -> Nullable<Uuid>,
        currency -> Text,
        customer_group_id -> Nullable<Uuid>,
        min_quantity -> Integer,
        max_quantity -> Nullable<Integer>,
        unit_amount -> Nullable<BigInt>,
        percent_off_bp -> Nullable<Integer>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.stock_locations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        address -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.stock_levels (tenant_id, variant_id, location_id) {
        tenant_id -> Uuid,
        variant_id -> Uuid,
        location_id -> Uuid,
        on_hand -> Integer,
        low_stock_threshold -> Nullable<Integer>,
        low_stock_alerted -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.stock_reservations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        variant_id -> Uuid,
        location_id -> Uuid,
        owner -> Text,
        quantity -> Integer,
        status -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.stock_movements (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        variant_id -> Uuid,
        location_id -> Uuid,
        delta -> Integer,
        on_hand_after -> Integer,
        reason -> Text,
        note -> Text,
        reference -> Nullable<Text>,
        actor_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.stock_transfers (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        from_location_id -> Uuid,
        to_location_id -> Uuid,
        status -> Text,
        note -> Text,
        created_at -> Timestamptz,
        shipped_at -> Nullable<Timestamptz>,
        received_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    catalog.stock_transfer_lines (tenant_id, transfer_id, variant_id) {
        tenant_id -> Uuid,
        transfer_id -> Uuid,
        variant_id -> Uuid,
        quantity -> Integer,
    }
}

diesel::table! {
    catalog.outbox (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        topic -> Text,
        aggregate_id -> Nullable<Uuid>,
        payload -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    product_media,
    wishlists,
    wishlist_items,
    reviews,
    review_responses,
    review_votes,
    product_translations,
    product_categories,
    collections,
    collection_products,
    products,
    product_options,
    product_variants,
    variant_prices,
    customer_groups,
    customer_group_members,
    price_lists,
    price_list_prices,
    volume_tiers,
    stock_locations,
    stock_levels,
    stock_reservations,
    stock_movements,
    stock_transfers,
    stock_transfer_lines,
    outbox,
);

diesel::table! {
    catalog.product_categories (tenant_id, product_id, category_id) {
        tenant_id -> Uuid,
        product_id -> Uuid,
        category_id -> Uuid,
    }
}

diesel::table! {
    catalog.collections (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        title -> Text,
        handle -> Text,
        description -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.collection_products (tenant_id, collection_id, product_id) {
        tenant_id -> Uuid,
        collection_id -> Uuid,
        product_id -> Uuid,
        position -> Integer,
    }
}

diesel::table! {
    catalog.product_translations (tenant_id, product_id, locale) {
        tenant_id -> Uuid,
        product_id -> Uuid,
        locale -> Text,
        title -> Text,
        description -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.reviews (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        customer_id -> Uuid,
        rating -> SmallInt,
        title -> Text,
        body -> Text,
        status -> Text,
        verified_purchase -> Bool,
        helpful_count -> Integer,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        moderated_at -> Nullable<Timestamptz>,
        version -> Integer,
    }
}

diesel::table! {
    catalog.review_responses (tenant_id, review_id) {
        tenant_id -> Uuid,
        review_id -> Uuid,
        responder_id -> Nullable<Uuid>,
        body -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.review_votes (tenant_id, review_id, customer_id) {
        tenant_id -> Uuid,
        review_id -> Uuid,
        customer_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.wishlists (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        name -> Text,
        share_token -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    catalog.wishlist_items (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        wishlist_id -> Uuid,
        product_id -> Uuid,
        variant_id -> Nullable<Uuid>,
        added_at -> Timestamptz,
    }
}
