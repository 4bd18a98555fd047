import { Alert, Button, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { call } from '../shared/api';
import { signIn } from '../shared/auth';
import { ErrorMessage } from '../shared/components';
import { useSubmit } from '../shared/hooks';

export function SignUpPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [givenName, setGivenName] = useState('');
  const [done, setDone] = useState(false);
  const submit = useSubmit(async () => {
    await call('/api/identity/user/v1.0/me', {
      method: 'POST',
      anonymous: true,
      body: {
        user: { username, realm: 'PRIMARY', password, claims: [{ uri: 'http://wso2.org/claims/givenname', value: givenName || username }] },
        properties: [],
      },
    });
    return true;
  });
  if (done)
    return (
      <Stack maw={420}>
        <Alert color="green" title="Welcome">
          Your account {username} is ready.
        </Alert>
        <Button onClick={() => signIn('devportal', '/devportal/applications')}>Sign in</Button>
      </Stack>
    );
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        if ((await submit.run()) !== undefined) setDone(true);
      }}
    >
      <Stack maw={420}>
        <Title order={2}>Create an account</Title>
        <TextInput label="Username" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} />
        <TextInput label="Name" value={givenName} onChange={(e) => setGivenName(e.currentTarget.value)} />
        <PasswordInput label="Password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        <ErrorMessage error={submit.error} title="Sign-up failed" />
        <Button type="submit" loading={submit.busy}>
          Sign up
        </Button>
      </Stack>
    </form>
  );
}
