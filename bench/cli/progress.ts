// The live progress line on a terminal: one line on stderr, rewritten in
// place, cleared before anything else is printed.
export class ProgressLine {
  readonly #enabled: boolean;
  readonly #started = Date.now();
  #shown = false;
  #suite = '';

  constructor(enabled: boolean) {
    this.#enabled = enabled;
  }

  suite(name: string): void {
    this.#suite = name;
  }

  update(label: string): void {
    if (!this.#enabled) return;
    const seconds = Math.round((Date.now() - this.#started) / 1000);
    const columns = process.stderr.columns ?? 100;
    const text = `[${this.#suite} ${seconds} s] ${label}`;
    process.stderr.write(`\r\x1b[K${text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text}`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown) return;
    process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }

  /** Prints a line to stdout without tearing the progress line. */
  print(line: string): void {
    this.clear();
    process.stdout.write(`${line}\n`);
  }
}
