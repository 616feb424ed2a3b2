-- Identity and access inside one tenant: its users, one-time password tokens (invitations),
-- refresh-token families and the audit trail of authentication events. The platform-admin
-- realm has the same shape in the platform schema (platform/0002_identity.sql), so one
-- implementation serves both.

CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_normalized  text NOT NULL,
    full_name         text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    phone             text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    role              text NOT NULL CHECK (role IN ('admin', 'clinic_owner', 'doctor', 'secretariat',
                                                    'salesperson', 'client')),
    password_hash     text,  -- NULL until an invited user sets one
    active            boolean NOT NULL DEFAULT true,
    locale            text,
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz  -- soft delete: the row stays for audit, the email is free again
);
CREATE UNIQUE INDEX users_email_live_idx ON users (email_normalized) WHERE deleted_at IS NULL;
CREATE INDEX users_listing_idx ON users (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX users_role_idx ON users (role, created_at, id) WHERE deleted_at IS NULL;

-- One-time tokens that let a user set a password (staff invitations, owner at onboarding).
-- Only a SHA-256 of the token is stored.
CREATE TABLE password_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    purpose     text NOT NULL CHECK (purpose IN ('invitation')),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_tokens_user_idx ON password_tokens (user_id);

-- Refresh tokens, hashed. Every use rotates: the used row gets rotated_at and a new row joins
-- the same family. Presenting a rotated token again revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash      bytea PRIMARY KEY,
    family_id       uuid NOT NULL,
    user_id         uuid NOT NULL REFERENCES users (id),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    rotated_at      timestamptz,
    revoked_at      timestamptz,
    revoked_reason  text
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- Authentication and account events (login ok/failed, lockout, refresh reuse, role change,
-- deactivation). Append-only; the compliance module extends it to every change.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    action       text NOT NULL,
    subject_id   uuid,
    ip           text,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_id, occurred_at);
