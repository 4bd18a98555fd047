import { Badge, Button, Card, Checkbox, Group, PasswordInput, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { call } from '../shared/api';
import { Async, ErrorMessage } from '../shared/components';
import { useLoad, useSubmit } from '../shared/hooks';

interface ScimUser {
  id: string;
  userName: string;
  roles?: { value: string }[];
}

export const ROLES = [
  { value: 'admin', label: 'admin — everything' },
  { value: 'publisher', label: 'publisher — lifecycle, deployments, subscriptions' },
  { value: 'creator', label: 'creator — create and edit APIs' },
  { value: 'subscriber', label: 'subscriber — the Developer Portal' },
];

const USERS = '/scim2/Users';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export function patchBody(path: 'roles' | 'password', value: unknown) {
  return { schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] };
}

const roleValues = (roles: string[]) => roles.map((value) => ({ value }));

function RoleChoice({ value, onChange, label }: { value: string[]; onChange: (v: string[]) => void; label: string }) {
  return (
    <Checkbox.Group label={label} value={value} onChange={onChange}>
      <Stack gap={4} mt={4}>
        {ROLES.map((r) => (
          <Checkbox key={r.value} value={r.value} label={r.label} />
        ))}
      </Stack>
    </Checkbox.Group>
  );
}

function NewUser({ onAdded }: { onAdded: () => void }) {
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<string[]>(['subscriber']);
  const add = useSubmit(async () => {
    await call(USERS, { method: 'POST', body: { userName: userName.trim(), password, roles: roleValues(roles) } });
    return true;
  });
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        if (await add.run()) {
          setUserName('');
          setPassword('');
          onAdded();
        }
      }}
    >
      <Stack gap="sm">
        <Group align="flex-end" gap="xs">
          <TextInput label="Username" required description="3–100 letters, digits, . _ - @" value={userName} onChange={(e) => setUserName(e.currentTarget.value)} />
          <PasswordInput label="Password" required description="at least 5 characters" value={password} onChange={(e) => setPassword(e.currentTarget.value)} w={220} />
        </Group>
        <RoleChoice label="Roles" value={roles} onChange={setRoles} />
        <ErrorMessage error={add.error} title="No user was added" />
        <Button type="submit" w="fit-content" loading={add.busy}>
          Add user
        </Button>
      </Stack>
    </form>
  );
}

function EditUser({ user, onDone }: { user: ScimUser; onDone: () => void }) {
  const [roles, setRoles] = useState((user.roles ?? []).map((r) => r.value));
  const [password, setPassword] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const url = `${USERS}/${user.id}`;
  const saveRoles = useSubmit(async () => {
    await call(url, { method: 'PATCH', body: patchBody('roles', roleValues(roles)) });
    return true;
  });
  const savePassword = useSubmit(async () => {
    await call(url, { method: 'PATCH', body: patchBody('password', password) });
    return true;
  });
  const remove = useSubmit(async () => {
    await call(url, { method: 'DELETE' });
    return true;
  });
  return (
    <Stack gap="sm">
      <RoleChoice label={`Roles of ${user.userName}`} value={roles} onChange={setRoles} />
      <Text size="xs" c="dimmed">
        New roles apply to the user's next sign-in or token refresh.
      </Text>
      <ErrorMessage error={saveRoles.error} title="Roles not saved" />
      <Group>
        <Button loading={saveRoles.busy} onClick={async () => (await saveRoles.run()) && onDone()}>
          Save roles
        </Button>
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
      </Group>
      <Group align="flex-end" gap="xs">
        <PasswordInput label="New password" description="signs the user out everywhere" value={password} onChange={(e) => setPassword(e.currentTarget.value)} w={240} />
        <Button variant="default" disabled={!password} loading={savePassword.busy} onClick={async () => (await savePassword.run()) && onDone()}>
          Set password
        </Button>
      </Group>
      <ErrorMessage error={savePassword.error} title="Password not changed" />
      <Group>
        {confirmDelete ? (
          <>
            <Button color="red" loading={remove.busy} onClick={async () => (await remove.run()) && onDone()}>
              Delete {user.userName} for good
            </Button>
            <Button variant="default" onClick={() => setConfirmDelete(false)}>
              Keep
            </Button>
          </>
        ) : (
          <Button color="red" variant="light" onClick={() => setConfirmDelete(true)}>
            Delete user
          </Button>
        )}
      </Group>
      <ErrorMessage error={remove.error} title="Not deleted" />
    </Stack>
  );
}

export function UsersPage() {
  const users = useLoad(() => call<{ Resources?: ScimUser[] }>(USERS, { query: { startIndex: 1, count: 1000 } }).then((r) => r.Resources ?? []), []);
  const [editing, setEditing] = useState<ScimUser | null>(null);
  const done = () => {
    setEditing(null);
    users.reload();
  };
  return (
    <Stack>
      <Title order={2}>Users and roles</Title>
      <Card withBorder>
        <Title order={4} mb="sm" style={{ wordBreak: 'break-word' }}>
          {editing ? `Edit ${editing.userName}` : 'New user'}
        </Title>
        {editing ? <EditUser key={editing.id} user={editing} onDone={done} /> : <NewUser onAdded={users.reload} />}
      </Card>
      <Async state={users} empty={(list) => list.length === 0}>
        {(list) => (
          <Table.ScrollContainer minWidth={360}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>User</Table.Th>
                  <Table.Th>Roles</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((u) => (
                  <Table.Tr key={u.id}>
                    <Table.Td style={{ wordBreak: 'break-word' }}>{u.userName}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {(u.roles ?? []).map((r) => (
                          <Badge key={r.value} size="sm" variant="light">
                            {r.value}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="subtle" aria-label={`Edit ${u.userName}`} onClick={() => setEditing(u)}>
                        Edit
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Async>
    </Stack>
  );
}
