-- A service's database owned by its migration role, and the privileges of its app role. Included by
-- roles.sql; run alone (same variables, passwords aside) to recreate a dropped database for existing
-- roles, e.g. to restore a backup in place (docs/operations.md, "Backup and restore").

-- The migrator owns the database: it may create the schema's objects and trusted extensions
-- (metadata's migrations create pg_trgm). `main.js migrate` finds the database and creates nothing.
CREATE DATABASE :"db" OWNER :"migrator";
-- Other roles of the server (other services' included) may not connect; the app role may, but may
-- not create schemas or temporary tables.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";

\connect :"db"
-- PostgreSQL 15 and later already deny CREATE on schema public to PUBLIC; earlier versions do not.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"migrator";
GRANT USAGE ON SCHEMA public TO :"app";

-- Whatever the migrator creates from now on is usable by the app role: rows, not structure.
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO :"app";

-- Objects that exist already: none in a new database; the same grants for a database moved to this
-- split (docs/operations.md, "Databases and roles").
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO :"app";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO :"app";
