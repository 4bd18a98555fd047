import { Button, Group, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface DenyPolicy {
  policyId: string;
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
  const remove = useSubmit(async (id: string) => {
    await call(`${ADMIN}/throttling/deny-policies/${id}`, { method: 'DELETE' });
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
      <ErrorMessage error={add.error ?? remove.error} />
      <Async state={policies} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table>
            <Table.Tbody>
              {page.list.map((p) => (
                <Table.Tr key={p.policyId}>
                  <Table.Td>{p.conditionType}</Table.Td>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{typeof p.conditionValue === 'string' ? p.conditionValue : JSON.stringify(p.conditionValue)}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="subtle" color="red" onClick={() => remove.run(p.policyId)}>
                      Delete
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Async>
    </Stack>
  );
}
