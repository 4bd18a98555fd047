import { Button, Code, Group, PasswordInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { ErrorMessage } from '../shared/components';
import { type ApiDetail, TRY_IT_TOKEN } from './types';

// Calls the API through the gateway with an access token of one of the user's applications
// (the last one generated in this tab, or one pasted in).
export function TryIt({ api }: { api: ApiDetail }) {
  // Each environment's URL comes from its vhost (host, ports, context) as the admin set it.
  const [environment, setEnvironment] = useState<string | null>(api.endpointURLs[0]?.environmentName ?? null);
  const [base, setBase] = useState(api.endpointURLs[0]?.URLs.http ?? '');
  const chooseEnvironment = (name: string | null) => {
    setEnvironment(name);
    const chosen = api.endpointURLs.find((e) => e.environmentName === name);
    if (chosen) setBase(chosen.URLs.http);
  };
  const [token, setToken] = useState(sessionStorage.getItem(TRY_IT_TOKEN) ?? '');
  const [method, setMethod] = useState<string | null>('GET');
  const [path, setPath] = useState('/');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ status: number; body: string } | null>(null);
  const send = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await fetch(base.replace(/\/$/, '') + path, {
        method: method ?? 'GET',
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      setResult({ status: r.status, body: await r.text() });
    } catch {
      setError('The gateway could not be reached (is the API deployed, and does it allow calls from this page (CORS)?)');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack maw={720}>
      {api.endpointURLs.length > 1 && (
        <Select
          label="Gateway environment"
          data={api.endpointURLs.map((e) => ({ value: e.environmentName, label: e.environmentDisplayName }))}
          value={environment}
          onChange={chooseEnvironment}
          allowDeselect={false}
        />
      )}
      <TextInput label="Gateway URL" value={base} onChange={(e) => setBase(e.currentTarget.value)} />
      <PasswordInput label="Access token" value={token} onChange={(e) => setToken(e.currentTarget.value)} />
      <Group grow align="flex-end">
        <Select label="Method" data={['GET', 'POST', 'PUT', 'DELETE', 'PATCH']} value={method} onChange={setMethod} />
        <TextInput label="Resource path" value={path} onChange={(e) => setPath(e.currentTarget.value)} />
      </Group>
      <Text size="sm">Sample:</Text>
      <Code block style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }} data-testid="sample-curl">
        {`curl -X ${method} "${base.replace(/\/$/, '')}${path}" -H "Authorization: Bearer ${token ? '<token>' : '<your token>'}"`}
      </Code>
      <Button onClick={send} loading={busy} disabled={!base}>
        Send
      </Button>
      <ErrorMessage error={error} title="Call failed" />
      {result && (
        <Stack gap={4} data-testid="try-it-response">
          <Text fw={600}>Status {result.status}</Text>
          <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
            {result.body || '(empty body)'}
          </Code>
        </Stack>
      )}
    </Stack>
  );
}
