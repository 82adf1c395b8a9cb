/** Versions the stack pins; `outboxctl --version` prints them. */
export const KAFKA_VERSION = '4.3.1';
export const DEBEZIUM_VERSION = '3.6.1.Final';
export const LOG4J_VERSION = '2.25.3';
export const SLF4J_VERSION = '2.0.17';
