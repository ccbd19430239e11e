//! Diesel table definitions of the `identity` schema (see migrations/identity).

diesel::table! {
    identity.tenants (id) {
        id -> Uuid,
        kind -> Text,
        name -> Text,
        slug -> Text,
        status -> Text,
        default_currency -> Text,
        default_locale -> Text,
        supported_locales -> Array<Text>,
        timezone -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    identity.tenant_domains (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        host -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    identity.users (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        email -> Text,
        password_hash -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        roles -> Array<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    identity.refresh_tokens (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    identity.api_keys (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        kind -> Text,
        key_hash -> Bytea,
        token_hint -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    identity.audit_log (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        actor_id -> Nullable<Uuid>,
        actor_kind -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Uuid>,
        details -> Jsonb,
        request_id -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    tenant_domains,
    users,
    refresh_tokens,
    api_keys,
    audit_log
);
