import { fireEvent, screen } from '@testing-library/react';
import { expect, test } from 'vitest';
import { renderPage } from '../test-utils';
import { TryIt } from './TryIt';
import type { ApiDetail } from './types';

const api: ApiDetail = {
  id: 'a1',
  name: 'Pets',
  version: '1.0.0',
  context: '/pets',
  tiers: [],
  endpointURLs: [
    {
      environmentName: 'internal',
      environmentDisplayName: 'Internal',
      URLs: { http: 'http://gw.internal.example:8280/pets/1.0.0', https: 'https://gw.internal.example:8243/pets/1.0.0' },
    },
    {
      environmentName: 'external',
      environmentDisplayName: 'External',
      URLs: { http: 'http://api.example.com/gw/pets/1.0.0', https: 'https://api.example.com/gw/pets/1.0.0' },
    },
  ],
};

test("the sample curl uses the chosen environment's URL", async () => {
  renderPage(<TryIt api={api} />);
  expect(screen.getByTestId('sample-curl')).toHaveTextContent('curl -X GET "http://gw.internal.example:8280/pets/1.0.0/"');
  // The label names the input and its list of options: click the input.
  fireEvent.click(screen.getAllByLabelText('Gateway environment').find((e) => e.tagName === 'INPUT')!);
  fireEvent.click(await screen.findByRole('option', { name: 'External' }));
  expect(screen.getByTestId('sample-curl')).toHaveTextContent('curl -X GET "http://api.example.com/gw/pets/1.0.0/"');
  expect(screen.getByLabelText('Gateway URL')).toHaveValue('http://api.example.com/gw/pets/1.0.0');
});

test('one environment needs no choice', () => {
  renderPage(<TryIt api={{ ...api, endpointURLs: api.endpointURLs.slice(1) }} />);
  expect(screen.queryByLabelText('Gateway environment')).toBeNull();
  expect(screen.getByTestId('sample-curl')).toHaveTextContent('"http://api.example.com/gw/pets/1.0.0/"');
});
