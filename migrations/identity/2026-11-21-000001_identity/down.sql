DROP FUNCTION identity.audit_record(uuid, uuid, text, text, text, uuid, jsonb, text);
DROP FUNCTION identity.api_key_authenticate(bytea);
DROP FUNCTION identity.tenant_lookup(uuid, text, text);
DROP TABLE identity.audit_log;
DROP TABLE identity.api_keys;
DROP TABLE identity.refresh_tokens;
DROP TABLE identity.users;
DROP TABLE identity.tenant_domains;
DROP TABLE identity.tenants;
