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
