-- The tasks module (tenants/tasks): calls, follow-ups and reminders for staff.
CREATE TABLE tasks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    type            text NOT NULL CHECK (type IN ('call', 'follow_up', 'reminder', 'other')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    due_at          timestamptz NOT NULL,
    assignee_id     uuid NOT NULL REFERENCES users (id),
    lead_id         uuid REFERENCES leads (id),
    -- The booking module's appointments; the reference is checked once that module exists.
    appointment_id  uuid,
    notes           text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    created_by      uuid,
    -- Set on tasks an event created (the lead's follow-up): a redelivered event adds nothing.
    event_id        uuid UNIQUE,
    completed_at    timestamptz,
    -- The due time task.due was raised for: once per due time, however often the job runs.
    due_event_for   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tasks_due_idx ON tasks (due_at, id);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, due_at, id);
CREATE INDEX tasks_lead_idx ON tasks (lead_id, due_at) WHERE lead_id IS NOT NULL;
