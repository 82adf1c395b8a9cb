#!/usr/bin/env bash
# Kafka's connect-distributed.sh: a distributed Connect worker with log4j2 to stdout.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 connect-distributed.properties" >&2
  exit 1
fi
base="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/log4j2.yaml}"
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
exec "$base/bin/kafka-run-class.sh" org.apache.kafka.connect.cli.ConnectDistributed "$@"
