import { Alert, Anchor, Button, Card, Group, NumberInput, SegmentedControl, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { DEVPORTAL, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { CopyField } from '../shared/CopyField';
import { useLoad, useSubmit } from '../shared/hooks';
import type { Application } from './types';

type KeyType = 'PRODUCTION' | 'SANDBOX';

interface GeneratedKey {
  keyName: string;
  apikey: string;
  validityTime: number;
}

const DAY = 86400;

// The generate request's body: days to seconds (0: the longest Portico allows), and the
// restrictions only when given.
export function generateBody(days: number | string, permittedIP: string, permittedReferer: string) {
  const body: Record<string, unknown> = { validityPeriod: Number(days) > 0 ? Math.round(Number(days) * DAY) : -1 };
  const extra: Record<string, string> = {};
  if (permittedIP.trim()) extra.permittedIP = permittedIP.trim();
  if (permittedReferer.trim()) extra.permittedReferer = permittedReferer.trim();
  if (Object.keys(extra).length > 0) body.additionalProperties = extra;
  return body;
}

function Generate({ appId, keyType }: { appId: string; keyType: KeyType }) {
  const [days, setDays] = useState<number | string>(30);
  const [ips, setIps] = useState('');
  const [referers, setReferers] = useState('');
  const [key, setKey] = useState<GeneratedKey | null>(null);
  const generate = useSubmit(() =>
    call<GeneratedKey>(`${DEVPORTAL}/applications/${appId}/api-keys/${keyType}/generate`, { method: 'POST', body: generateBody(days, ips, referers) }),
  );
  return (
    <Stack gap="xs">
      <NumberInput label="Valid for (days)" description="0: as long as allowed (one year)" min={0} max={365} value={days} onChange={setDays} w={220} />
      <TextInput label="Permitted IP addresses" description="optional, comma-separated addresses or CIDR ranges" value={ips} onChange={(e) => setIps(e.currentTarget.value)} />
      <TextInput label="Permitted referrers" description="optional, comma-separated URL patterns" value={referers} onChange={(e) => setReferers(e.currentTarget.value)} />
      <ErrorMessage error={generate.error} title="No key was generated" />
      <Button
        w="fit-content"
        loading={generate.busy}
        onClick={async () => {
          setKey(null);
          const k = await generate.run();
          if (k) setKey(k);
        }}
      >
        Generate API key
      </Button>
      {key && (
        <Stack gap={4}>
          <Alert color="yellow" title="Copy the API key now">
            It is shown only once: Portico does not keep it. It is valid for {Math.round(key.validityTime / DAY)} days.
          </Alert>
          <CopyField label="API key" value={key.apikey} />
        </Stack>
      )}
    </Stack>
  );
}

function Revoke({ appId, keyType }: { appId: string; keyType: KeyType }) {
  const [apikey, setApikey] = useState('');
  const [done, setDone] = useState(false);
  // The answer has no body: success is the call not failing.
  const revoke = useSubmit(async () => {
    await call(`${DEVPORTAL}/applications/${appId}/api-keys/${keyType}/revoke`, { method: 'POST', body: { apikey: apikey.trim() } });
    return true;
  });
  return (
    <Stack gap="xs">
      <Textarea label="API key to revoke" rows={3} value={apikey} onChange={(e) => setApikey(e.currentTarget.value)} />
      <ErrorMessage error={revoke.error} title="Not revoked" />
      {done && (
        <Text c="teal" size="sm" role="status">
          The key is revoked: gateways refuse it from now on.
        </Text>
      )}
      <Button
        w="fit-content"
        color="red"
        variant="light"
        disabled={!apikey.trim()}
        loading={revoke.busy}
        onClick={async () => {
          setDone(false);
          if ((await revoke.run()) !== undefined) {
            setDone(true);
            setApikey('');
          }
        }}
      >
        Revoke API key
      </Button>
    </Stack>
  );
}

// API keys of one application: a self-contained signed key per call, not stored by Portico,
// so there is no list; a key is revoked by giving it back.
export function ApiKeysPage() {
  const { appId = '' } = useParams();
  const app = useLoad(() => call<Application>(`${DEVPORTAL}/applications/${appId}`), [appId]);
  const [keyType, setKeyType] = useState<KeyType>('PRODUCTION');
  return (
    <Async state={app}>
      {(a) => (
        <Stack maw={720}>
          <Anchor component={Link} to={`/applications/${appId}`} size="sm">
            ← {a.name}
          </Anchor>
          <Title order={2} style={{ wordBreak: 'break-word' }}>
            API keys of {a.name}
          </Title>
          <Text size="sm" c="dimmed">
            An API key calls the APIs this application subscribes to, sent in the <code>apikey</code> header, when the API accepts API keys.
          </Text>
          <Group>
            <SegmentedControl
              aria-label="Key type"
              value={keyType}
              onChange={(v) => setKeyType(v as KeyType)}
              data={[
                { value: 'PRODUCTION', label: 'Production' },
                { value: 'SANDBOX', label: 'Sandbox' },
              ]}
            />
          </Group>
          <Card withBorder>
            <Title order={4} mb="sm">
              New {keyType.toLowerCase()} key
            </Title>
            <Generate key={keyType} appId={appId} keyType={keyType} />
          </Card>
          <Card withBorder>
            <Title order={4} mb="sm">
              Revoke a {keyType.toLowerCase()} key
            </Title>
            <Revoke key={keyType} appId={appId} keyType={keyType} />
          </Card>
        </Stack>
      )}
    </Async>
  );
}
