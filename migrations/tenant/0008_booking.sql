-- The booking module (tenants/booking): slot holds, appointments, and the claims that make a
-- double booking impossible whatever the application does.

-- A hold reserves a practitioner and the service's resources for a few minutes while a client
-- decides. It blocks others until expires_at, and nobody after: there is no sweeper to wait for.
CREATE TABLE appointment_holds (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id        uuid NOT NULL REFERENCES clinics (id),
    service_id       uuid NOT NULL REFERENCES services (id),
    practitioner_id  uuid NOT NULL REFERENCES users (id),
    held_by          uuid NOT NULL REFERENCES users (id),
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    resource_ids     uuid[] NOT NULL DEFAULT '{}',
    -- Set when the hold was turned into an appointment or released: it holds nothing then.
    settled_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointment_holds_holder_idx ON appointment_holds (held_by, created_at);

-- A recurring booking: the same local time every `every_weeks` weeks. Its occurrences are
-- booked one by one by a job (booking.book-series), each with the same guarantee; one that
-- conflicts is recorded with its conflict and the others go on.
CREATE TABLE appointment_series (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id        uuid NOT NULL REFERENCES clinics (id),
    service_id       uuid NOT NULL REFERENCES services (id),
    practitioner_id  uuid NOT NULL REFERENCES users (id),
    client_id        uuid NOT NULL REFERENCES users (id),
    every_weeks      int NOT NULL CHECK (every_weeks BETWEEN 1 AND 52),
    notes            text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    created_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE series_occurrences (
    series_id       uuid NOT NULL REFERENCES appointment_series (id),
    occurrence      int NOT NULL CHECK (occurrence BETWEEN 0 AND 51),
    starts_at       timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'booked', 'conflict')),
    appointment_id  uuid,
    conflict        jsonb,  -- {field, message} of the refusal
    PRIMARY KEY (series_id, occurrence)
);

CREATE TABLE appointments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id          uuid NOT NULL REFERENCES clinics (id),
    service_id         uuid NOT NULL REFERENCES services (id),
    practitioner_id    uuid NOT NULL REFERENCES users (id),
    client_id          uuid NOT NULL REFERENCES users (id),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    resource_ids       uuid[] NOT NULL DEFAULT '{}',
    status             text NOT NULL DEFAULT 'booked'
                            CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show')),
    notes              text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    cancel_reason      text CHECK (length(cancel_reason) <= 500),
    amount_paid_minor  bigint CHECK (amount_paid_minor >= 0),
    paid_currency      text CHECK (paid_currency ~ '^[A-Z]{3}$'),
    hold_id            uuid,
    series_id          uuid REFERENCES appointment_series (id),
    booked_by          uuid REFERENCES users (id),
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointments_clinic_idx ON appointments (clinic_id, starts_at, id);
CREATE INDEX appointments_practitioner_idx ON appointments (practitioner_id, starts_at, id);
CREATE INDEX appointments_client_idx ON appointments (client_id, starts_at, id);
CREATE INDEX appointments_start_idx ON appointments (starts_at, id);

-- Each reminder raised, once per appointment start and lead time: a job that runs twice (its
-- first run's outcome lost) finds its row and raises nothing more.
CREATE TABLE appointment_reminders (
    appointment_id  uuid NOT NULL,
    starts_at       timestamptz NOT NULL,
    hours_before    int NOT NULL CHECK (hours_before BETWEEN 1 AND 720),
    raised_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (appointment_id, starts_at, hours_before)
);

-- THE guarantee. Every active appointment and every hold claims its practitioner and each of
-- its resources over its time, buffers included; two claims of one subject never overlap. A
-- concurrent claim of an overlapping time waits for the first to commit, then fails; adjacent
-- times ([a,b) and [b,c)) do not overlap. A hold's claim carries its expiry: the next claim that
-- overlaps an expired one deletes it first, in its own transaction (booking_claim below).
CREATE TABLE booking_claims (
    subject_id  uuid NOT NULL,  -- a practitioner's user id or a resource id
    busy        tstzrange NOT NULL,
    owner_id    uuid NOT NULL,  -- the appointment or hold
    expires_at  timestamptz,    -- a hold's expiry; NULL for an appointment's claim
    EXCLUDE USING gist (subject_id WITH =, busy WITH &&)
);
CREATE INDEX booking_claims_owner_idx ON booking_claims (owner_id);

-- Claims the practitioner and one free resource of each kind in `kinds` for `wanted`, for the
-- owner. Answers the resources it took, or names the conflict: 'practitioner' or the kind of
-- resource none of which was free. One round trip; each attempt is a subtransaction, so a
-- resource taken by a concurrent booking meanwhile just moves on to the next of its kind.
CREATE FUNCTION booking_claim(claim_owner uuid, expires timestamptz, practitioner uuid, clinic uuid,
                              kinds text[], wanted tstzrange, OUT conflict text, OUT resource_ids uuid[])
LANGUAGE plpgsql AS $$
DECLARE
    needed text;
    candidate uuid;
    claimed boolean;
BEGIN
    resource_ids := '{}';
    DELETE FROM booking_claims c
     WHERE c.expires_at <= clock_timestamp() AND c.busy && wanted
       AND (c.subject_id = practitioner OR c.subject_id IN (SELECT r.id FROM resources r WHERE r.clinic_id = clinic));
    BEGIN
        INSERT INTO booking_claims VALUES (practitioner, wanted, claim_owner, expires);
    EXCEPTION WHEN exclusion_violation THEN
        conflict := 'practitioner';
        RETURN;
    END;
    FOREACH needed IN ARRAY kinds LOOP
        claimed := false;
        FOR candidate IN
            SELECT r.id FROM resources r
             WHERE r.clinic_id = clinic AND r.kind = needed
               AND NOT EXISTS (SELECT 1 FROM booking_claims c
                                WHERE c.subject_id = r.id AND c.busy && wanted
                                  AND (c.expires_at IS NULL OR c.expires_at > clock_timestamp()))
             ORDER BY r.name COLLATE "C", r.id
        LOOP
            BEGIN
                INSERT INTO booking_claims VALUES (candidate, wanted, claim_owner, expires);
                resource_ids := resource_ids || candidate;
                claimed := true;
                EXIT;
            EXCEPTION WHEN exclusion_violation THEN
                NULL;  -- taken by a booking that committed meanwhile: try the next of its kind
            END;
        END LOOP;
        IF NOT claimed THEN
            conflict := needed;
            RETURN;
        END IF;
    END LOOP;
END
$$;

-- The schedule cache of every `serve` (tenants/booking/schedule_cache.hpp) forgets all of a
-- tenant's schedules when PostgreSQL announces a committed change to what availability is made
-- of, from any writer: NOTIFY clinicore_schedules '<schema>:*', once per statement.
CREATE FUNCTION announce_schedule_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clinicore_schedules', TG_TABLE_SCHEMA || ':*');
    RETURN NULL;
END
$$;
CREATE TRIGGER booking_claims_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON booking_claims
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER clinics_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON clinics
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER services_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER practitioners_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON practitioners
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER practitioner_services_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON practitioner_services
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER practitioner_time_off_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON practitioner_time_off
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER clinic_closures_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON clinic_closures
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER resources_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON resources
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
CREATE TRIGGER settings_announce_schedule_change AFTER INSERT OR UPDATE OR DELETE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION announce_schedule_change();
