import { Anchor, Badge, Button, Group, Stack, Table, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { type Page, PUBLISHER, call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';

export interface ApiSummary {
  id: string;
  name: string;
  version: string;
  context: string;
  lifeCycleStatus: string;
  provider?: string;
}

export function ApisPage() {
  const [query, setQuery] = useState('');
  const [debounced] = useDebouncedValue(query, 300);
  const apis = useLoad(() => call<Page<ApiSummary>>(`${PUBLISHER}/apis`, { query: { query: debounced, limit: 100 } }), [debounced]);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>APIs</Title>
        <Button component={Link} to="/create">
          Create API
        </Button>
      </Group>
      <TextInput label="Search APIs" value={query} onChange={(e) => setQuery(e.currentTarget.value)} />
      <Async state={apis} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table.ScrollContainer minWidth={500}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Context</Table.Th>
                  <Table.Th>State</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.list.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/apis/${a.id}`} style={{ wordBreak: 'break-word' }}>
                        {a.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{a.version}</Table.Td>
                    <Table.Td>{a.context}</Table.Td>
                    <Table.Td>
                      <Badge variant="light">{a.lifeCycleStatus}</Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Async>
    </Stack>
  );
}
