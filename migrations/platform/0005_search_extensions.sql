-- Text search for every tenant: trigram indexes (pg_trgm) and accent folding (unaccent), both
-- trusted extensions in PostgreSQL 13+, so the database owner (the service role) creates them.
-- An extension exists once per database, so they live in a schema of their own that every
-- tenant role may use; tenant migrations name it explicitly (their search_path is their schema).
CREATE SCHEMA IF NOT EXISTS extensions;
GRANT USAGE ON SCHEMA extensions TO PUBLIC;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA extensions;

-- The one folding of searchable text, applied when a row is written and to every search term:
-- lower case, accents removed ("Ελένη Παπαδοπούλου" and "elena muller" match "Müller").
-- unaccent is STABLE only because its dictionary could be edited; ours never is, so this
-- wrapper may be IMMUTABLE (and index expressions may use it). The dictionary is named with its
-- schema, so no search_path is consulted.
CREATE FUNCTION extensions.search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT pg_catalog.lower(extensions.unaccent('extensions.unaccent'::regdictionary, $1))
$$;
GRANT EXECUTE ON FUNCTION extensions.search_fold(text) TO PUBLIC;
