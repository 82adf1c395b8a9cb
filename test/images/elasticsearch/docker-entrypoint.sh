#!/usr/bin/env bash
# The upstream elasticsearch image's entrypoint, for the test image: `eswrapper` (the default command)
# runs the node with ES_JAVA_OPTS (default -Xms1g -Xmx1g); its settings come from the environment
# (read by EsContainer: names with dots, ES_SETTING_*); any other command is run as it is.
set -euo pipefail
if [ "${1:-eswrapper}" != 'eswrapper' ] && [ "${1:0:1}" != '-' ]; then exec "$@"; fi
home=/usr/share/elasticsearch
# shellcheck disable=SC2086 # ES_JAVA_OPTS is a list of words
exec java ${ES_JAVA_OPTS:--Xms1g -Xmx1g} -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
  -Dlog4j2.formatMsgNoLookups=true -Dfile.encoding=UTF-8 -cp "$home/lib/*:$home/launcher" EsContainer
