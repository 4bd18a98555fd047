import { Badge, Card, Group, Image, SimpleGrid, Stack, Text, TextInput, Title, Anchor } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { DEVPORTAL, type Page, call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';
import type { ApiInfo } from './types';

export function ApiCard({ api }: { api: ApiInfo }) {
  return (
    <Card withBorder padding="md" data-testid="api-card">
      {(api.thumbnailUri || api.hasThumbnail) && (
        <Card.Section>
          <Image src={`${DEVPORTAL}/apis/${api.id}/thumbnail`} h={100} fit="contain" alt="" />
        </Card.Section>
      )}
      <Stack gap={4}>
        <Anchor component={Link} to={`/apis/${api.id}`} fw={600} style={{ wordBreak: 'break-word' }}>
          {api.name}
        </Anchor>
        <Text size="xs" c="dimmed">
          {api.version} · {api.context}
          {Number(api.avgRating) > 0 ? ` · ★ ${api.avgRating}` : ''}
        </Text>
        {api.description && (
          <Text size="sm" lineClamp={3}>
            {api.description}
          </Text>
        )}
        <Group gap={4}>
          {(api.tags ?? []).map((t) => (
            <Badge key={t} size="xs" variant="light">
              {t}
            </Badge>
          ))}
        </Group>
      </Stack>
    </Card>
  );
}

export function ApisPage() {
  const [query, setQuery] = useState('');
  const [debounced] = useDebouncedValue(query, 300);
  const apis = useLoad(() => call<Page<ApiInfo>>(`${DEVPORTAL}/apis`, { query: { query: debounced, limit: 100 } }), [debounced]);
  return (
    <Stack>
      <Title order={2}>APIs</Title>
      <TextInput label="Search APIs" placeholder="name, tags:pets, version:1.0.0 …" value={query} onChange={(e) => setQuery(e.currentTarget.value)} />
      <Async state={apis} empty={(p) => p.list.length === 0}>
        {(page) => (
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
            {page.list.map((api) => (
              <ApiCard key={api.id} api={api} />
            ))}
          </SimpleGrid>
        )}
      </Async>
    </Stack>
  );
}
