import { Badge, Group, Stack, Table, Title } from '@mantine/core';
import { call } from '../shared/api';
import { Async } from '../shared/components';
import { useLoad } from '../shared/hooks';

interface ScimUser {
  id: string;
  userName: string;
  roles?: { value: string }[];
  groups?: { display?: string; value: string }[];
}

export function UsersPage() {
  const users = useLoad(() => call<{ Resources?: ScimUser[] }>('/scim2/Users').then((r) => r.Resources ?? []), []);
  return (
    <Stack>
      <Title order={2}>Users and roles</Title>
      <Async state={users} empty={(list) => list.length === 0}>
        {(list) => (
          <Table>
            <Table.Tbody>
              {list.map((u) => (
                <Table.Tr key={u.id}>
                  <Table.Td style={{ wordBreak: 'break-word' }}>{u.userName}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {[...(u.roles ?? []), ...(u.groups ?? [])].map((r) => (
                        <Badge key={r.value} size="sm" variant="light">
                          {r.value}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Async>
    </Stack>
  );
}
