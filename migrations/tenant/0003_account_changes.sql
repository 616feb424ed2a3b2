-- Every committed change to an account is announced on the NOTIFY channel
-- 'clinicore_accounts' as '<schema>:<user id>'. Servers keep accounts read by id in memory
-- (platform/auth/account_cache) and forget one when its notice arrives; a trigger, rather
-- than a call in each service, means no write path (a future module, a CLI, an operator's
-- SQL) can change an account without the caches hearing of it. NOTIFY is transactional: a
-- rolled-back change announces nothing, and the notice is delivered only after the commit.
CREATE FUNCTION announce_account_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clinicore_accounts', TG_TABLE_SCHEMA || ':' || OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_announce_change
    AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION announce_account_change();
