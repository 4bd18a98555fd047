import { Typography } from '@mantine/core';
import ReactMarkdown from 'react-markdown';

// A document's Markdown as HTML; raw HTML inside it is not rendered (react-markdown's default).
export function Markdown({ text }: { text: string }) {
  return (
    <Typography>
      <ReactMarkdown>{text}</ReactMarkdown>
    </Typography>
  );
}
