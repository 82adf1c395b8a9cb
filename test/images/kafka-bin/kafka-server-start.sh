#!/usr/bin/env bash
# Kafka's kafka-server-start.sh: the broker (kafka.Kafka) with a server heap and log4j2 to stdout.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 server.properties [--override property=value]*" >&2
  exit 1
fi
base="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/log4j2.yaml}"
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms512m}"
exec "$base/bin/kafka-run-class.sh" kafka.Kafka "$@"
