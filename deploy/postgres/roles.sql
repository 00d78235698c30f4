-- One service's database and its two roles: a migration role that owns the schema (DDL) and an app
-- role that only reads and writes rows. Run once per service database, as a role allowed to create
-- roles and databases (the server's admin), with psql:
--
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v db=overture_auth \
--     -v migrator=overture_auth_migrator -v migrator_password="$(openssl rand -hex 24)" \
--     -v app=overture_auth_app -v app_password="$(openssl rand -hex 24)" \
--     -f deploy/postgres/roles.sql
--
-- The migration role's URL goes in Secret overture-<app>-db-migrate, the app role's in
-- overture-<app>-db (deploy/README.md, "Databases and roles"). tools/db-roles/check.ts runs this file
-- against a real server and proves the split: migrations succeed as the migrator, the suite serves as
-- the app roles, and an app role cannot create a table. database.sql, which it includes, makes the
-- database and its privileges for existing roles (what a restore in place runs again).

-- Neither role may create roles or databases, or bypass row security.
CREATE ROLE :"migrator" LOGIN PASSWORD :'migrator_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

\ir database.sql
