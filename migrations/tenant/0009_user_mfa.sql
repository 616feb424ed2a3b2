-- An optional TOTP second factor for tenant accounts (tenant admins and clinic owners may
-- enrol one): the same shape as platform.admin_mfa (platform migration 0008).
CREATE TABLE user_mfa (
    account_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret           bytea NOT NULL CHECK (length(secret) = 32),
    confirmed_at     timestamptz,
    last_step        bigint NOT NULL DEFAULT 0,
    recovery_hashes  text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now()
);
