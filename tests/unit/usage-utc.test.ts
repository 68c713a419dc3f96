// In UTC (the default usage.timezone) the usage verbs never construct an Intl.DateTimeFormat:
// its first use in a process loads ICU's time-zone data, ~25-35 ms of every run's start. Own
// file, so that no earlier test has warmed luxon's caches.
import { jest } from '@jest/globals';

test('UTC ranges, buckets and export times build no Intl.DateTimeFormat; another zone does (the spy sees it)', async () => {
  const spy = jest.spyOn(Intl, 'DateTimeFormat');
  try {
    const { parseRange, buckets, assertZone } = await import('../../src/fleet/usage/range.js');
    const { isoFormatter } = await import('../../src/fleet/usage/export.js');
    const now = new Date(Date.UTC(2026, 11, 2, 5, 30));
    for (const zone of ['UTC', 'utc']) {
      expect(assertZone(zone)).toBe(zone);
      const r = parseRange({ since: '7d' }, zone, now);
      // the last 7 days: today and the 6 before, up to now
      expect(r).toEqual({ from: Date.UTC(2026, 10, 26) / 1000, to: now.getTime() / 1000, zone });
      expect(buckets(r, 'day').map((b) => b.label)).toEqual(['2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
      expect(parseRange({ date: '2026-11-30' }, zone, now)).toEqual({ from: Date.UTC(2026, 10, 30) / 1000, to: Date.UTC(2026, 11, 1) / 1000, zone });
      expect(isoFormatter(zone)(String(Date.UTC(2026, 11, 2, 5, 30, 7) / 1000))).toBe('2026-12-02T05:30:07Z');
    }
    expect(spy).not.toHaveBeenCalled();
    expect(parseRange({ date: '2026-11-30' }, 'Asia/Shanghai', now).from).toBe(Date.UTC(2026, 10, 29, 16) / 1000);
    expect(spy).toHaveBeenCalled();
  } finally {
    spy.mockRestore();
  }
});
