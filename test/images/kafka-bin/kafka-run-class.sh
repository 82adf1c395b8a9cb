#!/usr/bin/env bash
# Kafka's kafka-run-class.sh, reduced to what the test images need: java with the heap, JVM and
# log4j2 options of the environment (Kafka's variable names), the jars of /opt/kafka/libs.
set -e
base="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi
# Tools log warnings to stderr only; servers set KAFKA_LOG4J_OPTS (kafka-server-start.sh, connect-distributed.sh).
: "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=$base/config/tools-log4j2.yaml}"
: "${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"
# shellcheck disable=SC2086 # the *_OPTS variables are lists of words, as in Kafka's own script
exec java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS $KAFKA_OPTS -cp "$base/libs/*" "$@"
