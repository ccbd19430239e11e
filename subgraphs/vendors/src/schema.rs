//! Diesel table definitions of the `vendors` schema (see migrations/vendors).

diesel::table! {
    vendors.vendors (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        handle -> Text,
        name -> Text,
        description -> Text,
        logo_url -> Nullable<Text>,
        email -> Text,
        phone -> Nullable<Text>,
        address -> Nullable<Jsonb>,
        default_currency -> Text,
        handling_days -> Integer,
        status -> Text,
        status_reason -> Nullable<Text>,
        version -> Integer,
        approved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    vendors.settings (tenant_id) {
        tenant_id -> Uuid,
        required_documents -> Array<Text>,
        updated_at -> Timestamptz,
        tax_commissionable -> Bool,
        shipping_commissionable -> Bool,
        hold_days -> Integer,
    }
}

diesel::table! {
    vendors.documents (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        vendor_id -> Uuid,
        kind -> Text,
        url -> Text,
        sha256 -> Text,
        expires_on -> Date,
        status -> Text,
        reason -> Nullable<Text>,
        submitted_by -> Nullable<Uuid>,
        reviewed_by -> Nullable<Uuid>,
        reviewed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    vendors.organizations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    vendors.members (tenant_id, organization_id, user_id) {
        tenant_id -> Uuid,
        organization_id -> Uuid,
        kind -> Text,
        user_id -> Uuid,
        role -> Text,
        email -> Text,
        order_limit -> Nullable<Int8>,
        monthly_limit -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    vendors.invitations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        organization_id -> Uuid,
        kind -> Text,
        email -> Text,
        role -> Text,
        token_digest -> Bytea,
        status -> Text,
        invited_by -> Nullable<Uuid>,
        accepted_by -> Nullable<Uuid>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    vendors.company_locations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        company_id -> Uuid,
        name -> Text,
        address -> Jsonb,
        is_default -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    vendors.tax_exemptions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        company_id -> Uuid,
        country -> Text,
        region -> Nullable<Text>,
        number -> Text,
        valid_from -> Date,
        valid_until -> Date,
        document_url -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        reviewed_by -> Nullable<Uuid>,
        reviewed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}
