/**
 * `cad-triage` command dispatcher. Each command is a function of its arguments that returns an exit
 * code; it writes its result to stdout and its diagnostics to stderr, so output can be piped.
 */
export interface Command {
  /** One line for `cad-triage help`. */
  summary: string;
  run(args: string[]): Promise<number>;
}

async function commands(): Promise<Record<string, Command>> {
  // Loaded lazily so `cad-triage eval` does not pay for the database drivers and vice versa.
  const { migrateCommands } = await import('./migrate.ts');
  const { rulesCommands } = await import('./rules.ts');
  const { keysCommands } = await import('./keys.ts');
  const { purgeCommands } = await import('./purge.ts');
  const { reportCommands } = await import('./report.ts');
  const { demoCommands } = await import('./demo.ts');
  const { calltypesCommands } = await import('./calltypes.ts');
  return {
    ...migrateCommands,
    ...rulesCommands,
    ...keysCommands,
    ...calltypesCommands,
    ...purgeCommands,
    ...reportCommands,
    ...demoCommands,
  };
}

export async function main(argv: string[]): Promise<number> {
  const all = await commands();
  // Two-word commands ("rules test") take precedence over one-word ones.
  const two = argv.slice(0, 2).join(' ');
  const [name, args] = all[two] ? [two, argv.slice(2)] : [argv[0] ?? 'help', argv.slice(1)];
  const command = all[name];
  if (!command) {
    const width = Math.max(...Object.keys(all).map((k) => k.length));
    const lines = Object.entries(all).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
    const out = `usage: cad-triage <command> [args]\n\ncommands:\n${lines.join('\n')}\n`;
    if (name === 'help' || name === '--help' || name === '-h') {
      process.stdout.write(out);
      return 0;
    }
    process.stderr.write(`cad-triage: unknown command '${argv.join(' ')}'\n${out}`);
    return 2;
  }
  return command.run(args);
}
