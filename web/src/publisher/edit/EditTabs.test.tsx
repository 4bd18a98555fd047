import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../../test-utils';
import type { Api } from '../apiModel';
import { EndpointsTab } from './EndpointsTab';
import { ResourcesTab } from './ResourcesTab';
import { ScopesTab } from './ScopesTab';
import { SecurityTab } from './SecurityTab';
import { Thumbnail } from './Thumbnail';

afterEach(() => vi.unstubAllGlobals());

const api = (fields: Record<string, unknown> = {}): Api => ({
  id: 'a1',
  name: 'Pets',
  version: '1.0.0',
  context: '/pets',
  lifeCycleStatus: 'CREATED',
  endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'http://one.example' } },
  operations: [{ target: '/pets', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: ['pets:read'] }],
  scopes: [{ scope: { name: 'pets:read', displayName: 'Read', description: '', bindings: [] }, shared: false }],
  ...fields,
});

const sent = (fetch: ReturnType<typeof vi.fn>, i: number) => JSON.parse(String((fetch.mock.calls[i][1] as RequestInit).body));

test('failover endpoints are sent as the primary and its failovers, and the page reloads the API', async () => {
  const fetch = mockFetch([200, {}]);
  const reload = vi.fn();
  renderPage(<EndpointsTab api={api()} reload={reload} />);
  fireEvent.click(screen.getByRole('radio', { name: /Failover/ }));
  fireEvent.click(screen.getByRole('button', { name: 'Add a production failover' }));
  fireEvent.change(screen.getByLabelText('Production failover 1 URL'), { target: { value: 'http://two.example' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save endpoints' }));
  expect(await screen.findByText('Saved.')).toBeInTheDocument();
  expect(String(fetch.mock.calls[0][0])).toMatch(/\/apis\/a1$/);
  expect((fetch.mock.calls[0][1] as RequestInit).method).toBe('PUT');
  expect(sent(fetch, 0).endpointConfig).toEqual({
    endpoint_type: 'failover',
    production_endpoints: { url: 'http://one.example' },
    production_failovers: [{ url: 'http://two.example' }],
  });
  expect(sent(fetch, 0).name).toBe('Pets');
  expect(reload).toHaveBeenCalled();
});

test('an endpoint the form can tell is wrong is not sent; one the API refuses shows its message', async () => {
  const fetch = mockFetch([400, { code: 400, message: 'Bad Request', description: "endpointConfig.production_endpoints URL 'http://10.0.0.1' is not an allowed backend" }]);
  renderPage(<EndpointsTab api={api()} reload={() => {}} />);
  fireEvent.change(screen.getByLabelText('Production endpoint URL'), { target: { value: 'one.example' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save endpoints' }));
  expect(await screen.findByText('one.example is not an http:// or https:// URL.')).toBeInTheDocument();
  expect(fetch).not.toHaveBeenCalled();
  fireEvent.change(screen.getByLabelText('Production endpoint URL'), { target: { value: 'http://10.0.0.1' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save endpoints' }));
  expect(await screen.findByText(/is not an allowed backend/)).toHaveTextContent(
    "Bad Request: endpointConfig.production_endpoints URL 'http://10.0.0.1' is not an allowed backend",
  );
});

test('a resource added with a header policy is stored with its operation policies', async () => {
  const fetch = mockFetch([200, { count: 1, list: [{ name: 'Unlimited' }, { name: '10KPerMin' }] }], [200, {}]);
  renderPage(<ResourcesTab api={api()} reload={() => {}} />);
  fireEvent.change(screen.getByLabelText('Path'), { target: { value: '/pets/{id}' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add resource' }));
  const added = screen.getByRole('group', { name: 'GET /pets/{id}' });
  expect(added).toBeInTheDocument();
  fireEvent.click(screen.getAllByRole('button', { name: 'Add a request header policy' })[1]);
  fireEvent.change(screen.getByLabelText('Header name'), { target: { value: 'X-Team' } });
  fireEvent.change(screen.getByLabelText('Header value'), { target: { value: 'pets' } });
  fireEvent.click(screen.getAllByRole('switch', { name: 'Requires a token or key' })[1]);
  fireEvent.click(screen.getByRole('button', { name: 'Save resources' }));
  expect(await screen.findByText('Saved.')).toBeInTheDocument();
  const operations = sent(fetch, 1).operations;
  expect(operations).toHaveLength(2);
  expect(operations[1]).toEqual({
    target: '/pets/{id}',
    verb: 'GET',
    authType: 'None',
    throttlingPolicy: 'Unlimited',
    scopes: [],
    operationPolicies: { request: [{ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName: 'X-Team', headerValue: 'pets' } }], response: [], fault: [] },
  });
});

test('a resource path without a leading slash is not added', () => {
  mockFetch([200, { count: 0, list: [] }]);
  renderPage(<ResourcesTab api={api()} reload={() => {}} />);
  fireEvent.change(screen.getByLabelText('Path'), { target: { value: 'pets' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add resource' }));
  expect(screen.getByText('The path must start with /, e.g. /pets/{petId}.')).toBeInTheDocument();
  expect(screen.queryByRole('group', { name: 'GET pets' })).toBeNull();
});

test('a removed scope leaves the resources that required it; a reserved name shows the API message', async () => {
  const fetch = mockFetch([200, {}], [400, { code: 400, message: 'Bad Request', description: "scope name 'apim:admin' is reserved" }]);
  renderPage(<ScopesTab api={api()} reload={() => {}} />);
  fireEvent.click(screen.getByRole('button', { name: 'Remove scope pets:read' }));
  fireEvent.click(screen.getByRole('button', { name: 'Save scopes' }));
  expect(await screen.findByText('Saved.')).toBeInTheDocument();
  expect(sent(fetch, 0).scopes).toEqual([]);
  expect(sent(fetch, 0).operations[0].scopes).toEqual([]);
  fireEvent.click(screen.getByRole('button', { name: 'Add a scope' }));
  fireEvent.change(screen.getByLabelText('Scope name'), { target: { value: 'apim:admin' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save scopes' }));
  expect(await screen.findByRole('alert')).toHaveTextContent("Bad Request: scope name 'apim:admin' is reserved");
});

test('a thumbnail over 1 MB is refused before uploading; an image is sent as the multipart file', async () => {
  const fetch = mockFetch([200, {}]);
  const reload = vi.fn();
  renderPage(<Thumbnail api={api()} reload={reload} />);
  const input = document.querySelector('input[type=file]') as HTMLInputElement;
  fireEvent.change(input, { target: { files: [new File([new Uint8Array(1024 * 1024 + 1)], 'big.png', { type: 'image/png' })] } });
  fireEvent.click(screen.getByRole('button', { name: 'Upload thumbnail' }));
  expect(await screen.findByRole('alert')).toHaveTextContent('big.png is 1.0 MB: the limit is 1 MB.');
  expect(fetch).not.toHaveBeenCalled();
  fireEvent.change(input, { target: { files: [new File(['png'], 'logo.png', { type: 'image/png' })] } });
  fireEvent.click(screen.getByRole('button', { name: 'Upload thumbnail' }));
  await waitFor(() => expect(reload).toHaveBeenCalled());
  const [url, init] = fetch.mock.calls[0] as [URL, RequestInit];
  expect(String(url)).toMatch(/\/apis\/a1\/thumbnail$/);
  expect(init.method).toBe('PUT');
  expect((init.body as FormData).get('file')).toBeInstanceOf(File);
});

test('a form sends only its own fields with the API identity, so it cannot undo another form with a stale copy', async () => {
  const fetch = mockFetch([200, {}]);
  renderPage(<EndpointsTab api={api({ corsConfiguration: { corsConfigurationEnabled: true } })} reload={() => {}} />);
  fireEvent.click(screen.getByRole('button', { name: 'Save endpoints' }));
  expect(await screen.findByText('Saved.')).toBeInTheDocument();
  expect(Object.keys(sent(fetch, 0)).sort()).toEqual(['context', 'endpointConfig', 'name', 'version']);
});

test('security: at least one way to authenticate; "mandatory" travels as the reference spells it', async () => {
  const fetch = mockFetch([200, { count: 1, list: [{ name: 'Gold' }] }], [200, {}]);
  renderPage(<SecurityTab api={api({ securityScheme: ['oauth2'] })} reload={() => {}} />);
  fireEvent.click(screen.getByRole('checkbox', { name: 'OAuth 2.0 tokens' }));
  fireEvent.click(screen.getByRole('button', { name: 'Save security' }));
  expect(await screen.findByText('Choose at least one way to authenticate.')).toBeInTheDocument();
  fireEvent.click(screen.getByRole('checkbox', { name: 'API keys' }));
  fireEvent.click(screen.getByRole('switch', { name: 'One of them is mandatory on every secured resource' }));
  fireEvent.click(screen.getByRole('button', { name: 'Save security' }));
  expect(await screen.findByText('Saved.')).toBeInTheDocument();
  expect(sent(fetch, 1).securityScheme).toEqual(['api_key', 'oauth_basic_auth_api_key_mandatory']);
});
