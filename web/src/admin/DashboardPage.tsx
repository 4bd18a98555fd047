import { BarChart } from '@mantine/charts';
import { Card, SimpleGrid, Stack, Title } from '@mantine/core';
import { call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';
import { UsageChart } from '../shared/UsageChart';

interface ApiRow {
  apiName: string;
  apiVersion: string;
  requests: number;
  errors?: number;
  throttled?: number;
  p99Ms?: number;
}

function ByApi({ title, path, series }: { title: string; path: string; series: { name: string; color: string }[] }) {
  const state = useLoad(
    () =>
      call<{ list: ApiRow[] }>(`/api/am/analytics/v1/${path}`, { query: { groupBy: 'api', from: Date.now() - 86400e3, to: Date.now() + 60e3 } }).then((b) =>
        b.list.map((r) => ({ ...r, api: `${r.apiName} ${r.apiVersion}` })),
      ),
    [path],
  );
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        {title}
      </Title>
      <Async state={state} empty={(rows) => rows.length === 0}>
        {(rows) => <BarChart h={200} data={rows} dataKey="api" series={series} />}
      </Async>
    </Card>
  );
}

export function DashboardPage() {
  return (
    <Stack>
      <Title order={2}>Platform dashboard</Title>
      <Card withBorder>
        <UsageChart title="Requests over time" filter={{}} />
      </Card>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <ByApi title="Requests and errors by API (24 h)" path="requests" series={[{ name: 'requests', color: 'indigo.6' }, { name: 'errors', color: 'red.6' }]} />
        <ByApi title="Throttled calls by API (24 h)" path="throttled" series={[{ name: 'throttled', color: 'orange.6' }]} />
        <ByApi title="Latency p99 by API (ms, 24 h)" path="latency" series={[{ name: 'p99Ms', color: 'teal.6' }]} />
      </SimpleGrid>
    </Stack>
  );
}
