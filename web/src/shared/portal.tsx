import '@mantine/core/styles.css';
import '@mantine/charts/styles.css';
import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import type { Portal } from './auth';
import { Callback, type NavItem, Providers, Shell } from './components';

// Mounts a portal: the router under /<portal>, the shell, and the sign-in callback.
export function mountPortal(portal: Portal, nav: NavItem[], routes: ReactNode) {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <Providers>
        <BrowserRouter basename={`/${portal}`}>
          <Shell portal={portal} nav={nav}>
            <Routes>
              <Route path="/callback" element={<Callback portal={portal} />} />
              {routes}
            </Routes>
          </Shell>
        </BrowserRouter>
      </Providers>
    </StrictMode>,
  );
}
