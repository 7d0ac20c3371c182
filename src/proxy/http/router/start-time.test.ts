import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStartTime } from './start-time.ts';

describe('%START_TIME(format)%', () => {
  const t = Date.UTC(2026, 10, 22, 20, 30, 17, 262); // a Sunday

  it('is RFC 3339 with milliseconds without a format, as Envoy', () => {
    assert.equal(formatStartTime(t, ''), '2026-11-22T20:30:17.262Z');
  });

  it('formats strftime conversions in UTC and Envoy\'s %s and %Nf', () => {
    assert.equal(formatStartTime(t, '%s'), '1795379417');
    assert.equal(formatStartTime(t, '%s.%3f'), '1795379417.262');
    assert.equal(formatStartTime(t, '%s.%6f'), '1795379417.262000');
    assert.equal(formatStartTime(t, '%f'), '262000000');
    assert.equal(formatStartTime(t, '%Y/%m/%dT%H:%M:%S%z'), '2026/11/22T20:30:17+0000');
    assert.equal(formatStartTime(t, '%a %b %e %T %Z %j %%'), 'Sun Nov 22 20:30:17 UTC 326 %');
    assert.equal(formatStartTime(Date.UTC(2026, 0, 5, 9, 0, 0, 7), '%F %I%p %3f %e'), '2026-01-05 09AM 007  5');
  });

  it('copies conversions it does not know, and a trailing %', () => {
    assert.equal(formatStartTime(t, 'x%Qy%'), 'x%Qy%');
  });
});
