-- The clinics & catalogue module (tenants/clinics): clinics with their opening hours and
-- closures, the services they offer, the doctors who practise there (with the services they
-- perform, their working hours and time off), rooms and devices, and who works where.
-- Opening and working hours are {"mon":[{"open":"09:00","close":"13:00"}, ...], ...} in the
-- clinic's time zone; the API validates their shape, the database keeps the JSON.

CREATE TABLE clinics (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address        text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
    phone          text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    email          text CHECK (length(email) <= 254),
    time_zone      text NOT NULL,
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    opening_hours  jsonb NOT NULL,
    owner_id       uuid REFERENCES users (id),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz  -- soft delete: hidden from every list, restorable by an admin
);
CREATE INDEX clinics_name_idx ON clinics ((name COLLATE "C"), id) WHERE deleted_at IS NULL;
CREATE INDEX clinics_owner_idx ON clinics (owner_id) WHERE deleted_at IS NULL;

CREATE TABLE clinic_closures (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id   uuid NOT NULL REFERENCES clinics (id),
    start_date  date NOT NULL,
    end_date    date NOT NULL,
    reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date >= start_date)
);
CREATE INDEX clinic_closures_clinic_idx ON clinic_closures (clinic_id, start_date, id);

CREATE TABLE services (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id              uuid NOT NULL REFERENCES clinics (id),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category               text NOT NULL DEFAULT '' CHECK (length(category) <= 100),
    duration_minutes       int NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    buffer_before_minutes  int NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 720),
    buffer_after_minutes   int NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 720),
    price_minor            bigint NOT NULL CHECK (price_minor >= 0),
    currency               text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    resource_kinds         text[] NOT NULL DEFAULT '{}',
    active                 boolean NOT NULL DEFAULT true,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz
);
CREATE INDEX services_clinic_idx ON services (clinic_id, (name COLLATE "C"), id) WHERE deleted_at IS NULL;

-- Who works at a clinic (doctors, secretariat, salespeople); clinic owners own clinics instead.
CREATE TABLE clinic_staff (
    clinic_id   uuid NOT NULL REFERENCES clinics (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, user_id)
);
CREATE INDEX clinic_staff_user_idx ON clinic_staff (user_id);

CREATE TABLE practitioners (
    clinic_id      uuid NOT NULL REFERENCES clinics (id),
    user_id        uuid NOT NULL REFERENCES users (id),
    working_hours  jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, user_id)
);

CREATE TABLE practitioner_services (
    clinic_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    service_id  uuid NOT NULL REFERENCES services (id),
    PRIMARY KEY (clinic_id, user_id, service_id),
    FOREIGN KEY (clinic_id, user_id) REFERENCES practitioners (clinic_id, user_id) ON DELETE CASCADE
);

CREATE TABLE practitioner_time_off (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    FOREIGN KEY (clinic_id, user_id) REFERENCES practitioners (clinic_id, user_id) ON DELETE CASCADE
);
CREATE INDEX practitioner_time_off_idx ON practitioner_time_off (clinic_id, user_id, starts_at);

CREATE TABLE resources (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id   uuid NOT NULL REFERENCES clinics (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('room', 'device')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resources_clinic_idx ON resources (clinic_id, (name COLLATE "C"), id);

-- The catalogue cache of every `serve` (tenants/clinics/catalogue_cache) forgets a clinic's
-- services when PostgreSQL announces a committed change to them, from any writer, as the
-- account cache does for accounts: NOTIFY clinicore_catalogue '<schema>:<clinic id>'.
CREATE FUNCTION announce_catalogue_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    clinic uuid;
BEGIN
    IF TG_TABLE_NAME = 'clinics' THEN
        clinic := COALESCE(NEW.id, OLD.id);
    ELSE
        clinic := COALESCE(NEW.clinic_id, OLD.clinic_id);
    END IF;
    PERFORM pg_notify('clinicore_catalogue', TG_TABLE_SCHEMA || ':' || clinic::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER services_announce_change
    AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION announce_catalogue_change();
CREATE TRIGGER clinics_announce_change
    AFTER UPDATE OR DELETE ON clinics
    FOR EACH ROW EXECUTE FUNCTION announce_catalogue_change();
