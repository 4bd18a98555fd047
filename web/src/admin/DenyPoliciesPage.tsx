import { Button, Group, Select, Stack, Switch, Table, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface DenyPolicy {
  conditionId: string;
  conditionType: string;
  conditionValue: unknown;
  conditionStatus?: boolean;
}

export function DenyPoliciesPage() {
  const policies = useLoad(() => call<Page<DenyPolicy>>(`${ADMIN}/throttling/deny-policies`), []);
  const [type, setType] = useState<string | null>('USER');
  const [value, setValue] = useState('');
  const add = useSubmit(async () => {
    await call(`${ADMIN}/throttling/deny-policies`, { method: 'POST', body: { conditionType: type, conditionValue: value, conditionStatus: true } });
    setValue('');
    policies.reload();
    return true;
  });
  // One policy lives at /throttling/deny-policy/{conditionId} (singular, as the reference).
  const remove = useSubmit(async (id: string) => {
    await call(`${ADMIN}/throttling/deny-policy/${id}`, { method: 'DELETE' });
    policies.reload();
    return true;
  });
  const toggle = useSubmit(async (p: DenyPolicy) => {
    await call(`${ADMIN}/throttling/deny-policy/${p.conditionId}`, { method: 'PATCH', body: { conditionStatus: !p.conditionStatus } });
    policies.reload();
    return true;
  });
  return (
    <Stack>
      <Title order={2}>Deny policies</Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.run();
        }}
      >
        <Group align="flex-end">
          <Select label="Condition" data={['API', 'APPLICATION', 'USER', 'IP', 'IPRANGE']} value={type} onChange={setType} w={160} />
          <TextInput label="Value" required value={value} onChange={(e) => setValue(e.currentTarget.value)} />
          <Button type="submit" loading={add.busy}>
            Add deny policy
          </Button>
        </Group>
      </form>
      <ErrorMessage error={add.error ?? remove.error ?? toggle.error} />
      <Async state={policies} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table>
            <Table.Tbody>
              {page.list.map((p) => {
                const value = typeof p.conditionValue === 'string' ? p.conditionValue : JSON.stringify(p.conditionValue);
                return (
                  <Table.Tr key={p.conditionId}>
                    <Table.Td>{p.conditionType}</Table.Td>
                    <Table.Td style={{ wordBreak: 'break-all' }}>{value}</Table.Td>
                    <Table.Td>
                      <Switch
                        label="Enforced"
                        aria-label={`Enforce ${p.conditionType} ${value}`}
                        checked={Boolean(p.conditionStatus)}
                        onChange={() => toggle.run(p)}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="subtle" color="red" aria-label={`Delete ${p.conditionType} ${value}`} onClick={() => remove.run(p.conditionId)}>
                        Delete
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Async>
    </Stack>
  );
}
