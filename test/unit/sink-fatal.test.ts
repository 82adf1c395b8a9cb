import { describe, expect, it } from 'vitest';
import { isFatalKafkaError } from '../../src/sink/sink.js';

describe('isFatalKafkaError: what a new consumer would meet again', () => {
  it('denied access and refused credentials fail the sink, also as the cause of a wrapping error', () => {
    expect(isFatalKafkaError({ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED' })).toBe(true);
    expect(isFatalKafkaError({ name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' })).toBe(true);
    expect(isFatalKafkaError({ name: 'KafkaJSSASLAuthenticationError' })).toBe(true);
    expect(isFatalKafkaError({ name: 'KafkaJSNonRetriableError', cause: { type: 'SASL_AUTHENTICATION_FAILED' } })).toBe(true);
  });

  it('an ended membership or a moved coordinator does not: a new consumer rejoins', () => {
    expect(isFatalKafkaError({ name: 'KafkaJSProtocolError', type: 'UNKNOWN_MEMBER_ID' })).toBe(false);
    expect(isFatalKafkaError({ name: 'KafkaJSProtocolError', type: 'ILLEGAL_GENERATION' })).toBe(false);
    expect(isFatalKafkaError({ name: 'KafkaJSNonRetriableError', cause: { type: 'NOT_COORDINATOR' } })).toBe(false);
    expect(isFatalKafkaError(new Error('Closed connection'))).toBe(false);
    expect(isFatalKafkaError(undefined)).toBe(false);
  });
});
