#!/usr/bin/env bash
# Starts the service. With no DATABASE_URL, REDIS_URL or KAFKA_BROKERS it runs on the embedded
# default (PGlite in .data/, in-process cache, REST only) and needs no servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
exec node src/server.ts
