import { ActionIcon, Badge, Button, Fieldset, Group, MultiSelect, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { type Page, PUBLISHER, call } from '../../shared/api';
import { ErrorMessage } from '../../shared/components';
import { useLoad } from '../../shared/hooks';
import {
  type Api,
  type HeaderPolicy,
  type Operation,
  SECURED,
  UNSECURED,
  VERBS,
  operationProblems,
  operationsOf,
  scopesOf,
  storedOperations,
} from '../apiModel';
import { SaveBar, useApiUpdate } from './SaveBar';

type Flow = 'request' | 'response';

function HeaderPolicies({ flow, policies, onChange }: { flow: Flow; policies: HeaderPolicy[]; onChange: (p: HeaderPolicy[]) => void }) {
  const set = (i: number, change: Partial<HeaderPolicy>) => onChange(policies.map((p, j) => (j === i ? { ...p, ...change } : p)));
  const flowName = flow === 'request' ? 'Request' : 'Response';
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {flowName} headers {policies.length === 0 && <Text span c="dimmed" size="sm">— unchanged</Text>}
      </Text>
      {policies.map((p, i) => (
        <Group key={i} gap="xs" align="flex-end">
          <Select
            w={150}
            label={`${flowName} policy ${i + 1}`}
            data={[
              { value: 'addHeader', label: 'Set header' },
              { value: 'removeHeader', label: 'Remove header' },
            ]}
            value={p.policyName}
            allowDeselect={false}
            onChange={(v) => set(i, { policyName: (v ?? 'addHeader') as HeaderPolicy['policyName'] })}
          />
          <TextInput w={180} label="Header name" value={p.headerName} onChange={(e) => set(i, { headerName: e.currentTarget.value })} />
          {p.policyName === 'addHeader' && (
            <TextInput style={{ flex: 1, minWidth: 140 }} label="Header value" value={p.headerValue} onChange={(e) => set(i, { headerValue: e.currentTarget.value })} />
          )}
          <ActionIcon variant="default" size="lg" aria-label={`Remove ${flowName.toLowerCase()} policy ${i + 1}`} onClick={() => onChange(policies.filter((_, j) => j !== i))}>
            ×
          </ActionIcon>
        </Group>
      ))}
      <Button
        variant="subtle"
        size="xs"
        w="fit-content"
        onClick={() => onChange([...policies, { policyName: 'addHeader', headerName: '', headerValue: '' }])}
      >
        Add a {flow} header policy
      </Button>
    </Stack>
  );
}

function OperationFields({
  operation,
  limits,
  scopes,
  onChange,
  onRemove,
}: {
  operation: Operation;
  limits: string[];
  scopes: string[];
  onChange: (o: Operation) => void;
  onRemove: () => void;
}) {
  const name = `${operation.verb} ${operation.target}`;
  return (
    <Fieldset
      aria-label={name}
      legend={
        <Group gap={6} wrap="nowrap">
          <Badge variant="light">{operation.verb}</Badge>
          <Text ff="monospace" size="sm" style={{ wordBreak: 'break-all' }}>
            {operation.target}
          </Text>
        </Group>
      }
    >
      <Stack gap="xs">
        <Group align="flex-end" gap="md">
          <Switch
            label="Requires a token or key"
            checked={operation.authType !== UNSECURED}
            onChange={(e) => onChange({ ...operation, authType: e.currentTarget.checked ? SECURED : UNSECURED })}
          />
          <Select
            w={200}
            label="Rate limit"
            data={limits.includes(operation.throttlingPolicy) ? limits : [operation.throttlingPolicy, ...limits]}
            value={operation.throttlingPolicy}
            allowDeselect={false}
            onChange={(v) => onChange({ ...operation, throttlingPolicy: v ?? 'Unlimited' })}
          />
          <MultiSelect
            style={{ flex: 1, minWidth: 180 }}
            label="Scopes"
            placeholder={scopes.length === 0 ? 'The API has no scopes' : 'Any token'}
            data={scopes}
            value={operation.scopes}
            onChange={(v) => onChange({ ...operation, scopes: v })}
            disabled={scopes.length === 0 && operation.scopes.length === 0}
          />
        </Group>
        <HeaderPolicies flow="request" policies={operation.request} onChange={(request) => onChange({ ...operation, request })} />
        <HeaderPolicies flow="response" policies={operation.response} onChange={(response) => onChange({ ...operation, response })} />
        <Button variant="light" color="red" size="xs" w="fit-content" onClick={onRemove} aria-label={`Remove resource ${name}`}>
          Remove resource
        </Button>
      </Stack>
    </Fieldset>
  );
}

export function ResourcesTab({ api, reload }: { api: Api; reload: () => void }) {
  const [operations, setOperations] = useState(() => operationsOf(api));
  const [verb, setVerb] = useState<string>('GET');
  const [target, setTarget] = useState('');
  const [addError, setAddError] = useState<string | null>(null);
  const limits = useLoad(
    () => call<Page<{ name: string }>>(`${PUBLISHER}/throttling-policies/api`).then((p) => p.list.map((l) => l.name)),
    [],
  );
  const update = useApiUpdate(api, reload);
  const scopeNames = scopesOf(api).map((s) => s.name);
  const add = () => {
    const path = target.trim();
    if (!path.startsWith('/')) return setAddError('The path must start with /, e.g. /pets/{petId}.');
    if (operations.some((o) => o.verb === verb && o.target === path)) return setAddError(`${verb} ${path} is there already.`);
    setAddError(null);
    setOperations([...operations, { target: path, verb, authType: SECURED, throttlingPolicy: 'Unlimited', scopes: [], request: [], response: [], rest: {} }]);
    setTarget('');
  };
  return (
    <Stack maw={900}>
      <Text size="sm" c="dimmed">
        Each resource is a method and a path template. Header policies change the request sent to the backend or the response sent back, in
        order.
      </Text>
      <ErrorMessage error={limits.error} title="Rate limits could not be loaded" />
      {operations.length === 0 && <Text c="dimmed">No resources: every call is refused until you add one.</Text>}
      {operations.map((o, i) => (
        <OperationFields
          key={`${o.verb} ${o.target}`}
          operation={o}
          limits={limits.data ?? []}
          scopes={scopeNames}
          onChange={(changed) => setOperations(operations.map((x, j) => (j === i ? changed : x)))}
          onRemove={() => setOperations(operations.filter((_, j) => j !== i))}
        />
      ))}
      <Title order={5}>Add a resource</Title>
      <Group align="flex-end" gap="xs">
        <Select w={120} label="Method" data={[...VERBS]} value={verb} allowDeselect={false} onChange={(v) => setVerb(v ?? 'GET')} />
        <TextInput
          style={{ flex: 1, minWidth: 180 }}
          label="Path"
          placeholder="/pets/{petId}"
          value={target}
          onChange={(e) => setTarget(e.currentTarget.value)}
          onKeyDown={(e) => e.key === 'Enter' && add()}
          error={addError}
        />
        <Button variant="default" onClick={add}>
          Add resource
        </Button>
      </Group>
      <SaveBar label="Save resources" problems={operationProblems(operations)} update={update} patch={() => ({ operations: storedOperations(operations) })} />
    </Stack>
  );
}
