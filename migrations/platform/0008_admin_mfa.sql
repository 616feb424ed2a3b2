-- A second factor for platform admins: one TOTP secret per admin (RFC 6238, HMAC-SHA-256),
-- pending until the admin confirms a code from it, with single-use recovery codes stored as
-- SHA-256 hashes. last_step is the time step of the last code accepted: a code works once.
-- The secret itself must stay readable to verify codes; it is as private as the platform
-- schema (REVOKEd from PUBLIC), like the password hashes beside it.
CREATE TABLE platform.admin_mfa (
    account_id       uuid PRIMARY KEY REFERENCES platform.admins (id) ON DELETE CASCADE,
    secret           bytea NOT NULL CHECK (length(secret) = 32),
    confirmed_at     timestamptz,
    last_step        bigint NOT NULL DEFAULT 0,
    recovery_hashes  text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now()
);
