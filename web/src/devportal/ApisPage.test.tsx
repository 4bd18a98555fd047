import { screen } from '@testing-library/react';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { ApisPage } from './ApisPage';

afterEach(() => vi.unstubAllGlobals());

test('published APIs are shown as cards with their tags', async () => {
  mockFetch([200, { count: 1, list: [{ id: 'a1', name: 'Pets', version: '1.0.0', context: '/pets', tags: ['animals'], description: 'All the pets' }] }]);
  renderPage(<ApisPage />);
  expect(await screen.findByRole('link', { name: 'Pets' })).toHaveAttribute('href', '/apis/a1');
  expect(screen.getByText('animals')).toBeInTheDocument();
  expect(screen.getAllByTestId('api-card')).toHaveLength(1);
});

test('an empty catalog says so, and a failed call shows its message', async () => {
  mockFetch([200, { count: 0, list: [] }]);
  const { unmount } = renderPage(<ApisPage />);
  expect(await screen.findByText('Nothing here yet.')).toBeInTheDocument();
  unmount();
  mockFetch([500, { code: 500, message: 'Internal Server Error', description: 'database unavailable' }]);
  renderPage(<ApisPage />);
  expect(await screen.findByRole('alert')).toHaveTextContent('database unavailable');
});

test("a card shows the API's thumbnail when the list names one (thumbnailUri), and none otherwise", async () => {
  mockFetch([
    200,
    {
      count: 2,
      list: [
        { id: 'a1', name: 'Pets', version: '1.0.0', context: '/pets', thumbnailUri: '/apis/a1/thumbnail' },
        { id: 'a2', name: 'Plain', version: '1.0.0', context: '/plain', thumbnailUri: null },
      ],
    },
  ]);
  renderPage(<ApisPage />);
  await screen.findByRole('link', { name: 'Pets' });
  const [pets, plain] = screen.getAllByTestId('api-card');
  expect(pets.querySelector('img')).toHaveAttribute('src', '/api/am/devportal/v3/apis/a1/thumbnail');
  expect(plain.querySelector('img')).toBeNull();
});
