-- Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d), as POSTGRES_USER,
-- on the first start with an empty data volume. One database per service, owned by
-- POSTGRES_USER; each service creates its own tables by running its migrations at start.
-- To re-run this script, remove the volume: `docker compose down --volumes`.
CREATE DATABASE registry;
CREATE DATABASE programme;
CREATE DATABASE budget;
CREATE DATABASE notifications;
CREATE DATABASE identity;
