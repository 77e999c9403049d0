import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClockSkew, isClockSkewCorrected } from '../../plugins/s3/clock-skew.js';

const HOUR = 3_600_000;
const httpDate = (ms: number) => new Date(ms).toUTCString();

test('ClockSkew: every answer\'s Date re-estimates the offset; signing uses it', () => {
  const holder = { systemClockOffset: 0 };
  const clock = new ClockSkew(holder);
  const sent = Date.now();
  clock.sample(httpDate(Date.now() + HOUR), sent, undefined);
  assert.ok(Math.abs(holder.systemClockOffset - HOUR) < 2000, `offset ${holder.systemClockOffset}`);
  assert.ok(Math.abs(clock.signingDate().getTime() - (Date.now() + HOUR)) < 2000);
  // A cached answer (Age), an unparsable date or an answer that took over 15 minutes says nothing.
  clock.sample(httpDate(Date.now()), sent, '10');
  clock.sample('not a date', sent, undefined);
  clock.sample(httpDate(Date.now()), Date.now() - 901_000, undefined);
  clock.sample(undefined, sent, undefined);
  assert.ok(Math.abs(holder.systemClockOffset - HOUR) < 2000, 'unchanged');
});

test('ClockSkew: an error answer flags a correction of at least 4 minutes that changed the offset', () => {
  const holder = { systemClockOffset: 0 };
  const clock = new ClockSkew(holder);
  assert.equal(clock.correct(httpDate(Date.now() + HOUR), Date.now(), 0, undefined), true, 'a big correction: retry');
  assert.equal(clock.correct(httpDate(Date.now() + HOUR), Date.now(), holder.systemClockOffset, undefined), false, 'already corrected: no retry loop');
  // The Date header has whole seconds: the same skew seen a second later is still no new correction.
  assert.equal(clock.correct(httpDate(Date.now() + HOUR), Date.now(), holder.systemClockOffset - 1500, undefined), false, 'a second apart: no retry loop');
  assert.equal(clock.correct(httpDate(Date.now() + HOUR), Date.now(), HOUR - 300_000, undefined), true, 'moved by 5 minutes: retry');
  holder.systemClockOffset = 0;
  assert.equal(clock.correct(httpDate(Date.now() + 60_000), Date.now(), 0, undefined), false, 'a minute is not clock skew');
  assert.ok(holder.systemClockOffset > 55_000, 'but it is adopted');
  holder.systemClockOffset = 0;
  assert.equal(clock.correct(new Date(Date.now() - HOUR).toISOString(), Date.now(), 0, undefined), true, 'an ISO <ServerTime> parses too');
  assert.ok(Math.abs(holder.systemClockOffset + HOUR) < 2000);
});

test('ClockSkew: disabled (AWS_DISABLE_CLOCK_SKEW_CORRECTION) signs with the local clock and never corrects', () => {
  const holder = { systemClockOffset: 5 * HOUR };
  const clock = new ClockSkew(holder, true);
  assert.equal(clock.offset, 0);
  assert.equal(clock.correct(httpDate(Date.now() + HOUR), Date.now(), 0, undefined), false);
  clock.sample(httpDate(Date.now() + HOUR), Date.now(), undefined);
  assert.equal(holder.systemClockOffset, 5 * HOUR);
});

test('isClockSkewCorrected: the SDK\'s $metadata.clockSkewCorrected flag', () => {
  assert.equal(isClockSkewCorrected({ $metadata: { clockSkewCorrected: true } }), true);
  assert.equal(isClockSkewCorrected({ $metadata: {} }), false);
  assert.equal(isClockSkewCorrected(new Error('x')), false);
  assert.equal(isClockSkewCorrected(undefined), false);
});
