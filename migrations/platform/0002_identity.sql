-- Platform admins: a realm of their own, separate from every tenant's users, with tokens of
-- their own audience. The tables mirror tenant/0002_identity.sql column for column so one
-- implementation of login, refresh rotation and audit serves both realms.

CREATE TABLE platform.admins (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_normalized  text NOT NULL,
    full_name         text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    phone             text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    role              text NOT NULL DEFAULT 'platform_admin' CHECK (role = 'platform_admin'),
    password_hash     text,
    active            boolean NOT NULL DEFAULT true,
    locale            text,
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz
);
CREATE UNIQUE INDEX admins_email_live_idx ON platform.admins (email_normalized) WHERE deleted_at IS NULL;

CREATE TABLE platform.admin_refresh_tokens (
    token_hash      bytea PRIMARY KEY,
    family_id       uuid NOT NULL,
    user_id         uuid NOT NULL REFERENCES platform.admins (id),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    rotated_at      timestamptz,
    revoked_at      timestamptz,
    revoked_reason  text
);
CREATE INDEX admin_refresh_tokens_family_idx ON platform.admin_refresh_tokens (family_id);
CREATE INDEX admin_refresh_tokens_user_idx ON platform.admin_refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE platform.admin_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    action       text NOT NULL,
    subject_id   uuid,
    ip           text,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX admin_audit_subject_idx ON platform.admin_audit (subject_id, occurred_at);
