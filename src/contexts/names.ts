/** `local` is not a context: it means the local stack. */
export const LOCAL = 'local';

/** What a context may be called (and `local` may not). */
export const CONTEXT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
