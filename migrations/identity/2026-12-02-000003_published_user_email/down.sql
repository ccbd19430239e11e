DROP FUNCTION identity.user_email(uuid);
