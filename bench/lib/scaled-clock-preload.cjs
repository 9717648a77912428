"use strict";
// Bench only (never part of the product): loaded with `NODE_OPTIONS=--require` into the Lambda process the bench
// starts, it makes that process's clock run BENCH_TIME_SCALE times faster than real time, anchored so that it
// agrees with the bench's own ScaledClock (bench/lib/clock.ts), which the GitHub emulator and the runbook simulator
// use. `Date`, `Date.now()`, `setTimeout`/`setInterval` (global and `node:timers`) and `node:timers/promises` all
// see emulated time, so GitHub's limits, retry-after, the client's pacing and the Lambda's time budget shrink by
// the same factor. Work that takes real time (CPU, loopback I/O) appears `scale` times longer.

const scale = Number(process.env.BENCH_TIME_SCALE);
const anchorReal = Number(process.env.BENCH_ANCHOR_REAL_MS);
const anchorEmulated = Number(process.env.BENCH_ANCHOR_MS);
if (!(scale >= 1) || !Number.isFinite(anchorReal) || !Number.isFinite(anchorEmulated)) {
  throw new Error(
    "scaled-clock-preload: BENCH_TIME_SCALE (>= 1), BENCH_ANCHOR_REAL_MS and BENCH_ANCHOR_MS must be set.",
  );
}

const RealDate = Date;
const realNow = () => performance.timeOrigin + performance.now();
const emulatedNow = () => Math.floor(anchorEmulated + (realNow() - anchorReal) * scale);

globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) =>
    Reflect.construct(target, args.length === 0 ? [emulatedNow()] : args, newTarget),
  apply: () => new RealDate(emulatedNow()).toString(),
  get: (target, property, receiver) =>
    property === "now" ? emulatedNow : Reflect.get(target, property, receiver),
});

const shrink = (ms) => Math.max(0, Number(ms) || 0) / scale;
const timers = require("node:timers");
const timersPromises = require("node:timers/promises");
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realSetInterval = globalThis.setInterval;
const realPromiseTimeout = timersPromises.setTimeout;
const realPromiseInterval = timersPromises.setInterval;

// Node runs a timer no sooner than 1 ms real, i.e. `scale` ms emulated: a zero-delay timer (Bottleneck, inside
// plugin-throttling, sets several per request) would cost `scale` times what it costs in real time. A timer that
// is due in less than a real millisecond runs on the next turn of the event loop instead.
function scaledSetTimeout(callback, ms, ...args) {
  const real = shrink(ms);
  return real < 1 ? setImmediate(callback, ...args) : realSetTimeout(callback, real, ...args);
}
function scaledClearTimeout(handle) {
  if (handle?.constructor?.name === "Immediate") clearImmediate(handle);
  else realClearTimeout(handle);
}
function scaledSetInterval(callback, ms, ...args) {
  return realSetInterval(callback, shrink(ms), ...args);
}
globalThis.setTimeout = scaledSetTimeout;
globalThis.clearTimeout = scaledClearTimeout;
globalThis.setInterval = scaledSetInterval;
timers.setTimeout = scaledSetTimeout;
timers.clearTimeout = scaledClearTimeout;
timers.setInterval = scaledSetInterval;
// A request timeout (`AbortSignal.timeout`, which Node runs on the timers above) guards against a stalled peer.
// On loopback with emulated latency the only thing a scaled one could catch is the bench's own real work (the
// emulator, moto, this process), which a high scale inflates: at ×250 a 15 s timeout would be 60 ms of real time.
// So request timeouts run in real time, unscaled; every other time (latency, limits, retry-after, pacing, the
// step budget) stays scaled.
AbortSignal.timeout = (ms) => {
  const controller = new AbortController();
  const abort = () =>
    controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
  realSetTimeout(abort, Math.max(0, Number(ms) || 0)).unref();
  return controller.signal;
};
timersPromises.setTimeout = (ms, value, options) => realPromiseTimeout(shrink(ms), value, options);
timersPromises.setInterval = (ms, value, options) => realPromiseInterval(shrink(ms), value, options);
