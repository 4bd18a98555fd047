import { Alert, Button, FileInput, List, SegmentedControl, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { PUBLISHER, call } from '../shared/api';
import { ErrorMessage } from '../shared/components';
import { useSubmit } from '../shared/hooks';

interface Validation {
  isValid: boolean;
  errors?: { message: string; description?: string }[];
}

export function CreateApiPage() {
  const [mode, setMode] = useState('openapi');
  const [name, setName] = useState('');
  const [context, setContext] = useState('');
  const [version, setVersion] = useState('1.0.0');
  const [endpoint, setEndpoint] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const navigate = useNavigate();

  const fields = () => {
    const f: Record<string, unknown> = { policies: ['Gold', 'Unlimited'] };
    if (name) f.name = name;
    if (context) f.context = context;
    if (version) f.version = version;
    if (endpoint) f.endpointConfig = { endpoint_type: 'http', production_endpoints: { url: endpoint }, sandbox_endpoints: { url: endpoint } };
    return f;
  };
  const definitionForm = () => {
    const form = new FormData();
    if (file) form.append('file', file);
    else form.append('url', url);
    return form;
  };

  const submit = useSubmit(async () => {
    setProblems([]);
    if (mode === 'form') return call<{ id: string }>(`${PUBLISHER}/apis`, { method: 'POST', body: fields() });
    const check = await call<Validation>(`${PUBLISHER}/apis/validate-openapi`, { method: 'POST', body: definitionForm() });
    if (!check.isValid) {
      setProblems((check.errors ?? []).map((e) => [e.message, e.description].filter(Boolean).join(': ')));
      throw new Error('The definition is not valid');
    }
    const form = definitionForm();
    form.append('additionalProperties', JSON.stringify(fields()));
    return call<{ id: string }>(`${PUBLISHER}/apis/import-openapi`, { method: 'POST', body: form });
  });

  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const api = await submit.run();
        if (api) navigate(`/apis/${api.id}`);
      }}
    >
      <Stack maw={560}>
        <Title order={2}>Create an API</Title>
        <SegmentedControl
          value={mode}
          onChange={setMode}
          data={[
            { value: 'openapi', label: 'Import OpenAPI' },
            { value: 'form', label: 'From scratch' },
          ]}
        />
        {mode === 'openapi' && (
          <>
            <FileInput label="OpenAPI file" placeholder="petstore.yaml" value={file} onChange={setFile} accept=".yaml,.yml,.json" clearable />
            <TextInput label="or OpenAPI URL" value={url} onChange={(e) => setUrl(e.currentTarget.value)} disabled={!!file} />
          </>
        )}
        <TextInput label="Name" required={mode === 'form'} value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <TextInput label="Context" required={mode === 'form'} placeholder="/pets" value={context} onChange={(e) => setContext(e.currentTarget.value)} />
        <TextInput label="Version" required={mode === 'form'} value={version} onChange={(e) => setVersion(e.currentTarget.value)} />
        <TextInput label="Endpoint URL" placeholder="https://backend.example.com/v1" value={endpoint} onChange={(e) => setEndpoint(e.currentTarget.value)} />
        {problems.length > 0 && (
          <Alert color="red" title="The definition has problems" role="alert">
            <List size="sm">
              {problems.map((p) => (
                <List.Item key={p}>{p}</List.Item>
              ))}
            </List>
          </Alert>
        )}
        {problems.length === 0 && <ErrorMessage error={submit.error} title="Could not create the API" />}
        <Button type="submit" loading={submit.busy} w="fit-content">
          Create
        </Button>
      </Stack>
    </form>
  );
}
