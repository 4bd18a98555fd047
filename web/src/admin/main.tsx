import { Route } from 'react-router-dom';
import { RequireSignIn } from '../shared/components';
import { mountPortal } from '../shared/portal';
import { DashboardPage } from './DashboardPage';
import { DenyPoliciesPage } from './DenyPoliciesPage';
import { SubscriptionPoliciesPage } from './SubscriptionPoliciesPage';

const signedIn = (page: React.ReactNode) => <RequireSignIn portal="admin">{page}</RequireSignIn>;

mountPortal(
  'admin',
  [
    { to: '/', label: 'Dashboard' },
    { to: '/subscription-policies', label: 'Subscription policies' },
    { to: '/deny-policies', label: 'Deny policies' },
  ],
  <>
    <Route path="/" element={signedIn(<DashboardPage />)} />
    <Route path="/subscription-policies" element={signedIn(<SubscriptionPoliciesPage />)} />
    <Route path="/deny-policies" element={signedIn(<DenyPoliciesPage />)} />
  </>,
);
