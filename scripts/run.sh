#!/usr/bin/env bash
# Starts the service. With no DATABASE_URL, REDIS_URL or KAFKA_BROKERS it runs on the embedded
# default (PGlite in .data/, in-process cache, REST only) and needs no servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node-env.sh
# kafkajs 2.2.4 on Node 24 warns about a negative timeout in its request queue (kafkajs#1751); harmless.
exec node --disable-warning=TimeoutNegativeWarning src/server.ts
