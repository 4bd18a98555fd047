import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { vi } from 'vitest';
import { Providers } from './shared/components';

export function renderPage(page: ReactNode) {
  return render(
    <Providers env="test">
      <MemoryRouter>{page}</MemoryRouter>
    </Providers>,
  );
}

// fetch answering each call with the next [status, body] in order.
export function mockFetch(...answers: [number, unknown][]) {
  const fn = vi.fn();
  for (const [status, body] of answers)
    fn.mockResolvedValueOnce(new Response(body === undefined ? '' : JSON.stringify(body), { status }));
  vi.stubGlobal('fetch', fn);
  return fn;
}
