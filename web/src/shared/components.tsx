import {
  Alert,
  Anchor,
  AppShell,
  Burger,
  Button,
  Center,
  Group,
  List,
  Loader,
  MantineProvider,
  NavLink,
  Stack,
  Text,
  Title,
  createTheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { type ReactNode, useEffect, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { type Portal, completeSignIn, signIn, signOut, signedInUser } from './auth';
import type { Loaded } from './hooks';

const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'md' });

// env "test" (component tests): no transitions, whose timers could fire after a test's
// document is gone, and no portals.
export function Providers({ children, env = 'default' }: { children: ReactNode; env?: 'default' | 'test' }) {
  return (
    <MantineProvider theme={theme} env={env}>
      {children}
    </MantineProvider>
  );
}

export function ErrorMessage({ error, title = 'Something went wrong' }: { error: string | null; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert">
      {error}
    </Alert>
  );
}

// What a form found wrong before asking the API (nothing when the list is empty).
export function Problems({ problems }: { problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <Alert color="orange" title="Please correct" role="alert">
      <List size="sm">
        {problems.map((p) => (
          <List.Item key={p}>{p}</List.Item>
        ))}
      </List>
    </Alert>
  );
}

// Loading, error and empty states of a list or a page, in one place.
export function Async<T>({
  state,
  children,
  empty,
}: {
  state: Loaded<T>;
  children: (data: T) => ReactNode;
  empty?: (data: T) => boolean;
}) {
  if (state.error) return <ErrorMessage error={state.error} title="Could not load" />;
  if (state.data === undefined)
    return (
      <Center p="xl" aria-busy="true">
        <Loader aria-label="Loading" />
      </Center>
    );
  if (empty?.(state.data)) return <Text c="dimmed">Nothing here yet.</Text>;
  return <>{children(state.data)}</>;
}

export interface NavItem {
  to: string;
  label: string;
}

const TITLES: Record<Portal, string> = {
  publisher: 'Publisher',
  devportal: 'Developer Portal',
  admin: 'Admin',
};

export function Shell({ portal, nav, children }: { portal: Portal; nav: NavItem[]; children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const user = signedInUser();
  const [, rerender] = useState(0);
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap" gap="xs" style={{ minWidth: 0 }}>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Title order={3} size="h4" style={{ whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
              Portico {TITLES[portal]}
            </Title>
          </Group>
          {user ? (
            <Group wrap="nowrap" gap="xs" style={{ flexShrink: 0 }}>
              <Text size="sm" data-testid="signed-in-user" maw={140} truncate>
                {user.username}
              </Text>
              <Button
                variant="light"
                size="xs"
                onClick={async () => {
                  await signOut(portal);
                  rerender((n) => n + 1);
                  window.location.assign(`/${portal}/`);
                }}
              >
                Sign out
              </Button>
            </Group>
          ) : (
            <Button size="xs" style={{ flexShrink: 0 }} onClick={() => signIn(portal, `/${portal}${location.pathname}${location.search}`)}>
              Sign in
            </Button>
          )}
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {nav.map((item) => (
          <NavLink
            key={item.to}
            component={Link}
            to={item.to}
            label={item.label}
            onClick={close}
            active={item.to === '/' ? location.pathname === '/' : location.pathname.startsWith(item.to)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}

// A page that needs a user: a sign-in button until there is one.
export function RequireSignIn({ portal, children }: { portal: Portal; children: ReactNode }) {
  const location = useLocation();
  if (signedInUser()) return <>{children}</>;
  return (
    <Stack align="flex-start">
      <Text>Sign in to see this page.</Text>
      <Button onClick={() => signIn(portal, `/${portal}${location.pathname}${location.search}`)}>Sign in</Button>
    </Stack>
  );
}

export function Callback({ portal }: { portal: Portal }) {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    completeSignIn(portal, window.location.search)
      .then((to) => navigate(to.replace(new RegExp(`^/${portal}`), '') || '/', { replace: true }))
      .catch((e: Error) => setError(e.message));
  }, [portal, navigate]);
  return error ? (
    <Stack>
      <ErrorMessage error={error} title="Sign-in failed" />
      <Anchor component={Link} to="/">
        Back
      </Anchor>
    </Stack>
  ) : (
    <Center p="xl">
      <Loader aria-label="Signing in" />
    </Center>
  );
}
