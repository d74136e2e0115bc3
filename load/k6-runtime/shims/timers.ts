/**
 * k6/timers: the VU's tracked timers (event-loop.ts installs them on globalThis before the script loads; the
 * iteration waits for them, as k6's event loop does). Looked up at call time so the tracked ones are used.
 */
type Fn = (...a: unknown[]) => void;
type Handle = ReturnType<typeof globalThis.setTimeout>;
export const setTimeout = (fn: Fn, ms?: number, ...args: unknown[]): Handle => globalThis.setTimeout(fn, ms, ...args);
export const clearTimeout = (h: Handle): void => globalThis.clearTimeout(h);
export const setInterval = (fn: Fn, ms?: number, ...args: unknown[]): Handle => globalThis.setInterval(fn, ms, ...args);
export const clearInterval = (h: Handle): void => globalThis.clearInterval(h);
export default { setTimeout, clearTimeout, setInterval, clearInterval };
