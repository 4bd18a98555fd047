import { Button, Group, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { PRESETS, type Range, customRange, presetRange } from './timeRange';

// A preset range (recomputed on each choice, so "1h" means the last hour) or a custom one.
export function TimeRangePicker({ onChange }: { onChange: (range: Range) => void }) {
  const [choice, setChoice] = useState('1h');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <Stack gap={6}>
      <SegmentedControl
        size="xs"
        w="fit-content"
        aria-label="Time range"
        value={choice}
        data={[...Object.keys(PRESETS), { value: 'custom', label: 'Custom' }]}
        onChange={(v) => {
          setChoice(v);
          if (v !== 'custom') onChange(presetRange(v));
        }}
      />
      {choice === 'custom' && (
        <Group align="flex-end" gap="xs">
          <TextInput type="datetime-local" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          <TextInput type="datetime-local" label="To" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
          <Button
            variant="default"
            onClick={() => {
              const r = customRange(from, to);
              if (typeof r === 'string') setProblem(r);
              else {
                setProblem(null);
                onChange(r);
              }
            }}
          >
            Show
          </Button>
        </Group>
      )}
      {problem && (
        <Text size="sm" c="red" role="alert">
          {problem}
        </Text>
      )}
    </Stack>
  );
}
