import { BarChart } from '@mantine/charts';
import { Group, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { call } from './api';
import { Async } from './components';
import { useLoad } from './hooks';

const RANGES: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };

interface Row {
  [key: string]: string | number | null;
}

// Requests and errors per minute from the analytics query API, filtered by API or application.
export function UsageChart({ title, filter }: { title: string; filter: Record<string, string> }) {
  const [range, setRange] = useState('1h');
  const state = useLoad(async () => {
    const to = Date.now() + 60e3;
    const body = await call<{ list: Row[] }>('/api/am/analytics/v1/requests', {
      query: { groupBy: 'minute', from: to - RANGES[range], to, ...filter },
    });
    return body.list.map((row) => {
      const time = String(row.minute ?? row.time ?? row.timestamp ?? '');
      return { time: time.slice(11, 16) || time, requests: Number(row.requests ?? 0), errors: Number(row.errors ?? 0) };
    });
  }, [range, JSON.stringify(filter)]);
  const total = state.data?.reduce((sum, r) => sum + r.requests, 0) ?? 0;
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={4}>{title}</Title>
        <SegmentedControl size="xs" value={range} onChange={setRange} data={Object.keys(RANGES)} aria-label="Time range" />
      </Group>
      <Async state={state}>
        {(rows) => (
          <>
            <Text size="sm" data-testid="usage-total">
              {total} requests
            </Text>
            {rows.length === 0 ? (
              <Text c="dimmed">No calls in this period.</Text>
            ) : (
              <BarChart
                h={220}
                data={rows}
                dataKey="time"
                series={[
                  { name: 'requests', color: 'indigo.6' },
                  { name: 'errors', color: 'red.6' },
                ]}
              />
            )}
          </>
        )}
      </Async>
    </Stack>
  );
}
