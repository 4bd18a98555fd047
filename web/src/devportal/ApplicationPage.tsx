import { Alert, Anchor, Button, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { DEVPORTAL, type Page, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { CopyField } from '../shared/CopyField';
import { useLoad, useSubmit } from '../shared/hooks';
import { UsageChart } from '../shared/UsageChart';
import { type Application, type ApplicationKey, type Subscription, TRY_IT_TOKEN } from './types';

function Keys({ appId }: { appId: string }) {
  const keys = useLoad(() => call<Page<ApplicationKey>>(`${DEVPORTAL}/applications/${appId}/oauth-keys`), [appId]);
  const [secret, setSecret] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const generate = useSubmit(() =>
    call<ApplicationKey>(`${DEVPORTAL}/applications/${appId}/generate-keys`, {
      method: 'POST',
      body: { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'], keyManager: 'Resident Key Manager', validityTime: '3600' },
    }),
  );
  const newToken = useSubmit((key: ApplicationKey) =>
    call<{ accessToken: string }>(`${DEVPORTAL}/applications/${appId}/oauth-keys/${key.keyMappingId}/generate-token`, {
      method: 'POST',
      body: { consumerSecret: secret, validityPeriod: 3600, scopes: [], grantType: 'CLIENT_CREDENTIALS' },
    }),
  );
  const showToken = (t: string) => {
    setToken(t);
    sessionStorage.setItem(TRY_IT_TOKEN, t);
  };
  return (
    <Async state={keys}>
      {(page) => {
        const key = page.list.find((k) => k.keyType === 'PRODUCTION');
        return (
          <Stack>
            {!key ? (
              <Button
                w="fit-content"
                loading={generate.busy}
                onClick={async () => {
                  const k = await generate.run();
                  if (!k) return;
                  setSecret(k.consumerSecret);
                  if (k.token) showToken(k.token.accessToken);
                  keys.reload();
                }}
              >
                Generate keys
              </Button>
            ) : (
              <>
                <Text size="sm">Consumer key</Text>
                <CopyField label="consumer key" value={key.consumerKey} />
                {secret && (
                  <>
                    <Alert color="yellow" title="Copy the consumer secret now">
                      It is shown only once.
                    </Alert>
                    <Text size="sm">Consumer secret</Text>
                    <CopyField label="consumer secret" value={secret} />
                  </>
                )}
                <Button
                  w="fit-content"
                  disabled={!secret}
                  loading={newToken.busy}
                  onClick={async () => {
                    const t = await newToken.run(key);
                    if (t) showToken(t.accessToken);
                  }}
                >
                  Generate access token
                </Button>
                {!secret && <Text size="xs" c="dimmed">A new access token needs the consumer secret, shown when the keys were generated.</Text>}
              </>
            )}
            <ErrorMessage error={generate.error ?? newToken.error} />
            {token && (
              <>
                <Text size="sm">Access token</Text>
                <CopyField label="access token" value={token} />
              </>
            )}
          </Stack>
        );
      }}
    </Async>
  );
}

export function ApplicationPage() {
  const { appId = '' } = useParams();
  const app = useLoad(() => call<Application>(`${DEVPORTAL}/applications/${appId}`), [appId]);
  const subs = useLoad(() => call<Page<Subscription>>(`${DEVPORTAL}/subscriptions`, { query: { applicationId: appId } }), [appId]);
  return (
    <Async state={app}>
      {(a) => (
        <Stack>
          <Title order={2} style={{ wordBreak: 'break-word' }}>
            {a.name}
          </Title>
          <Card withBorder>
            <Title order={4} mb="sm">
              Production keys
            </Title>
            <Keys appId={appId} />
          </Card>
          <Card withBorder>
            <Title order={4} mb="xs">
              API keys
            </Title>
            <Text size="sm" mb="xs">
              Keys the gateway accepts instead of access tokens, on APIs that allow API keys.
            </Text>
            <Anchor component={Link} to={`/applications/${appId}/api-keys`}>
              Generate or revoke API keys
            </Anchor>
          </Card>
          <Card withBorder>
            <Title order={4} mb="sm">
              Subscriptions
            </Title>
            <Async state={subs} empty={(p) => p.list.length === 0}>
              {(page) => (
                <Table>
                  <Table.Tbody>
                    {page.list.map((s) => (
                      <Table.Tr key={s.subscriptionId}>
                        <Table.Td>
                          <Anchor component={Link} to={`/apis/${s.apiId}`}>
                            {s.apiInfo?.name ?? s.apiId}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>{s.throttlingPolicy}</Table.Td>
                        <Table.Td>{s.status}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Async>
          </Card>
          <Card withBorder>
            <UsageChart title="Usage" filter={{ applicationId: appId }} />
          </Card>
          <ErrorMessage error={null} />
        </Stack>
      )}
    </Async>
  );
}
