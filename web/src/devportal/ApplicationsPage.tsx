import { Anchor, Button, Group, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { DEVPORTAL, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';
import type { Application } from './types';

export function ApplicationsPage() {
  const apps = useLoad(() => call<Page<Application>>(`${DEVPORTAL}/applications`, { query: { limit: 100 } }), []);
  const policies = useLoad(
    () => call<Page<{ name: string }>>(`${DEVPORTAL}/throttling-policies/application`).then((p) => p.list.map((x) => x.name)),
    [],
  );
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState<string | null>('Unlimited');
  const navigate = useNavigate();
  const create = useSubmit(() =>
    call<Application>(`${DEVPORTAL}/applications`, { method: 'POST', body: { name, throttlingPolicy: policy, description: '' } }),
  );
  return (
    <Stack>
      <Title order={2}>Applications</Title>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const app = await create.run();
          if (app) navigate(`/applications/${app.applicationId}`);
        }}
      >
        <Group align="flex-end">
          <TextInput label="Application name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <Select label="Quota" data={policies.data ?? ['Unlimited']} value={policy} onChange={setPolicy} />
          <Button type="submit" loading={create.busy}>
            Create application
          </Button>
        </Group>
      </form>
      <ErrorMessage error={create.error} title="Could not create the application" />
      <Async state={apps} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Quota</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {page.list.map((a) => (
                <Table.Tr key={a.applicationId}>
                  <Table.Td>
                    <Anchor component={Link} to={`/applications/${a.applicationId}`} style={{ wordBreak: 'break-word' }}>
                      {a.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{a.throttlingPolicy}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Async>
    </Stack>
  );
}
