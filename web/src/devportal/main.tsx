import { Route } from 'react-router-dom';
import { RequireSignIn } from '../shared/components';
import { mountPortal } from '../shared/portal';
import { ApiPage } from './ApiPage';
import { ApiKeysPage } from './ApiKeysPage';
import { ApisPage } from './ApisPage';
import { ApplicationPage } from './ApplicationPage';
import { ApplicationsPage } from './ApplicationsPage';
import { SignUpPage } from './SignUpPage';

mountPortal(
  'devportal',
  [
    { to: '/', label: 'APIs' },
    { to: '/applications', label: 'Applications' },
    { to: '/signup', label: 'Sign up' },
  ],
  <>
    <Route path="/" element={<ApisPage />} />
    <Route path="/apis/:apiId" element={<ApiPage />} />
    <Route path="/signup" element={<SignUpPage />} />
    <Route path="/applications" element={<RequireSignIn portal="devportal"><ApplicationsPage /></RequireSignIn>} />
    <Route path="/applications/:appId" element={<RequireSignIn portal="devportal"><ApplicationPage /></RequireSignIn>} />
    <Route path="/applications/:appId/api-keys" element={<RequireSignIn portal="devportal"><ApiKeysPage /></RequireSignIn>} />
  </>,
);
