-- The request kit of every module (docs/modules.md).
--
-- One audit writer: every state change of every module goes to audit_log in the transaction
-- of the change, with who acted (id and role), what (action), on which record (entity and
-- its id) and a before/after diff with secrets masked in `details`.
ALTER TABLE audit_log
    ADD COLUMN actor_role text,
    ADD COLUMN entity     text,
    ADD COLUMN entity_id  text;
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, occurred_at);

-- Idempotency-Key for any POST: the first answer under a key is kept and replayed to a retry
-- with the same body; another body under the same key is a 409. `scope` is the route and
-- the caller ("POST /v1/clinics user:<id>"), so one caller's keys never meet another's.
CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  text NOT NULL,
    status        int,
    body          text,
    location      text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
