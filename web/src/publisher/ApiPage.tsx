import { Badge, Button, Group, Stack, Table, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useState } from 'react';
import { useParams } from 'react-router-dom';
import { type Page, PUBLISHER, call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';
import { Markdown } from '../shared/Markdown';
import { ApiAnalytics } from './ApiAnalytics';
import type { Api } from './apiModel';
import { EndpointsTab } from './edit/EndpointsTab';
import { ResourcesTab } from './edit/ResourcesTab';
import { ScopesTab } from './edit/ScopesTab';
import { SecurityTab } from './edit/SecurityTab';
import { Thumbnail } from './edit/Thumbnail';

function Overview({ api, reload }: { api: Api; reload: () => void }) {
  return (
    <Stack maw={640}>
      <Text>{String(api.description ?? '') || 'No description.'}</Text>
      <Text size="sm">Context: {api.context}</Text>
      <Title order={4}>Thumbnail</Title>
      <Thumbnail api={api} reload={reload} />
    </Stack>
  );
}

interface LifecycleState {
  state: string;
  availableTransitions: { event: string; targetState: string }[];
}

function Lifecycle({ api, reload }: { api: Api; reload: () => void }) {
  const state = useLoad(() => call<LifecycleState>(`${PUBLISHER}/apis/${api.id}/lifecycle-state`), [api.id, api.lifeCycleStatus]);
  const history = useLoad(
    () => call<Page<{ previousState: string; postState: string; user: string; updatedTime: string }>>(`${PUBLISHER}/apis/${api.id}/lifecycle-history`),
    [api.id, api.lifeCycleStatus],
  );
  const change = useSubmit((action: string) => call(`${PUBLISHER}/apis/change-lifecycle`, { method: 'POST', query: { apiId: api.id, action } }));
  return (
    <Stack>
      <Async state={state}>
        {(s) => (
          <Stack>
            <Text>
              Current state: <Badge data-testid="lifecycle-state">{s.state}</Badge>
            </Text>
            <Group>
              {s.availableTransitions.map((t) => (
                <Button
                  key={t.event}
                  variant="light"
                  loading={change.busy}
                  onClick={async () => {
                    if ((await change.run(t.event)) !== undefined) reload();
                  }}
                >
                  {t.event}
                </Button>
              ))}
            </Group>
          </Stack>
        )}
      </Async>
      <ErrorMessage error={change.error} title="The state did not change" />
      <Title order={4}>History</Title>
      <Async state={history} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table>
            <Table.Tbody>
              {page.list.map((h, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{h.previousState || '—'} → {h.postState}</Table.Td>
                  <Table.Td>{h.user}</Table.Td>
                  <Table.Td>{h.updatedTime}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Async>
    </Stack>
  );
}

interface Revision {
  id: string;
  displayName: string;
  description?: string;
  deploymentInfo?: { name: string }[];
}

function Revisions({ api, reload }: { api: Api; reload: () => void }) {
  const revisions = useLoad(() => call<Page<Revision>>(`${PUBLISHER}/apis/${api.id}/revisions`), [api.id]);
  const [environment, setEnvironment] = useState('Default');
  const create = useSubmit(() => call(`${PUBLISHER}/apis/${api.id}/revisions`, { method: 'POST', body: { description: 'Created in the Publisher' } }));
  const deploy = useSubmit((revisionId: string) =>
    call(`${PUBLISHER}/apis/${api.id}/deploy-revision`, {
      method: 'POST',
      query: { revisionId },
      body: [{ name: environment, vhost: 'localhost', displayOnDevportal: true }],
    }),
  );
  const undeploy = useSubmit((revisionId: string) =>
    call(`${PUBLISHER}/apis/${api.id}/undeploy-revision`, { method: 'POST', query: { revisionId }, body: [{ name: environment, vhost: 'localhost' }] }),
  );
  const [restored, setRestored] = useState<string | null>(null);
  const restore = useSubmit(async (r: Revision) => {
    await call(`${PUBLISHER}/apis/${api.id}/restore-revision`, { method: 'POST', query: { revisionId: r.id } });
    setRestored(r.displayName);
    reload();
    return true;
  });
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        A revision is a snapshot of the API; a gateway environment runs the revision deployed there. Restoring a revision makes it the
        working copy again (the lifecycle state and thumbnail stay).
      </Text>
      <Group align="flex-end">
        <Button
          loading={create.busy}
          onClick={async () => {
            if ((await create.run()) !== undefined) revisions.reload();
          }}
        >
          Create revision
        </Button>
        <TextInput label="Gateway environment" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value)} />
      </Group>
      <ErrorMessage error={create.error ?? deploy.error ?? undeploy.error ?? restore.error} />
      {restored && (
        <Text size="sm" c="teal" role="status">
          {restored} is the working copy again.
        </Text>
      )}
      <Async state={revisions} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table>
            <Table.Tbody>
              {page.list.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{r.displayName}</Table.Td>
                  <Table.Td>{(r.deploymentInfo ?? []).map((d) => d.name).join(', ') || 'not deployed'}</Table.Td>
                  <Table.Td>
                    <Group gap="xs">
                      <Button size="xs" onClick={async () => (await deploy.run(r.id)) !== undefined && revisions.reload()}>
                        Deploy
                      </Button>
                      <Button size="xs" variant="default" onClick={async () => (await undeploy.run(r.id)) !== undefined && revisions.reload()}>
                        Undeploy
                      </Button>
                      <Button size="xs" variant="subtle" loading={restore.busy} aria-label={`Restore ${r.displayName}`} onClick={() => restore.run(r)}>
                        Restore
                      </Button>
                    </Group>
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

interface Subscription {
  subscriptionId: string;
  subscriptionStatus: string;
  throttlingPolicy: string;
  applicationInfo: { name: string; subscriber: string };
}

function Subscriptions({ api }: { api: Api }) {
  const subs = useLoad(() => call<Page<Subscription>>(`${PUBLISHER}/subscriptions`, { query: { apiId: api.id } }), [api.id]);
  const toggle = useSubmit((s: Subscription) =>
    s.subscriptionStatus === 'UNBLOCKED'
      ? call(`${PUBLISHER}/subscriptions/block-subscription`, { method: 'POST', query: { subscriptionId: s.subscriptionId, blockState: 'BLOCKED' } })
      : call(`${PUBLISHER}/subscriptions/unblock-subscription`, { method: 'POST', query: { subscriptionId: s.subscriptionId } }),
  );
  return (
    <Stack>
      <ErrorMessage error={toggle.error} />
      <Async state={subs} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Table>
            <Table.Tbody>
              {page.list.map((s) => (
                <Table.Tr key={s.subscriptionId}>
                  <Table.Td>{s.applicationInfo?.name}</Table.Td>
                  <Table.Td>{s.applicationInfo?.subscriber}</Table.Td>
                  <Table.Td>{s.throttlingPolicy}</Table.Td>
                  <Table.Td>{s.subscriptionStatus}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="light" onClick={async () => (await toggle.run(s)) !== undefined && subs.reload()}>
                      {s.subscriptionStatus === 'UNBLOCKED' ? 'Block' : 'Unblock'}
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

function Documents({ api }: { api: Api }) {
  const docs = useLoad(() => call<Page<{ documentId: string; name: string; sourceType: string }>>(`${PUBLISHER}/apis/${api.id}/documents`), [api.id]);
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const add = useSubmit(async () => {
    const doc = await call<{ documentId: string }>(`${PUBLISHER}/apis/${api.id}/documents`, {
      method: 'POST',
      body: { name, type: 'HOWTO', sourceType: 'MARKDOWN', visibility: 'API_LEVEL', summary: name },
    });
    const form = new FormData();
    form.append('inlineContent', text);
    await call(`${PUBLISHER}/apis/${api.id}/documents/${doc.documentId}/content`, { method: 'POST', body: form });
    setName('');
    setText('');
    docs.reload();
    return true;
  });
  return (
    <Stack maw={640}>
      <Async state={docs} empty={(p) => p.list.length === 0}>
        {(page) => (
          <Stack gap={4}>
            {page.list.map((d) => (
              <Text key={d.documentId}>
                {d.name} <Badge size="xs">{d.sourceType}</Badge>
              </Text>
            ))}
          </Stack>
        )}
      </Async>
      <Title order={4}>Add a document</Title>
      <TextInput label="Document name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
      <Textarea label="Content (Markdown)" autosize minRows={4} value={text} onChange={(e) => setText(e.currentTarget.value)} />
      {text && (
        <Stack gap={2} aria-label="Preview">
          <Text size="xs" c="dimmed">
            Preview
          </Text>
          <Markdown text={text} />
        </Stack>
      )}
      <ErrorMessage error={add.error} title="Could not add the document" />
      <Button w="fit-content" loading={add.busy} onClick={() => add.run()}>
        Add document
      </Button>
    </Stack>
  );
}

export function ApiPage() {
  const { apiId = '' } = useParams();
  const api = useLoad(() => call<Api>(`${PUBLISHER}/apis/${apiId}`), [apiId]);
  return (
    <Async state={api}>
      {(a) => (
        <Stack>
          <Title order={2} style={{ wordBreak: 'break-word' }}>
            {a.name} <Badge variant="light">{a.version}</Badge> <Badge>{a.lifeCycleStatus}</Badge>
          </Title>
          <Tabs defaultValue="overview" keepMounted={false}>
            <Tabs.List>
              <Tabs.Tab value="overview">Overview</Tabs.Tab>
              <Tabs.Tab value="resources">Resources</Tabs.Tab>
              <Tabs.Tab value="endpoints">Endpoints</Tabs.Tab>
              <Tabs.Tab value="security">Security</Tabs.Tab>
              <Tabs.Tab value="scopes">Scopes</Tabs.Tab>
              <Tabs.Tab value="lifecycle">Lifecycle</Tabs.Tab>
              <Tabs.Tab value="revisions">Deployments</Tabs.Tab>
              <Tabs.Tab value="subscriptions">Subscriptions</Tabs.Tab>
              <Tabs.Tab value="documents">Documents</Tabs.Tab>
              <Tabs.Tab value="analytics">Analytics</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="overview" pt="md">
              <Overview api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="resources" pt="md">
              <ResourcesTab api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="endpoints" pt="md">
              <EndpointsTab api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="security" pt="md">
              <SecurityTab api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="scopes" pt="md">
              <ScopesTab api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="lifecycle" pt="md">
              <Lifecycle api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="revisions" pt="md">
              <Revisions api={a} reload={api.reload} />
            </Tabs.Panel>
            <Tabs.Panel value="subscriptions" pt="md">
              <Subscriptions api={a} />
            </Tabs.Panel>
            <Tabs.Panel value="documents" pt="md">
              <Documents api={a} />
            </Tabs.Panel>
            <Tabs.Panel value="analytics" pt="md">
              <ApiAnalytics apiId={a.id} />
            </Tabs.Panel>
          </Tabs>
        </Stack>
      )}
    </Async>
  );
}
