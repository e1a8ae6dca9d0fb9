import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A fenced code block of a Markdown document, with what a spec needs to check it: its language,
 * its text, where it is, the paragraph before it, and the snippet marker right above its fence
 * (`<!-- snippet: program -->`, invisible where the Markdown is rendered).
 */
export interface CodeBlock {
  readonly lang: string;
  readonly text: string;
  /** The line of its opening fence, 1 for the first. */
  readonly line: number;
  /** The words of the marker (`['service', 'kitchen']`), empty without one. */
  readonly marker: readonly string[];
  /** The text between the previous block (or heading) and this one, trimmed. */
  readonly before: string;
}

const FENCE = /^```(\S*)\s*$/;
const MARKER = /^<!--\s*snippet:\s*(.+?)\s*-->$/;

/** The fenced blocks of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) {
      if ((lines[i] as string).startsWith('#')) prose = [];
      else prose.push(lines[i] as string);
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] as string);
    const above = MARKER.exec((lines[start - 1] ?? '').trim());
    blocks.push({
      lang: open[1] ?? '',
      text: `${body.join('\n')}\n`,
      line: start + 1,
      marker: above ? (above[1] as string).split(/\s+/) : [],
      before: prose
        .filter((l) => !MARKER.test(l.trim()))
        .join('\n')
        .trim(),
    });
    prose = [];
  }
  return blocks;
}

/** README.md and every guide in docs/, as paths relative to `root`. */
export function documents(root: string): string[] {
  const guides = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...guides];
}

/** The blocks of the document at `path` (relative to `root`). */
export function blocksOf(root: string, path: string): CodeBlock[] {
  return codeBlocks(readFileSync(join(root, path), 'utf8'));
}
