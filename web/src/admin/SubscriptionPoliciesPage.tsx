import { Button, Card, Group, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { ADMIN, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';
import { PolicyEditor } from './policies/PolicyEditor';
import { type Level, limitText, newPolicy, policyFormOf } from './policies/policyModel';

interface Policy {
  policyId: string;
  policyName: string;
  displayName?: string;
  defaultLimit: unknown;
  rateLimitCount?: number;
  rateLimitTimeUnit?: string;
}

// One policy read in full (an advanced policy's list item has no conditional groups).
function EditPolicy({ level, policyId, onDone }: { level: Level; policyId: string; onDone: () => void }) {
  const policy = useLoad(() => call<Record<string, unknown>>(`${ADMIN}/throttling/policies/${level}/${policyId}`), [level, policyId]);
  return (
    <Async state={policy}>
      {(p) => (
        <Card withBorder>
          <Title order={4} mb="sm">
            Edit {String(p.policyName)}
          </Title>
          <PolicyEditor level={level} policyId={policyId} initial={policyFormOf(p)} original={p} submitLabel="Save policy" onSaved={onDone} onCancel={onDone} />
        </Card>
      )}
    </Async>
  );
}

// Throttling policies of each level: subscription (tiers, with burst control), application
// and advanced (per API or resource, with conditional groups).
export function SubscriptionPoliciesPage() {
  const [level, setLevel] = useState<Level>('subscription');
  const [editing, setEditing] = useState<string | null>(null);
  const policies = useLoad(() => call<Page<Policy>>(`${ADMIN}/throttling/policies/${level}`), [level]);
  const remove = useSubmit(async (id: string) => {
    await call(`${ADMIN}/throttling/policies/${level}/${id}`, { method: 'DELETE' });
    policies.reload();
    return true;
  });
  return (
    <Stack>
      <Title order={2}>Throttling policies</Title>
      <SegmentedControl
        w="fit-content"
        value={level}
        onChange={(v) => {
          setLevel(v as Level);
          setEditing(null);
        }}
        aria-label="Policy level"
        data={[
          { value: 'subscription', label: 'Subscription' },
          { value: 'application', label: 'Application' },
          { value: 'advanced', label: 'Advanced' },
        ]}
      />
      {editing ? (
        <EditPolicy
          key={editing}
          level={level}
          policyId={editing}
          onDone={() => {
            setEditing(null);
            policies.reload();
          }}
        />
      ) : (
        <Card withBorder>
          <Title order={4} mb="sm">
            New {level} policy
          </Title>
          <PolicyEditor key={level} level={level} initial={newPolicy()} submitLabel="Add policy" onSaved={policies.reload} />
        </Card>
      )}
      <ErrorMessage error={remove.error} title="Not deleted" />
      <Async state={policies} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table.ScrollContainer minWidth={420}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Policy</Table.Th>
                  <Table.Th>Limit</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.list.map((p) => (
                  <Table.Tr key={p.policyId}>
                    <Table.Td style={{ wordBreak: 'break-word' }}>{p.policyName}</Table.Td>
                    <Table.Td>
                      {limitText(p.defaultLimit)}
                      {Number(p.rateLimitCount) > 0 && (
                        <Text span size="xs" c="dimmed">
                          {' '}
                          · burst {p.rateLimitCount} / {p.rateLimitTimeUnit}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="subtle" onClick={() => setEditing(p.policyId)} aria-label={`Edit ${p.policyName}`}>
                          Edit
                        </Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => remove.run(p.policyId)} aria-label={`Delete ${p.policyName}`}>
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
