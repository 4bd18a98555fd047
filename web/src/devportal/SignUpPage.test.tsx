import { fireEvent, screen } from '@testing-library/react';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { SignUpPage } from './SignUpPage';

afterEach(() => vi.unstubAllGlobals());

test('a refused sign-up shows the API own error message and keeps the form', async () => {
  const fetch = mockFetch([409, { code: 409, message: 'Conflict', description: "user 'alice' already exists" }]);
  renderPage(<SignUpPage />);
  fireEvent.change(screen.getByLabelText(/Username/), { target: { value: 'alice' } });
  fireEvent.change(screen.getByLabelText(/Password/), { target: { value: 'secret-1' } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
  expect(await screen.findByRole('alert')).toHaveTextContent("Conflict: user 'alice' already exists");
  const [url, init] = fetch.mock.calls[0];
  expect(String(url)).toContain('/api/identity/user/v1.0/me');
  expect(JSON.parse(init.body).user).toMatchObject({ username: 'alice', password: 'secret-1', realm: 'PRIMARY' });
  expect(screen.getByRole('button', { name: 'Sign up' })).toBeInTheDocument();
});

test('a sign-up that succeeds offers to sign in', async () => {
  mockFetch([201, { username: 'bob' }]);
  renderPage(<SignUpPage />);
  fireEvent.change(screen.getByLabelText(/Username/), { target: { value: 'bob' } });
  fireEvent.change(screen.getByLabelText(/Password/), { target: { value: 'secret-1' } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
  expect(await screen.findByText(/Your account bob is ready/)).toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
});
