import { ActionIcon, Button, Card, Fieldset, Group, NumberInput, Stack, Table, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, type Page, call } from '../shared/api';
import { Async, ErrorMessage, Problems } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface Vhost {
  host: string;
  httpContext: string;
  httpPort: number | string;
  httpsPort: number | string;
  wsPort?: number;
  wssPort?: number;
}

export interface Environment {
  id: string;
  name: string;
  displayName: string;
  description?: string;
  vhosts: Vhost[];
  [key: string]: unknown;
}

const newVhost = (): Vhost => ({ host: '', httpContext: '', httpPort: 80, httpsPort: 443 });

export function environmentProblems(e: Pick<Environment, 'name' | 'vhosts'>): string[] {
  const problems: string[] = [];
  if (!e.name.trim() || /[\s~!@#;:%^*()+={}|\\<>"',&$/?[\]]/.test(e.name)) problems.push('The name is required, without spaces or ~!@#;:%^*()+={}|\\<>"\',&$/?[]');
  if (e.vhosts.length === 0) problems.push('An environment needs at least one host.');
  e.vhosts.forEach((v, i) => {
    if (!/^[A-Za-z0-9.-]+$/.test(v.host.trim())) problems.push(`Host ${i + 1}: give a host name (letters, digits, . and -).`);
    for (const [label, port] of [
      ['HTTP port', v.httpPort],
      ['HTTPS port', v.httpsPort],
    ] as const)
      if (!(Number(port) >= 1 && Number(port) <= 65535)) problems.push(`Host ${i + 1}: the ${label} is 1 to 65535.`);
  });
  return problems;
}

function EnvironmentForm({ initial, onSaved, onCancel }: { initial?: Environment; onSaved: () => void; onCancel?: () => void }) {
  const [env, setEnv] = useState<Environment>(initial ?? { id: '', name: '', displayName: '', description: '', vhosts: [newVhost()] });
  const [tried, setTried] = useState(false);
  const problems = environmentProblems(env);
  const save = useSubmit(async () => {
    const { id, isReadOnly: _readOnly, ...fields } = env;
    const body = { ...fields, vhosts: env.vhosts.map((v) => ({ ...v, host: v.host.trim(), httpPort: Number(v.httpPort), httpsPort: Number(v.httpsPort) })) };
    if (initial) await call(`${ADMIN}/environments/${id}`, { method: 'PUT', body });
    else await call(`${ADMIN}/environments`, { method: 'POST', body });
    return true;
  });
  const setVhost = (i: number, change: Partial<Vhost>) => setEnv({ ...env, vhosts: env.vhosts.map((v, j) => (j === i ? { ...v, ...change } : v)) });
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setTried(true);
        if (problems.length > 0) return;
        if (await save.run()) {
          if (!initial) setEnv({ id: '', name: '', displayName: '', description: '', vhosts: [newVhost()] });
          setTried(false);
          onSaved();
        }
      }}
    >
      <Stack gap="sm">
        <Group align="flex-end" gap="xs">
          <TextInput label="Environment name" required disabled={Boolean(initial)} value={env.name} onChange={(e) => setEnv({ ...env, name: e.currentTarget.value })} />
          <TextInput label="Display name" value={env.displayName} onChange={(e) => setEnv({ ...env, displayName: e.currentTarget.value })} />
        </Group>
        <TextInput label="Description" value={env.description ?? ''} onChange={(e) => setEnv({ ...env, description: e.currentTarget.value })} />
        {env.vhosts.map((v, i) => (
          <Fieldset key={i} legend={`Host ${i + 1}`} aria-label={`Host ${i + 1}`}>
            <Group align="flex-end" gap="xs">
              <TextInput w={200} label="Host name" value={v.host} onChange={(e) => setVhost(i, { host: e.currentTarget.value })} />
              <TextInput w={120} label="HTTP context" placeholder="/gw" value={v.httpContext} onChange={(e) => setVhost(i, { httpContext: e.currentTarget.value })} />
              <NumberInput w={110} label="HTTP port" min={1} max={65535} value={v.httpPort} onChange={(httpPort) => setVhost(i, { httpPort })} />
              <NumberInput w={110} label="HTTPS port" min={1} max={65535} value={v.httpsPort} onChange={(httpsPort) => setVhost(i, { httpsPort })} />
              {env.vhosts.length > 1 && (
                <ActionIcon variant="default" size="lg" aria-label={`Remove host ${i + 1}`} onClick={() => setEnv({ ...env, vhosts: env.vhosts.filter((_, j) => j !== i) })}>
                  ×
                </ActionIcon>
              )}
            </Group>
          </Fieldset>
        ))}
        <Button variant="subtle" size="xs" w="fit-content" onClick={() => setEnv({ ...env, vhosts: [...env.vhosts, newVhost()] })}>
          Add a host
        </Button>
        {tried && <Problems problems={problems} />}
        <ErrorMessage error={save.error} title="Not saved" />
        <Group>
          <Button type="submit" loading={save.busy}>
            {initial ? 'Save environment' : 'Add environment'}
          </Button>
          {onCancel && (
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

export function EnvironmentsPage() {
  const envs = useLoad(() => call<Page<Environment>>(`${ADMIN}/environments`), []);
  const [editing, setEditing] = useState<Environment | null>(null);
  const remove = useSubmit(async (id: string) => {
    await call(`${ADMIN}/environments/${id}`, { method: 'DELETE' });
    envs.reload();
    return true;
  });
  const done = () => {
    setEditing(null);
    envs.reload();
  };
  return (
    <Stack>
      <Title order={2}>Gateway environments</Title>
      <Card withBorder>
        <Title order={4} mb="sm">
          {editing ? `Edit ${editing.displayName || editing.name}` : 'New environment'}
        </Title>
        {editing ? <EnvironmentForm key={editing.id} initial={editing} onSaved={done} onCancel={() => setEditing(null)} /> : <EnvironmentForm onSaved={envs.reload} />}
      </Card>
      <ErrorMessage error={remove.error} title="Not deleted" />
      <Async state={envs} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table.ScrollContainer minWidth={520}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Description</Table.Th>
                  <Table.Th>Hosts</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.list.map((e) => (
                  <Table.Tr key={e.id ?? e.name}>
                    <Table.Td style={{ wordBreak: 'break-word' }}>{e.displayName || e.name}</Table.Td>
                    <Table.Td>{e.description}</Table.Td>
                    <Table.Td>{(e.vhosts ?? []).map((v) => `${v.host}${v.httpContext ? `/${v.httpContext.replace(/^\//, '')}` : ''} (${v.httpPort}/${v.httpsPort})`).join(', ')}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="subtle" aria-label={`Edit ${e.name}`} onClick={() => setEditing(e)}>
                          Edit
                        </Button>
                        <Button size="xs" variant="subtle" color="red" aria-label={`Delete ${e.name}`} onClick={() => remove.run(e.id)}>
                          Delete
                        </Button>
                      </Group>
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
