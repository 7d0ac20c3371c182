/**
 * Line prefixes for the demo's many sources (`[reviews-v2] `, `[reviews-v2/proxy] `, `[control] `), each
 * workload in a colour of its own on a terminal, its sidecar's lines dimmed, so one terminal stays
 * readable. `NO_COLOR` turns colours off (https://no-color.org).
 */
import { styleText } from 'node:util';

type Colour = Extract<Parameters<typeof styleText>[0], string>;

const PALETTE: readonly Colour[] = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red', 'cyanBright', 'magentaBright'];

export class Prefixes {
  readonly #color: boolean;
  readonly #assigned = new Map<string, Colour>();

  constructor(color: boolean) {
    this.#color = color && process.env.NO_COLOR === undefined;
  }

  /** `[source] `, coloured by the part before any `/`. */
  of(source: string): string {
    const text = `[${source}] `;
    if (!this.#color) return text;
    const base = source.split('/')[0]!;
    let colour = this.#assigned.get(base);
    if (colour === undefined) {
      colour = PALETTE[this.#assigned.size % PALETTE.length]!;
      this.#assigned.set(base, colour);
    }
    return styleText(source.includes('/') ? [colour, 'dim'] : colour, text, { validateStream: false });
  }
}
