import { Button, Group, NumberInput, SegmentedControl, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface Policy {
  policyId: string;
  policyName: string;
  defaultLimit: { requestCount?: { requestCount: number; timeUnit: string } };
}

// Throttling policies of each level: subscription (tiers), application and advanced (per API).
export function SubscriptionPoliciesPage() {
  const [level, setLevel] = useState('subscription');
  const policies = useLoad(() => call<Page<Policy>>(`${ADMIN}/throttling/policies/${level}`), [level]);
  const [name, setName] = useState('');
  const [count, setCount] = useState<number | string>(10);
  const [unit, setUnit] = useState<string | null>('min');
  const add = useSubmit(async () => {
    const defaultLimit = { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: unit, unitTime: 1, requestCount: Number(count) } };
    await call(`${ADMIN}/throttling/policies/${level}`, {
      method: 'POST',
      body: level === 'subscription' ? { policyName: name, defaultLimit, stopOnQuotaReach: true, billingPlan: 'FREE' } : { policyName: name, defaultLimit },
    });
    setName('');
    policies.reload();
    return true;
  });
  const remove = useSubmit(async (id: string) => {
    await call(`${ADMIN}/throttling/policies/${level}/${id}`, { method: 'DELETE' });
    policies.reload();
    return true;
  });
  return (
    <Stack>
      <Title order={2}>Throttling policies</Title>
      <SegmentedControl
        value={level}
        onChange={setLevel}
        aria-label="Policy level"
        data={[
          { value: 'subscription', label: 'Subscription' },
          { value: 'application', label: 'Application' },
          { value: 'advanced', label: 'Advanced' },
        ]}
      />
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
