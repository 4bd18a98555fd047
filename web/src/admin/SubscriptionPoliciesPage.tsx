import { Button, Group, NumberInput, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface Policy {
  policyId: string;
  policyName: string;
  defaultLimit: { requestCount?: { requestCount: number; timeUnit: string } };
}

export function SubscriptionPoliciesPage() {
  const policies = useLoad(() => call<Page<Policy>>(`${ADMIN}/throttling/policies/subscription`), []);
  const [name, setName] = useState('');
  const [count, setCount] = useState<number | string>(10);
  const [unit, setUnit] = useState<string | null>('min');
  const add = useSubmit(async () => {
    await call(`${ADMIN}/throttling/policies/subscription`, {
      method: 'POST',
      body: { policyName: name, defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: unit, unitTime: 1, requestCount: Number(count) } }, stopOnQuotaReach: true, billingPlan: 'FREE' },
    });
    setName('');
    policies.reload();
    return true;
  });
  const remove = useSubmit(async (id: string) => {
    await call(`${ADMIN}/throttling/policies/subscription/${id}`, { method: 'DELETE' });
    policies.reload();
    return true;
  });
  return (
    <Stack>
      <Title order={2}>Subscription policies</Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.run();
        }}
      >
        <Group align="flex-end">
          <TextInput label="Policy name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <NumberInput label="Requests" min={1} value={count} onChange={setCount} />
          <Select label="Per" data={['min', 'hour', 'day', 'month']} value={unit} onChange={setUnit} w={100} />
          <Button type="submit" loading={add.busy}>
            Add policy
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
                  <Table.Td style={{ wordBreak: 'break-word' }}>{p.policyName}</Table.Td>
                  <Table.Td>
                    {p.defaultLimit?.requestCount ? `${p.defaultLimit.requestCount.requestCount} / ${p.defaultLimit.requestCount.timeUnit}` : '—'}
                  </Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="subtle" color="red" onClick={() => remove.run(p.policyId)} aria-label={`Delete ${p.policyName}`}>
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
