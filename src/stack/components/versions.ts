/** Versions the stack pins; `outboxctl --version` prints them. */
export const KAFKA_VERSION = '4.3.1';
export const DEBEZIUM_VERSION = '3.6.1.Final';
export const LOG4J_VERSION = '2.25.3';
export const SLF4J_VERSION = '2.0.17';
export const ELASTICSEARCH_VERSION = '7.10.2';
/** Log4j for the Elasticsearch runner: 7.10.2 ships 2.11.1, which has CVE-2021-44228. */
export const ES_LOG4J_VERSION = '2.17.2';
