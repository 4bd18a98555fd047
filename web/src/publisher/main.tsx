import { Route } from 'react-router-dom';
import { RequireSignIn } from '../shared/components';
import { mountPortal } from '../shared/portal';
import { ApiPage } from './ApiPage';
import { ApisPage } from './ApisPage';
import { CreateApiPage } from './CreateApiPage';

const signedIn = (page: React.ReactNode) => <RequireSignIn portal="publisher">{page}</RequireSignIn>;

mountPortal(
  'publisher',
  [
    { to: '/', label: 'APIs' },
    { to: '/create', label: 'Create API' },
  ],
  <>
    <Route path="/" element={signedIn(<ApisPage />)} />
    <Route path="/create" element={signedIn(<CreateApiPage />)} />
    <Route path="/apis/:apiId" element={signedIn(<ApiPage />)} />
  </>,
);
