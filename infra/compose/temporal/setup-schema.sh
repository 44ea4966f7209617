#!/bin/sh
# Temporal's databases and schema on the shared Postgres, run by temporalio/admin-tools (it ships
# temporal-sql-tool and the schema files). Every step is idempotent: the first start creates,
# a start with a newer Temporal version upgrades, any other start changes nothing.
set -eu
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u temporal "$@"; }

until nc -z postgres 5432; do sleep 1; done
for db in temporal temporal_visibility; do
    dir=temporal
    [ "$db" = temporal_visibility ] && dir=visibility
    sql --db "$db" create
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "Temporal schema is up to date"
