import { Anchor, Badge, Button, Code, Group, Select, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { lazy, Suspense, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { DEVPORTAL, type Page, call } from '../shared/api';
import { signedInUser } from '../shared/auth';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';
import { Markdown } from '../shared/Markdown';
import { Ratings } from './Ratings';
import { TryIt } from './TryIt';
import type { ApiDetail, Application } from './types';

const Definition = lazy(() => import('./Definition'));

interface Doc {
  documentId: string;
  name: string;
  type: string;
  sourceType: string;
  summary?: string;
}

function Documents({ apiId }: { apiId: string }) {
  const docs = useLoad(() => call<Page<Doc>>(`${DEVPORTAL}/apis/${apiId}/documents`), [apiId]);
  const [open, setOpen] = useState<string | null>(null);
  const content = useLoad(async () => {
    if (!open) return { text: '', markdown: false };
    const r = await fetch(`${DEVPORTAL}/apis/${apiId}/documents/${open}/content`);
    if (!r.ok) throw new Error(`The document could not be read (${r.status})`);
    return { text: await r.text(), markdown: (r.headers.get('Content-Type') ?? '').includes('markdown') };
  }, [open]);
  return (
    <Async state={docs} empty={(p) => p.list.length === 0}>
      {(page) => (
        <Stack>
          {page.list.map((d) => (
            <Stack key={d.documentId} gap={2}>
              <Anchor component="button" onClick={() => setOpen(d.documentId)}>
                {d.name}
              </Anchor>
              <Text size="xs" c="dimmed">
                {d.type} · {d.summary}
              </Text>
            </Stack>
          ))}
          {open && <Async state={content}>{(c) => (c.markdown ? <Markdown text={c.text} /> : <Code block>{c.text}</Code>)}</Async>}
        </Stack>
      )}
    </Async>
  );
}

function Subscribe({ api }: { api: ApiDetail }) {
  const apps = useLoad(() => call<Page<Application>>(`${DEVPORTAL}/applications`, { query: { limit: 100 } }), []);
  const [appId, setAppId] = useState<string | null>(null);
  const [tier, setTier] = useState<string | null>(api.tiers[0]?.tierName ?? null);
  const [done, setDone] = useState(false);
  const submit = useSubmit(async () => {
    await call(`${DEVPORTAL}/subscriptions`, { method: 'POST', body: { applicationId: appId, apiId: api.id, throttlingPolicy: tier } });
    return true;
  });
  return (
    <Async state={apps}>
      {(page) =>
        page.list.length === 0 ? (
          <Text>
            Create an <Anchor component={Link} to="/applications">application</Anchor> first.
          </Text>
        ) : (
          <Stack maw={420}>
            <Select label="Application" data={page.list.map((a) => ({ value: a.applicationId, label: a.name }))} value={appId} onChange={setAppId} />
            <Select label="Tier" data={api.tiers.map((t) => t.tierName)} value={tier} onChange={setTier} />
            <ErrorMessage error={submit.error} title="Could not subscribe" />
            {done && <Text c="green">Subscribed.</Text>}
            <Button disabled={!appId || !tier} loading={submit.busy} onClick={async () => setDone((await submit.run()) === true)}>
              Subscribe
            </Button>
          </Stack>
        )
      }
    </Async>
  );
}

export function ApiPage() {
  const { apiId = '' } = useParams();
  const api = useLoad(() => call<ApiDetail>(`${DEVPORTAL}/apis/${apiId}`), [apiId]);
  const user = signedInUser();
  return (
    <Async state={api}>
      {(a) => (
        <Stack>
          <Title order={2} style={{ wordBreak: 'break-word' }}>
            {a.name} <Badge variant="light">{a.version}</Badge>
          </Title>
          <Tabs defaultValue="overview" keepMounted={false}>
            <Tabs.List>
              <Tabs.Tab value="overview">Overview</Tabs.Tab>
              <Tabs.Tab value="documents">Documents</Tabs.Tab>
              <Tabs.Tab value="definition">Definition</Tabs.Tab>
              <Tabs.Tab value="try">Try it</Tabs.Tab>
              {user && <Tabs.Tab value="subscribe">Subscribe</Tabs.Tab>}
            </Tabs.List>
            <Tabs.Panel value="overview" pt="md">
              <Stack>
                <Ratings apiId={a.id} />
                <Text>{a.description || 'No description.'}</Text>
                <Text size="sm">Context: {a.context}</Text>
                <Group gap={4}>
                  {a.tiers.map((t) => (
                    <Badge key={t.tierName}>{t.tierName}</Badge>
                  ))}
                </Group>
                <Title order={4}>Gateway URLs</Title>
                {a.endpointURLs.length === 0 ? (
                  <Text c="dimmed">Not deployed to a gateway yet.</Text>
                ) : (
                  <Table>
                    <Table.Tbody>
                      {a.endpointURLs.map((e) => (
                        <Table.Tr key={e.environmentName}>
                          <Table.Td>{e.environmentDisplayName}</Table.Td>
                          <Table.Td style={{ wordBreak: 'break-all' }}>{e.URLs.https}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
              </Stack>
            </Tabs.Panel>
            <Tabs.Panel value="documents" pt="md">
              <Documents apiId={a.id} />
            </Tabs.Panel>
            <Tabs.Panel value="definition" pt="md">
              <Suspense fallback={<Text>Loading the definition…</Text>}>
                <Definition apiId={a.id} />
              </Suspense>
            </Tabs.Panel>
            <Tabs.Panel value="try" pt="md">
              <TryIt api={a} />
            </Tabs.Panel>
            {user && (
              <Tabs.Panel value="subscribe" pt="md">
                <Subscribe api={a} />
              </Tabs.Panel>
            )}
          </Tabs>
        </Stack>
      )}
    </Async>
  );
}
