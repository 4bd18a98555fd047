import { expect, test } from 'vitest';
import { bucketed, customRange, presetRange } from './timeRange';

test('a preset ends at the end of the current minute', () => {
  const r = presetRange('1h', Date.parse('2026-12-07T10:00:30Z'));
  expect(new Date(r.to).toISOString()).toBe('2026-12-07T10:01:00.000Z');
  expect(r.to - r.from).toBe(3600e3);
});

test('a custom range is refused when reversed, empty or over 31 days', () => {
  expect(customRange('', '2026-01-01T00:00')).toBe('Give both a start and an end.');
  expect(customRange('2026-01-02T00:00', '2026-01-01T00:00')).toBe('The start must be before the end.');
  expect(customRange('2026-01-01T00:00', '2026-03-01T00:00')).toBe('A range is at most 31 days long.');
  expect(customRange('2026-01-01T00:00', '2026-01-02T00:00')).toEqual({ from: Date.parse('2026-01-01T00:00'), to: Date.parse('2026-01-02T00:00') });
});

test('minutes are added up per hour over long ranges and kept over short ones', () => {
  const rows = [
    { minute: '2026-12-07T10:01:00Z', requests: 2, errors: 1 },
    { minute: '2026-12-07T09:59:00Z', requests: 1, errors: 0 },
    { minute: '2026-12-07T10:30:00Z', requests: 3, errors: 0 },
  ];
  expect(bucketed(rows, { from: 0, to: 86400e3 })).toEqual([
    { time: '12-07 09h', requests: 1, errors: 0 },
    { time: '12-07 10h', requests: 5, errors: 1 },
  ]);
  expect(bucketed(rows, { from: 0, to: 3600e3 }).map((r) => r.time)).toEqual(['09:59', '10:01', '10:30']);
});
