import { fireEvent, screen } from '@testing-library/react';
import { afterEach, expect, test, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { CreateApiPage } from './CreateApiPage';

afterEach(() => vi.unstubAllGlobals());

test('an invalid OpenAPI file shows every problem the validation found, and nothing is imported', async () => {
  const fetch = mockFetch([
    200,
    { isValid: false, errors: [{ message: "info.version is required" }, { message: "path parameter 'name' is not declared", description: '/hello/{name}' }] },
  ]);
  renderPage(<CreateApiPage />);
  const input = document.querySelector('input[type=file]') as HTMLInputElement;
  fireEvent.change(input, { target: { files: [new File(['openapi: 3.0.3'], 'broken.yaml')] } });
  fireEvent.click(screen.getByRole('button', { name: 'Create' }));
  expect(await screen.findByText('info.version is required')).toBeInTheDocument();
  expect(screen.getByText("path parameter 'name' is not declared: /hello/{name}")).toBeInTheDocument();
  expect(fetch).toHaveBeenCalledTimes(1);
  expect(String(fetch.mock.calls[0][0])).toContain('/apis/validate-openapi');
});

test('a form the API refuses shows its message', async () => {
  mockFetch([409, { code: 409, message: 'Conflict', description: 'an API named Pets 1.0.0 exists' }]);
  renderPage(<CreateApiPage />);
  fireEvent.click(screen.getByRole('radio', { name: 'From scratch' }));
  fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'Pets' } });
  fireEvent.change(screen.getByLabelText(/^Context/), { target: { value: '/pets' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create' }));
  expect(await screen.findByRole('alert')).toHaveTextContent('Conflict: an API named Pets 1.0.0 exists');
});
