import { ActionIcon, Button, Group, Radio, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { type Api, type EndpointForm, type EndpointType, endpointConfig, endpointForm, endpointProblems } from '../apiModel';
import { SaveBar, useApiUpdate } from './SaveBar';

const TYPES: { value: EndpointType; label: string; help: string }[] = [
  { value: 'http', label: 'Single endpoint', help: 'Every call goes to one URL.' },
  { value: 'load_balance', label: 'Load balanced', help: 'Calls are shared in turn between the URLs.' },
  { value: 'failover', label: 'Failover', help: 'Calls go to the first URL; the next ones take over while it fails.' },
];

function urlLabel(type: EndpointType, environment: string, index: number) {
  if (type === 'http') return `${environment} endpoint URL`;
  if (type === 'failover') return index === 0 ? `${environment} endpoint URL` : `${environment} failover ${index} URL`;
  return `${environment} endpoint ${index + 1} URL`;
}

function UrlList({
  type,
  environment,
  urls,
  onChange,
}: {
  type: EndpointType;
  environment: string;
  urls: string[];
  onChange: (urls: string[]) => void;
}) {
  const shown = urls.length === 0 ? [''] : urls;
  const set = (i: number, value: string) => onChange(shown.map((u, j) => (j === i ? value : u)));
  return (
    <Stack gap="xs">
      <Title order={5}>{environment}</Title>
      {shown.map((url, i) => (
        <Group key={i} gap="xs" align="flex-end" wrap="nowrap">
          <TextInput
            style={{ flex: 1, minWidth: 0 }}
            label={urlLabel(type, environment, i)}
            placeholder="https://backend.example.com/v1"
            value={url}
            onChange={(e) => set(i, e.currentTarget.value)}
          />
          {shown.length > 1 && (
            <ActionIcon variant="default" size="lg" aria-label={`Remove ${urlLabel(type, environment, i)}`} onClick={() => onChange(shown.filter((_, j) => j !== i))}>
              ×
            </ActionIcon>
          )}
        </Group>
      ))}
      {type !== 'http' && (
        <Button variant="subtle" size="xs" w="fit-content" onClick={() => onChange([...shown, ''])}>
          Add a {environment.toLowerCase()} {type === 'failover' ? 'failover' : 'endpoint'}
        </Button>
      )}
    </Stack>
  );
}

export function EndpointsTab({ api, reload }: { api: Api; reload: () => void }) {
  const [form, setForm] = useState<EndpointForm>(() => endpointForm(api.endpointConfig));
  const update = useApiUpdate(api, reload);
  const setType = (type: EndpointType) =>
    // A single endpoint keeps the first URL of each list.
    setForm((f) => (type === 'http' ? { type, production: f.production.slice(0, 1), sandbox: f.sandbox.slice(0, 1) } : { ...f, type }));
  return (
    <Stack maw={720}>
      <Radio.Group label="Endpoint type" value={form.type} onChange={(v) => setType(v as EndpointType)}>
        <Stack gap={6} mt={6}>
          {TYPES.map((t) => (
            <Radio key={t.value} value={t.value} label={t.label} description={t.help} />
          ))}
        </Stack>
      </Radio.Group>
      <UrlList type={form.type} environment="Production" urls={form.production} onChange={(production) => setForm({ ...form, production })} />
      <UrlList type={form.type} environment="Sandbox" urls={form.sandbox} onChange={(sandbox) => setForm({ ...form, sandbox })} />
      <Text size="xs" c="dimmed">
        Leave an environment empty to have none. Timeouts and suspension settings an endpoint already had are kept.
      </Text>
      <SaveBar label="Save endpoints" problems={endpointProblems(form)} update={update} patch={() => ({ endpointConfig: endpointConfig(form, api.endpointConfig) })} />
    </Stack>
  );
}
