// Reaches into the native runtime's own modules (pids, /proc, log files).
import { nativeRuntime } from '../../stack/runtimes/native/index.js';

export const runtime = nativeRuntime;
