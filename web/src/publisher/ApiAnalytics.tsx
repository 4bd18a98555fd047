import { BarChart } from '@mantine/charts';
import { Group, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';
import { TimeRangePicker } from '../shared/TimeRangePicker';
import { type Range, bucketed, presetRange } from '../shared/timeRange';

const ANALYTICS = '/api/am/analytics/v1';

type Row = Record<string, string | number | null>;

function query(path: string, range: Range, apiId: string, groupBy: string, limit?: number) {
  return call<{ list: Row[] }>(`${ANALYTICS}/${path}`, {
    query: { apiId, groupBy, from: range.from, to: range.to, limit },
  }).then((b) => b.list);
}

const ms = (v: unknown) => (v === null || v === undefined ? '—' : `${Number(v)} ms`);

// An API's traffic, errors, latency percentiles and top applications over the chosen range.
export function ApiAnalytics({ apiId }: { apiId: string }) {
  const [range, setRange] = useState<Range>(() => presetRange('1h'));
  const data = useLoad(async () => {
    const [series, latency, byResource, applications] = await Promise.all([
      query('requests', range, apiId, 'minute', 10000),
      query('latency', range, apiId, 'api'),
      query('latency', range, apiId, 'resource', 20),
      query('requests', range, apiId, 'application', 10),
    ]);
    return { series: bucketed(series, range), latency: latency[0], byResource, applications };
  }, [apiId, range.from, range.to]);
  return (
    <Stack>
      <TimeRangePicker onChange={setRange} />
      <Async state={data}>
        {(d) => {
          const total = d.series.reduce((s, r) => s + r.requests, 0);
          const errors = d.series.reduce((s, r) => s + r.errors, 0);
          return (
            <Stack>
              <SimpleGrid cols={{ base: 2, sm: 5 }} data-testid="api-analytics-summary">
                {[
                  ['Requests', String(total)],
                  ['Errors', String(errors)],
                  ['p50', ms(d.latency?.p50Ms)],
                  ['p90', ms(d.latency?.p90Ms)],
                  ['p99', ms(d.latency?.p99Ms)],
                ].map(([label, value]) => (
                  <Paper key={label} withBorder p="xs">
                    <Text size="xs" c="dimmed">
                      {label}
                    </Text>
                    <Text fw={600}>{value}</Text>
                  </Paper>
                ))}
              </SimpleGrid>
              <Title order={4}>Traffic</Title>
              {d.series.length === 0 ? (
                <Text c="dimmed">No calls in this period.</Text>
              ) : (
                <BarChart h={220} withLegend data={d.series} dataKey="time" series={[{ name: 'requests', color: 'indigo.6' }, { name: 'errors', color: 'red.6' }]} />
              )}
              <Title order={4}>Latency by resource</Title>
              {d.byResource.length === 0 ? (
                <Text c="dimmed">No calls in this period.</Text>
              ) : (
                <BarChart
                  h={Math.max(160, 40 * d.byResource.length)}
                  orientation="vertical"
                  data={d.byResource.map((r) => ({ resource: `${r.apiMethod} ${r.apiResourceTemplate || '(no resource)'}`, p50: r.p50Ms ?? 0, p90: r.p90Ms ?? 0, p99: r.p99Ms ?? 0 }))}
                  dataKey="resource"
                  withLegend
                  valueFormatter={(v) => `${v} ms`}
                  yAxisProps={{ width: 140 }}
                  series={[{ name: 'p50', color: 'teal.6' }, { name: 'p90', color: 'yellow.6' }, { name: 'p99', color: 'red.6' }]}
                />
              )}
              <Title order={4}>Top applications</Title>
              {d.applications.length === 0 ? (
                <Text c="dimmed">No application called the API in this period.</Text>
              ) : (
                <Table.ScrollContainer minWidth={360}>
                  <Table data-testid="top-applications">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Application</Table.Th>
                        <Table.Th>Owner</Table.Th>
                        <Table.Th>Requests</Table.Th>
                        <Table.Th>Errors</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {d.applications.map((a) => (
                        <Table.Tr key={String(a.applicationId)}>
                          <Table.Td style={{ wordBreak: 'break-word' }}>{a.applicationName || '(no application)'}</Table.Td>
                          <Table.Td>{a.applicationOwner}</Table.Td>
                          <Table.Td>{a.requests}</Table.Td>
                          <Table.Td>{a.errors}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Stack>
          );
        }}
      </Async>
    </Stack>
  );
}
