import { fireEvent, screen, within } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { ApiKeysPage, generateBody } from './ApiKeysPage';
import { Ratings } from './Ratings';

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

const body = (fetch: ReturnType<typeof vi.fn>, i: number) => JSON.parse(String((fetch.mock.calls[i][1] as RequestInit).body));

test('the generate request: days in seconds, 0 for the longest, restrictions only when given', () => {
  expect(generateBody(30, '', '')).toEqual({ validityPeriod: 30 * 86400 });
  expect(generateBody(0, ' 10.0.0.0/8 ', '')).toEqual({ validityPeriod: -1, additionalProperties: { permittedIP: '10.0.0.0/8' } });
});

test('a generated key is shown once with a copy button; a key the API refuses to revoke shows its message', async () => {
  const fetch = mockFetch(
    [200, { applicationId: 'app1', name: 'Shop', throttlingPolicy: 'Unlimited' }],
    [200, { keyName: 'Shop_SANDBOX', apikey: 'eyJ.key.sig', validityTime: 7 * 86400 }],
    [400, { code: 400, message: 'Bad Request', description: "'apikey' is not a SANDBOX API key of this application" }],
  );
  window.history.pushState({}, '', '/');
  renderPage(
    <Routes>
      <Route path="*" element={<ApiKeysPage />} />
    </Routes>,
  );
  expect(await screen.findByRole('heading', { name: 'API keys of Shop' })).toBeInTheDocument();
  fireEvent.click(screen.getByText('Sandbox'));
  fireEvent.change(screen.getByLabelText(/^Valid for/), { target: { value: '7' } });
  fireEvent.click(screen.getByRole('button', { name: 'Generate API key' }));
  expect(await screen.findByText('Copy the API key now')).toBeInTheDocument();
  expect(screen.getByLabelText('API key')).toHaveTextContent('eyJ.key.sig');
  expect(screen.getByRole('button', { name: 'Copy API key' })).toBeInTheDocument();
  expect(String(fetch.mock.calls[1][0])).toContain('/api-keys/SANDBOX/generate');
  expect(body(fetch, 1)).toEqual({ validityPeriod: 7 * 86400 });

  fireEvent.change(screen.getByLabelText('API key to revoke'), { target: { value: 'someone-elses-key' } });
  fireEvent.click(screen.getByRole('button', { name: 'Revoke API key' }));
  expect(await screen.findByText(/is not a SANDBOX API key/)).toHaveTextContent("Bad Request: 'apikey' is not a SANDBOX API key of this application");
  expect(body(fetch, 2)).toEqual({ apikey: 'someone-elses-key' });
});

test('a revoked key is confirmed although the answer has no body', async () => {
  mockFetch([200, { applicationId: 'app1', name: 'Shop', throttlingPolicy: 'Unlimited' }], [200, undefined]);
  renderPage(<ApiKeysPage />);
  fireEvent.change(await screen.findByLabelText('API key to revoke'), { target: { value: 'eyJ.key.sig' } });
  fireEvent.click(screen.getByRole('button', { name: 'Revoke API key' }));
  expect(await screen.findByRole('status')).toHaveTextContent('The key is revoked');
});

test('anonymous visitors see the average rating; a signed-in developer gives one', async () => {
  const fetch = mockFetch([200, { count: 2, list: [], avgRating: '3.5', userRating: 0 }]);
  const { unmount } = renderPage(<Ratings apiId="a1" />);
  expect(await screen.findByTestId('rating-summary')).toHaveTextContent('3.5 of 5 from 2 ratings');
  expect(screen.queryByText('Your rating')).toBeNull();
  unmount();
  expect(fetch).toHaveBeenCalledTimes(1);

  sessionStorage.setItem('portico.token.', JSON.stringify({ access_token: 't', expires_at: Date.now() + 60e3, username: 'dev', scope: 'apim:subscribe' }));
  const rated = mockFetch(
    [200, { count: 0, list: [], avgRating: '0.0', userRating: 0 }],
    [200, { rating: 4 }],
    [200, { count: 1, list: [], avgRating: '4.0', userRating: 4 }],
  );
  renderPage(<Ratings apiId="a1" />);
  expect(await screen.findByText('Not rated yet')).toBeInTheDocument();
  // With the keyboard: the fourth star, then Enter.
  fireEvent.keyDown(within(screen.getByTestId('your-rating')).getByLabelText('4'), { key: 'Enter' });
  expect(await screen.findByText('4.0 of 5 from 1 rating')).toBeInTheDocument();
  expect(String(rated.mock.calls[1][0])).toContain('/apis/a1/user-rating');
  expect(body(rated, 1)).toEqual({ rating: 4 });
  expect(screen.getByRole('button', { name: 'Remove my rating' })).toBeInTheDocument();
});
