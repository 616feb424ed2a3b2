-- The CRM module (tenants/crm): leads, their timeline and tags.

-- What the clinics module publishes for other modules to read: who works at which clinic, in
-- which role, among the users who may work. Modules read this view, never clinic_staff itself.
CREATE VIEW clinic_team AS
  SELECT s.clinic_id, s.user_id, u.role, s.created_at
  FROM clinic_staff s JOIN users u ON u.id = s.user_id
  WHERE u.active AND u.deleted_at IS NULL;

CREATE TABLE tags (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    color       text NOT NULL DEFAULT '#64748b' CHECK (color ~ '^#[0-9a-f]{6}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
-- A live name is unique whatever its case ("VIP" and "vip" are one tag).
CREATE UNIQUE INDEX tags_name_live_idx ON tags (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE leads (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    first_name        text NOT NULL DEFAULT '' CHECK (length(first_name) <= 100),
    last_name         text NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
    email             text CHECK (length(email) BETWEEN 3 AND 254),
    email_normalized  text,
    phone             text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    source            text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_-]{0,63}$'),
    external_id       text CHECK (length(external_id) <= 200),
    campaign          jsonb NOT NULL DEFAULT '{}'::jsonb,
    clinic_id         uuid REFERENCES clinics (id),
    service_id        uuid REFERENCES services (id),
    status            text NOT NULL DEFAULT 'new'
                           CHECK (status IN ('new', 'contacted', 'qualified', 'booked', 'won', 'lost')),
    lost_reason       text CHECK (length(lost_reason) <= 500),
    owner_id          uuid REFERENCES users (id),
    consent           jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- extensions.search_fold of names, email and the phone's digits, written with the row.
    search_text       text NOT NULL DEFAULT '',
    -- The last thing a person did on the lead; a lead quiet for crm.stale_after_hours gets a
    -- follow-up task, once per quiet spell (stale_flagged_for holds the spell it was raised for).
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    stale_flagged_for timestamptz,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at        timestamptz,
    CHECK (email IS NOT NULL OR phone IS NOT NULL),
    CHECK (status <> 'lost' OR lost_reason IS NOT NULL)  -- the API also clears it on reopening
);
-- Keyset orders of the list: created_at or updated_at, either direction, id breaking ties.
CREATE INDEX leads_created_idx ON leads (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_updated_idx ON leads (updated_at, id) WHERE deleted_at IS NULL;
-- Dedupe looks a new lead's email and phone up among the live leads.
CREATE INDEX leads_email_idx ON leads (email_normalized, created_at) WHERE deleted_at IS NULL;
CREATE INDEX leads_phone_idx ON leads (phone, created_at) WHERE deleted_at IS NULL;
CREATE INDEX leads_owner_idx ON leads (owner_id, status) WHERE deleted_at IS NULL;
CREATE INDEX leads_clinic_idx ON leads (clinic_id, created_at) WHERE deleted_at IS NULL;
-- fastupdate off: a search never scans a pending list of unmerged entries (up to 4 MB between
-- vacuums, read in full by every search); each insert merges its own trigrams instead.
CREATE INDEX leads_search_idx ON leads USING gin (search_text extensions.gin_trgm_ops) WITH (fastupdate = off)
    WHERE deleted_at IS NULL;
CREATE INDEX leads_quiet_idx ON leads (last_activity_at)
    WHERE deleted_at IS NULL AND status NOT IN ('won', 'lost');

-- search_text follows the columns it folds, whoever writes them.
CREATE FUNCTION leads_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := extensions.search_fold(pg_catalog.concat_ws(' ', NEW.first_name, NEW.last_name, NEW.email,
                         pg_catalog.regexp_replace(coalesce(NEW.phone, ''), '[^0-9]', '', 'g')));
  RETURN NEW;
END $$;
CREATE TRIGGER leads_search_text BEFORE INSERT OR UPDATE OF first_name, last_name, email, phone ON leads
    FOR EACH ROW EXECUTE FUNCTION leads_search_text();

-- Who sees a lead: the one rule, used by the CRM's statements (CLINICORE_LEAD_VISIBLE) and by
-- modules that name leads (tasks). `clinics` NULL: every clinic; `salesperson`: the one asking,
-- who sees the leads they own and the unowned ones of their clinics, or every lead when
-- `sees_all` (crm_salesperson_sees_all(): the tenant's crm.salesperson_sees_all). A plain
-- expression, so PostgreSQL inlines it into the caller's plan; callers pass
-- `(SELECT crm_salesperson_sees_all())`, which it reads once per statement.
CREATE FUNCTION lead_visible_to(clinic_id uuid, owner_id uuid, clinics uuid[], salesperson uuid, sees_all boolean)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT (salesperson IS NULL AND (clinics IS NULL OR clinic_id = ANY (clinics))) OR
         (salesperson IS NOT NULL AND (owner_id = salesperson OR (owner_id IS NULL AND clinic_id = ANY (clinics))
          OR sees_all))
$$;
CREATE FUNCTION crm_salesperson_sees_all() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT value = 'true'::jsonb FROM settings WHERE key = 'crm.salesperson_sees_all'), false)
$$;

CREATE TABLE lead_tags (
    lead_id     uuid NOT NULL REFERENCES leads (id),
    tag_id      uuid NOT NULL REFERENCES tags (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lead_id, tag_id)
);
CREATE INDEX lead_tags_tag_idx ON lead_tags (tag_id, lead_id);

-- The lead's timeline. Entries that other modules' events write carry the event's id, so a
-- redelivered event adds nothing.
CREATE TABLE lead_activities (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id     uuid NOT NULL REFERENCES leads (id),
    kind        text NOT NULL CHECK (kind IN ('created', 'merged', 'updated', 'status_changed', 'assigned',
                                              'note', 'tagged', 'untagged', 'task', 'task_due', 'message',
                                              'booking', 'deleted')),
    actor_id    uuid,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    event_id    uuid UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX lead_activities_lead_idx ON lead_activities (lead_id, created_at DESC, id DESC);

-- Round-robin assignment: the salesperson each clinic gave its last lead to.
CREATE TABLE crm_assignment_turns (
    clinic_id   uuid PRIMARY KEY REFERENCES clinics (id),
    last_owner  uuid NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The lead-page cache of every `serve` (tenants/crm/lead_page_cache.hpp) forgets all of a
-- tenant's pages when PostgreSQL announces a committed change to its leads, their tags or its
-- settings (which decide what salespeople see), from any writer: NOTIFY clinicore_leads
-- '<schema>:*'. Once per statement: a scan that flags 200 leads sends one notice.
CREATE FUNCTION announce_leads_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clinicore_leads', TG_TABLE_SCHEMA || ':*');
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_announce_change AFTER INSERT OR UPDATE OR DELETE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION announce_leads_change();
CREATE TRIGGER lead_tags_announce_change AFTER INSERT OR UPDATE OR DELETE ON lead_tags
    FOR EACH STATEMENT EXECUTE FUNCTION announce_leads_change();
CREATE TRIGGER settings_announce_change AFTER INSERT OR UPDATE OR DELETE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION announce_leads_change();
