import { screen } from '@testing-library/react';
import { expect, test } from 'vitest';
import { renderPage } from '../test-utils';
import { Markdown } from './Markdown';

test('documents written in Markdown are rendered, raw HTML in them is not', () => {
  renderPage(<Markdown text={'# Getting started\n\nCall **GET /hello**.\n\n<script>alert(1)</script>'} />);
  expect(screen.getByRole('heading', { name: 'Getting started' })).toBeInTheDocument();
  expect(screen.getByText('GET /hello').tagName).toBe('STRONG');
  expect(document.querySelector('script')).toBeNull();
});
