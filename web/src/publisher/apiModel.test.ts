import { expect, test } from 'vitest';
import { type Api, endpointConfig, endpointForm, endpointProblems, operationProblems, operationsOf, storedOperations } from './apiModel';

const failover = {
  endpoint_type: 'failover',
  production_endpoints: { url: 'https://a.example', config: { actionDuration: 3000 } },
  production_failovers: [{ url: 'https://b.example' }],
  sandbox_endpoints: { url: 'https://sb.example' },
};

test('a failover configuration is one list per environment, primary first, and goes back unchanged', () => {
  const form = endpointForm(failover);
  expect(form).toEqual({ type: 'failover', production: ['https://a.example', 'https://b.example'], sandbox: ['https://sb.example'] });
  expect(endpointConfig(form, failover)).toEqual({ ...failover, sandbox_failovers: [] });
});

test('turning endpoints into a load-balanced list keeps each endpoint its advanced configuration', () => {
  const config = endpointConfig({ type: 'load_balance', production: ['https://a.example', ' https://c.example ', ''], sandbox: [] }, failover);
  expect(config).toEqual({
    endpoint_type: 'load_balance',
    production_endpoints: [{ url: 'https://a.example', config: { actionDuration: 3000 } }, { url: 'https://c.example' }],
  });
});

test('endpoint problems: none given, not http, two URLs for a single endpoint', () => {
  expect(endpointProblems({ type: 'http', production: [''], sandbox: [] })).toEqual(['Give a production or a sandbox endpoint.']);
  expect(endpointProblems({ type: 'load_balance', production: ['ftp://x'], sandbox: [] })).toEqual(['ftp://x is not an http:// or https:// URL.']);
  expect(endpointProblems({ type: 'http', production: ['http://a', 'http://b'], sandbox: [] })).toEqual(['A single endpoint takes one production URL.']);
});

test('operations keep the fields the form does not edit and store header policies in the reference shape', () => {
  const api = {
    id: '1', name: 'n', version: 'v', context: '/c', lifeCycleStatus: 'CREATED',
    operations: [
      {
        target: '/hello', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [], id: 'keep-me',
        operationPolicies: { request: [{ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName: 'X-A', headerValue: '1' } }], response: [], fault: [] },
      },
    ],
  } as Api;
  const [op] = operationsOf(api);
  expect(op.request).toEqual([{ policyName: 'addHeader', headerName: 'X-A', headerValue: '1' }]);
  op.response.push({ policyName: 'removeHeader', headerName: ' Server ', headerValue: '' });
  expect(storedOperations([op])[0]).toEqual({
    id: 'keep-me', target: '/hello', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [],
    operationPolicies: {
      request: [{ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName: 'X-A', headerValue: '1' } }],
      response: [{ policyName: 'removeHeader', policyVersion: 'v1', parameters: { headerName: 'Server' } }],
      fault: [],
    },
  });
});

test('operation problems name the resource', () => {
  const base = { authType: 'None', throttlingPolicy: 'Unlimited', scopes: [], response: [], rest: {} };
  expect(
    operationProblems([
      { ...base, verb: 'GET', target: 'hello', request: [] },
      { ...base, verb: 'GET', target: '/a', request: [{ policyName: 'addHeader', headerName: 'bad name', headerValue: '' }] },
    ]),
  ).toEqual([
    'GET hello: the path must start with /.',
    'GET /a: "bad name" is not a header name (letters, digits, - _ .).',
    'GET /a: the header bad name needs a value.',
  ]);
});
