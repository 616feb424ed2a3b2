-- Exclusion constraints over (who, when) for the booking module: btree_gist gives uuid the
-- GiST equality its constraints combine with range overlap. Trusted since PostgreSQL 13, so the
-- database owner creates it, next to the search extensions.
CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA extensions;
