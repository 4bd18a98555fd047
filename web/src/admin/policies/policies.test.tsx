import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../../test-utils';
import { PolicyEditor } from './PolicyEditor';
import { newPolicy, policyBody, policyFormOf, policyProblems } from './policyModel';

afterEach(() => vi.unstubAllGlobals());

const advanced = {
  policyId: 'p1',
  type: 'AdvancedThrottlePolicy',
  isDeployed: true,
  policyName: 'Partners',
  displayName: 'Partners',
  description: '',
  defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 100 } },
  conditionalGroups: [
    {
      description: 'office',
      conditions: [
        { type: 'IPCONDITION', invertCondition: false, ipCondition: { ipConditionType: 'IPRANGE', startingIP: '10.0.0.1', endingIP: '10.0.0.9' } },
        { type: 'HEADERCONDITION', invertCondition: true, headerCondition: { headerName: 'X-Tier', headerValue: 'gold' } },
        { type: 'JWTCLAIMSCONDITION', invertCondition: false, jwtClaimsCondition: { claimUrl: 'http://wso2.org/claims/role', attribute: 'partner.*' } },
      ],
      limit: { type: 'BANDWIDTHLIMIT', bandwidth: { timeUnit: 'hour', unitTime: 2, dataAmount: 5, dataUnit: 'GB' } },
    },
  ],
};

test('an advanced policy with conditional groups goes through the form unchanged, without its read-only fields', () => {
  const { policyId, type, isDeployed, ...stored } = advanced;
  expect(policyBody('advanced', policyFormOf(advanced), advanced)).toEqual(stored);
  expect([policyId, type, isDeployed]).toHaveLength(3);
});

test('burst control: a count with its unit, or 0 and no unit', () => {
  const form = { ...newPolicy(), policyName: 'Gold', burstCount: 50, burstUnit: 'min' };
  expect(policyBody('subscription', form)).toMatchObject({ rateLimitCount: 50, rateLimitTimeUnit: 'min', stopOnQuotaReach: true, billingPlan: 'FREE' });
  const off = policyBody('subscription', { ...form, burstCount: 0 }, { rateLimitTimeUnit: 'sec', billingPlan: 'COMMERCIAL' });
  expect(off.rateLimitCount).toBe(0);
  expect(off).not.toHaveProperty('rateLimitTimeUnit');
  expect(off.billingPlan).toBe('COMMERCIAL');
});

test('problems name the group and condition', () => {
  const form = policyFormOf(advanced);
  form.groups[0].conditions[0].endIp = 'ten';
  form.groups[0].conditions[1].name = '';
  expect(policyProblems('advanced', form)).toEqual([
    'Conditional group 1, condition 1: "ten" is not an IP address.',
    'Conditional group 1, condition 2: give the header name.',
  ]);
});

test('a new advanced policy with a conditional group is posted; the API refusal is shown as it says', async () => {
  const fetch = mockFetch([400, { code: 400, message: 'Bad Request', description: "conditionalGroups[0]: conditions[0]: ipCondition: 'startingIP' must not be after 'endingIP'" }]);
  const onSaved = vi.fn();
  renderPage(<PolicyEditor level="advanced" initial={newPolicy()} submitLabel="Add policy" onSaved={onSaved} />);
  fireEvent.change(screen.getByLabelText(/^Policy name/), { target: { value: 'Office' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add a conditional group' }));
  const group = screen.getByRole('group', { name: 'Conditional group 1' });
  fireEvent.change(within(group).getByLabelText('Header name'), { target: { value: 'X-Team' } });
  fireEvent.change(within(group).getByLabelText('Header value'), { target: { value: 'ops' } });
  fireEvent.change(within(group).getByLabelText('Request count'), { target: { value: '5' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add policy' }));
  expect(await screen.findByText(/must not be after/)).toHaveTextContent(
    "Bad Request: conditionalGroups[0]: conditions[0]: ipCondition: 'startingIP' must not be after 'endingIP'",
  );
  expect(onSaved).not.toHaveBeenCalled();
  const [url, init] = fetch.mock.calls[0] as [URL, RequestInit];
  expect(String(url)).toMatch(/\/throttling\/policies\/advanced$/);
  expect(JSON.parse(String(init.body)).conditionalGroups).toEqual([
    {
      description: '',
      conditions: [{ type: 'HEADERCONDITION', invertCondition: false, headerCondition: { headerName: 'X-Team', headerValue: 'ops' } }],
      limit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5 } },
    },
  ]);
});

test('a subscription policy with burst control is updated with PUT', async () => {
  const fetch = mockFetch([200, {}]);
  const onSaved = vi.fn();
  const stored = { policyId: 'g1', policyName: 'Gold', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5000 } }, rateLimitCount: 0, billingPlan: 'FREE' };
  renderPage(<PolicyEditor level="subscription" policyId="g1" initial={policyFormOf(stored)} original={stored} submitLabel="Save policy" onSaved={onSaved} />);
  expect(screen.getByLabelText(/^Policy name/)).toBeDisabled();
  fireEvent.change(screen.getByLabelText('Burst limit (requests)'), { target: { value: '20' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
  await vi.waitFor(() => expect(onSaved).toHaveBeenCalled());
  const [url, init] = fetch.mock.calls[0] as [URL, RequestInit];
  expect(String(url)).toMatch(/\/throttling\/policies\/subscription\/g1$/);
  expect(init.method).toBe('PUT');
  expect(JSON.parse(String(init.body))).toMatchObject({ policyName: 'Gold', rateLimitCount: 20, rateLimitTimeUnit: 'sec' });
});
