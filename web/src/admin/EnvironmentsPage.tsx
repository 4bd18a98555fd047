import { Stack, Table, Title } from '@mantine/core';
import { ADMIN, type Page, call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';

interface Environment {
  id: string;
  name: string;
  displayName: string;
  description?: string;
  vhosts: { host: string; httpPort: number; httpsPort: number }[];
}

export function EnvironmentsPage() {
  const envs = useLoad(() => call<Page<Environment>>(`${ADMIN}/environments`), []);
  return (
    <Stack>
      <Title order={2}>Gateway environments</Title>
      <Async state={envs} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table.ScrollContainer minWidth={480}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Description</Table.Th>
                  <Table.Th>Hosts</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.list.map((e) => (
                  <Table.Tr key={e.id ?? e.name}>
                    <Table.Td>{e.displayName || e.name}</Table.Td>
                    <Table.Td>{e.description}</Table.Td>
                    <Table.Td>{(e.vhosts ?? []).map((v) => `${v.host}:${v.httpPort}/${v.httpsPort}`).join(', ')}</Table.Td>
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
