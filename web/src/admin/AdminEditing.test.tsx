import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { DenyPoliciesPage } from './DenyPoliciesPage';
import { EnvironmentsPage } from './EnvironmentsPage';
import { UsersPage } from './UsersPage';

afterEach(() => vi.unstubAllGlobals());

const sent = (fetch: ReturnType<typeof vi.fn>, i: number) => JSON.parse(String((fetch.mock.calls[i][1] as RequestInit).body));

const defaultEnv = {
  id: 'e1',
  name: 'Default',
  displayName: 'Default',
  description: 'The default gateway environment',
  provider: 'wso2',
  isReadOnly: false,
  vhosts: [{ host: 'localhost', httpContext: '', httpPort: 8280, httpsPort: 8243, wsPort: 9099, wssPort: 8099 }],
};

test('an environment is edited with PUT: its name stays, other fields and ports it had are kept', async () => {
  const fetch = mockFetch([200, { count: 1, list: [defaultEnv] }], [200, {}], [200, { count: 1, list: [defaultEnv] }]);
  renderPage(<EnvironmentsPage />);
  fireEvent.click(await screen.findByRole('button', { name: 'Edit Default' }));
  expect(screen.getByLabelText(/^Environment name/)).toBeDisabled();
  fireEvent.click(screen.getByRole('button', { name: 'Add a host' }));
  const host2 = screen.getByRole('group', { name: 'Host 2' });
  fireEvent.change(within(host2).getByLabelText('Host name'), { target: { value: 'gw.example.com' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save environment' }));
  await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(3));
  const [url, init] = fetch.mock.calls[1] as [URL, RequestInit];
  expect(String(url)).toMatch(/\/environments\/e1$/);
  expect(init.method).toBe('PUT');
  expect(sent(fetch, 1)).toEqual({
    name: 'Default',
    displayName: 'Default',
    description: 'The default gateway environment',
    provider: 'wso2',
    vhosts: [defaultEnv.vhosts[0], { host: 'gw.example.com', httpContext: '', httpPort: 80, httpsPort: 443 }],
  });
});

test('a new environment with a bad host is not sent; a refused one shows the API message', async () => {
  const fetch = mockFetch([200, { count: 0, list: [] }], [409, { code: 409, message: 'Conflict', description: "an environment named 'eu' exists" }]);
  renderPage(<EnvironmentsPage />);
  fireEvent.change(await screen.findByLabelText(/^Environment name/), { target: { value: 'eu' } });
  fireEvent.change(screen.getByLabelText('Host name'), { target: { value: 'bad host' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add environment' }));
  expect(await screen.findByText('Host 1: give a host name (letters, digits, . and -).')).toBeInTheDocument();
  expect(fetch).toHaveBeenCalledTimes(1);
  fireEvent.change(screen.getByLabelText('Host name'), { target: { value: 'eu.example.com' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add environment' }));
  expect(await screen.findByText(/exists/)).toHaveTextContent("Conflict: an environment named 'eu' exists");
});

test("a user's roles are replaced with a SCIM PatchOp; SCIM's own error detail is shown", async () => {
  const alice = { id: 'u1', userName: 'alice', roles: [{ value: 'subscriber' }] };
  const fetch = mockFetch(
    [200, { Resources: [alice], totalResults: 1 }],
    [200, { ...alice, roles: [{ value: 'subscriber' }, { value: 'creator' }] }],
    [200, { Resources: [alice], totalResults: 1 }],
    [400, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue', detail: 'userName must be 3 to 100 characters' }],
  );
  renderPage(<UsersPage />);
  fireEvent.click(await screen.findByRole('button', { name: 'Edit alice' }));
  fireEvent.click(screen.getByRole('checkbox', { name: /^creator/ }));
  fireEvent.click(screen.getByRole('button', { name: 'Save roles' }));
  await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(3));
  const [url, init] = fetch.mock.calls[1] as [URL, RequestInit];
  expect(String(url)).toMatch(/\/scim2\/Users\/u1$/);
  expect(init.method).toBe('PATCH');
  expect(sent(fetch, 1)).toEqual({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'roles', value: [{ value: 'subscriber' }, { value: 'creator' }] }],
  });
  fireEvent.change(await screen.findByLabelText(/^Username/), { target: { value: 'al' } });
  fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: 'secret-1' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add user' }));
  expect(await screen.findByRole('alert')).toHaveTextContent('userName must be 3 to 100 characters');
  expect(sent(fetch, 3)).toEqual({ userName: 'al', password: 'secret-1', roles: [{ value: 'subscriber' }] });
});

test('a deny policy is disabled with PATCH and deleted at /throttling/deny-policy/{conditionId}', async () => {
  const policy = { conditionId: 'c1', conditionType: 'USER', conditionValue: 'mallory', conditionStatus: true };
  const fetch = mockFetch(
    [200, { count: 1, list: [policy] }],
    [200, { ...policy, conditionStatus: false }],
    [200, { count: 1, list: [{ ...policy, conditionStatus: false }] }],
    [200, undefined],
    [200, { count: 0, list: [] }],
  );
  renderPage(<DenyPoliciesPage />);
  fireEvent.click(await screen.findByRole('switch', { name: 'Enforce USER mallory' }));
  await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(3));
  expect(String(fetch.mock.calls[1][0])).toMatch(/\/throttling\/deny-policy\/c1$/);
  expect((fetch.mock.calls[1][1] as RequestInit).method).toBe('PATCH');
  expect(sent(fetch, 1)).toEqual({ conditionStatus: false });
  await vi.waitFor(() => expect(screen.getByRole('switch', { name: 'Enforce USER mallory' })).not.toBeChecked());
  fireEvent.click(screen.getByRole('button', { name: 'Delete USER mallory' }));
  expect(await screen.findByText('Nothing here yet.')).toBeInTheDocument();
  expect(String(fetch.mock.calls[3][0])).toMatch(/\/throttling\/deny-policy\/c1$/);
  expect((fetch.mock.calls[3][1] as RequestInit).method).toBe('DELETE');
});
