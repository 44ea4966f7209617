#!/bin/sh
# Runs once, on the first start of an empty data directory (the postgres image's initdb hook).
# One server, separate databases and roles: `hrops` owns the HR store; `temporal` may create
# Temporal's two databases (temporal-schema does that). Neither role can read the other's data.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v store_password="$STORE_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
-- CREATEROLE: the store's migrations may add NOLOGIN roles of their own (row-level security).
CREATE ROLE hrops LOGIN CREATEROLE PASSWORD :'store_password';
CREATE DATABASE hrops OWNER hrops;
REVOKE ALL ON DATABASE hrops FROM PUBLIC;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
