import { Route } from 'react-router-dom';
import { RequireSignIn } from '../shared/components';
import { mountPortal } from '../shared/portal';
import { DashboardPage } from './DashboardPage';
import { DenyPoliciesPage } from './DenyPoliciesPage';
import { EnvironmentsPage } from './EnvironmentsPage';
import { SubscriptionPoliciesPage } from './SubscriptionPoliciesPage';
import { UsersPage } from './UsersPage';

const signedIn = (page: React.ReactNode) => <RequireSignIn portal="admin">{page}</RequireSignIn>;

mountPortal(
  'admin',
  [
    { to: '/', label: 'Dashboard' },
    { to: '/subscription-policies', label: 'Throttling policies' },
    { to: '/deny-policies', label: 'Deny policies' },
    { to: '/environments', label: 'Environments' },
    { to: '/users', label: 'Users' },
  ],
  <>
    <Route path="/" element={signedIn(<DashboardPage />)} />
    <Route path="/subscription-policies" element={signedIn(<SubscriptionPoliciesPage />)} />
    <Route path="/deny-policies" element={signedIn(<DenyPoliciesPage />)} />
    <Route path="/environments" element={signedIn(<EnvironmentsPage />)} />
    <Route path="/users" element={signedIn(<UsersPage />)} />
  </>,
);
